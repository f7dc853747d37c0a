#include "proxy/decode_collection.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <string>
#include <utility>

#include "proxy/consistency.h"
#include "proxy/json_fields.h"

namespace tessera::proxy {

using nlohmann::json;

namespace {

constexpr std::string_view kCreateReq = "CollectionReq";
constexpr std::string_view kFieldReq = "FieldSchema";
constexpr std::string_view kIndexReq = "IndexParam";
constexpr std::string_view kDefaultMetric = "COSINE";
constexpr std::string_view kAutoIndex = "AUTOINDEX";
constexpr int64_t kMaxShards = 16;
constexpr int64_t kMaxPartitions = 1024;

constexpr std::array<std::pair<std::string_view, core::DataType>, 11> kSupportedTypes = {{
    {"Bool", core::DataType::kBool},
    {"Int8", core::DataType::kInt8},
    {"Int16", core::DataType::kInt16},
    {"Int32", core::DataType::kInt32},
    {"Int64", core::DataType::kInt64},
    {"Float", core::DataType::kFloat},
    {"Double", core::DataType::kDouble},
    {"VarChar", core::DataType::kVarChar},
    {"Array", core::DataType::kArray},
    {"JSON", core::DataType::kJSON},
    {"FloatVector", core::DataType::kFloatVector},
}};

// Milvus type names Tessera does not implement: a clear "not supported" instead of
// "invalid".
constexpr std::array<std::string_view, 11> kUnsupportedTypes = {
    "String",         "Geometry",          "Text",       "Timestamptz",   "BinaryVector", "Float16Vector",
    "BFloat16Vector", "SparseFloatVector", "Int8Vector", "ArrayOfVector", "ArrayOfStruct",
};

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

ApiResult<core::FieldSchema> DecodeField(const json& j, size_t index) {
  const std::string prefix = "schema.fields[" + std::to_string(index) + "].";
  if (!j.is_object()) {
    return BadJsonError("field " + prefix.substr(0, prefix.size() - 1) + " must be an object, got " +
                        std::string(JsonTypeName(j)));
  }
  FieldReader r(j, std::string(kFieldReq), prefix);
  core::FieldSchema f;
  TESSERA_API_RETURN_IF_ERROR(r.RequiredString("fieldName", &f.name));
  std::string type_name;
  TESSERA_API_RETURN_IF_ERROR(r.RequiredString("dataType", &type_name));
  TESSERA_API_ASSIGN_OR_RETURN(f.data_type, ParseTypeName(type_name));
  std::string element_name;
  TESSERA_API_RETURN_IF_ERROR(r.String("elementDataType", &element_name));
  if (f.data_type == core::DataType::kArray) {
    if (element_name.empty()) {
      return InvalidParameterError("field " + f.name + ": elementDataType is required for an Array field");
    }
    TESSERA_API_ASSIGN_OR_RETURN(f.element_type, ParseTypeName(element_name));
  }
  TESSERA_API_RETURN_IF_ERROR(r.Bool("isPrimary", &f.is_primary_key));
  TESSERA_API_RETURN_IF_ERROR(r.Bool("isPartitionKey", &f.is_partition_key));
  TESSERA_API_RETURN_IF_ERROR(r.Bool("isClusteringKey", &f.is_clustering_key));
  TESSERA_API_RETURN_IF_ERROR(r.Bool("nullable", &f.nullable));
  TESSERA_API_RETURN_IF_ERROR(r.Bool("autoID", &f.auto_id));
  if (const json* dv = r.Find("defaultValue")) {
    if (!(dv->is_boolean() || dv->is_number() || dv->is_string())) {
      return InvalidParameterError("field " + f.name + ": defaultValue must be a bool, number or string, got " +
                                   std::string(JsonTypeName(*dv)));
    }
    f.default_value = *dv;
  }
  const json* params = nullptr;
  TESSERA_API_RETURN_IF_ERROR(r.Object("elementTypeParams", &params));
  if (params != nullptr) {
    FieldReader p(*params, std::string(kFieldReq), prefix + "elementTypeParams.");
    struct IntKey {
      std::string_view key;
      int64_t* out;
    };
    for (const IntKey& k : {IntKey{"dim", &f.dim}, IntKey{"max_length", &f.max_length},
                            IntKey{"max_capacity", &f.max_capacity}}) {
      if (const json* v = p.Find(k.key)) {
        TESSERA_API_ASSIGN_OR_RETURN(*k.out, IntParam(*v, "field " + f.name + ": " + std::string(k.key)));
      }
    }
  }
  return f;
}

// params.enableDynamicField: bool or "true"/"false".
ApiResult<bool> DynamicFieldParam(const json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string()) {
    if (auto b = ParseGoBool(v.get_ref<const std::string&>())) return *b;
  }
  return ApiStatus(code::kUnexpected, "parse enableDynamicField fail, strconv.ParseBool: parsing \"" +
                                          ParamText(v) + "\": invalid syntax");
}

ApiStatus DecodeCollectionParams(const FieldReader& body, CreateCollectionSpec* spec, bool* dynamic_override,
                                 bool* dynamic_value) {
  const json* params = nullptr;
  TESSERA_API_RETURN_IF_ERROR(body.Object("params", &params));
  if (params == nullptr) return ApiStatus::OK();
  FieldReader p(*params, std::string(kCreateReq), "params.");
  coord::CreateCollectionRequest& req = spec->request;
  if (const json* v = p.Find("shardsNum")) {
    TESSERA_API_ASSIGN_OR_RETURN(int64_t shards, IntParam(*v, "params.shardsNum"));
    if (shards == 0) shards = 1;  // Milvus: 0 means the default
    if (shards < 1 || shards > kMaxShards) {
      return InvalidParameterError("params.shardsNum must be in [1, " + std::to_string(kMaxShards) + "], got " +
                                   std::to_string(shards));
    }
    req.num_shards = static_cast<int32_t>(shards);
  }
  if (const json* v = p.Find("partitionsNum")) {
    TESSERA_API_ASSIGN_OR_RETURN(int64_t n, IntParam(*v, "params.partitionsNum"));
    if (n < 1 || n > kMaxPartitions) {
      return InvalidParameterError("params.partitionsNum must be in [1, " + std::to_string(kMaxPartitions) +
                                   "], got " + std::to_string(n));
    }
    req.num_partitions = static_cast<int32_t>(n);
  }
  if (const json* v = p.Find("consistencyLevel")) {
    if (!v->is_string()) return p.WrongType("consistencyLevel", "a string", *v);
    TESSERA_API_ASSIGN_OR_RETURN(req.consistency, ParseConsistency(v->get<std::string>()));
  }
  if (const json* v = p.Find("enableDynamicField")) {
    TESSERA_API_ASSIGN_OR_RETURN(*dynamic_value, DynamicFieldParam(*v));
    *dynamic_override = true;
  }
  if (const json* v = p.Find("ttlSeconds")) {
    TESSERA_API_ASSIGN_OR_RETURN(int64_t ttl, IntParam(*v, "params.ttlSeconds"));
    req.properties["collection.ttl.seconds"] = std::to_string(ttl);
  }
  if (const json* v = p.Find("partitionKeyIsolation")) req.properties["partitionkey.isolation"] = ParamText(*v);
  if (const json* v = p.Find("mmap.enabled")) req.properties["mmap.enabled"] = ParamText(*v);
  return ApiStatus::OK();
}

}  // namespace

ApiResult<core::DataType> ParseTypeName(std::string_view name) {
  for (const auto& [text, type] : kSupportedTypes) {
    if (text == name) return type;
  }
  for (std::string_view text : kUnsupportedTypes) {
    if (text == name) {
      return InvalidParameterError("data type " + std::string(name) + " is not supported by this server");
    }
  }
  return ApiStatus(code::kInvalidParameter,
                   "invalid parameter, data type " + std::string(name) + " is invalid(case sensitive).");
}

ApiStatus ValidateMetric(std::string_view metric) {
  if (metric == "L2" || metric == "IP" || metric == "COSINE") return ApiStatus::OK();
  return InvalidParameterError("metric type " + std::string(metric) +
                               " is not supported for FloatVector, expected one of [L2, IP, COSINE]");
}

ApiResult<std::vector<IndexSpec>> DecodeIndexParams(const json& index_params, const core::CollectionSchema& schema) {
  if (!index_params.is_array()) {
    return BadJsonError("field indexParams must be an array, got " + std::string(JsonTypeName(index_params)));
  }
  std::vector<IndexSpec> out;
  for (size_t i = 0; i < index_params.size(); ++i) {
    const json& j = index_params[i];
    const std::string prefix = "indexParams[" + std::to_string(i) + "].";
    if (!j.is_object()) {
      return BadJsonError("field indexParams[" + std::to_string(i) + "] must be an object, got " +
                          std::string(JsonTypeName(j)));
    }
    FieldReader r(j, std::string(kIndexReq), prefix);
    IndexSpec spec;
    TESSERA_API_RETURN_IF_ERROR(r.RequiredString("fieldName", &spec.field_name));
    TESSERA_API_RETURN_IF_ERROR(r.String("indexName", &spec.index_name));
    TESSERA_API_RETURN_IF_ERROR(r.String("indexType", &spec.index_type));
    TESSERA_API_RETURN_IF_ERROR(r.String("metricType", &spec.metric_type));
    const json* params = nullptr;
    TESSERA_API_RETURN_IF_ERROR(r.Object("params", &params));
    const core::FieldSchema* field = schema.FindField(spec.field_name);
    if (field == nullptr || field->is_dynamic) {
      return ApiStatus(code::kMissingRequired,
                       "missing required parameters, error: `" + spec.field_name + "` hasn't defined in schema");
    }
    if (!spec.index_name.empty()) TESSERA_API_RETURN_IF_ERROR(ValidateName("index", spec.index_name));
    if (params != nullptr) {
      for (auto it = params->begin(); it != params->end(); ++it) {
        if (it.key() == "index_type") {
          if (spec.index_type.empty()) spec.index_type = ParamText(it.value());
        } else if (it.key() == "metric_type") {
          if (spec.metric_type.empty()) spec.metric_type = ParamText(it.value());
        } else {
          spec.params[it.key()] = NumericParam(it.value());
        }
      }
    }
    spec.index_type = spec.index_type.empty() ? std::string(kAutoIndex) : Upper(spec.index_type);
    if (core::IsVectorType(field->data_type)) {
      spec.metric_type = spec.metric_type.empty() ? std::string(kDefaultMetric) : Upper(spec.metric_type);
      TESSERA_API_RETURN_IF_ERROR(ValidateMetric(spec.metric_type));
    } else {
      spec.metric_type = Upper(spec.metric_type);
    }
    if (spec.index_type == kAutoIndex && !spec.params.empty() && core::IsVectorType(field->data_type)) {
      return InvalidParameterError("only metric type can be passed when use AutoIndex");
    }
    out.push_back(std::move(spec));
  }
  return out;
}

ApiResult<CreateCollectionSpec> DecodeCreateCollection(const json& body) {
  FieldReader r(body, std::string(kCreateReq));
  CreateCollectionSpec spec;
  core::CollectionSchema& schema = spec.request.schema;
  TESSERA_API_RETURN_IF_ERROR(r.RequiredString("collectionName", &schema.name));
  TESSERA_API_RETURN_IF_ERROR(ValidateName("collection", schema.name));
  TESSERA_API_RETURN_IF_ERROR(r.String("description", &schema.description));

  const json* schema_json = nullptr;
  TESSERA_API_RETURN_IF_ERROR(r.Object("schema", &schema_json));
  const json* fields_json = nullptr;
  const json* functions_json = nullptr;
  std::optional<FieldReader> s;
  if (schema_json != nullptr) {
    s.emplace(*schema_json, "CollectionSchema", "schema.");
    TESSERA_API_RETURN_IF_ERROR(s->Array("fields", &fields_json));
    TESSERA_API_RETURN_IF_ERROR(s->Array("functions", &functions_json));
  }
  bool dynamic_override = false;
  bool dynamic_value = true;
  TESSERA_API_RETURN_IF_ERROR(DecodeCollectionParams(r, &spec, &dynamic_override, &dynamic_value));
  const json* index_params = nullptr;
  TESSERA_API_RETURN_IF_ERROR(r.Array("indexParams", &index_params));

  spec.quick_mode = fields_json == nullptr || fields_json->empty();
  if (spec.quick_mode) {
    if (functions_json != nullptr && !functions_json->empty()) {
      return InvalidParameterError("functions are only allowed in a collection created with a schema");
    }
    int64_t dimension = 0;
    TESSERA_API_RETURN_IF_ERROR(r.Int("dimension", &dimension));
    if (dimension == 0) {
      return ApiStatus(code::kInvalidParameter,
                       "dimension is required for quickly create collection(default metric type: COSINE): invalid "
                       "parameter[expected=collectionName & dimension][actual=collectionName]");
    }
    std::string metric(kDefaultMetric);
    TESSERA_API_RETURN_IF_ERROR(r.String("metricType", &metric));
    metric = metric.empty() ? std::string(kDefaultMetric) : Upper(metric);
    TESSERA_API_RETURN_IF_ERROR(ValidateMetric(metric));
    std::string id_type;
    TESSERA_API_RETURN_IF_ERROR(r.String("idType", &id_type));
    bool auto_id = false;
    TESSERA_API_RETURN_IF_ERROR(r.Bool("autoID", &auto_id));
    std::string pk_name = "id";
    std::string vector_name = "vector";
    TESSERA_API_RETURN_IF_ERROR(r.String("primaryFieldName", &pk_name));
    TESSERA_API_RETURN_IF_ERROR(r.String("vectorFieldName", &vector_name));
    if (pk_name.empty()) pk_name = "id";
    if (vector_name.empty()) vector_name = "vector";

    core::FieldSchema pk;
    pk.name = pk_name;
    pk.is_primary_key = true;
    pk.auto_id = auto_id;
    if (id_type.empty() || id_type == "Int64" || id_type == "int64") {
      pk.data_type = core::DataType::kInt64;
    } else if (id_type == "VarChar" || id_type == "Varchar") {
      pk.data_type = core::DataType::kVarChar;
      const json* params = nullptr;
      TESSERA_API_RETURN_IF_ERROR(r.Object("params", &params));
      const json* max_length = params == nullptr ? nullptr : FieldReader(*params, "params").Find("max_length");
      if (max_length == nullptr) {
        return InvalidParameterError("params.max_length is required for a VarChar primary key");
      }
      TESSERA_API_ASSIGN_OR_RETURN(pk.max_length, IntParam(*max_length, "params.max_length"));
    } else {
      return ApiStatus(code::kInvalidParameter,
                       "idType can only be [Int64, VarChar], default: Int64: invalid parameter[expected=Int64, "
                       "Varchar][actual=" +
                           id_type + "]");
    }
    core::FieldSchema vec;
    vec.name = vector_name;
    vec.data_type = core::DataType::kFloatVector;
    vec.dim = dimension;
    schema.fields = {pk, vec};
    schema.enable_dynamic_field = dynamic_override ? dynamic_value : true;
    IndexSpec index;
    index.field_name = vector_name;
    index.index_name = vector_name;
    index.index_type = std::string(kAutoIndex);
    index.metric_type = metric;
    spec.indexes.push_back(std::move(index));
    spec.load = true;
  } else {
    if (functions_json != nullptr && !functions_json->empty()) {
      return InvalidParameterError("schema.functions are not supported by this server");
    }
    bool schema_auto_id = false;
    TESSERA_API_RETURN_IF_ERROR(s->Bool("autoID", &schema_auto_id));
    bool dynamic = false;
    TESSERA_API_RETURN_IF_ERROR(s->Bool("enableDynamicField", &dynamic));
    bool dynamic_alt = false;  // docs and SDK tests spell it "enabledDynamicField"
    TESSERA_API_RETURN_IF_ERROR(s->Bool("enabledDynamicField", &dynamic_alt));
    schema.enable_dynamic_field = dynamic || dynamic_alt;
    for (size_t i = 0; i < fields_json->size(); ++i) {
      TESSERA_API_ASSIGN_OR_RETURN(core::FieldSchema f, DecodeField((*fields_json)[i], i));
      TESSERA_API_RETURN_IF_ERROR(ValidateName("field", f.name));
      if (f.is_primary_key && schema_auto_id) f.auto_id = true;
      schema.fields.push_back(std::move(f));
    }
    if (index_params != nullptr) {
      TESSERA_API_ASSIGN_OR_RETURN(spec.indexes, DecodeIndexParams(*index_params, schema));
    }
    // Loaded once every vector field has an index (indexes on scalar fields alone leave
    // the collection unloaded: a load would fail for the missing vector index).
    spec.load = !spec.indexes.empty();
    for (const core::FieldSchema& f : schema.fields) {
      if (!core::IsVectorType(f.data_type)) continue;
      spec.load = spec.load && std::any_of(spec.indexes.begin(), spec.indexes.end(),
                                           [&](const IndexSpec& i) { return i.field_name == f.name; });
    }
  }
  if (Status st = schema.Validate(); !st.ok()) return InvalidParameterError(st.message());
  const bool has_partition_key = std::any_of(schema.fields.begin(), schema.fields.end(),
                                             [](const core::FieldSchema& f) { return f.is_partition_key; });
  if (!has_partition_key) spec.request.num_partitions = 0;
  return spec;
}

}  // namespace tessera::proxy
