#pragma once

// The outcome of a REST call as Milvus clients see it: a Milvus error code (spec §2) plus a
// message. Decoders and handlers return these instead of tessera::Status because the code
// depends on where an error happened (a NotFound while resolving a partition is 200, while
// resolving a collection 100); error_map.h turns a Status into one.

#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "common/check.h"

namespace tessera::proxy {

/// Milvus error codes used by the REST API (pkg/util/merr/errors.go).
namespace code {
inline constexpr int kSuccess = 0;
inline constexpr int kServiceNotReady = 1;
inline constexpr int kServiceUnavailable = 2;
inline constexpr int kMemoryLimit = 3;
inline constexpr int kServiceInternal = 5;
inline constexpr int kRateLimit = 8;
inline constexpr int kQuotaExceeded = 9;
inline constexpr int kUnimplemented = 10;
inline constexpr int kCollectionNotFound = 100;
inline constexpr int kCollectionNotLoaded = 101;
inline constexpr int kCollectionNotFullyLoaded = 103;
inline constexpr int kPartitionNotFound = 200;
inline constexpr int kPartitionNotLoaded = 201;
inline constexpr int kIndexNotFound = 700;
inline constexpr int kIndexDuplicate = 702;
inline constexpr int kDatabaseNotFound = 800;
inline constexpr int kInvalidDatabaseName = 802;
inline constexpr int kInvalidParameter = 1100;
inline constexpr int kParameterTooLarge = 1102;
inline constexpr int kAliasNotFound = 1600;
inline constexpr int kAliasCollectionConflict = 1601;
inline constexpr int kAliasAlreadyExists = 1602;
inline constexpr int kFieldNotFound = 1700;
inline constexpr int kNotAuthenticated = 1800;
inline constexpr int kBadJson = 1801;
inline constexpr int kMissingRequired = 1802;
inline constexpr int kInsertData = 1804;
inline constexpr int kSearchResult = 1805;
inline constexpr int kPrimaryKey = 1806;
inline constexpr int kCanceled = 10000;
inline constexpr int kTimeout = 10001;
inline constexpr int kUnexpected = 65535;
}  // namespace code

/// A Milvus code and message; code 0 is success (and has no message). Value type.
class [[nodiscard]] ApiStatus {
 public:
  ApiStatus() = default;
  ApiStatus(int code, std::string message) : code_(code), message_(std::move(message)) {}
  static ApiStatus OK() { return ApiStatus(); }

  bool ok() const { return code_ == code::kSuccess; }
  int code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  int code_ = code::kSuccess;
  std::string message_;
};

/// Either a T or a non-OK ApiStatus (the proxy's counterpart of tessera::Result).
template <typename T>
class [[nodiscard]] ApiResult {
 public:
  ApiResult(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design
  ApiResult(ApiStatus status) : data_(std::move(status)) {  // NOLINT
    TESSERA_CHECK(!std::get<ApiStatus>(data_).ok()) << "ApiResult constructed from an OK ApiStatus";
  }

  bool ok() const { return std::holds_alternative<T>(data_); }
  ApiStatus status() const { return ok() ? ApiStatus::OK() : std::get<ApiStatus>(data_); }
  const T& value() const& { CheckOk(); return std::get<T>(data_); }
  T& value() & { CheckOk(); return std::get<T>(data_); }
  T&& value() && { CheckOk(); return std::get<T>(std::move(data_)); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }

 private:
  void CheckOk() const {
    TESSERA_CHECK(ok()) << "ApiResult::value() on error " << std::get<ApiStatus>(data_).code() << ": "
                        << std::get<ApiStatus>(data_).message();
  }
  std::variant<T, ApiStatus> data_;
};

// ---- the spec's standard messages -------------------------------------------------------

/// 1801 for an empty body (spec §1.6).
ApiStatus EmptyBodyError();
/// 1801 "can only accept json format request, error: <detail>".
ApiStatus BadJsonError(std::string_view detail);
/// 1802 in the go-playground validator's words, naming `field` of request struct `owner`.
ApiStatus MissingRequiredError(std::string_view owner, std::string_view field);
/// 1100 "<detail>: invalid parameter".
ApiStatus InvalidParameterError(std::string_view detail);
/// 1804 "fail to deal the insert data, error: <detail>".
ApiStatus InsertDataError(std::string_view detail);
/// 1806 "please check the primary key and its' type can only in [int, string], error: <detail>".
ApiStatus PrimaryKeyError(std::string_view detail);

}  // namespace tessera::proxy

/// Returns the ApiStatus of `expr` (an ApiStatus) from the enclosing function when not OK.
#define TESSERA_API_RETURN_IF_ERROR(expr)          \
  do {                                             \
    ::tessera::proxy::ApiStatus _api_status = (expr); \
    if (!_api_status.ok()) return _api_status;     \
  } while (0)

/// `TESSERA_API_ASSIGN_OR_RETURN(auto x, Decode(...));` for ApiResult.
#define TESSERA_API_ASSIGN_OR_RETURN(lhs, expr) \
  TESSERA_API_ASSIGN_OR_RETURN_IMPL(TESSERA_API_CONCAT(_api_result_, __LINE__), lhs, expr)
#define TESSERA_API_CONCAT_INNER(a, b) a##b
#define TESSERA_API_CONCAT(a, b) TESSERA_API_CONCAT_INNER(a, b)
#define TESSERA_API_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                      \
  if (!tmp.ok()) return tmp.status();                     \
  lhs = std::move(tmp).value()
