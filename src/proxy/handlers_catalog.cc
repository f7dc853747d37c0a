// indexes/*, partitions/*, aliases/*, databases/* handlers (spec §7.3-7.6).

#include <algorithm>
#include <string>
#include <utility>

#include "proxy/decode_collection.h"
#include "proxy/proxy_impl.h"

namespace tessera::proxy::internal {

using nlohmann::json;

namespace {

json NameArray(const std::vector<std::string>& names) {
  json out = json::array();
  for (const std::string& n : names) out.push_back(n);
  return out;
}

ApiResult<std::string> RequiredName(const FieldReader& r, std::string_view key, std::string_view kind) {
  std::string name;
  TESSERA_API_RETURN_IF_ERROR(r.RequiredString(key, &name));
  TESSERA_API_RETURN_IF_ERROR(ValidateName(kind, name));
  return name;
}

// `partitionNames` of partitions/load and partitions/release: required, non-empty, each a
// valid name.
ApiResult<std::vector<std::string>> RequiredPartitionNames(const FieldReader& r) {
  std::vector<std::string> partitions;
  TESSERA_API_RETURN_IF_ERROR(r.RequiredStringArray("partitionNames", &partitions));
  for (const std::string& p : partitions) TESSERA_API_RETURN_IF_ERROR(ValidateName("partition", p));
  if (partitions.empty()) return r.Missing("partitionNames");
  return partitions;
}

}  // namespace

// ---- indexes --------------------------------------------------------------------------------

ApiResult<Reply> ProxyImpl::CreateIndex(Call& call) {
  constexpr std::string_view kOwner = "IndexParamReq";
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, kOwner));
  const json* params = nullptr;
  TESSERA_API_RETURN_IF_ERROR(call.Reader(kOwner).RequiredArray("indexParams", &params));
  TESSERA_API_ASSIGN_OR_RETURN(coord::CollectionInfo info, ResolveCollection(call, name));
  TESSERA_API_ASSIGN_OR_RETURN(std::vector<IndexSpec> specs, DecodeIndexParams(*params, info.schema));
  for (const IndexSpec& spec : specs) {
    coord::IndexInfo index;
    index.name = spec.index_name;
    index.field_name = spec.field_name;
    if (const core::FieldSchema* f = info.schema.FindField(spec.field_name)) index.field_id = f->id;
    index.index_type = spec.index_type;
    index.metric_type = spec.metric_type;
    index.params = spec.params;
    TESSERA_API_RETURN_IF_ERROR(
        FromStatus(coordinator_->CreateIndex(call.db, name, std::move(index)), ErrorContext::kCollection));
  }
  return Reply{};
}

ApiResult<Reply> ProxyImpl::DescribeIndex(Call& call) {
  constexpr std::string_view kOwner = "IndexReq";
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, kOwner));
  TESSERA_API_ASSIGN_OR_RETURN(std::string index_name, RequiredName(call.Reader(kOwner), "indexName", "index"));
  TESSERA_API_ASSIGN_OR_RETURN(coord::CollectionInfo info, ResolveCollection(call, name));
  const coord::IndexInfo* it = info.FindIndex(index_name);
  if (it == nullptr) {
    return ApiStatus(code::kIndexNotFound, "index not found[indexName=" + index_name + "]");
  }
  auto progress = coordinator_->DescribeIndexProgress(info.id, it->id);
  if (!progress.ok()) return ToApiStatus(progress.status(), ErrorContext::kIndex);
  json params = json::array();
  params.push_back({{"key", "index_type"}, {"value", it->index_type}});
  params.push_back({{"key", "metric_type"}, {"value", it->metric_type}});
  for (auto p = it->params.begin(); p != it->params.end(); ++p) {
    params.push_back({{"key", p.key()}, {"value", ParamText(p.value())}});
  }
  Reply reply;
  reply.data = json::array();
  reply.data.push_back({
      {"indexName", it->name},
      {"fieldName", it->field_name},
      {"indexType", it->index_type},
      {"metricType", it->metric_type},
      {"totalRows", progress->total_rows},
      {"pendingRows", progress->pending_rows},
      {"indexedRows", progress->indexed_rows},
      {"indexState", progress->state.empty() ? std::string("IndexStateNone") : progress->state},
      {"failReason", progress->fail_reason},
      {"indexParams", std::move(params)},
  });
  return reply;
}

ApiResult<Reply> ProxyImpl::ListIndexes(Call& call) {
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, "CollectionNameReq"));
  TESSERA_API_ASSIGN_OR_RETURN(coord::CollectionInfo info, ResolveCollection(call, name));
  Reply reply;
  reply.data = json::array();
  for (const coord::IndexInfo& index : info.indexes) reply.data.push_back(index.name);
  return reply;
}

ApiResult<Reply> ProxyImpl::DropIndex(Call& call) {
  constexpr std::string_view kOwner = "IndexReq";
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, kOwner));
  TESSERA_API_ASSIGN_OR_RETURN(std::string index_name, RequiredName(call.Reader(kOwner), "indexName", "index"));
  TESSERA_API_RETURN_IF_ERROR(
      FromStatus(coordinator_->DropIndex(call.db, name, index_name), ErrorContext::kIndex));
  return Reply{};
}

// ---- partitions ---------------------------------------------------------------------------

ApiResult<Reply> ProxyImpl::ListPartitions(Call& call) {
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, "CollectionNameReq"));
  TESSERA_API_ASSIGN_OR_RETURN(coord::CollectionInfo info, ResolveCollection(call, name));
  Reply reply;
  reply.data = json::array();
  for (const coord::PartitionInfo& p : info.partitions) reply.data.push_back(p.name);
  return reply;
}

ApiResult<Reply> ProxyImpl::HasPartition(Call& call) {
  constexpr std::string_view kOwner = "PartitionReq";
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, kOwner));
  TESSERA_API_ASSIGN_OR_RETURN(std::string partition, RequiredName(call.Reader(kOwner), "partitionName", "partition"));
  TESSERA_API_ASSIGN_OR_RETURN(coord::CollectionInfo info, ResolveCollection(call, name));
  const bool has = info.FindPartition(partition) != nullptr;
  Reply reply;
  reply.data = {{"has", has}};
  return reply;
}

ApiResult<Reply> ProxyImpl::CreatePartition(Call& call) {
  constexpr std::string_view kOwner = "PartitionReq";
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, kOwner));
  TESSERA_API_ASSIGN_OR_RETURN(std::string partition, RequiredName(call.Reader(kOwner), "partitionName", "partition"));
  TESSERA_API_RETURN_IF_ERROR(
      FromStatus(coordinator_->CreatePartition(call.db, name, partition), ErrorContext::kCollection));
  return Reply{};
}

ApiResult<Reply> ProxyImpl::DropPartition(Call& call) {
  constexpr std::string_view kOwner = "PartitionReq";
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, kOwner));
  TESSERA_API_ASSIGN_OR_RETURN(std::string partition, RequiredName(call.Reader(kOwner), "partitionName", "partition"));
  TESSERA_API_RETURN_IF_ERROR(
      FromStatus(coordinator_->DropPartition(call.db, name, partition), ErrorContext::kPartition));
  return Reply{};
}

ApiResult<Reply> ProxyImpl::LoadPartitions(Call& call) {
  constexpr std::string_view kOwner = "PartitionsReq";
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, kOwner));
  TESSERA_API_ASSIGN_OR_RETURN(std::vector<std::string> partitions, RequiredPartitionNames(call.Reader(kOwner)));
  TESSERA_API_RETURN_IF_ERROR(
      FromStatus(coordinator_->LoadCollection(call.db, name, partitions), ErrorContext::kPartition));
  return Reply{};
}

ApiResult<Reply> ProxyImpl::ReleasePartitions(Call& call) {
  constexpr std::string_view kOwner = "PartitionsReq";
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, kOwner));
  TESSERA_API_ASSIGN_OR_RETURN(std::vector<std::string> partitions, RequiredPartitionNames(call.Reader(kOwner)));
  TESSERA_API_RETURN_IF_ERROR(
      FromStatus(coordinator_->ReleaseCollection(call.db, name, partitions), ErrorContext::kPartition));
  return Reply{};
}

ApiResult<Reply> ProxyImpl::GetPartitionStats(Call& call) {
  constexpr std::string_view kOwner = "PartitionReq";
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, kOwner));
  TESSERA_API_ASSIGN_OR_RETURN(std::string partition, RequiredName(call.Reader(kOwner), "partitionName", "partition"));
  TESSERA_API_ASSIGN_OR_RETURN(coord::CollectionInfo info, ResolveCollection(call, name));
  TESSERA_API_ASSIGN_OR_RETURN(std::vector<int64_t> ids, PartitionIds(info, {partition}));
  auto rows = coordinator_->CountRows(info.id, ids.front());
  if (!rows.ok()) return ToApiStatus(rows.status(), ErrorContext::kPartition);
  Reply reply;
  reply.data = {{"rowCount", *rows}};
  return reply;
}

// ---- aliases ----------------------------------------------------------------------------------

ApiResult<Reply> ProxyImpl::ListAliases(Call& call) {
  std::string collection;
  TESSERA_API_RETURN_IF_ERROR(call.Reader("OptionalCollectionNameReq").String("collectionName", &collection));
  if (!collection.empty()) TESSERA_API_RETURN_IF_ERROR(ValidateName("collection", collection));
  auto aliases = coordinator_->ListAliases(call.db, collection);
  if (!aliases.ok()) return ToApiStatus(aliases.status(), ErrorContext::kCollection);
  Reply reply;
  reply.data = NameArray(*aliases);
  return reply;
}

ApiResult<Reply> ProxyImpl::DescribeAlias(Call& call) {
  TESSERA_API_ASSIGN_OR_RETURN(std::string alias, RequiredName(call.Reader("AliasReq"), "aliasName", "alias"));
  auto collection = coordinator_->DescribeAlias(call.db, alias);
  if (!collection.ok()) return ToApiStatus(collection.status(), ErrorContext::kAlias);
  Reply reply;
  reply.data = {{"dbName", call.db}, {"collectionName", *collection}, {"aliasName", alias}};
  return reply;
}

ApiResult<Reply> ProxyImpl::CreateAlias(Call& call) {
  constexpr std::string_view kOwner = "AliasCollectionReq";
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, kOwner));
  TESSERA_API_ASSIGN_OR_RETURN(std::string alias, RequiredName(call.Reader(kOwner), "aliasName", "alias"));
  TESSERA_API_RETURN_IF_ERROR(FromStatus(coordinator_->CreateAlias(call.db, alias, name), ErrorContext::kCollection));
  return Reply{};
}

ApiResult<Reply> ProxyImpl::DropAlias(Call& call) {
  TESSERA_API_ASSIGN_OR_RETURN(std::string alias, RequiredName(call.Reader("AliasReq"), "aliasName", "alias"));
  TESSERA_API_RETURN_IF_ERROR(FromStatus(coordinator_->DropAlias(call.db, alias), ErrorContext::kAlias));
  return Reply{};
}

ApiResult<Reply> ProxyImpl::AlterAlias(Call& call) {
  constexpr std::string_view kOwner = "AliasCollectionReq";
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, kOwner));
  TESSERA_API_ASSIGN_OR_RETURN(std::string alias, RequiredName(call.Reader(kOwner), "aliasName", "alias"));
  TESSERA_API_RETURN_IF_ERROR(FromStatus(coordinator_->AlterAlias(call.db, alias, name), ErrorContext::kCollection));
  return Reply{};
}

// ---- databases --------------------------------------------------------------------------------
// These act on the database named in the body (required there), not on the header's.

ApiResult<Reply> ProxyImpl::CreateDatabase(Call& call) {
  constexpr std::string_view kOwner = "DatabaseReqWithProperties";
  FieldReader r = call.Reader(kOwner);
  TESSERA_API_ASSIGN_OR_RETURN(std::string db, RequiredName(r, "dbName", "database"));
  const json* properties = nullptr;
  TESSERA_API_RETURN_IF_ERROR(r.Object("properties", &properties));
  std::map<std::string, std::string> props;
  if (properties != nullptr) props = PropertiesFromJson(*properties);
  TESSERA_API_RETURN_IF_ERROR(FromStatus(coordinator_->CreateDatabase(db, props), ErrorContext::kGeneral));
  return Reply{};
}

ApiResult<Reply> ProxyImpl::DropDatabase(Call& call) {
  TESSERA_API_ASSIGN_OR_RETURN(std::string db, RequiredName(call.Reader("DatabaseReq"), "dbName", "database"));
  TESSERA_API_RETURN_IF_ERROR(FromStatus(coordinator_->DropDatabase(db), ErrorContext::kDatabase));
  return Reply{};
}

ApiResult<Reply> ProxyImpl::ListDatabases(Call& call) {
  auto dbs = coordinator_->ListDatabases();
  if (!dbs.ok()) return ToApiStatus(dbs.status(), ErrorContext::kGeneral);
  Reply reply;
  reply.data = json::array();
  for (const coord::DatabaseInfo& db : *dbs) reply.data.push_back(db.name);
  return reply;
}

ApiResult<Reply> ProxyImpl::DescribeDatabase(Call& call) {
  TESSERA_API_ASSIGN_OR_RETURN(std::string db, RequiredName(call.Reader("DatabaseReq"), "dbName", "database"));
  auto info = coordinator_->DescribeDatabase(db);
  if (!info.ok()) return ToApiStatus(info.status(), ErrorContext::kDatabase);
  Reply reply;
  reply.data = {{"dbName", info->name}, {"dbID", info->id}, {"properties", KeyValueList(info->properties)}};
  return reply;
}

ApiResult<Reply> ProxyImpl::AlterDatabase(Call& call) {
  constexpr std::string_view kOwner = "DatabaseReqWithProperties";
  FieldReader r = call.Reader(kOwner);
  TESSERA_API_ASSIGN_OR_RETURN(std::string db, RequiredName(r, "dbName", "database"));
  const json* properties = nullptr;
  TESSERA_API_RETURN_IF_ERROR(r.Object("properties", &properties));
  std::map<std::string, std::string> props;
  if (properties != nullptr) props = PropertiesFromJson(*properties);
  TESSERA_API_RETURN_IF_ERROR(FromStatus(coordinator_->AlterDatabase(db, props, {}), ErrorContext::kDatabase));
  return Reply{};
}

ApiResult<Reply> ProxyImpl::DropDatabaseProperties(Call& call) {
  constexpr std::string_view kOwner = "DropDatabasePropertiesReq";
  FieldReader r = call.Reader(kOwner);
  TESSERA_API_ASSIGN_OR_RETURN(std::string db, RequiredName(r, "dbName", "database"));
  std::vector<std::string> keys;
  TESSERA_API_RETURN_IF_ERROR(r.StringArray("propertyKeys", &keys));
  TESSERA_API_RETURN_IF_ERROR(FromStatus(coordinator_->AlterDatabase(db, {}, keys), ErrorContext::kDatabase));
  return Reply{};
}

}  // namespace tessera::proxy::internal
