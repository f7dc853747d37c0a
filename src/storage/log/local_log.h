#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "storage/log/log.h"

namespace tessera::storage {

/// Settings of a LocalLog. Defaults suit a data node; tests shrink the segment size.
struct LocalLogOptions {
  /// A segment is closed and a new one started once it holds at least this many bytes.
  /// Batches never span segments, so a segment can exceed this by one batch. Default 64 MiB.
  uint64_t segment_bytes = 64ull << 20;
  /// Largest accepted record payload; a bigger one is kInvalidArgument. Default 64 MiB,
  /// capped at 1 GiB by the format.
  uint64_t max_record_bytes = 64ull << 20;
  /// Idempotency keys remembered per channel (the most recent ones, rebuilt from the
  /// retained segments on open). Default 65536.
  size_t idempotency_window = 65536;
  /// A group-commit leader stops adding queued batches to its write at this many payload
  /// bytes (it always takes at least one). Default 8 MiB.
  uint64_t max_group_bytes = 8ull << 20;
  /// Create the root directory when it does not exist (otherwise kNotFound). Default true.
  bool create_if_missing = true;
};

/// Cumulative counters of one LocalLog (all channels), for tests and benchmarks.
struct LocalLogStats {
  uint64_t appends = 0;       ///< Append calls with at least one record
  uint64_t deduplicated = 0;  ///< of those, answered from the idempotency window
  uint64_t records = 0;       ///< records written
  uint64_t payload_bytes = 0; ///< payload bytes written
  uint64_t groups = 0;        ///< group-commit writes (each ends with one fdatasync)
  uint64_t syncs = 0;         ///< fdatasync/fsync calls on segment files, rolls included
};

/// The embedded Log: one directory per channel under `root`, each holding segment files of
/// CRC32C-framed records (docs/format/wal.md).
///
/// Durability: Append returns after fdatasync of the bytes. Concurrent Appends to one
/// channel share a write and an fdatasync (leader/follower group commit: the first queued
/// appender writes everything queued behind it, then hands leadership on); there are no
/// background threads. A group whose write fails for lack of space (ENOSPC, EDQUOT) is
/// undone: its appends fail with kResourceExhausted and the channel takes appends again
/// once space is freed. Any other failed write or fdatasync stops the channel until the log
/// is reopened.
///
/// Recovery: a channel is opened (scanned and verified) on first use. A torn tail in the
/// newest segment is cut back to the last complete batch; any other damage makes every
/// operation on that channel return kDataLoss naming the segment file and byte offset.
/// Other channels stay usable.
///
/// Thread-safety: thread-safe (see Log). One process at a time: Open takes an exclusive
/// flock on `root`/LOCK and fails with kFailedPrecondition if another LocalLog holds it.
class LocalLog final : public Log {
 public:
  static Result<std::unique_ptr<LocalLog>> Open(std::string root, LocalLogOptions options = {});

  /// Cancels outstanding subscriptions and closes the files. No Append may be in progress.
  ~LocalLog() override;
  LocalLog(const LocalLog&) = delete;
  LocalLog& operator=(const LocalLog&) = delete;

  Result<std::vector<uint64_t>> Append(std::string_view channel, std::span<const std::string> records,
                                       std::string_view idempotency_key = {}) override;
  Result<std::unique_ptr<Subscription>> Subscribe(std::string_view channel, uint64_t from_offset) override;
  Status Truncate(std::string_view channel, uint64_t before_offset) override;
  Status DeleteChannel(std::string_view channel) override;
  Result<std::vector<std::string>> ListChannels() override;
  Result<std::optional<uint64_t>> LastOffset(std::string_view channel) override;
  Result<uint64_t> FirstOffset(std::string_view channel) override;
  Status Health() override;

  LocalLogStats stats() const;
  const std::string& root() const { return root_; }

 private:
  struct Channel;
  struct Writer;
  class LocalSubscription;

  LocalLog(std::string root, LocalLogOptions options, int lock_fd);

  /// The open channel `name`, recovering it from disk (and creating its directory) on first
  /// use. Recovery errors are returned and not cached, so a repaired channel can be retried.
  Result<std::shared_ptr<Channel>> GetChannel(std::string_view name);
  Status RecoverChannel(Channel& channel);
  /// Leader only: writes the batches of `group` (assigning offsets, answering duplicates
  /// from the window), fdatasyncs, and rolls segments as needed. Nothing is visible to
  /// readers until PublishGroup. When the write fails for lack of space (kResourceExhausted)
  /// and the group could be undone, `*undone` is set: nothing of the group is left on disk
  /// and the channel takes writes again once space is freed.
  Status WriteGroup(Channel& channel, const std::vector<Writer*>& group, bool* undone);
  Status WriteGroupFrames(Channel& channel, const std::vector<Writer*>& group);
  /// Leader only: removes what a failed group wrote (its new segments, its bytes in the
  /// active one) and rewinds the channel's offsets to where the group began.
  Status UndoGroup(Channel& channel, uint64_t next_offset, uint64_t active_bytes, const std::string& active_path);
  /// Leader, under Channel::mu: makes a written group readable.
  static void PublishGroup(Channel& channel);
  /// Leader only: closes the active segment and starts the next one (unpublished).
  Status RollSegment(Channel& channel);

  const std::string root_;
  const LocalLogOptions options_;
  const int lock_fd_;

  std::mutex channels_mu_;
  std::map<std::string, std::shared_ptr<Channel>, std::less<>> channels_;  // guarded by channels_mu_

  std::atomic<uint64_t> appends_{0};
  std::atomic<uint64_t> deduplicated_{0};
  std::atomic<uint64_t> records_{0};
  std::atomic<uint64_t> payload_bytes_{0};
  std::atomic<uint64_t> groups_{0};
  std::atomic<uint64_t> syncs_{0};
};

}  // namespace tessera::storage
