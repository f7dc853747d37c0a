#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/meta/meta_store.h"

namespace tessera::storage {

namespace internal {
struct EtcdClient;
struct EtcdWatchState;
}  // namespace internal

struct EtcdMetaStoreOptions {
  /// How long Open waits for a connection to an endpoint before giving up with kUnavailable.
  std::chrono::milliseconds dial_timeout{5000};
  /// Deadline of every unary RPC (and of a watch's creation).
  std::chrono::milliseconds request_timeout{10000};
  /// Backoff between attempts to re-establish a broken watch stream (doubles up to the max).
  std::chrono::milliseconds watch_retry_min{100};
  std::chrono::milliseconds watch_retry_max{2000};

  /// TLS (https:// endpoints only). PEM file of the CA certificates etcd's certificate is
  /// verified against; empty: the system roots.
  std::string ca_file;
  /// Client certificate and its unencrypted key (PEM) for etcd's --client-cert-auth; both or
  /// neither.
  std::string cert_file;
  std::string key_file;

  /// etcd authentication: when `username` is set, Open calls Auth.Authenticate and every
  /// request carries the token; an expired or invalidated token is renewed once per request.
  std::string username;
  std::string password;
};

/// MetaStore on etcd v3 (KV, Watch and Lease services over gRPC; plaintext or TLS, optionally
/// with a client certificate and/or etcd username/password authentication).
/// Every method maps to one etcd RPC (KeepAlive: one round trip on a short-lived
/// LeaseKeepAlive stream); revisions, versions, lease ids and compaction are etcd's own.
///
/// - Every RPC carries a deadline (`request_timeout`). An unreachable etcd gives
///   kUnavailable (or kDeadlineExceeded when a request was sent and never answered), never a
///   hang; Open itself fails with kUnavailable after `dial_timeout`.
/// - Each watch owns one thread and one Watch stream. When the stream breaks (etcd restart,
///   leader loss, network), the thread reconnects with backoff and re-creates the watch from
///   the last delivered revision + 1, so the callback sees no gap and no duplicate. A watch
///   whose resume point was compacted meanwhile gets the terminal kOutOfRange response with
///   `compact_revision`. A watch retries for as long as it lives; it never gives up on its own.
/// - Authentication: etcd's tokens expire (simple tokens after --auth-token-ttl idle seconds).
///   A request refused for its token authenticates again and is retried once; a watch whose
///   stream is re-created with an expired token (etcd answers "permission denied") does the same.
/// - Leases: etcd TTLs are whole seconds, so Grant rounds up; etcd also enforces a minimum
///   TTL (1.5 x election timeout, rounded up to a second).
///
/// Thread-safe. Watch callbacks run on the watches' threads without any store lock held, so
/// they may call back into the store. Destroying the store cancels every watch (joining its
/// thread); it must not be destroyed from inside a watch callback.
class EtcdMetaStore final : public MetaStore {
 public:
  /// Connects to etcd. `endpoints` are "host:port", "http://host:port" or
  /// "https://host:port" (TLS; all or none of them). With several endpoints they must be
  /// literal IPv4 addresses; gRPC then fails over between them. kInvalidArgument for a
  /// malformed or mixed endpoint list and for a missing or unreadable TLS file (naming it);
  /// kUnavailable when no endpoint answers within `dial_timeout` (the message carries gRPC's
  /// last connection error, e.g. the TLS handshake failure); kPermissionDenied, naming the
  /// user, when etcd refuses the username/password.
  static Result<std::unique_ptr<EtcdMetaStore>> Open(const std::vector<std::string>& endpoints,
                                                     const EtcdMetaStoreOptions& options = {});

  ~EtcdMetaStore() override;
  EtcdMetaStore(const EtcdMetaStore&) = delete;
  EtcdMetaStore& operator=(const EtcdMetaStore&) = delete;

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

  /// The gRPC target the store talks to, e.g. "127.0.0.1:2379".
  const std::string& target() const;

  /// How many times the store called Auth.Authenticate (Open included); 0 without a username.
  int64_t authentications() const;

 private:
  explicit EtcdMetaStore(std::shared_ptr<internal::EtcdClient> client);

  std::shared_ptr<internal::EtcdClient> client_;
  std::mutex watches_mu_;
  std::vector<std::weak_ptr<internal::EtcdWatchState>> watches_;  // guarded by watches_mu_
};

/// The etcd range end that selects every key starting with `prefix`: the prefix with its
/// last byte below 0xFF incremented and everything after it dropped; "\0" (every key from
/// the start key on) when the prefix is empty or all 0xFF bytes.
std::string EtcdPrefixEnd(std::string_view prefix);

}  // namespace tessera::storage
