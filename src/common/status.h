#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace tessera {

/// Canonical error codes, numbered as in gRPC / abseil so they map 1:1 to gRPC status and
/// to HTTP (the proxy does that mapping). How to pick one, following abseil's guidance:
///  - kInvalidArgument: the request is wrong whatever the system state (bad name, bad param).
///  - kFailedPrecondition: the request could succeed after the caller fixes the system state
///    (collection not loaded). Retrying the same call without a fix will not help.
///  - kAborted: a concurrency conflict (a transaction's compare failed); retry the whole
///    read-modify-write sequence.
///  - kUnavailable: transient; the same call may succeed later (a server is down, a timeout
///    on a connection). Safe to retry with backoff.
///  - kDataLoss: stored bytes are damaged (checksum mismatch, truncated file). Never retried,
///    never silently skipped.
///  - kNotFound / kAlreadyExists / kOutOfRange / kPermissionDenied / kResourceExhausted /
///    kUnimplemented / kInternal / kDeadlineExceeded / kCancelled / kUnknown: as in gRPC.
enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

/// Name of a code as gRPC spells it ("INVALID_ARGUMENT").
std::string_view StatusCodeName(StatusCode code);

/// The outcome of an operation: OK, or a code plus a message with context (key, offset,
/// expected vs actual). OK holds a null pointer, so returning OK costs one word.
/// Thread-compatible value type; copying an error copies its message.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string_view message);
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status OK() { return Status(); }
  static Status Cancelled(std::string_view msg) { return {StatusCode::kCancelled, msg}; }
  static Status Unknown(std::string_view msg) { return {StatusCode::kUnknown, msg}; }
  static Status InvalidArgument(std::string_view msg) { return {StatusCode::kInvalidArgument, msg}; }
  static Status DeadlineExceeded(std::string_view msg) { return {StatusCode::kDeadlineExceeded, msg}; }
  static Status NotFound(std::string_view msg) { return {StatusCode::kNotFound, msg}; }
  static Status AlreadyExists(std::string_view msg) { return {StatusCode::kAlreadyExists, msg}; }
  static Status PermissionDenied(std::string_view msg) { return {StatusCode::kPermissionDenied, msg}; }
  static Status ResourceExhausted(std::string_view msg) { return {StatusCode::kResourceExhausted, msg}; }
  static Status FailedPrecondition(std::string_view msg) { return {StatusCode::kFailedPrecondition, msg}; }
  static Status Aborted(std::string_view msg) { return {StatusCode::kAborted, msg}; }
  static Status OutOfRange(std::string_view msg) { return {StatusCode::kOutOfRange, msg}; }
  static Status Unimplemented(std::string_view msg) { return {StatusCode::kUnimplemented, msg}; }
  static Status Internal(std::string_view msg) { return {StatusCode::kInternal, msg}; }
  static Status Unavailable(std::string_view msg) { return {StatusCode::kUnavailable, msg}; }
  static Status DataLoss(std::string_view msg) { return {StatusCode::kDataLoss, msg}; }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  /// Empty for OK.
  const std::string& message() const;
  /// "INVALID_ARGUMENT: message", or "OK".
  std::string ToString() const;

  /// Returns a copy with `context + ": "` prepended to the message (no-op on OK).
  Status WithContext(std::string_view context) const;

  bool operator==(const Status& other) const {
    return code() == other.code() && message() == other.message();
  }

 private:
  struct State {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<State> state_;
};

}  // namespace tessera

/// Returns from the current function if `expr` (a Status) is not OK.
#define TESSERA_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    ::tessera::Status _tessera_status = (expr);        \
    if (!_tessera_status.ok()) return _tessera_status; \
  } while (0)
