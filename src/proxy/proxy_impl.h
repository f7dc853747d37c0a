#pragma once

// PRIVATE header of the proxy: the implementation behind Proxy, shared by proxy.cc and the
// handlers_*.cc files (one per endpoint category).

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/metrics.h"
#include "coord/coordinator.h"
#include "proxy/api_status.h"
#include "proxy/consistency.h"
#include "proxy/decode_entities.h"
#include "proxy/encode.h"
#include "proxy/error_map.h"
#include "proxy/fast_json.h"
#include "proxy/http_types.h"
#include "proxy/json_fields.h"
#include "proxy/proxy.h"
#include "proxy/time_ticker.h"
#include "querynode/query_node.h"
#include "storage/log/log.h"

namespace tessera::msg {
struct WalMessage;
}

namespace tessera::proxy::internal {

/// One request being handled.
struct Call {
  const HttpRequest& http;
  std::string route;    // "collections/create"
  nlohmann::json body;  // the parsed body (an object)
  std::string db;       // dbName -> DB-Name header -> "default"
  bool int64_as_number = true;
  std::chrono::milliseconds timeout{30000};
  /// entities/search: the query vectors, when the parser lifted them out of body["data"].
  PackedVectors vectors;
  /// collectionName once CollectionName validated it (for the access log).
  std::string collection = {};

  /// A reader over the body; `owner` names the request struct in 1802 messages.
  FieldReader Reader(std::string_view owner) const { return FieldReader(body, std::string(owner)); }
};

class ProxyImpl {
 public:
  using Handler = ApiResult<Reply> (ProxyImpl::*)(Call&);

  ProxyImpl(ProxyOptions options, coord::Coordinator* coordinator, querynode::QueryNode* query_node,
            storage::Log* log);
  /// Stops the time-tick thread (appending the ticks due first).
  ~ProxyImpl();

  HttpResponse Handle(const HttpRequest& request);

  // ---- collections (handlers_collections.cc) -------------------------------------------
  ApiResult<Reply> CreateCollection(Call& call);
  ApiResult<Reply> DescribeCollection(Call& call);
  ApiResult<Reply> ListCollections(Call& call);
  ApiResult<Reply> HasCollection(Call& call);
  ApiResult<Reply> DropCollection(Call& call);
  ApiResult<Reply> RenameCollection(Call& call);
  ApiResult<Reply> GetCollectionStats(Call& call);
  ApiResult<Reply> LoadCollection(Call& call);
  ApiResult<Reply> RefreshLoad(Call& call);
  ApiResult<Reply> ReleaseCollection(Call& call);
  ApiResult<Reply> GetLoadState(Call& call);
  ApiResult<Reply> FlushCollection(Call& call);
  ApiResult<Reply> CompactCollection(Call& call);
  ApiResult<Reply> GetCompactionState(Call& call);
  ApiResult<Reply> AlterCollectionProperties(Call& call);
  ApiResult<Reply> DropCollectionProperties(Call& call);

  // ---- entities (handlers_entities.cc) ----------------------------------------------------
  ApiResult<Reply> Insert(Call& call);
  ApiResult<Reply> Upsert(Call& call);
  ApiResult<Reply> Delete(Call& call);
  ApiResult<Reply> Query(Call& call);
  ApiResult<Reply> Get(Call& call);
  ApiResult<Reply> Search(Call& call);
  ApiResult<Reply> HybridSearch(Call& call);

  // ---- indexes, partitions, aliases, databases (handlers_catalog.cc) --------------------
  ApiResult<Reply> CreateIndex(Call& call);
  ApiResult<Reply> DescribeIndex(Call& call);
  ApiResult<Reply> ListIndexes(Call& call);
  ApiResult<Reply> DropIndex(Call& call);
  ApiResult<Reply> ListPartitions(Call& call);
  ApiResult<Reply> HasPartition(Call& call);
  ApiResult<Reply> CreatePartition(Call& call);
  ApiResult<Reply> DropPartition(Call& call);
  ApiResult<Reply> LoadPartitions(Call& call);
  ApiResult<Reply> ReleasePartitions(Call& call);
  ApiResult<Reply> GetPartitionStats(Call& call);
  ApiResult<Reply> ListAliases(Call& call);
  ApiResult<Reply> DescribeAlias(Call& call);
  ApiResult<Reply> CreateAlias(Call& call);
  ApiResult<Reply> DropAlias(Call& call);
  ApiResult<Reply> AlterAlias(Call& call);
  ApiResult<Reply> CreateDatabase(Call& call);
  ApiResult<Reply> DropDatabase(Call& call);
  ApiResult<Reply> ListDatabases(Call& call);
  ApiResult<Reply> DescribeDatabase(Call& call);
  ApiResult<Reply> AlterDatabase(Call& call);
  ApiResult<Reply> DropDatabaseProperties(Call& call);

 private:
  // ---- shared helpers (proxy.cc) ---------------------------------------------------------
  /// The required collectionName of the body, validated.
  /// The body's collectionName, validated; also recorded in call.collection.
  ApiResult<std::string> CollectionName(Call& call, std::string_view owner) const;
  /// The collection (by name or alias) in the call's database; 100 when unknown.
  ApiResult<coord::CollectionInfo> ResolveCollection(const Call& call, const std::string& name);
  /// Ids of the named partitions of `info` (200 naming the first unknown one).
  ApiResult<std::vector<int64_t>> PartitionIds(const coord::CollectionInfo& info,
                                               const std::vector<std::string>& names) const;
  /// What a read of `info` at `level` (or the collection's level) must wait for.
  ApiResult<querynode::WaitOffsets> WaitFor(const coord::CollectionInfo& info,
                                            std::optional<coord::ConsistencyLevel> level);
  /// Encodes `message` and appends it to `channel`; records the acknowledgement. Returns
  /// the record's offset.
  ApiResult<uint64_t> AppendToWal(const std::string& channel, const msg::WalMessage& message);
  /// Insert and upsert share everything but the message type and the response keys.
  ApiResult<Reply> WriteRows(Call& call, bool upsert);
  // groupingField: searches with a growing candidate list until every query has its groups
  // (src/proxy/grouping.h).
  ApiResult<Reply> GroupedSearch(querynode::SearchRequest request, const SearchSpec& spec,
                                 const core::CollectionSchema& schema, const core::FieldSchema& pk, const Call& call);
  // partialUpdate: `data` with each row's missing fields (declared and dynamic) taken from
  // the stored row of its primary key, read at Strong consistency. Rows whose key is not
  // stored are left as they are (an insert: every required field must be given).
  ApiResult<nlohmann::json> FillFromStoredRows(Call& call, const coord::CollectionInfo& info,
                                               const nlohmann::json& data);
  /// The timestamp of a write of `info` to the channels of `shards`, in flight (for the
  /// time ticks) until the returned Write is destroyed.
  ApiResult<TimeTicker::Write> BeginWrite(const coord::CollectionInfo& info, const std::vector<int32_t>& shards);
  /// Appends the time ticks due (every time_tick_interval on the ticker thread).
  void AppendTimeTicks();
  void TickLoop();

  const ProxyOptions options_;
  coord::Coordinator* const coordinator_;
  querynode::QueryNode* const query_node_;
  storage::Log* const log_;
  AckTracker acks_;
  TimeTicker ticker_;
  std::mutex tick_mu_;
  std::condition_variable tick_cv_;
  bool stopping_ = false;  // guarded by tick_mu_
  std::thread tick_thread_;

  metrics::Counter& rows_inserted_;
  metrics::Counter& rows_deleted_;
  metrics::Histogram& wal_append_seconds_;
};

/// OK status of a coordinator call, or its mapping in `context`.
inline ApiStatus FromStatus(const Status& status, ErrorContext context) {
  return status.ok() ? ApiStatus::OK() : ToApiStatus(status, context);
}

}  // namespace tessera::proxy::internal
