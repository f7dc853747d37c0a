#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace tessera::storage {

/// A lease id. 0 (kNoLease) means "no lease". Ids are never reused by a store.
enum class LeaseId : int64_t {};
inline constexpr LeaseId kNoLease{0};

/// Limits every implementation enforces (InvalidArgument beyond them). Keys are arbitrary
/// bytes, non-empty.
inline constexpr size_t kMaxMetaKeySize = 4 * 1024;
inline constexpr size_t kMaxMetaValueSize = 16 * 1024 * 1024;

/// One key and its metadata, as in etcd v3's mvccpb.KeyValue.
struct KeyValue {
  std::string key;
  std::string value;
  /// Revision of the write that created this incarnation of the key.
  int64_t create_revision = 0;
  /// Revision of the last write to the key.
  int64_t mod_revision = 0;
  /// 1 after the put that created the key, +1 per later put; a delete resets it.
  int64_t version = 0;
  /// The lease the key is attached to, or kNoLease.
  LeaseId lease = kNoLease;

  bool operator==(const KeyValue&) const = default;
};

/// Result of Range: the matching keys in ascending bytewise order, and the store revision
/// they were read at (watch from `revision + 1` to see every later change without a gap).
struct RangeResult {
  std::vector<KeyValue> kvs;
  int64_t revision = 0;
  /// True when `limit` cut the result short.
  bool more = false;
};

struct DeleteResult {
  /// 1 when the key existed and was deleted, 0 otherwise (no revision is consumed then).
  int64_t deleted = 0;
  /// The revision of the delete, or the current store revision when nothing was deleted.
  int64_t revision = 0;
};

enum class CompareOp { kEqual, kNotEqual, kLess, kGreater };

/// One condition of a transaction, evaluated atomically with the transaction's writes.
/// A missing key has mod_revision 0 (as in etcd), so ModRevision(key, kEqual, 0) is true
/// exactly when the key does not exist. A Value compare on a missing key is false.
struct Compare {
  enum class Target { kModRevision, kExists, kNotExists, kValue };

  static Compare ModRevision(std::string key, CompareOp op, int64_t revision) {
    return Compare{Target::kModRevision, op, std::move(key), revision, {}};
  }
  static Compare Exists(std::string key) {
    return Compare{Target::kExists, CompareOp::kEqual, std::move(key), 0, {}};
  }
  static Compare NotExists(std::string key) {
    return Compare{Target::kNotExists, CompareOp::kEqual, std::move(key), 0, {}};
  }
  /// Bytewise comparison of the stored value against `value`.
  static Compare Value(std::string key, CompareOp op, std::string value) {
    return Compare{Target::kValue, op, std::move(key), 0, std::move(value)};
  }

  Target target = Target::kExists;
  CompareOp op = CompareOp::kEqual;
  std::string key;
  int64_t revision = 0;
  std::string value;
};

/// A write inside a transaction.
struct TxnOp {
  enum class Type { kPut, kDelete };

  static TxnOp Put(std::string key, std::string value, LeaseId lease = kNoLease) {
    return TxnOp{Type::kPut, std::move(key), std::move(value), lease};
  }
  static TxnOp Delete(std::string key) { return TxnOp{Type::kDelete, std::move(key), {}, kNoLease}; }

  Type type = Type::kPut;
  std::string key;
  std::string value;
  LeaseId lease = kNoLease;
};

/// A compare-then-write transaction, built with a small fluent builder:
///
///   auto r = store.Commit(Txn()
///       .If(Compare::ModRevision("/a", CompareOp::kEqual, seen))
///       .Then(TxnOp::Put("/a", "2"))
///       .Else(TxnOp::Delete("/b")));
///
/// If every compare holds, the `Then` ops run, otherwise the `Else` ops; either way all of
/// it is one atomic step. A key may appear at most once per branch (InvalidArgument).
class Txn {
 public:
  Txn& If(Compare compare) {
    compares_.push_back(std::move(compare));
    return *this;
  }
  Txn& Then(TxnOp op) {
    success_.push_back(std::move(op));
    return *this;
  }
  Txn& Else(TxnOp op) {
    failure_.push_back(std::move(op));
    return *this;
  }

  const std::vector<Compare>& compares() const { return compares_; }
  const std::vector<TxnOp>& success() const { return success_; }
  const std::vector<TxnOp>& failure() const { return failure_; }

 private:
  std::vector<Compare> compares_;
  std::vector<TxnOp> success_;
  std::vector<TxnOp> failure_;
};

struct TxnResult {
  /// Whether every compare held (the `Then` branch ran).
  bool succeeded = false;
  /// The revision of the transaction's writes, or the current store revision when the
  /// branch that ran changed nothing.
  int64_t revision = 0;
};

enum class EventType { kPut, kDelete };

struct WatchEvent {
  EventType type = EventType::kPut;
  /// The key after the change. For a delete: key and mod_revision (the delete's revision)
  /// only, as in etcd.
  KeyValue kv;
  /// The key before the change, when it existed.
  std::optional<KeyValue> prev_kv;
};

/// What a watch callback receives: the events of one revision (one write transaction) that
/// match the watch's prefix, in the order the transaction applied them. Revisions arrive in
/// ascending order with no gaps (revisions without a matching key are skipped).
///
/// A non-OK `status` is terminal: no events, and no call follows. kOutOfRange means the
/// watch fell behind compaction (`compact_revision` says how far); re-list with Range and
/// watch again from the Range revision + 1.
struct WatchResponse {
  int64_t revision = 0;
  std::vector<WatchEvent> events;
  Status status;
  int64_t compact_revision = 0;
};

using WatchCallback = std::function<void(const WatchResponse&)>;

/// A running watch. Destroying the handle cancels it.
/// Thread-safe; may outlive the store (it is then already cancelled).
class WatchHandle {
 public:
  virtual ~WatchHandle() = default;
  /// Stops the watch. From any other thread it returns once no callback is running and none
  /// will start. Called from inside the watch's own callback it returns at once and no
  /// further call follows the current one. Idempotent.
  virtual void Cancel() = 0;
};

/// The metadata store: a small, strongly consistent key-value store with a global revision,
/// compare-and-swap transactions, prefix watches and leases. Semantics follow etcd v3:
///
///  - Every write transaction that changes at least one key increments the store revision
///    by exactly one; all its changes carry that revision. Writes that change nothing
///    (deleting a missing key, a branch without ops) consume no revision.
///  - Revisions never go backwards, also across restarts.
///  - History is kept for a bounded window; Compact(rev) drops history below `rev`, after
///    which watching from an older revision fails with kOutOfRange.
///
/// Errors: kInvalidArgument for a bad key/value/ttl, kNotFound for an unknown lease,
/// kOutOfRange for a compacted or future revision, kUnavailable when the backend cannot be
/// reached, kDataLoss when stored bytes are damaged. A failed compare is not an error: it
/// is TxnResult::succeeded == false.
///
/// Implementations are thread-safe: every method may be called from any thread, including
/// from inside watch callbacks.
class MetaStore {
 public:
  virtual ~MetaStore() = default;

  /// The key's current value, or nullopt when it does not exist.
  virtual Result<std::optional<KeyValue>> Get(std::string_view key) = 0;

  /// Writes `value` under `key`, attached to `lease` (kNoLease detaches it). Returns the
  /// revision of the write. kNotFound when the lease does not exist.
  virtual Result<int64_t> Put(std::string_view key, std::string_view value,
                              LeaseId lease = kNoLease) = 0;

  virtual Result<DeleteResult> Delete(std::string_view key) = 0;

  /// Keys starting with `prefix` (all keys for an empty prefix), ascending bytewise, at most
  /// `limit` of them (0 = no limit).
  virtual Result<RangeResult> Range(std::string_view prefix, int64_t limit = 0) = 0;

  virtual Result<TxnResult> Commit(const Txn& txn) = 0;

  /// Calls `callback` with every change to keys starting with `prefix` whose revision is
  /// >= from_revision, on a thread owned by the watch, in revision order: first the
  /// retained history, then live changes. from_revision 0 means "changes after now".
  /// kOutOfRange when from_revision is below the compaction point.
  virtual Result<std::unique_ptr<WatchHandle>> Watch(std::string_view prefix,
                                                     int64_t from_revision,
                                                     WatchCallback callback) = 0;

  /// Creates a lease that expires `ttl` after the last keep-alive; when it expires (or is
  /// revoked), every key attached to it is deleted in one revision, with DELETE events.
  /// Implementations may round the TTL up (etcd: to whole seconds).
  virtual Result<LeaseId> Grant(std::chrono::milliseconds ttl) = 0;
  /// Restarts the lease's TTL. kNotFound when it expired or never existed.
  virtual Status KeepAlive(LeaseId lease) = 0;
  /// Deletes the lease and its keys now. kNotFound when it expired or never existed.
  virtual Status Revoke(LeaseId lease) = 0;
  /// Time until the lease expires unless kept alive. kNotFound as for KeepAlive.
  virtual Result<std::chrono::milliseconds> TimeToLive(LeaseId lease) = 0;

  /// Drops history below `revision`. Compacting to or below the current compaction point is
  /// a no-op; a revision above the store revision is kOutOfRange.
  virtual Status Compact(int64_t revision) = 0;

  /// The current store revision (0 for an empty, never-written store).
  virtual Result<int64_t> CurrentRevision() = 0;
};

}  // namespace tessera::storage
