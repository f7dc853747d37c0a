#pragma once

// PRIVATE header of the data node.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/result.h"
#include "common/status.h"
#include "coord/catalog_types.h"
#include "coord/coordinator.h"
#include "datanode/growing_buffer.h"
#include "common/retry.h"
#include "storage/log/log.h"
#include "storage/object/object_store.h"

namespace tessera::datanode {

/// What a ChannelConsumer needs from its data node. Borrowed pointers outlive it.
struct ChannelDeps {
  coord::Coordinator* coordinator = nullptr;
  storage::ObjectStore* objects = nullptr;
  /// Seal once the growing buffer holds this many bytes (GrowingBuffer::MemoryUsage).
  uint64_t segment_size = 64 << 20;
  /// Seal a non-empty buffer once no record has arrived for this long.
  std::chrono::milliseconds seal_idle_time{10000};
  /// The consumer pauses while this many sealed buffers wait for their flush (>= 1), so a
  /// store that is down does not make the node buffer the whole WAL in memory.
  size_t max_sealed_buffers = 4;
  Backoff backoff;
};

/// Consumes one WAL channel of one collection into growing buffers and flushes the sealed
/// ones, in WAL order, as segments.
///
/// Two threads: the consumer polls the subscription, decodes each record and appends it to
/// the current buffer, sealing it on size or idleness; the flusher takes sealed buffers in
/// order, writes their files and reports them with Coordinator::SegmentFlushed (retrying
/// transient failures with backoff), so consuming goes on while a flush runs. Flushing in
/// order matters: SegmentFlushed moves the channel checkpoint to the segment's end. The
/// consumer pauses while deps.max_sealed_buffers buffers wait for the flusher.
///
/// A record that does not decode, or a flush that fails for a non-transient reason, stops
/// the channel: status() returns the error from then on (logged as an error), and nothing
/// after it is consumed — a record is never skipped. Buffers sealed before the failure are
/// still flushed.
///
/// Thread-safe. No lock is held while calling the coordinator or the object store.
class ChannelConsumer {
 public:
  using Clock = std::chrono::steady_clock;

  /// `subscription` delivers `channel` from `start_offset`, the channel's checkpoint.
  /// InvalidArgument when the collection's schema is invalid.
  static Result<std::unique_ptr<ChannelConsumer>> Create(ChannelDeps deps,
                                                         std::shared_ptr<const coord::CollectionInfo> collection,
                                                         std::string channel, uint64_t start_offset,
                                                         std::unique_ptr<storage::Subscription> subscription);
  /// Stops it (see Stop).
  ~ChannelConsumer();
  ChannelConsumer(const ChannelConsumer&) = delete;
  ChannelConsumer& operator=(const ChannelConsumer&) = delete;

  /// Starts the two threads. Call once.
  void Start();
  /// Cancels the subscription, ends a flush in progress at its next retry, joins the
  /// threads and drops the buffers (the WAL still holds their records). Waiters get
  /// Unavailable. Idempotent.
  void Stop();

  /// First half of a flush: waits until every record before WAL offset `target` has been
  /// consumed, then seals the current buffer when it holds anything. Returns a ticket for
  /// WaitFlushed covering everything consumed so far. Errors: the channel's error,
  /// Unavailable when stopping, DeadlineExceeded at `deadline`.
  Result<uint64_t> SealUpTo(uint64_t target, Clock::time_point deadline);
  /// Second half: waits until every buffer sealed before `ticket` was issued has been
  /// flushed (SegmentFlushed succeeded). Errors: the flush failure, Unavailable when
  /// stopping, DeadlineExceeded at `deadline`.
  Status WaitFlushed(uint64_t ticket, Clock::time_point deadline);

  /// Rows consumed and not yet in a flushed segment (current and sealed buffers), only of
  /// `partition` when given.
  uint64_t GrowingRows(std::optional<int64_t> partition) const;
  /// OK while the channel runs; the error that stopped it otherwise.
  Status status() const;
  /// Offset of the next record to consume.
  uint64_t position() const;
  const std::string& channel() const { return channel_; }

 private:
  ChannelConsumer(ChannelDeps deps, std::shared_ptr<const coord::CollectionInfo> collection, std::string channel,
                  std::unique_ptr<storage::Subscription> subscription, std::unique_ptr<GrowingBuffer> first);

  void ConsumeLoop();
  void FlushLoop();
  /// Writes one sealed buffer's segment and reports it.
  Status FlushBuffer(const GrowingBuffer& buffer);
  /// Backpressure: waits (releasing `lock` on mu_) while max_sealed_buffers buffers wait
  /// for the flusher. False when the channel stopped or failed meanwhile.
  bool WaitForRoomLocked(std::unique_lock<std::mutex>& lock);
  /// Moves the current buffer (non-empty) to the sealed queue. Requires mu_.
  void SealLocked();
  /// Records the channel's error (the first one wins) and wakes everyone. Requires mu_.
  void FailLocked(const Status& status);
  /// Sleeps up to `duration`; false when stopping (for RetryTransient).
  bool SleepUnlessStopping(std::chrono::milliseconds duration);

  const ChannelDeps deps_;
  const std::shared_ptr<const coord::CollectionInfo> collection_;
  const std::string channel_;
  const std::unique_ptr<storage::Subscription> subscription_;

  mutable std::mutex mu_;
  std::condition_variable cv_;  // any change below
  std::unique_ptr<GrowingBuffer> current_;              // guarded by mu_
  std::deque<std::unique_ptr<GrowingBuffer>> sealed_;   // guarded by mu_; front is being flushed
  uint64_t sealed_count_ = 0;                           // guarded by mu_; buffers ever sealed
  uint64_t flushed_count_ = 0;                          // guarded by mu_; of those, flushed
  uint64_t position_;                                   // guarded by mu_
  Clock::time_point last_arrival_;                      // guarded by mu_
  Status status_;                                       // guarded by mu_
  bool flusher_failed_ = false;                         // guarded by mu_
  bool stopping_ = false;                               // guarded by mu_
  int64_t gauge_rows_ = 0;                              // guarded by mu_; our share of the gauge

  std::mutex stop_mu_;  // serialises Start/Stop
  std::thread consumer_;
  std::thread flusher_;
};

}  // namespace tessera::datanode
