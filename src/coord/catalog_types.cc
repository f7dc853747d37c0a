#include "coord/catalog_types.h"

#include <array>
#include <charconv>
#include <limits>
#include <string>
#include <utility>

#include "coord/hybrid_timestamp.h"

namespace tessera::coord {

namespace {

using nlohmann::json;

constexpr std::array<std::pair<ConsistencyLevel, std::string_view>, 5> kConsistencyNames = {{
    {ConsistencyLevel::kStrong, "Strong"},
    {ConsistencyLevel::kSession, "Session"},
    {ConsistencyLevel::kBounded, "Bounded"},
    {ConsistencyLevel::kEventually, "Eventually"},
    {ConsistencyLevel::kCustomized, "Customized"},
}};

// Reads typed members of one JSON object, naming the object (`what`) and the member in
// every error. The JSON comes from the metadata store or a caller, so nothing here may
// throw: every access checks the type first.
class ObjectReader {
 public:
  ObjectReader(const json& j, std::string what) : j_(j), what_(std::move(what)) {}

  Status CheckObject() const {
    if (!j_.is_object()) return Error("is not a JSON object");
    return Status::OK();
  }

  // Absent optional members keep the default already in *out.
  Status Int64(std::string_view key, int64_t* out, bool required = false) const {
    const json* v = Find(key);
    if (v == nullptr) return required ? Missing(key) : Status::OK();
    if (v->is_number_unsigned()) {
      const uint64_t u = v->get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return Bad(key, "out of int64 range");
      *out = static_cast<int64_t>(u);
      return Status::OK();
    }
    if (!v->is_number_integer()) return Bad(key, "must be an integer");
    *out = v->get<int64_t>();
    return Status::OK();
  }

  Status Int32(std::string_view key, int32_t* out, bool required = false) const {
    int64_t v = *out;
    TESSERA_RETURN_IF_ERROR(Int64(key, &v, required));
    if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
      return Bad(key, "out of int32 range");
    }
    *out = static_cast<int32_t>(v);
    return Status::OK();
  }

  Status Uint64(std::string_view key, uint64_t* out, bool required = false) const {
    const json* v = Find(key);
    if (v == nullptr) return required ? Missing(key) : Status::OK();
    if (v->is_number_unsigned()) {
      *out = v->get<uint64_t>();
      return Status::OK();
    }
    if (v->is_number_integer()) {
      if (v->get<int64_t>() < 0) return Bad(key, "must not be negative");
      *out = static_cast<uint64_t>(v->get<int64_t>());
      return Status::OK();
    }
    return Bad(key, "must be a non-negative integer");
  }

  Status Bool(std::string_view key, bool* out, bool required = false) const {
    const json* v = Find(key);
    if (v == nullptr) return required ? Missing(key) : Status::OK();
    if (!v->is_boolean()) return Bad(key, "must be a boolean");
    *out = v->get<bool>();
    return Status::OK();
  }

  Status String(std::string_view key, std::string* out, bool required = false) const {
    const json* v = Find(key);
    if (v == nullptr) return required ? Missing(key) : Status::OK();
    if (!v->is_string()) return Bad(key, "must be a string");
    *out = v->get<std::string>();
    return Status::OK();
  }

  Status StringList(std::string_view key, std::vector<std::string>* out) const {
    const json* v = Find(key);
    if (v == nullptr) return Status::OK();
    if (!v->is_array()) return Bad(key, "must be an array of strings");
    out->clear();
    for (const json& item : *v) {
      if (!item.is_string()) return Bad(key, "must be an array of strings");
      out->push_back(item.get<std::string>());
    }
    return Status::OK();
  }

  Status Int64List(std::string_view key, std::vector<int64_t>* out) const {
    const json* v = Find(key);
    if (v == nullptr) return Status::OK();
    if (!v->is_array()) return Bad(key, "must be an array of integers");
    out->clear();
    for (const json& item : *v) {
      if (!item.is_number_integer()) return Bad(key, "must be an array of integers");
      if (item.is_number_unsigned() &&
          item.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Bad(key, "holds a value out of int64 range");
      }
      out->push_back(item.get<int64_t>());
    }
    return Status::OK();
  }

  Status StringMap(std::string_view key, std::map<std::string, std::string>* out) const {
    const json* v = Find(key);
    if (v == nullptr) return Status::OK();
    if (!v->is_object()) return Bad(key, "must be an object of strings");
    out->clear();
    for (const auto& [k, item] : v->items()) {
      if (!item.is_string()) return Bad(key, "must be an object of strings (member '" + k + "')");
      (*out)[k] = item.get<std::string>();
    }
    return Status::OK();
  }

  // An object whose member names are decimal int64 ids.
  template <typename V, typename Convert>
  Status IdMap(std::string_view key, std::map<int64_t, V>* out, Convert convert) const {
    const json* v = Find(key);
    if (v == nullptr) return Status::OK();
    if (!v->is_object()) return Bad(key, "must be an object keyed by id");
    out->clear();
    for (const auto& [k, item] : v->items()) {
      int64_t id = 0;
      const auto [end, ec] = std::from_chars(k.data(), k.data() + k.size(), id);
      if (ec != std::errc() || end != k.data() + k.size() || k.empty()) {
        return Bad(key, "has a member '" + k + "' that is not an integer id");
      }
      V value{};
      if (!convert(item, &value)) return Bad(key, "has a member '" + k + "' of the wrong type");
      (*out)[id] = std::move(value);
    }
    return Status::OK();
  }

  const json* Find(std::string_view key) const {
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }

  Status Error(std::string_view problem) const {
    return Status::InvalidArgument(what_ + " " + std::string(problem));
  }
  Status Missing(std::string_view key) const {
    return Status::InvalidArgument(what_ + ": missing member '" + std::string(key) + "'");
  }
  Status Bad(std::string_view key, std::string_view problem) const {
    return Status::InvalidArgument(what_ + ": member '" + std::string(key) + "' " + std::string(problem));
  }

 private:
  const json& j_;
  std::string what_;
};

json FieldToJson(const core::FieldSchema& f) {
  json j = {
      {"id", f.id},
      {"name", f.name},
      {"data_type", std::string(core::DataTypeName(f.data_type))},
      {"is_primary_key", f.is_primary_key},
      {"auto_id", f.auto_id},
      {"max_length", f.max_length},
      {"dim", f.dim},
      {"max_capacity", f.max_capacity},
      {"nullable", f.nullable},
      {"is_partition_key", f.is_partition_key},
      {"is_dynamic", f.is_dynamic},
  };
  if (f.element_type != core::DataType::kNone) j["element_type"] = std::string(core::DataTypeName(f.element_type));
  if (f.is_clustering_key) j["is_clustering_key"] = true;  // absent (false) in older catalogs
  if (f.default_value.has_value()) j["default_value"] = *f.default_value;
  return j;
}

Result<core::FieldSchema> FieldFromJson(const json& j, size_t index) {
  ObjectReader r(j, "schema field #" + std::to_string(index));
  TESSERA_RETURN_IF_ERROR(r.CheckObject());
  core::FieldSchema f;
  TESSERA_RETURN_IF_ERROR(r.Int64("id", &f.id));
  TESSERA_RETURN_IF_ERROR(r.String("name", &f.name, /*required=*/true));
  std::string type_name;
  TESSERA_RETURN_IF_ERROR(r.String("data_type", &type_name, /*required=*/true));
  auto type = core::ParseDataType(type_name);
  if (!type.ok()) return r.Bad("data_type", type.status().message());
  f.data_type = *type;
  std::string element_name;
  TESSERA_RETURN_IF_ERROR(r.String("element_type", &element_name));
  if (!element_name.empty()) {
    auto element = core::ParseDataType(element_name);
    if (!element.ok()) return r.Bad("element_type", element.status().message());
    f.element_type = *element;
  }
  TESSERA_RETURN_IF_ERROR(r.Bool("is_primary_key", &f.is_primary_key));
  TESSERA_RETURN_IF_ERROR(r.Bool("auto_id", &f.auto_id));
  TESSERA_RETURN_IF_ERROR(r.Int64("max_length", &f.max_length));
  TESSERA_RETURN_IF_ERROR(r.Int64("dim", &f.dim));
  TESSERA_RETURN_IF_ERROR(r.Int64("max_capacity", &f.max_capacity));
  TESSERA_RETURN_IF_ERROR(r.Bool("nullable", &f.nullable));
  TESSERA_RETURN_IF_ERROR(r.Bool("is_partition_key", &f.is_partition_key));
  TESSERA_RETURN_IF_ERROR(r.Bool("is_dynamic", &f.is_dynamic));
  TESSERA_RETURN_IF_ERROR(r.Bool("is_clustering_key", &f.is_clustering_key));
  if (const json* v = r.Find("default_value")) f.default_value = *v;
  return f;
}

json IndexToJson(const IndexInfo& index) {
  return {
      {"id", index.id},
      {"name", index.name},
      {"field_id", index.field_id},
      {"field_name", index.field_name},
      {"index_type", index.index_type},
      {"metric_type", index.metric_type},
      {"params", index.params},
  };
}

Result<IndexInfo> IndexFromJson(const json& j, size_t position) {
  ObjectReader r(j, "index #" + std::to_string(position));
  TESSERA_RETURN_IF_ERROR(r.CheckObject());
  IndexInfo index;
  TESSERA_RETURN_IF_ERROR(r.Int64("id", &index.id, /*required=*/true));
  TESSERA_RETURN_IF_ERROR(r.String("name", &index.name, /*required=*/true));
  TESSERA_RETURN_IF_ERROR(r.Int64("field_id", &index.field_id, /*required=*/true));
  TESSERA_RETURN_IF_ERROR(r.String("field_name", &index.field_name));
  TESSERA_RETURN_IF_ERROR(r.String("index_type", &index.index_type, /*required=*/true));
  TESSERA_RETURN_IF_ERROR(r.String("metric_type", &index.metric_type));
  if (const json* p = r.Find("params")) {
    if (!p->is_object()) return r.Bad("params", "must be an object");
    index.params = *p;
  }
  return index;
}

}  // namespace

std::string_view ConsistencyLevelName(ConsistencyLevel level) {
  for (const auto& [l, name] : kConsistencyNames) {
    if (l == level) return name;
  }
  return "Unknown";
}

Result<ConsistencyLevel> ParseConsistencyLevel(std::string_view name) {
  for (const auto& [level, level_name] : kConsistencyNames) {
    if (name == level_name) return level;
  }
  return Status::InvalidArgument("invalid consistency level '" + std::string(name) +
                                 "': expected Strong, Session, Bounded, Eventually or Customized");
}

std::string CollectionInfo::Channel(int32_t shard) const {
  // Built by append: GCC 12 at -O3 reports a false -Wrestrict on `"lit" + std::string`.
  std::string channel = "c";
  channel.append(std::to_string(id)).append("_s").append(std::to_string(shard));
  return channel;
}

std::vector<std::string> CollectionInfo::Channels() const {
  std::vector<std::string> channels;
  channels.reserve(static_cast<size_t>(num_shards > 0 ? num_shards : 0));
  for (int32_t shard = 0; shard < num_shards; ++shard) channels.push_back(Channel(shard));
  return channels;
}

const PartitionInfo* CollectionInfo::FindPartition(std::string_view name) const {
  for (const PartitionInfo& p : partitions) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

int64_t CollectionInfo::TtlSeconds() const {
  auto it = properties.find("collection.ttl.seconds");
  if (it == properties.end()) return 0;
  int64_t seconds = 0;
  const std::string& text = it->second;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  return ec == std::errc() && end == text.data() + text.size() && seconds > 0 ? seconds : 0;
}

uint64_t CollectionInfo::ExpiredBefore(int64_t now_ms) const {
  const int64_t ttl = TtlSeconds();
  if (ttl == 0 || ttl > now_ms / 1000) return 0;
  return ComposeTimestamp(now_ms - ttl * 1000, 0);
}

std::set<int64_t> CollectionInfo::LivePartitionIds() const {
  std::set<int64_t> ids;
  for (const PartitionInfo& p : partitions) ids.insert(p.id);
  return ids;
}

const IndexInfo* CollectionInfo::FindIndex(std::string_view name) const {
  for (const IndexInfo& index : indexes) {
    if (index.name == name) return &index;
  }
  return nullptr;
}

bool CollectionInfo::BuildsFiles(const IndexInfo& index) const {
  for (const core::FieldSchema& f : schema.fields) {
    if (f.id == index.field_id) return core::IsVectorType(f.data_type);
  }
  return false;
}

const IndexInfo* CollectionInfo::IndexOnField(int64_t field_id) const {
  for (const IndexInfo& index : indexes) {
    if (index.field_id == field_id) return &index;
  }
  return nullptr;
}

nlohmann::json ToJson(const core::CollectionSchema& schema) {
  json fields = json::array();
  for (const core::FieldSchema& f : schema.fields) fields.push_back(FieldToJson(f));
  return {
      {"name", schema.name},
      {"description", schema.description},
      {"enable_dynamic_field", schema.enable_dynamic_field},
      {"fields", std::move(fields)},
  };
}

Result<core::CollectionSchema> SchemaFromJson(const nlohmann::json& j) {
  ObjectReader r(j, "schema");
  TESSERA_RETURN_IF_ERROR(r.CheckObject());
  core::CollectionSchema schema;
  TESSERA_RETURN_IF_ERROR(r.String("name", &schema.name, /*required=*/true));
  TESSERA_RETURN_IF_ERROR(r.String("description", &schema.description));
  TESSERA_RETURN_IF_ERROR(r.Bool("enable_dynamic_field", &schema.enable_dynamic_field));
  const json* fields = r.Find("fields");
  if (fields == nullptr) return r.Missing("fields");
  if (!fields->is_array()) return r.Bad("fields", "must be an array");
  for (size_t i = 0; i < fields->size(); ++i) {
    TESSERA_ASSIGN_OR_RETURN(core::FieldSchema f, FieldFromJson((*fields)[i], i));
    schema.fields.push_back(std::move(f));
  }
  return schema;
}

nlohmann::json ToJson(const CollectionInfo& info) {
  json partitions = json::array();
  for (const PartitionInfo& p : info.partitions) {
    partitions.push_back({{"id", p.id}, {"name", p.name}, {"loaded", p.loaded}});
  }
  json indexes = json::array();
  for (const IndexInfo& index : info.indexes) indexes.push_back(IndexToJson(index));
  return {
      {"id", info.id},
      {"db_name", info.db_name},
      {"schema", ToJson(info.schema)},
      {"num_shards", info.num_shards},
      {"num_partitions", info.num_partitions},
      {"consistency", std::string(ConsistencyLevelName(info.consistency))},
      {"properties", info.properties},
      {"partitions", std::move(partitions)},
      {"indexes", std::move(indexes)},
      {"aliases", info.aliases},
      {"loaded", info.loaded},
      {"created_ts", info.created_ts},
  };
}

Result<CollectionInfo> CollectionFromJson(const nlohmann::json& j) {
  ObjectReader r(j, "collection");
  TESSERA_RETURN_IF_ERROR(r.CheckObject());
  CollectionInfo info;
  TESSERA_RETURN_IF_ERROR(r.Int64("id", &info.id, /*required=*/true));
  TESSERA_RETURN_IF_ERROR(r.String("db_name", &info.db_name, /*required=*/true));
  const json* schema = r.Find("schema");
  if (schema == nullptr) return r.Missing("schema");
  auto parsed_schema = SchemaFromJson(*schema);
  if (!parsed_schema.ok()) return parsed_schema.status().WithContext("collection " + std::to_string(info.id));
  info.schema = std::move(parsed_schema).value();
  TESSERA_RETURN_IF_ERROR(r.Int32("num_shards", &info.num_shards, /*required=*/true));
  if (info.num_shards < 1) return r.Bad("num_shards", "must be at least 1");
  TESSERA_RETURN_IF_ERROR(r.Int32("num_partitions", &info.num_partitions));
  std::string consistency = std::string(ConsistencyLevelName(info.consistency));
  TESSERA_RETURN_IF_ERROR(r.String("consistency", &consistency));
  auto level = ParseConsistencyLevel(consistency);
  if (!level.ok()) return r.Bad("consistency", level.status().message());
  info.consistency = *level;
  TESSERA_RETURN_IF_ERROR(r.StringMap("properties", &info.properties));
  if (const json* partitions = r.Find("partitions")) {
    if (!partitions->is_array()) return r.Bad("partitions", "must be an array");
    for (size_t i = 0; i < partitions->size(); ++i) {
      ObjectReader pr((*partitions)[i], "partition #" + std::to_string(i));
      TESSERA_RETURN_IF_ERROR(pr.CheckObject());
      PartitionInfo p;
      TESSERA_RETURN_IF_ERROR(pr.Int64("id", &p.id, /*required=*/true));
      TESSERA_RETURN_IF_ERROR(pr.String("name", &p.name, /*required=*/true));
      TESSERA_RETURN_IF_ERROR(pr.Bool("loaded", &p.loaded));
      info.partitions.push_back(std::move(p));
    }
  }
  if (const json* indexes = r.Find("indexes")) {
    if (!indexes->is_array()) return r.Bad("indexes", "must be an array");
    for (size_t i = 0; i < indexes->size(); ++i) {
      TESSERA_ASSIGN_OR_RETURN(IndexInfo index, IndexFromJson((*indexes)[i], i));
      info.indexes.push_back(std::move(index));
    }
  }
  TESSERA_RETURN_IF_ERROR(r.StringList("aliases", &info.aliases));
  TESSERA_RETURN_IF_ERROR(r.Bool("loaded", &info.loaded));
  TESSERA_RETURN_IF_ERROR(r.Uint64("created_ts", &info.created_ts));
  return info;
}

nlohmann::json ToJson(const SegmentInfo& info) {
  json binlogs = json::object();
  for (const auto& [field_id, key] : info.binlogs) binlogs[std::to_string(field_id)] = key;
  json index_files = json::object();
  for (const auto& [index_id, key] : info.index_files) index_files[std::to_string(index_id)] = key;
  json partition_rows = json::object();
  for (const auto& [partition_id, rows] : info.partition_rows) partition_rows[std::to_string(partition_id)] = rows;
  return {
      {"id", info.id},
      {"collection_id", info.collection_id},
      {"channel", info.channel},
      {"start_offset", info.start_offset},
      {"end_offset", info.end_offset},
      {"num_rows", info.num_rows},
      {"memory_size", info.memory_size},
      {"deleted_rows", info.deleted_rows},
      {"max_timestamp", info.max_timestamp},
      {"binlogs", std::move(binlogs)},
      {"deltalogs", info.deltalogs},
      {"stats", info.stats},
      {"partition_rows", std::move(partition_rows)},
      {"index_files", std::move(index_files)},
      {"compacted_from", info.compacted_from},
      {"time_tick", info.time_tick},
      {"dropped", info.dropped},
  };
}

Result<SegmentInfo> SegmentFromJson(const nlohmann::json& j) {
  ObjectReader r(j, "segment");
  TESSERA_RETURN_IF_ERROR(r.CheckObject());
  SegmentInfo info;
  TESSERA_RETURN_IF_ERROR(r.Int64("id", &info.id, /*required=*/true));
  TESSERA_RETURN_IF_ERROR(r.Int64("collection_id", &info.collection_id, /*required=*/true));
  TESSERA_RETURN_IF_ERROR(r.String("channel", &info.channel, /*required=*/true));
  TESSERA_RETURN_IF_ERROR(r.Uint64("start_offset", &info.start_offset, /*required=*/true));
  TESSERA_RETURN_IF_ERROR(r.Uint64("end_offset", &info.end_offset, /*required=*/true));
  if (info.end_offset < info.start_offset) return r.Bad("end_offset", "is before start_offset");
  TESSERA_RETURN_IF_ERROR(r.Uint64("num_rows", &info.num_rows, /*required=*/true));
  TESSERA_RETURN_IF_ERROR(r.Uint64("memory_size", &info.memory_size));
  TESSERA_RETURN_IF_ERROR(r.Uint64("deleted_rows", &info.deleted_rows));  // absent in older entries: 0
  TESSERA_RETURN_IF_ERROR(r.Uint64("max_timestamp", &info.max_timestamp));  // likewise
  if (info.deleted_rows > info.num_rows) return r.Bad("deleted_rows", "exceeds num_rows");
  TESSERA_RETURN_IF_ERROR(r.Uint64("time_tick", &info.time_tick));  // absent before time ticks: 0
  const auto as_string = [](const json& v, std::string* out) {
    if (!v.is_string()) return false;
    *out = v.get<std::string>();
    return true;
  };
  const auto as_count = [](const json& v, uint64_t* out) {
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) return false;
    *out = v.get<uint64_t>();
    return true;
  };
  TESSERA_RETURN_IF_ERROR(r.IdMap("binlogs", &info.binlogs, as_string));
  TESSERA_RETURN_IF_ERROR(r.StringList("deltalogs", &info.deltalogs));
  TESSERA_RETURN_IF_ERROR(r.String("stats", &info.stats));
  TESSERA_RETURN_IF_ERROR(r.IdMap("partition_rows", &info.partition_rows, as_count));
  TESSERA_RETURN_IF_ERROR(r.IdMap("index_files", &info.index_files, as_string));
  TESSERA_RETURN_IF_ERROR(r.Int64List("compacted_from", &info.compacted_from));
  TESSERA_RETURN_IF_ERROR(r.Bool("dropped", &info.dropped));
  return info;
}

}  // namespace tessera::coord
