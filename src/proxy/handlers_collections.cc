// collections/* handlers (spec §7.1).

#include <algorithm>
#include <string>
#include <utility>

#include "proxy/decode_collection.h"
#include "proxy/proxy_impl.h"

namespace tessera::proxy::internal {

using nlohmann::json;

namespace {

constexpr std::string_view kCollectionReq = "CollectionNameReq";

// The coordinator resolves the field by name (ids of a collection being created are not
// known yet).
coord::IndexInfo ToIndexInfo(const IndexSpec& spec) {
  coord::IndexInfo index;
  index.name = spec.index_name;
  index.field_name = spec.field_name;
  index.index_type = spec.index_type;
  index.metric_type = spec.metric_type;
  index.params = spec.params;
  return index;
}

}  // namespace

ApiResult<Reply> ProxyImpl::CreateCollection(Call& call) {
  TESSERA_API_ASSIGN_OR_RETURN(CreateCollectionSpec spec, DecodeCreateCollection(call.body));
  spec.request.db_name = call.db;
  const std::string name = spec.request.schema.name;
  // The indexes go with the create: a bad one creates nothing, so a corrected retry works.
  for (const IndexSpec& index : spec.indexes) spec.request.indexes.push_back(ToIndexInfo(index));
  auto created = coordinator_->CreateCollection(spec.request);
  if (!created.ok()) return ToApiStatus(created.status(), ErrorContext::kDatabase);
  if (spec.load) {
    TESSERA_API_RETURN_IF_ERROR(
        FromStatus(coordinator_->LoadCollection(call.db, name, {}), ErrorContext::kCollection));
  }
  return Reply{};
}

ApiResult<Reply> ProxyImpl::DescribeCollection(Call& call) {
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, kCollectionReq));
  TESSERA_API_ASSIGN_OR_RETURN(coord::CollectionInfo info, ResolveCollection(call, name));
  Reply reply;
  reply.message = "";
  coord::LoadState state = coord::LoadState::kNotLoad;
  auto load = coordinator_->GetLoadState(info.id);
  if (load.ok()) {
    state = load->state;
  } else {
    reply.message = "load state: " + load.status().message();
  }
  reply.data = DescribeCollectionData(info, state);
  return reply;
}

ApiResult<Reply> ProxyImpl::ListCollections(Call& call) {
  auto names = coordinator_->ListCollections(call.db);
  if (!names.ok()) return ToApiStatus(names.status(), ErrorContext::kDatabase);
  Reply reply;
  reply.data = json::array();
  for (const std::string& n : *names) reply.data.push_back(n);
  return reply;
}

ApiResult<Reply> ProxyImpl::HasCollection(Call& call) {
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, kCollectionReq));
  auto info = coordinator_->DescribeCollection(call.db, name);
  Reply reply;
  if (info.ok()) {
    reply.data = {{"has", true}};
    return reply;
  }
  ApiStatus status = ToApiStatus(info.status(), ErrorContext::kCollection);
  if (status.code() != code::kCollectionNotFound) return status;
  reply.data = {{"has", false}};
  return reply;
}

ApiResult<Reply> ProxyImpl::DropCollection(Call& call) {
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, kCollectionReq));
  TESSERA_API_RETURN_IF_ERROR(FromStatus(coordinator_->DropCollection(call.db, name), ErrorContext::kCollection));
  return Reply{};
}

ApiResult<Reply> ProxyImpl::RenameCollection(Call& call) {
  constexpr std::string_view kOwner = "RenameCollectionReq";
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, kOwner));
  FieldReader r = call.Reader(kOwner);
  std::string new_name;
  std::string new_db;
  TESSERA_API_RETURN_IF_ERROR(r.RequiredString("newCollectionName", &new_name));
  TESSERA_API_RETURN_IF_ERROR(ValidateName("collection", new_name));
  TESSERA_API_RETURN_IF_ERROR(r.String("newDbName", &new_db));
  if (new_db.empty()) new_db = call.db;
  TESSERA_API_RETURN_IF_ERROR(ValidateName("database", new_db));
  TESSERA_API_RETURN_IF_ERROR(
      FromStatus(coordinator_->RenameCollection(call.db, name, new_db, new_name), ErrorContext::kCollection));
  return Reply{};
}

ApiResult<Reply> ProxyImpl::GetCollectionStats(Call& call) {
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, kCollectionReq));
  TESSERA_API_ASSIGN_OR_RETURN(coord::CollectionInfo info, ResolveCollection(call, name));
  auto rows = coordinator_->CountRows(info.id, std::nullopt);
  if (!rows.ok()) return ToApiStatus(rows.status(), ErrorContext::kCollection);
  Reply reply;
  reply.data = {{"rowCount", *rows}};
  return reply;
}

ApiResult<Reply> ProxyImpl::LoadCollection(Call& call) {
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, kCollectionReq));
  TESSERA_API_RETURN_IF_ERROR(FromStatus(coordinator_->LoadCollection(call.db, name, {}), ErrorContext::kCollection));
  return Reply{};
}

ApiResult<Reply> ProxyImpl::RefreshLoad(Call& call) {
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, kCollectionReq));
  TESSERA_API_ASSIGN_OR_RETURN(coord::CollectionInfo info, ResolveCollection(call, name));
  // A refresh reloads what is loaded; Milvus refuses it (101) for a collection that is not.
  if (!info.loaded) return ApiStatus(code::kCollectionNotLoaded, "collection not loaded[collection=" + name + "]");
  return LoadCollection(call);
}

ApiResult<Reply> ProxyImpl::ReleaseCollection(Call& call) {
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, kCollectionReq));
  TESSERA_API_RETURN_IF_ERROR(
      FromStatus(coordinator_->ReleaseCollection(call.db, name, {}), ErrorContext::kCollection));
  return Reply{};
}

ApiResult<Reply> ProxyImpl::GetLoadState(Call& call) {
  constexpr std::string_view kOwner = "GetLoadStateReq";
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, kOwner));
  FieldReader r = call.Reader(kOwner);
  // partitionNames: an array (server) or one string (the Node SDK's type).
  std::vector<std::string> partitions;
  if (const json* p = r.Find("partitionNames"); p != nullptr && p->is_string()) {
    if (!p->get_ref<const std::string&>().empty()) partitions.push_back(p->get<std::string>());
  } else {
    TESSERA_API_RETURN_IF_ERROR(r.StringArray("partitionNames", &partitions));
  }
  for (const std::string& p : partitions) TESSERA_API_RETURN_IF_ERROR(ValidateName("partition", p));
  TESSERA_API_ASSIGN_OR_RETURN(coord::CollectionInfo info, ResolveCollection(call, name));
  TESSERA_API_RETURN_IF_ERROR(PartitionIds(info, partitions).status());
  auto load = coordinator_->GetLoadState(info.id);
  if (!load.ok()) return ToApiStatus(load.status(), ErrorContext::kCollection);
  bool partitions_loaded = true;
  for (const std::string& p : partitions) {
    for (const coord::PartitionInfo& part : info.partitions) {
      if (part.name == p && !part.loaded) partitions_loaded = false;
    }
  }
  Reply reply;
  if (load->state == coord::LoadState::kNotLoad || !partitions_loaded) {
    reply.data = {{"loadState", std::string(LoadStateName(coord::LoadState::kNotLoad))}};
    reply.message = load->failure;
    return reply;
  }
  const int progress = std::clamp(load->progress, 0, 100);
  const coord::LoadState state = progress >= 100 ? coord::LoadState::kLoaded : coord::LoadState::kLoading;
  reply.data = {{"loadState", std::string(LoadStateName(state))}, {"loadProgress", progress}};
  reply.message = "";
  return reply;
}

ApiResult<Reply> ProxyImpl::FlushCollection(Call& call) {
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, kCollectionReq));
  TESSERA_API_ASSIGN_OR_RETURN(coord::CollectionInfo info, ResolveCollection(call, name));
  TESSERA_API_RETURN_IF_ERROR(FromStatus(coordinator_->Flush(info.id), ErrorContext::kCollection));
  return Reply{};
}

ApiResult<Reply> ProxyImpl::CompactCollection(Call& call) {
  constexpr std::string_view kOwner = "CompactReq";
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, kOwner));
  bool clustering = false;
  TESSERA_API_RETURN_IF_ERROR(call.Reader(kOwner).Bool("isClustering", &clustering));
  if (clustering) return InvalidParameterError("clustering compaction is not supported by this server");
  TESSERA_API_ASSIGN_OR_RETURN(coord::CollectionInfo info, ResolveCollection(call, name));
  auto id = coordinator_->Compact(info.id);
  if (!id.ok()) return ToApiStatus(id.status(), ErrorContext::kCollection);
  Reply reply;
  reply.data = {{"compactionID", *id}};
  return reply;
}

ApiResult<Reply> ProxyImpl::GetCompactionState(Call& call) {
  constexpr std::string_view kOwner = "JobIDReq";
  FieldReader r = call.Reader(kOwner);
  int64_t job = 0;
  if (r.Has("jobID")) {
    TESSERA_API_RETURN_IF_ERROR(r.Int("jobID", &job));
  } else if (r.Has("compactionID")) {  // the Node SDK's key
    TESSERA_API_RETURN_IF_ERROR(r.Int("compactionID", &job));
  } else {
    return r.Missing("jobID");
  }
  auto state = coordinator_->GetCompactionState(job);
  if (!state.ok()) return ToApiStatus(state.status(), ErrorContext::kGeneral);
  Reply reply;
  reply.data = {{"compactionID", state->id},
                {"state", state->state},
                {"executingPlanNumber", state->executing_plans},
                {"timeoutPlanNumber", 0},
                {"completedPlanNumber", state->completed_plans}};
  return reply;
}

ApiResult<Reply> ProxyImpl::AlterCollectionProperties(Call& call) {
  constexpr std::string_view kOwner = "CollectionReqWithProperties";
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, kOwner));
  const json* properties = nullptr;
  TESSERA_API_RETURN_IF_ERROR(call.Reader(kOwner).Object("properties", &properties));
  std::map<std::string, std::string> set;
  if (properties != nullptr) set = PropertiesFromJson(*properties);
  TESSERA_API_RETURN_IF_ERROR(
      FromStatus(coordinator_->AlterCollectionProperties(call.db, name, set, {}), ErrorContext::kCollection));
  return Reply{};
}

ApiResult<Reply> ProxyImpl::DropCollectionProperties(Call& call) {
  constexpr std::string_view kOwner = "DropCollectionPropertiesReq";
  TESSERA_API_ASSIGN_OR_RETURN(std::string name, CollectionName(call, kOwner));
  std::vector<std::string> keys;
  TESSERA_API_RETURN_IF_ERROR(call.Reader(kOwner).StringArray("propertyKeys", &keys));
  TESSERA_API_RETURN_IF_ERROR(
      FromStatus(coordinator_->AlterCollectionProperties(call.db, name, {}, keys), ErrorContext::kCollection));
  return Reply{};
}

}  // namespace tessera::proxy::internal
