#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/meta/meta_store.h"

struct sqlite3;

namespace tessera::storage {

namespace internal {
class SqliteDb;
struct WatchNotifier;
struct SqliteWatchState;
}  // namespace internal

struct SqliteMetaStoreOptions {
  /// How many revisions of history are kept for watch replay; older ones are compacted
  /// automatically (in chunks, so slightly more may be retained). 0 keeps everything.
  int64_t history_retention_revisions = 10000;
  /// How long a statement waits on a lock held by another connection.
  std::chrono::milliseconds busy_timeout{5000};
  /// Most revisions a watch reads from the history table per round trip.
  int64_t watch_batch_revisions = 256;
};

/// The embedded MetaStore: one SQLite database file in WAL journal mode with
/// synchronous=FULL, so an acknowledged write survives a crash or power loss. The schema is
/// documented in docs/format/sqlite_meta.md.
///
/// - Writes are serialised by one mutex on one connection; each write transaction that
///   changes something consumes one revision, stored in the file, so revisions stay
///   monotonic across restarts.
/// - Every change is also appended to a history table; watches read it (each watch has its
///   own thread and its own read connection), so replay and live delivery are the same code
///   and a watch never sees a gap. History beyond `history_retention_revisions` is
///   compacted.
/// - Leases are persisted with an absolute wall-clock deadline. A background thread revokes
///   expired ones. After a restart a lease keeps its remaining TTL; leases whose deadline
///   passed while the store was closed are revoked (keys deleted, DELETE events recorded)
///   before Open returns.
/// - A side file `<path>.lock` (flock) keeps a second process (or a second Open in this
///   process) from opening the same database: kFailedPrecondition.
///
/// Thread-safe. Watch callbacks run on the watches' threads without any store lock held, so
/// they may call back into the store. The store must not be destroyed from inside a watch
/// callback; destroying it cancels every watch and joins its threads.
class SqliteMetaStore final : public MetaStore {
 public:
  /// Opens or creates the store at `path` (its directory must exist).
  /// kDataLoss (naming the path) for a corrupt file or one that is not SQLite;
  /// kFailedPrecondition for a SQLite file that is not a Tessera meta store, a newer format
  /// version, or a store already open elsewhere.
  static Result<std::unique_ptr<SqliteMetaStore>> Open(const std::filesystem::path& path,
                                                       const SqliteMetaStoreOptions& options = {});

  ~SqliteMetaStore() override;
  SqliteMetaStore(const SqliteMetaStore&) = delete;
  SqliteMetaStore& operator=(const SqliteMetaStore&) = delete;

  Result<std::optional<KeyValue>> Get(std::string_view key) override;
  Result<int64_t> Put(std::string_view key, std::string_view value, LeaseId lease = kNoLease) override;
  Result<DeleteResult> Delete(std::string_view key) override;
  Result<RangeResult> Range(std::string_view prefix, int64_t limit = 0) override;
  Result<TxnResult> Commit(const Txn& txn) override;
  Result<std::unique_ptr<WatchHandle>> Watch(std::string_view prefix, int64_t from_revision,
                                             WatchCallback callback) override;
  Result<LeaseId> Grant(std::chrono::milliseconds ttl) override;
  Status KeepAlive(LeaseId lease) override;
  Status Revoke(LeaseId lease) override;
  Result<std::chrono::milliseconds> TimeToLive(LeaseId lease) override;
  Status Compact(int64_t revision) override;
  Result<int64_t> CurrentRevision() override;

  const std::filesystem::path& path() const { return path_; }

 private:
  using Clock = std::chrono::system_clock;
  struct LeaseInfo {
    std::chrono::milliseconds ttl;
    Clock::time_point expires_at;
  };

  SqliteMetaStore(std::filesystem::path path, SqliteMetaStoreOptions options, int lock_fd);

  Status Init();
  // Runs compares + the chosen branch as one write transaction. Requires mu_.
  Result<TxnResult> ApplyLocked(const std::vector<Compare>& compares,
                                const std::vector<TxnOp>& success,
                                const std::vector<TxnOp>& failure);
  // Deletes the lease and its keys as one revision. Requires mu_.
  Status RevokeLocked(LeaseId lease);
  Status CompactLocked(int64_t revision);
  void PublishLocked(int64_t revision);
  void LeaseLoop();
  void ReapWatches();

  const std::filesystem::path path_;
  const SqliteMetaStoreOptions options_;
  const int lock_fd_;

  // Guards the write connection and everything below. (std::mutex: common/ has no annotated
  // mutex yet.)
  std::mutex mu_;
  std::unique_ptr<internal::SqliteDb> db_;  // guarded by mu_
  int64_t revision_ = 0;                    // guarded by mu_
  int64_t compact_revision_ = 0;            // guarded by mu_
  int64_t next_lease_id_ = 1;               // guarded by mu_
  std::map<LeaseId, LeaseInfo> leases_;     // guarded by mu_
  bool closing_ = false;                    // guarded by mu_
  std::condition_variable lease_cv_;
  std::thread lease_thread_;

  std::shared_ptr<internal::WatchNotifier> notifier_;
  std::mutex watches_mu_;
  std::vector<std::shared_ptr<internal::SqliteWatchState>> watches_;  // guarded by watches_mu_
};

}  // namespace tessera::storage
