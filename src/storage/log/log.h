#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace tessera::storage {

/// One record read back from a channel.
struct LogRecord {
  /// Position in its channel. Offsets are dense and start at 0: the first record ever
  /// appended to a channel has offset 0, the next 1, and so on, with no gaps.
  uint64_t offset = 0;
  std::string payload;

  bool operator==(const LogRecord&) const = default;
};

/// Longest channel name accepted by ValidateChannelName.
inline constexpr size_t kMaxChannelNameLength = 128;
/// Longest idempotency key accepted by Log::Append.
inline constexpr size_t kMaxIdempotencyKeyLength = 255;

/// OK when `name` can name a channel: 1..kMaxChannelNameLength characters from
/// [A-Za-z0-9_.-], not starting with '.' (so never "." or ".."). A channel name becomes a
/// directory or stream name, so nothing else is accepted. Otherwise kInvalidArgument naming
/// the offending name and the rule it breaks.
Status ValidateChannelName(std::string_view name);

/// A cursor over one channel, returned by Log::Subscribe. Delivers every record from the
/// starting offset in offset order, then each newly appended record once it is durable.
///
/// Thread-safety: Poll/Next are for one consumer thread at a time; Cancel may be called
/// from any thread, at any time, including while another thread is blocked in Poll.
/// A Subscription may outlive the Log that created it; once the log is closed Poll returns
/// kCancelled.
class Subscription {
 public:
  virtual ~Subscription() = default;

  /// Returns the next 1..max_records records (max_records 0 is treated as 1), waiting up to
  /// `timeout` for at least one. An empty vector means the timeout expired with nothing new
  /// (timeout 0 never blocks). Errors: kCancelled after Cancel() or once the log is closed;
  /// kOutOfRange when the records to deliver next were truncated away; kDataLoss when a
  /// stored record fails its checksum (the subscription does not skip it).
  virtual Result<std::vector<LogRecord>> Poll(size_t max_records, std::chrono::milliseconds timeout) = 0;

  /// Wakes any Poll in progress and makes every later Poll return kCancelled. Idempotent.
  virtual void Cancel() = 0;

  /// The offset of the next record Poll will deliver.
  virtual uint64_t position() const = 0;

  /// One record, waiting up to `timeout`; kDeadlineExceeded when nothing arrived in time.
  Result<LogRecord> Next(std::chrono::milliseconds timeout);
};

/// The write-ahead log: named channels of records with dense offsets (docs/format/wal.md for
/// the local format; src/storage/log/README.md for the contract in prose).
///
/// Channels are created implicitly by the first Append or Subscribe on them; a channel that
/// was never written is empty. Every method validates the channel name first
/// (kInvalidArgument).
///
/// Thread-safety: implementations are thread-safe; every method may be called concurrently
/// from any number of threads. Destroying the log while a call is in progress is a
/// programmer error; outstanding Subscriptions are cancelled by the destructor.
class Log {
 public:
  virtual ~Log() = default;

  /// Appends `records` to `channel` as one atomic batch and returns their offsets (one per
  /// record, consecutive) only after all of them are durable. After a crash a batch is
  /// either entirely present or entirely absent (LocalLog). NatsLog cannot promise this
  /// (JetStream has no multi-message transaction): a failed Append may leave a prefix of
  /// the batch stored, and retrying with the same idempotency key completes it at the
  /// same, consecutive offsets; callers that need all-or-nothing use a key and retry.
  ///
  /// A non-empty `idempotency_key` (at most kMaxIdempotencyKeyLength bytes) makes retries
  /// safe: if a batch with the same key was appended to this channel recently (the
  /// implementation's window, which survives restarts), nothing is written and the
  /// original offsets are returned. An empty batch writes nothing and returns no offsets.
  virtual Result<std::vector<uint64_t>> Append(std::string_view channel,
                                               std::span<const std::string> records,
                                               std::string_view idempotency_key = {}) = 0;

  /// Starts delivering `channel` from `from_offset`, which must lie in
  /// [FirstOffset(channel), LastOffset(channel) + 1]; the upper end means "only new
  /// records". kOutOfRange otherwise.
  virtual Result<std::unique_ptr<Subscription>> Subscribe(std::string_view channel,
                                                          uint64_t from_offset) = 0;

  /// Allows records with offsets < before_offset to be deleted (after a checkpoint).
  /// Records at or after before_offset are always kept; an implementation may keep some
  /// earlier ones too (LocalLog deletes whole segments only) — FirstOffset tells what is
  /// still readable. kOutOfRange if before_offset is past LastOffset + 1.
  virtual Status Truncate(std::string_view channel, uint64_t before_offset) = 0;

  /// Removes `channel` with every record in it, for a channel nothing will use again (one
  /// of a dropped collection: such names are never reused). Afterwards it is as if it had
  /// never existed: ListChannels omits it, and an append would start it again at offset 0.
  /// A subscriber still reading it gets errors. OK when the channel does not exist.
  virtual Status DeleteChannel(std::string_view channel) = 0;

  /// Names of all channels, sorted.
  virtual Result<std::vector<std::string>> ListChannels() = 0;

  /// Offset of the newest record in `channel`, or nullopt when nothing was ever appended.
  /// Truncation does not change it.
  virtual Result<std::optional<uint64_t>> LastOffset(std::string_view channel) = 0;

  /// Smallest offset still readable in `channel`; LastOffset + 1 (or 0) when none is.
  virtual Result<uint64_t> FirstOffset(std::string_view channel) = 0;

  /// OK while every channel takes appends; otherwise the error that stopped one (a failed
  /// write or sync after which only reopening the log, i.e. restarting the process, brings
  /// it back). For health checks. The default: nothing ever stops a channel.
  virtual Status Health() { return Status::OK(); }
};

}  // namespace tessera::storage
