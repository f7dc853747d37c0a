// entities/* handlers (spec §7.2): writes go to the WAL, reads to the query node.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <string>
#include <utility>

#include "msg/wal_message.h"
#include "proxy/decode_entities.h"
#include "proxy/filter_util.h"
#include "proxy/insert_batch.h"
#include "proxy/proxy_impl.h"
#include "proxy/rerank.h"
#include "proxy/sharding.h"

namespace tessera::proxy::internal {

using nlohmann::json;

namespace {

constexpr std::string_view kInsertReq = "CollectionDataReq";
// Page size when a delete collects the keys matching its filter.
constexpr size_t kDeletePage = 16384;

std::optional<segment::PrimaryKey> PkOfRow(const json& row, const std::string& pk_name) {
  auto it = row.find(pk_name);
  if (it == row.end()) return std::nullopt;
  if (it->is_number_integer()) return segment::PrimaryKey(it->get<int64_t>());
  if (it->is_string()) return segment::PrimaryKey(it->get<std::string>());
  return std::nullopt;
}

// The primary key of `row` as the field's type: an Int64 key may also come as decimal text.
std::optional<segment::PrimaryKey> TypedPkOfRow(const json& row, const core::FieldSchema& pk) {
  if (!row.is_object()) return std::nullopt;
  std::optional<segment::PrimaryKey> key = PkOfRow(row, pk.name);
  if (!key || pk.data_type != core::DataType::kInt64) return key;
  if (const std::string* text = std::get_if<std::string>(&*key)) {
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
    if (ec != std::errc() || end != text->data() + text->size()) return std::nullopt;
    return segment::PrimaryKey(v);
  }
  return key;
}

// The error of a write whose shard records were appended in turn until one failed. When
// earlier shards' records were already written (they stay: each record is atomic, the
// request is not), the message says how many rows were, so that a client knows a retry of
// an insert duplicates them; an upsert or delete retry is harmless.
ApiStatus PartlyWritten(ApiStatus failed, size_t written, size_t total, std::string_view what) {
  if (written == 0) return failed;
  return ApiStatus(failed.code(), failed.message() + " (" + std::string(what) + " partly applied: " +
                                      std::to_string(written) + " of " + std::to_string(total) +
                                      " rows were written to other shards before this failure)");
}

}  // namespace

ApiResult<Reply> ProxyImpl::Insert(Call& call) { return WriteRows(call, /*upsert=*/false); }
ApiResult<Reply> ProxyImpl::Upsert(Call& call) { return WriteRows(call, /*upsert=*/true); }

ApiResult<Reply> ProxyImpl::WriteRows(Call& call, bool upsert) {
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, kInsertReq));
  FieldReader r = call.Reader(kInsertReq);
  const json* data = nullptr;
  TESSERA_API_RETURN_IF_ERROR(r.RequiredArray("data", &data));
  std::string partition_name;
  TESSERA_API_RETURN_IF_ERROR(r.String("partitionName", &partition_name));
  if (!partition_name.empty()) TESSERA_API_RETURN_IF_ERROR(ValidateName("partition", partition_name));
  bool partial = false;  // upsert only (an insert body has no such field: ignored there)
  if (upsert) TESSERA_API_RETURN_IF_ERROR(r.Bool("partialUpdate", &partial));
  if (data->empty()) return InsertDataError("missing required parameters");

  TESSERA_API_ASSIGN_OR_RETURN(coord::CollectionInfo info, ResolveCollection(call, name));
  const core::FieldSchema* pk = info.schema.PrimaryKey();
  if (pk == nullptr) return ApiStatus(code::kUnexpected, "collection " + name + " has no primary key");
  // The WAL carries declared columns only; an undeclared dynamic field would lose its keys.
  if (info.schema.enable_dynamic_field &&
      std::none_of(info.schema.fields.begin(), info.schema.fields.end(),
                   [](const core::FieldSchema& f) { return f.is_dynamic; })) {
    return ApiStatus(code::kUnexpected, "the catalog schema of collection " + name +
                                            " enables the dynamic field without declaring $meta");
  }
  std::optional<int64_t> partition_id;
  if (!partition_name.empty()) {
    for (const core::FieldSchema& f : info.schema.fields) {
      if (f.is_partition_key) {
        return InvalidParameterError("not support manually specifying the partition names if partition key mode is used");
      }
    }
    TESSERA_API_ASSIGN_OR_RETURN(std::vector<int64_t> ids, PartitionIds(info, {partition_name}));
    partition_id = ids.front();
  }

  InsertOptions options;
  options.upsert = upsert;
  if (pk->auto_id && !upsert) {
    if (data->size() > UINT32_MAX) return InsertDataError("too many rows in one request");
    auto first = coordinator_->AllocateIds(static_cast<uint32_t>(data->size()));
    if (!first.ok()) return ToApiStatus(first.status(), ErrorContext::kGeneral);
    options.first_auto_id = *first;
  }
  json filled;
  if (partial) {
    TESSERA_API_ASSIGN_OR_RETURN(filled, FillFromStoredRows(call, info, *data));
    data = &filled;
  }
  TESSERA_API_ASSIGN_OR_RETURN(InsertBatch batch, BuildInsertBatch(*data, info.schema, options));
  json ids = json::array();
  for (const segment::PrimaryKey& key : batch.pks) ids.push_back(EncodePk(key, call.int64_as_number));
  const size_t count = batch.pks.size();
  TESSERA_API_ASSIGN_OR_RETURN(std::vector<ShardBatch> shards, RouteRows(std::move(batch), info, partition_id));
  if (options_.admit_write) {
    Status admitted = options_.admit_write();
    if (!admitted.ok()) return ToApiStatus(admitted, ErrorContext::kGeneral);
  }

  std::vector<int32_t> shard_ids;
  for (const ShardBatch& shard : shards) shard_ids.push_back(shard.shard);
  TESSERA_API_ASSIGN_OR_RETURN(TimeTicker::Write write, BeginWrite(info, shard_ids));
  const uint64_t ts = write.timestamp();
  // One record per shard, all at one timestamp. A failure after some shards were written
  // leaves those rows in place (each record is atomic, the request is not); the error says
  // so, and the client may retry (an upsert retry is idempotent, an insert retry is not).
  size_t written = 0;
  for (ShardBatch& shard : shards) {
    msg::WalMessage message;
    message.type = upsert ? msg::MessageType::kUpsert : msg::MessageType::kInsert;
    message.collection_id = info.id;
    message.timestamp = ts;
    message.rows = std::move(shard.rows);
    message.partition_ids = std::move(shard.partition_ids);
    if (upsert) message.deleted_pks = std::move(shard.pks);
    const size_t rows = message.partition_ids.size();
    ApiStatus appended = AppendToWal(info.Channel(shard.shard), message).status();
    if (!appended.ok()) return PartlyWritten(std::move(appended), written, count, upsert ? "upsert" : "insert");
    written += rows;
    rows_inserted_.Inc(static_cast<double>(rows));
  }
  Reply reply;
  reply.with_cost = true;
  if (upsert) {
    reply.data = {{"upsertCount", count}, {"upsertIds", std::move(ids)}};
  } else {
    reply.data = {{"insertCount", count}, {"insertIds", std::move(ids)}};
  }
  return reply;
}

ApiResult<json> ProxyImpl::FillFromStoredRows(Call& call, const coord::CollectionInfo& info, const json& data) {
  // A key stored in a released partition would read as absent, and the upsert would then
  // replace its row with one of defaults and nulls. (A released collection gets the query
  // node's own "not loaded" below.)
  for (const coord::PartitionInfo& p : info.partitions) {
    if (info.loaded && !p.loaded) {
      return ApiStatus(code::kCollectionNotLoaded,
                       "partialUpdate needs every partition loaded: partition " + p.name + " of collection " +
                           info.schema.name + " is not");
    }
  }
  const core::FieldSchema* pk = info.schema.PrimaryKey();
  std::vector<segment::PrimaryKey> keys;
  for (const json& row : data) {
    if (std::optional<segment::PrimaryKey> key = TypedPkOfRow(row, *pk)) keys.push_back(std::move(*key));
  }
  if (keys.empty()) return data;  // BuildInsertBatch names what is wrong with the rows
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  TESSERA_API_ASSIGN_OR_RETURN(querynode::WaitOffsets wait, WaitFor(info, coord::ConsistencyLevel::kStrong));
  querynode::QueryRequest query;
  query.collection_id = info.id;
  query.filter = PkInFilter(pk->name, keys);
  query.output_fields = {"*"};
  query.limit = keys.size();
  query.wait = wait;
  query.timeout = call.timeout;
  auto stored = query_node_->Query(query);
  if (!stored.ok()) return ToApiStatus(stored.status(), ErrorContext::kRead);
  std::map<segment::PrimaryKey, const json*> by_key;
  for (const json& row : stored->rows) {
    if (std::optional<segment::PrimaryKey> key = TypedPkOfRow(row, *pk)) by_key.emplace(std::move(*key), &row);
  }
  json out = data;
  for (json& row : out) {
    std::optional<segment::PrimaryKey> key = TypedPkOfRow(row, *pk);
    auto found = key ? by_key.find(*key) : by_key.end();
    if (found == by_key.end() || !row.is_object()) continue;
    for (auto it = found->second->begin(); it != found->second->end(); ++it) {
      if (!row.contains(it.key())) row[it.key()] = it.value();
    }
  }
  return out;
}

ApiResult<Reply> ProxyImpl::Delete(Call& call) {
  constexpr std::string_view kOwner = "CollectionFilterReq";
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, kOwner));
  // The filter is required even before the collection is looked up (binding does it first).
  std::string filter;
  TESSERA_API_RETURN_IF_ERROR(call.Reader(kOwner).RequiredString("filter", &filter));
  TESSERA_API_ASSIGN_OR_RETURN(coord::CollectionInfo info, ResolveCollection(call, name));
  TESSERA_API_ASSIGN_OR_RETURN(DeleteSpec spec, DecodeDelete(call.body, info.schema));
  const core::FieldSchema* pk = info.schema.PrimaryKey();
  if (pk == nullptr) return ApiStatus(code::kUnexpected, "collection " + name + " has no primary key");

  std::vector<int64_t> partitions;
  if (!spec.partition_name.empty()) {
    TESSERA_API_ASSIGN_OR_RETURN(partitions, PartitionIds(info, {spec.partition_name}));
  }
  std::vector<segment::PrimaryKey> keys;
  if (spec.pks.has_value() && partitions.empty()) {
    // `pk in [...]` / `pk == v`: the keys are the filter; deleting a key that does not
    // exist is harmless.
    keys = std::move(*spec.pks);
  } else {
    // Any other filter, or keys narrowed to a partition: the keys of the rows that match.
    // (The WAL delete is by key, so it then hides those keys in every partition; see README.)
    TESSERA_API_ASSIGN_OR_RETURN(querynode::WaitOffsets wait, WaitFor(info, coord::ConsistencyLevel::kStrong));
    for (size_t offset = 0;; offset += kDeletePage) {
      querynode::QueryRequest query;
      query.collection_id = info.id;
      query.filter = spec.filter;
      query.partition_ids = partitions;
      query.output_fields = {pk->name};
      query.limit = kDeletePage;
      query.offset = offset;
      query.wait = wait;
      query.timeout = call.timeout;
      auto result = query_node_->Query(query);
      if (!result.ok()) return ToApiStatus(result.status(), ErrorContext::kRead);
      for (const json& row : result->rows) {
        std::optional<segment::PrimaryKey> key = PkOfRow(row, pk->name);
        if (!key) return ApiStatus(code::kSearchResult, "query result row without primary key " + pk->name);
        keys.push_back(std::move(*key));
      }
      if (result->rows.size() < kDeletePage) break;
    }
  }

  Reply reply;
  reply.data = {{"deleteCount", keys.size()}};
  if (keys.empty()) return reply;
  std::map<int32_t, std::vector<segment::PrimaryKey>> by_shard;
  for (segment::PrimaryKey& key : keys) {
    const int32_t shard = ShardOf(key, info.num_shards);
    by_shard[shard].push_back(std::move(key));
  }
  std::vector<int32_t> shard_ids;
  for (const auto& [shard, shard_keys] : by_shard) shard_ids.push_back(shard);
  TESSERA_API_ASSIGN_OR_RETURN(TimeTicker::Write write, BeginWrite(info, shard_ids));
  size_t written = 0;
  for (auto& [shard, shard_keys] : by_shard) {
    msg::WalMessage message;
    message.type = msg::MessageType::kDelete;
    message.collection_id = info.id;
    message.timestamp = write.timestamp();
    message.deleted_pks = std::move(shard_keys);
    const size_t rows = message.deleted_pks.size();
    ApiStatus appended = AppendToWal(info.Channel(shard), message).status();
    if (!appended.ok()) return PartlyWritten(std::move(appended), written, keys.size(), "delete");
    written += rows;
    rows_deleted_.Inc(static_cast<double>(rows));
  }
  return reply;
}

namespace {

// Runs a decoded query/get and shapes its rows.
ApiResult<Reply> RunQuery(querynode::QueryNode* node, const coord::CollectionInfo& info, const QuerySpec& spec,
                          std::vector<int64_t> partitions, querynode::WaitOffsets wait, const Call& call) {
  querynode::QueryRequest query;
  query.collection_id = info.id;
  query.filter = spec.filter;
  query.partition_ids = std::move(partitions);
  query.output_fields = spec.output_fields;
  query.limit = spec.limit;
  query.offset = spec.offset;
  query.count_only = spec.count_only;
  query.wait = std::move(wait);
  query.timeout = call.timeout;
  auto result = node->Query(query);
  if (!result.ok()) return ToApiStatus(result.status(), ErrorContext::kRead);
  Reply reply;
  reply.with_cost = true;
  reply.data = json::array();
  if (spec.count_only) {
    reply.data.push_back({{"count(*)", EncodeInt64(static_cast<int64_t>(result->count), call.int64_as_number)}});
    return reply;
  }
  for (json& row : result->rows) reply.data.push_back(EncodeRow(std::move(row), info.schema, call.int64_as_number));
  return reply;
}


// The query node request of one decoded search.
querynode::SearchRequest ToSearchRequest(const coord::CollectionInfo& info, SearchSpec& spec,
                                         std::vector<int64_t> partitions, querynode::WaitOffsets wait,
                                         const Call& call) {
  querynode::SearchRequest search;
  search.collection_id = info.id;
  search.field_id = spec.field_id;
  search.vectors = std::move(spec.vectors);
  search.num_queries = spec.num_queries;
  search.limit = spec.limit;
  search.offset = spec.offset;
  search.filter = spec.filter;
  search.partition_ids = std::move(partitions);
  search.params = spec.params;
  search.output_fields = spec.output_fields;
  search.wait = std::move(wait);
  search.timeout = call.timeout;
  return search;
}

// The `data` text of a search that asked for no output fields: [{"distance":d,"<pk>":key},
// ...] (members in the order a JSON object value would dump them), written without a JSON
// value per hit. Non-finite distances are null, as the JSON value would dump them.
std::string HitsText(const std::vector<std::vector<querynode::Hit>>& hits, const core::FieldSchema& pk,
                     bool int64_as_number) {
  const std::string pk_key = JsonText(json(pk.name)) + ":";
  const bool pk_first = pk.name < "distance";
  std::string out = "[";
  char number[64];
  const auto append_pk = [&](const segment::PrimaryKey& key) {
    out += pk_key;
    const int64_t* v = std::get_if<int64_t>(&key);
    if (v == nullptr) {
      out += JsonText(json(std::get<std::string>(key)));
      return;
    }
    if (!int64_as_number) out += '"';
    out.append(number, std::to_chars(number, number + sizeof(number), *v).ptr);
    if (!int64_as_number) out += '"';
  };
  const auto append_distance = [&](float distance) {
    out += "\"distance\":";
    if (!std::isfinite(distance)) {
      out += "null";
      return;
    }
    out.append(number, std::to_chars(number, number + sizeof(number), static_cast<double>(distance)).ptr);
  };
  for (const auto& query_hits : hits) {
    for (const querynode::Hit& hit : query_hits) {
      out += out.size() > 1 ? ",{" : "{";
      if (pk_first) append_pk(hit.pk), out += ',', append_distance(hit.distance);
      if (!pk_first) append_distance(hit.distance), out += ',', append_pk(hit.pk);
      out += '}';
    }
  }
  out += ']';
  return out;
}

// Search-shaped response: flat rows in query order (key under its field name, "distance",
// output fields), topks when anything was found.
Reply SearchReply(std::vector<std::vector<querynode::Hit>> hits, const core::CollectionSchema& schema,
                  const core::FieldSchema& pk, bool int64_as_number) {
  Reply reply;
  reply.with_cost = true;
  reply.data = json::array();
  json topks = json::array();
  size_t total = 0;
  bool any_fields = false;
  for (const auto& query_hits : hits) {
    topks.push_back(query_hits.size());
    total += query_hits.size();
    for (const querynode::Hit& hit : query_hits) any_fields = any_fields || !hit.row.is_null();
  }
  if (total > 0) reply.topks = std::move(topks);
  if (!any_fields) {
    reply.data_text = HitsText(hits, pk, int64_as_number);
    return reply;
  }
  for (std::vector<querynode::Hit>& query_hits : hits) {
    for (querynode::Hit& hit : query_hits) {
      json row = hit.row.is_object() ? std::move(hit.row) : json::object();
      row = EncodeRow(std::move(row), schema, int64_as_number);
      row[pk.name] = EncodePk(hit.pk, int64_as_number);
      row["distance"] = hit.distance;
      reply.data.push_back(std::move(row));
    }
  }
  return reply;
}

}  // namespace

ApiResult<Reply> ProxyImpl::Query(Call& call) {
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, "QueryReqV2"));
  TESSERA_API_ASSIGN_OR_RETURN(coord::CollectionInfo info, ResolveCollection(call, name));
  TESSERA_API_ASSIGN_OR_RETURN(QuerySpec spec, DecodeQuery(call.body, info.schema));
  TESSERA_API_ASSIGN_OR_RETURN(std::vector<int64_t> partitions, PartitionIds(info, spec.read.partition_names));
  TESSERA_API_ASSIGN_OR_RETURN(querynode::WaitOffsets wait, WaitFor(info, spec.read.consistency));
  return RunQuery(query_node_, info, spec, std::move(partitions), std::move(wait), call);
}

ApiResult<Reply> ProxyImpl::Get(Call& call) {
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, "CollectionIDReq"));
  TESSERA_API_ASSIGN_OR_RETURN(coord::CollectionInfo info, ResolveCollection(call, name));
  TESSERA_API_ASSIGN_OR_RETURN(QuerySpec spec, DecodeGet(call.body, info.schema));
  TESSERA_API_ASSIGN_OR_RETURN(std::vector<int64_t> partitions, PartitionIds(info, spec.read.partition_names));
  TESSERA_API_ASSIGN_OR_RETURN(querynode::WaitOffsets wait, WaitFor(info, spec.read.consistency));
  return RunQuery(query_node_, info, spec, std::move(partitions), std::move(wait), call);
}

ApiResult<Reply> ProxyImpl::Search(Call& call) {
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, "SearchReqV2"));
  TESSERA_API_ASSIGN_OR_RETURN(coord::CollectionInfo info, ResolveCollection(call, name));
  TESSERA_API_ASSIGN_OR_RETURN(SearchSpec spec, DecodeSearch(call.body, info.schema, &call.vectors));
  TESSERA_API_ASSIGN_OR_RETURN(std::vector<int64_t> partitions, PartitionIds(info, spec.read.partition_names));
  TESSERA_API_ASSIGN_OR_RETURN(querynode::WaitOffsets wait, WaitFor(info, spec.read.consistency));
  const core::FieldSchema* pk = info.schema.PrimaryKey();
  if (pk == nullptr) return ApiStatus(code::kUnexpected, "collection " + name + " has no primary key");

  querynode::SearchRequest request = ToSearchRequest(info, spec, std::move(partitions), std::move(wait), call);
  if (!spec.grouping.field.empty()) return GroupedSearch(std::move(request), spec, info.schema, *pk, call);
  auto result = query_node_->Search(request);
  if (!result.ok()) return ToApiStatus(result.status(), ErrorContext::kRead);

  return SearchReply(std::move(result).value().hits, info.schema, *pk, call.int64_as_number);
}

ApiResult<Reply> ProxyImpl::GroupedSearch(querynode::SearchRequest request, const SearchSpec& spec,
                                          const core::CollectionSchema& schema, const core::FieldSchema& pk,
                                          const Call& call) {
  const GroupingSpec& grouping = spec.grouping;
  if (std::find(request.output_fields.begin(), request.output_fields.end(), grouping.field) ==
      request.output_fields.end()) {
    request.output_fields.push_back(grouping.field);  // the rows carry their group's value
  }
  request.offset = 0;
  const size_t max_k = static_cast<size_t>(kMaxResultWindow);
  size_t k = (spec.offset + spec.limit) * grouping.group_size;
  std::vector<std::vector<querynode::Hit>> grouped;
  for (;;) {
    request.limit = k;
    // A given HNSW ef below the candidate count would be refused; the wider search needs it.
    if (auto ef = request.params.find("ef"); ef != request.params.end() && ef->is_number_integer() &&
                                             ef->get<int64_t>() < static_cast<int64_t>(k)) {
      *ef = static_cast<int64_t>(k);
    }
    auto result = query_node_->Search(request);
    if (!result.ok()) return ToApiStatus(result.status(), ErrorContext::kRead);
    grouped.clear();
    bool complete = true;
    for (std::vector<querynode::Hit>& hits : result->hits) {
      const bool exhausted = hits.size() < k || k == max_k;
      GroupedHits g = GroupHits(std::move(hits), grouping, spec.offset, spec.limit, exhausted);
      complete = complete && g.complete;
      grouped.push_back(std::move(g.hits));
    }
    if (complete) break;
    k = std::min(max_k, k * 4);
  }
  return SearchReply(std::move(grouped), schema, pk, call.int64_as_number);
}

ApiResult<Reply> ProxyImpl::HybridSearch(Call& call) {
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, "HybridSearchReq"));
  TESSERA_API_ASSIGN_OR_RETURN(coord::CollectionInfo info, ResolveCollection(call, name));
  TESSERA_API_ASSIGN_OR_RETURN(HybridSearchSpec spec, DecodeHybridSearch(call.body, info.schema));
  TESSERA_API_ASSIGN_OR_RETURN(std::vector<int64_t> partitions, PartitionIds(info, spec.read.partition_names));
  TESSERA_API_ASSIGN_OR_RETURN(querynode::WaitOffsets wait, WaitFor(info, spec.read.consistency));
  const core::FieldSchema* pk = info.schema.PrimaryKey();
  if (pk == nullptr) return ApiStatus(code::kUnexpected, "collection " + name + " has no primary key");

  // Every sub-search runs at the same wait offsets; their hits are fused here.
  std::vector<querynode::SearchResponse> responses;
  std::vector<std::string> metrics;
  for (SearchSpec& route : spec.routes) {
    auto result = query_node_->Search(ToSearchRequest(info, route, partitions, wait, call));
    if (!result.ok()) return ToApiStatus(result.status(), ErrorContext::kRead);
    responses.push_back(std::move(result).value());
    const coord::IndexInfo* index = info.IndexOnField(route.field_id);
    std::string metric = index != nullptr && !index->metric_type.empty() ? index->metric_type : "COSINE";
    metrics.push_back(std::move(metric));
  }
  return SearchReply(FuseHits(responses, metrics, spec.rerank, spec.limit, spec.offset), info.schema, *pk,
                     call.int64_as_number);
}

}  // namespace tessera::proxy::internal
