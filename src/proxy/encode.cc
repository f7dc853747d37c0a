#include "proxy/encode.h"

#include <string>
#include <utility>

#include "proxy/consistency.h"

namespace tessera::proxy {

using nlohmann::json;

std::string JsonText(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string EncodeSuccess(Reply reply) {
  if (reply.data_text.has_value()) {
    std::string text = "{\"code\":0,\"data\":" + *reply.data_text;
    if (reply.with_cost) text += ",\"cost\":0";
    if (reply.topks.has_value()) text += ",\"topks\":" + JsonText(*reply.topks);
    if (reply.message.has_value()) text += ",\"message\":" + JsonText(json(*reply.message));
    text += '}';
    return text;
  }
  json out = json::object();
  out["code"] = 0;
  out["data"] = std::move(reply.data);
  if (reply.with_cost) out["cost"] = 0;
  if (reply.topks.has_value()) out["topks"] = std::move(*reply.topks);
  if (reply.message.has_value()) out["message"] = std::move(*reply.message);
  return JsonText(out);
}

std::string EncodeError(const ApiStatus& status) {
  json out = json::object();
  out["code"] = status.code();
  out["message"] = status.message();
  return JsonText(out);
}

json EncodeInt64(int64_t v, bool int64_as_number) {
  if (int64_as_number) return v;
  return std::to_string(v);
}

json EncodePk(const segment::PrimaryKey& pk, bool int64_as_number) {
  if (const int64_t* v = std::get_if<int64_t>(&pk)) return EncodeInt64(*v, int64_as_number);
  return std::get<std::string>(pk);
}

json EncodeRow(json row, const core::CollectionSchema& schema, bool int64_as_number) {
  if (!row.is_object()) return row;
  for (auto it = row.begin(); it != row.end(); ++it) {
    const core::FieldSchema* f = schema.FindField(it.key());
    if (f == nullptr || f->is_dynamic || it.value().is_null()) continue;
    if (f->data_type == core::DataType::kJSON) {
      it.value() = JsonText(it.value());
    } else if (f->data_type == core::DataType::kInt64 && !int64_as_number && it.value().is_number_integer()) {
      it.value() = it.value().dump();
    }
  }
  return row;
}

std::string_view LoadStateName(coord::LoadState state) {
  switch (state) {
    case coord::LoadState::kNotLoad: return "LoadStateNotLoad";
    case coord::LoadState::kLoading: return "LoadStateLoading";
    case coord::LoadState::kLoaded: return "LoadStateLoaded";
  }
  return "LoadStateNotExist";
}

json KeyValueList(const std::map<std::string, std::string>& properties) {
  json out = json::array();
  for (const auto& [k, v] : properties) out.push_back({{"key", k}, {"value", v}});
  return out;
}

json DescribeCollectionData(const coord::CollectionInfo& info, coord::LoadState load_state) {
  const core::CollectionSchema& schema = info.schema;
  json fields = json::array();
  bool auto_id = false;
  const core::FieldSchema* first_vector = nullptr;
  for (const core::FieldSchema& f : schema.fields) {
    if (f.is_dynamic) continue;
    if (f.is_primary_key) auto_id = f.auto_id;
    if (first_vector == nullptr && core::IsVectorType(f.data_type)) first_vector = &f;
    json field = {
        {"name", f.name},
        {"id", f.id},
        {"type", std::string(core::DataTypeName(f.data_type))},
        {"primaryKey", f.is_primary_key},
        {"partitionKey", f.is_partition_key},
        {"clusteringKey", f.is_clustering_key},
        {"autoId", f.auto_id},
        {"description", ""},
        {"nullable", f.nullable},
    };
    std::map<std::string, std::string> params;
    if (f.dim > 0) params["dim"] = std::to_string(f.dim);
    if (f.max_length > 0) params["max_length"] = std::to_string(f.max_length);
    if (f.max_capacity > 0) params["max_capacity"] = std::to_string(f.max_capacity);
    if (!params.empty()) field["params"] = KeyValueList(params);
    if (f.data_type == core::DataType::kArray) field["elementType"] = std::string(core::DataTypeName(f.element_type));
    if (f.default_value.has_value()) field["defaultValue"] = *f.default_value;
    fields.push_back(std::move(field));
  }
  json indexes = json::array();
  if (first_vector != nullptr) {
    for (const coord::IndexInfo& index : info.indexes) {
      if (index.field_id != first_vector->id && index.field_name != first_vector->name) continue;
      indexes.push_back({{"fieldName", first_vector->name},
                         {"indexName", index.name},
                         {"metricType", index.metric_type.empty() ? std::string("COSINE") : index.metric_type}});
    }
  }
  json aliases = json::array();
  for (const std::string& a : info.aliases) aliases.push_back(a);
  return {
      {"collectionName", schema.name},
      {"collectionID", info.id},
      {"description", schema.description},
      {"autoId", auto_id},
      {"fields", std::move(fields)},
      {"functions", json::array()},
      {"aliases", std::move(aliases)},
      {"indexes", std::move(indexes)},
      {"load", std::string(LoadStateName(load_state))},
      {"shardsNum", info.num_shards},
      {"partitionsNum", info.partitions.size()},
      {"consistencyLevel", std::string(ConsistencyName(info.consistency))},
      {"enableDynamicField", schema.enable_dynamic_field},
      {"properties", KeyValueList(info.properties)},
  };
}

}  // namespace tessera::proxy
