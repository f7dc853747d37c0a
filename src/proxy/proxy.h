#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "common/status.h"
#include "proxy/http_types.h"

namespace tessera {
namespace coord {
class Coordinator;
}
namespace querynode {
class QueryNode;
}
namespace storage {
class Log;
}
}  // namespace tessera

namespace tessera::proxy {

namespace internal {
class ProxyImpl;
}

struct ProxyOptions {
  /// Staleness a Bounded read tolerates: it waits for every write this proxy acknowledged
  /// at least this long ago.
  std::chrono::milliseconds bounded_staleness{1000};
  /// Timeout of a read on the query node when the request has no Request-Timeout header.
  std::chrono::milliseconds request_timeout{30000};
  /// Int64 outputs as JSON numbers when the request has no (or an unparsable)
  /// Accept-Type-Allow-Int64 header (Milvus proxy.http.acceptTypeAllowInt64).
  bool accept_int64_default = true;
  /// Asked before an insert or upsert is written (after it is validated); a non-OK status
  /// refuses the request with that status (the standalone refuses writes while the
  /// process is above its memory limit: ResourceExhausted "memory quota exceeded", code 9).
  /// Deletes are not asked: they are how a user makes room. Empty = always admitted.
  std::function<Status()> admit_write;
  /// How often a time tick is appended to each WAL channel written since its last tick
  /// (docs/format/wal_message.md; compaction retires deletes with them); 0 = never.
  std::chrono::milliseconds time_tick_interval{1000};
};

/// The Milvus RESTful API v2 (spec/REST_API.md) over the role interfaces: validates and
/// decodes requests, answers catalog calls through the coordinator, writes inserts, upserts
/// and deletes to the WAL (one channel per shard, rows routed by primary-key hash) and
/// reads through the query node with the request's consistency level.
///
/// Handle() takes a request whose path is /v2/vectordb/<category>/<action> and returns the
/// response: HTTP 200 with the {"code":...} envelope for every handled outcome, 404 for an
/// unknown route or a method other than POST, 408 (code 10001) when a read timed out, 500
/// ({"code":500}) if a handler failed unexpectedly. Routes of Milvus that Tessera does not
/// implement (users, roles, import jobs, ...) answer code 10.
///
/// Thread-safe: Handle may run on many threads at once. The roles and the log are borrowed
/// and must outlive the proxy.
class Proxy {
 public:
  Proxy(ProxyOptions options, coord::Coordinator* coordinator, querynode::QueryNode* query_node, storage::Log* log);
  ~Proxy();
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  HttpResponse Handle(const HttpRequest& request);

 private:
  std::unique_ptr<internal::ProxyImpl> impl_;
};

}  // namespace tessera::proxy
