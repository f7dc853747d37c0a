#pragma once

// PRIVATE header of src/querynode.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "core/schema.h"
#include "msg/wal_message.h"
#include "storage/log/log.h"

namespace tessera::querynode {

/// A decoded WAL record and its offset.
struct WalRecord {
  uint64_t offset = 0;
  msg::WalMessage message;
};

/// Follows one WAL channel from a starting offset on its own thread: polls batches of
/// records, decodes them, and hands each batch in offset order to `apply`, then advances
/// its position (the offset of the next record to apply) and wakes waiters.
///
/// A record that fails to decode (or belongs to another collection), or a log error other
/// than cancellation, stops the channel for good: the records before it are applied, the
/// failure is logged and kept, and every later WaitUntil returns it. Records are never
/// skipped.
///
/// Thread-safety: position(), failure() and WaitUntil() may be called from any thread.
/// `apply` runs on the tailer's thread only, one batch at a time.
class ChannelTailer {
 public:
  /// Applies a batch in order; an error stops the channel (the batch may be partly applied).
  using ApplyFn = std::function<Status(const std::string& channel, std::vector<WalRecord>& records)>;

  /// Subscribes to `channel` at `from_offset` and starts the thread. Errors from
  /// Log::Subscribe (OutOfRange when the offset was truncated away) come back as is.
  static Result<std::unique_ptr<ChannelTailer>> Start(storage::Log& log, std::string channel, uint64_t from_offset,
                                                      int64_t collection_id, core::CollectionSchema schema,
                                                      ApplyFn apply);
  /// Stops and joins the thread.
  ~ChannelTailer();
  ChannelTailer(const ChannelTailer&) = delete;
  ChannelTailer& operator=(const ChannelTailer&) = delete;

  const std::string& channel() const { return channel_; }

  /// Cancels the subscription and joins the thread. Idempotent. `apply` is not called after
  /// Stop returns.
  void Stop();

  /// Offset of the next record to apply: every record below it is applied.
  uint64_t position() const;
  /// OK while the channel is healthy; else why it stopped (DataLoss for a damaged record).
  Status failure() const;

  /// Blocks until position() >= offset. DeadlineExceeded at `deadline` (naming the channel,
  /// the position reached and the offset waited for); the channel's failure if it stopped
  /// before reaching it; Cancelled when the tailer is stopped.
  Status WaitUntil(uint64_t offset, std::chrono::steady_clock::time_point deadline) const;

 private:
  ChannelTailer(std::string channel, uint64_t from_offset, int64_t collection_id, core::CollectionSchema schema,
                std::unique_ptr<storage::Subscription> subscription, ApplyFn apply);
  void Run();
  void Fail(Status status);

  const std::string channel_;
  const int64_t collection_id_;
  const core::CollectionSchema schema_;
  std::unique_ptr<storage::Subscription> subscription_;
  ApplyFn apply_;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  uint64_t position_;      // guarded by mu_
  Status failure_;         // guarded by mu_
  bool stopped_ = false;   // guarded by mu_
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace tessera::querynode
