#include "proxy/decode_entities.h"

#include <cctype>
#include <cmath>
#include <set>
#include <string>
#include <utility>

#include "core/filter/parser.h"
#include "proxy/consistency.h"
#include "proxy/filter_util.h"
#include "proxy/json_fields.h"

namespace tessera::proxy {

using nlohmann::json;

namespace {

constexpr std::string_view kQueryReq = "QueryReqV2";
constexpr std::string_view kGetReq = "CollectionIDReq";
constexpr std::string_view kSearchReq = "SearchReqV2";
constexpr std::string_view kDeleteReq = "CollectionFilterReq";
constexpr std::string_view kCountStar = "count(*)";

bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.size() > core::kMaxFieldNameLength) return false;
  if (!(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

ApiResult<ReadOptions> DecodeReadOptions(const FieldReader& r) {
  ReadOptions read;
  TESSERA_API_RETURN_IF_ERROR(r.StringArray("partitionNames", &read.partition_names));
  for (const std::string& name : read.partition_names) TESSERA_API_RETURN_IF_ERROR(ValidateName("partition", name));
  std::string level;
  TESSERA_API_RETURN_IF_ERROR(r.String("consistencyLevel", &level));
  if (!level.empty()) {
    TESSERA_API_ASSIGN_OR_RETURN(coord::ConsistencyLevel parsed, ParseConsistency(level));
    read.consistency = parsed;
  }
  return read;
}

// The filter with exprParams applied, checked against the schema.
ApiResult<std::string> DecodeFilter(const FieldReader& r, const core::CollectionSchema& schema, bool required) {
  std::string filter;
  if (required) {
    TESSERA_API_RETURN_IF_ERROR(r.RequiredString("filter", &filter));
  } else {
    TESSERA_API_RETURN_IF_ERROR(r.String("filter", &filter));
  }
  const json* params = nullptr;
  TESSERA_API_RETURN_IF_ERROR(r.Object("exprParams", &params));
  TESSERA_API_ASSIGN_OR_RETURN(filter, ApplyExprParams(filter, params));
  if (!filter.empty()) {
    auto parsed = core::filter::ParseFilter(filter, schema);
    if (!parsed.ok()) return InvalidParameterError(parsed.status().message());
  }
  return filter;
}

// limit / offset with the window rule. `default_limit` applies when limit is absent or 0.
ApiStatus DecodeWindow(const FieldReader& r, size_t* limit, size_t* offset) {
  int64_t l = 0;
  int64_t o = 0;
  TESSERA_API_RETURN_IF_ERROR(r.Int("limit", &l));
  TESSERA_API_RETURN_IF_ERROR(r.Int("offset", &o));
  if (l < 0 || l > kMaxResultWindow) {
    return InvalidParameterError("limit [" + std::to_string(l) + "] is invalid, it should be in range [1, " +
                                 std::to_string(kMaxResultWindow) + "]");
  }
  if (o < 0 || o > kMaxResultWindow) {
    return InvalidParameterError("offset [" + std::to_string(o) + "] is invalid, it should be in range [0, " +
                                 std::to_string(kMaxResultWindow) + "]");
  }
  if (l == 0) l = kDefaultLimit;
  if (l + o > kMaxResultWindow) {
    return InvalidParameterError("invalid max query result window, (offset+limit) should be in range [1, " +
                                 std::to_string(kMaxResultWindow) + "], but got " + std::to_string(l + o));
  }
  *limit = static_cast<size_t>(l);
  *offset = static_cast<size_t>(o);
  return ApiStatus::OK();
}

}  // namespace

ApiResult<std::vector<std::string>> CheckOutputFields(const std::vector<std::string>& names,
                                                      const core::CollectionSchema& schema, bool expand_star) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  auto add = [&](const std::string& name) {
    if (seen.insert(name).second) out.push_back(name);
  };
  bool star = false;
  for (const std::string& name : names) {
    if (name == "*") {
      star = true;
      continue;
    }
    if (name == kCountStar) {
      return InvalidParameterError("count(*) must be the only output field");
    }
    const core::FieldSchema* f = schema.FindField(name);
    if (f != nullptr) {
      add(name);
    } else if (name == core::kDynamicFieldName && schema.enable_dynamic_field) {
      add(name);
    } else if (schema.enable_dynamic_field && IsIdentifier(name)) {
      add(name);
    } else {
      return ApiStatus(code::kFieldNotFound, "field " + name + " not exist");
    }
  }
  if (!star) return out;
  if (!expand_star && out.empty()) return std::vector<std::string>{};
  std::vector<std::string> expanded;
  std::set<std::string> have;
  for (const core::FieldSchema& f : schema.fields) {
    if (f.is_dynamic) continue;
    expanded.push_back(f.name);
    have.insert(f.name);
  }
  if (schema.enable_dynamic_field) {
    expanded.emplace_back(core::kDynamicFieldName);
    have.insert(std::string(core::kDynamicFieldName));
  }
  for (const std::string& name : out) {
    if (have.insert(name).second) expanded.push_back(name);
  }
  return expanded;
}

ApiResult<segment::PrimaryKey> ParsePrimaryKey(const json& id, core::DataType pk_type) {
  if (pk_type == core::DataType::kInt64) {
    if (id.is_number_integer() && !(id.is_number_unsigned() && id.get<uint64_t>() > uint64_t{INT64_MAX})) {
      return segment::PrimaryKey(id.get<int64_t>());
    }
    if (id.is_string()) {
      if (auto v = ParseInt64(id.get_ref<const std::string&>())) return segment::PrimaryKey(*v);
    }
    return PrimaryKeyError("id " + ParamText(id) + " is not an Int64 primary key");
  }
  if (id.is_string()) return segment::PrimaryKey(id.get<std::string>());
  return PrimaryKeyError("id " + ParamText(id) + " is not a VarChar primary key");
}

ApiResult<QuerySpec> DecodeQuery(const json& body, const core::CollectionSchema& schema) {
  FieldReader r(body, std::string(kQueryReq));
  QuerySpec spec;
  TESSERA_API_ASSIGN_OR_RETURN(spec.read, DecodeReadOptions(r));
  TESSERA_API_ASSIGN_OR_RETURN(spec.filter, DecodeFilter(r, schema, /*required=*/false));
  std::vector<std::string> output;
  TESSERA_API_RETURN_IF_ERROR(r.StringArray("outputFields", &output));
  if (output.size() == 1 && output[0] == kCountStar) {
    spec.count_only = true;
  } else {
    TESSERA_API_ASSIGN_OR_RETURN(spec.output_fields, CheckOutputFields(output, schema, /*expand_star=*/false));
  }
  TESSERA_API_RETURN_IF_ERROR(DecodeWindow(r, &spec.limit, &spec.offset));
  return spec;
}

ApiResult<QuerySpec> DecodeGet(const json& body, const core::CollectionSchema& schema) {
  FieldReader r(body, std::string(kGetReq));
  QuerySpec spec;
  TESSERA_API_ASSIGN_OR_RETURN(spec.read, DecodeReadOptions(r));
  const json* id = r.Find("id");
  if (id == nullptr) return r.Missing("id");
  const core::FieldSchema* pk = schema.PrimaryKey();
  if (pk == nullptr) return InvalidParameterError("collection " + schema.name + " has no primary key");
  std::vector<segment::PrimaryKey> keys;
  std::set<segment::PrimaryKey> seen;
  auto add = [&](const json& v) -> ApiStatus {
    TESSERA_API_ASSIGN_OR_RETURN(segment::PrimaryKey key, ParsePrimaryKey(v, pk->data_type));
    if (seen.insert(key).second) keys.push_back(std::move(key));
    return ApiStatus::OK();
  };
  if (id->is_array()) {
    if (static_cast<int64_t>(id->size()) > kMaxResultWindow) {
      return InvalidParameterError("too many ids: " + std::to_string(id->size()) + " (at most " +
                                   std::to_string(kMaxResultWindow) + ")");
    }
    for (const json& v : *id) TESSERA_API_RETURN_IF_ERROR(add(v));
  } else {
    TESSERA_API_RETURN_IF_ERROR(add(*id));
  }
  std::vector<std::string> output;
  TESSERA_API_RETURN_IF_ERROR(r.StringArray("outputFields", &output));
  TESSERA_API_ASSIGN_OR_RETURN(spec.output_fields, CheckOutputFields(output, schema, /*expand_star=*/false));
  spec.filter = PkInFilter(pk->name, keys);
  spec.limit = keys.empty() ? 1 : keys.size();
  return spec;
}

ApiResult<json> MergeSearchParams(const json& search_params) {
  if (!search_params.is_object()) {
    return BadJsonError("field searchParams must be an object, got " + std::string(JsonTypeName(search_params)));
  }
  json merged = json::object();
  auto params = search_params.find("params");
  if (params != search_params.end() && !params->is_null()) {
    if (!params->is_object()) return ApiStatus(code::kInvalidParameter, "searchParams.params must be a dict: invalid parameter");
    for (auto it = params->begin(); it != params->end(); ++it) merged[it.key()] = NumericParam(it.value());
  }
  for (auto it = search_params.begin(); it != search_params.end(); ++it) {
    if (it.key() == "params" || it.key() == "metricType" || it.key() == "round_decimal") continue;
    const std::string key = it.key() == "ignoreGrowing" ? "ignore_growing" : it.key();
    const json value = NumericParam(it.value());
    auto existing = merged.find(key);
    if (existing != merged.end() && *existing != value) {
      return InvalidParameterError("ambiguous parameter: key " + key + " is " + ParamText(value) +
                                   " in searchParams but " + ParamText(*existing) + " in searchParams.params");
    }
    merged[key] = value;
  }
  return merged;
}

namespace {

// The checks of DecodeSearch's JSON path on vectors ParseBody already packed (equally long
// rows of numbers), with the same messages: the dimension, then every value finite.
ApiStatus CheckPackedVectors(const PackedVectors& packed, const core::FieldSchema& field) {
  const size_t dim = static_cast<size_t>(field.dim);
  if (packed.dim != dim) {
    return InvalidParameterError("data[0]: the vector has dimension " + std::to_string(packed.dim) + " but field " +
                                 field.name + " has dimension " + std::to_string(dim));
  }
  for (size_t i = 0; i < packed.values.size(); ++i) {
    if (!std::isfinite(packed.values[i])) {
      return InvalidParameterError("data[" + std::to_string(i / dim) + "][" + std::to_string(i % dim) +
                                   "] is not a finite float32");
    }
  }
  return ApiStatus::OK();
}

// Rerank functions are not implemented. Refused rather than ignored: ignoring them would
// answer in another order than the client asked for.
ApiStatus RefuseFunctionScore(const json& body) {
  auto it = body.find("functionScore");
  if (it == body.end() || it->is_null()) return ApiStatus::OK();
  return InvalidParameterError("functionScore (rerank functions) is not supported by this server");
}

// groupingField, groupSize, strictGroupSize (the last two only count with a grouping field).
ApiResult<GroupingSpec> DecodeGrouping(const FieldReader& r, const core::CollectionSchema& schema, size_t limit,
                                       size_t offset) {
  GroupingSpec grouping;
  TESSERA_API_RETURN_IF_ERROR(r.String("groupingField", &grouping.field));
  if (grouping.field.empty()) return grouping;
  const core::FieldSchema* field = schema.FindField(grouping.field);
  if (field == nullptr || field->is_dynamic) {
    return InvalidParameterError("groupingField " + grouping.field + " is not a field of collection " + schema.name);
  }
  const core::DataType t = field->data_type;
  if (t != core::DataType::kBool && !core::IsIntegerType(t) && t != core::DataType::kVarChar) {
    return InvalidParameterError("groupingField " + grouping.field + " is " + std::string(core::DataTypeName(t)) +
                                 ": grouping takes Bool, Int8, Int16, Int32, Int64 and VarChar fields");
  }
  int64_t group_size = 1;
  TESSERA_API_RETURN_IF_ERROR(r.Int("groupSize", &group_size));
  if (group_size < 1 || group_size > kMaxResultWindow) {
    return InvalidParameterError("groupSize must be in [1, " + std::to_string(kMaxResultWindow) + "], got " +
                                 std::to_string(group_size));
  }
  grouping.group_size = static_cast<size_t>(group_size);
  if ((limit + offset) * grouping.group_size > static_cast<size_t>(kMaxResultWindow)) {
    return InvalidParameterError("(limit + offset) * groupSize must be at most " + std::to_string(kMaxResultWindow) +
                                 ", got (" + std::to_string(limit) + " + " + std::to_string(offset) + ") * " +
                                 std::to_string(group_size));
  }
  TESSERA_API_RETURN_IF_ERROR(r.Bool("strictGroupSize", &grouping.strict));
  return grouping;
}

}  // namespace

ApiResult<SearchSpec> DecodeSearch(const json& body, const core::CollectionSchema& schema,
                                   PackedVectors* packed) {
  FieldReader r(body, std::string(kSearchReq));
  SearchSpec spec;
  const json* data = nullptr;
  TESSERA_API_RETURN_IF_ERROR(r.RequiredArray("data", &data));
  TESSERA_API_ASSIGN_OR_RETURN(spec.read, DecodeReadOptions(r));
  TESSERA_API_ASSIGN_OR_RETURN(spec.filter, DecodeFilter(r, schema, /*required=*/false));
  std::vector<std::string> output;
  TESSERA_API_RETURN_IF_ERROR(r.StringArray("outputFields", &output));
  TESSERA_API_ASSIGN_OR_RETURN(spec.output_fields, CheckOutputFields(output, schema, /*expand_star=*/true));
  TESSERA_API_RETURN_IF_ERROR(DecodeWindow(r, &spec.limit, &spec.offset));
  TESSERA_API_ASSIGN_OR_RETURN(spec.grouping, DecodeGrouping(r, schema, spec.limit, spec.offset));
  TESSERA_API_RETURN_IF_ERROR(RefuseFunctionScore(body));

  // The vector field.
  std::string anns;
  TESSERA_API_RETURN_IF_ERROR(r.String("annsField", &anns));
  const core::FieldSchema* field = nullptr;
  if (anns.empty()) {
    std::vector<const core::FieldSchema*> vectors;
    for (const core::FieldSchema& f : schema.fields) {
      if (core::IsVectorType(f.data_type)) vectors.push_back(&f);
    }
    if (vectors.size() > 1) {
      std::string names;
      for (const core::FieldSchema* f : vectors) names += f->name + ", ";
      return BadJsonError("search without annsField, but already found multiple vector fields: [" + names + ",,]");
    }
    if (vectors.empty()) return InvalidParameterError("collection " + schema.name + " has no vector field");
    field = vectors[0];
  } else {
    field = schema.FindField(anns);
    if (field == nullptr || !core::IsVectorType(field->data_type)) {
      return BadJsonError("annsField " + anns + " is not a vector field of collection " + schema.name);
    }
  }
  spec.field_id = field->id;
  spec.field_name = field->name;
  spec.dim = static_cast<size_t>(field->dim);

  // The query vectors.
  if (data->empty() || static_cast<int64_t>(data->size()) > kMaxResultWindow) {
    return InvalidParameterError("nq (number of search vector per search request) should be in range [1, " +
                                 std::to_string(kMaxResultWindow) + "], but got " + std::to_string(data->size()));
  }
  spec.num_queries = data->size();
  const bool use_packed = packed != nullptr && packed->rows == data->size();
  if (use_packed) {
    TESSERA_API_RETURN_IF_ERROR(CheckPackedVectors(*packed, *field));
    spec.vectors = std::move(packed->values);
  } else {
    spec.vectors.reserve(spec.num_queries * spec.dim);
  }
  for (size_t q = 0; !use_packed && q < data->size(); ++q) {
    const json& v = (*data)[q];
    const std::string where = "data[" + std::to_string(q) + "]";
    if (!v.is_array()) return BadJsonError(where + " must be an array of numbers, got " + std::string(JsonTypeName(v)));
    if (v.size() != spec.dim) {
      return InvalidParameterError(where + ": the vector has dimension " + std::to_string(v.size()) +
                                   " but field " + field->name + " has dimension " + std::to_string(spec.dim));
    }
    for (size_t k = 0; k < v.size(); ++k) {
      const json& x = v[k];
      if (!x.is_number()) {
        return BadJsonError(where + "[" + std::to_string(k) + "] must be a number, got " +
                            std::string(JsonTypeName(x)));
      }
      const float f = static_cast<float>(x.get<double>());
      if (!std::isfinite(f)) {
        return InvalidParameterError(where + "[" + std::to_string(k) + "] is not a finite float32");
      }
      spec.vectors.push_back(f);
    }
  }

  const json* search_params = nullptr;
  TESSERA_API_RETURN_IF_ERROR(r.Object("searchParams", &search_params));
  if (search_params != nullptr) {
    TESSERA_API_ASSIGN_OR_RETURN(spec.params, MergeSearchParams(*search_params));
  }
  if (!spec.grouping.field.empty() && spec.params.contains("radius")) {
    return InvalidParameterError("range search (radius) cannot be combined with groupingField");
  }
  return spec;
}

ApiResult<HybridSearchSpec> DecodeHybridSearch(const json& body, const core::CollectionSchema& schema) {
  constexpr std::string_view kHybridReq = "HybridSearchReq";
  FieldReader r(body, std::string(kHybridReq));
  HybridSearchSpec spec;
  const json* routes = nullptr;
  TESSERA_API_RETURN_IF_ERROR(r.RequiredArray("search", &routes));
  TESSERA_API_ASSIGN_OR_RETURN(spec.read, DecodeReadOptions(r));
  std::vector<std::string> output;
  TESSERA_API_RETURN_IF_ERROR(r.StringArray("outputFields", &output));
  TESSERA_API_ASSIGN_OR_RETURN(spec.output_fields, CheckOutputFields(output, schema, /*expand_star=*/true));
  TESSERA_API_RETURN_IF_ERROR(DecodeWindow(r, &spec.limit, &spec.offset));
  std::string grouping;
  TESSERA_API_RETURN_IF_ERROR(r.String("groupingField", &grouping));
  if (!grouping.empty()) return InvalidParameterError("groupingField is not supported in hybrid_search (only in search)");
  TESSERA_API_RETURN_IF_ERROR(RefuseFunctionScore(body));
  if (routes->empty() || routes->size() > 1024) {
    return InvalidParameterError("search must hold 1 to 1024 sub-searches, got " + std::to_string(routes->size()));
  }
  for (size_t i = 0; i < routes->size(); ++i) {
    const json& route = (*routes)[i];
    const std::string where = "search[" + std::to_string(i) + "]";
    if (!route.is_object()) {
      return BadJsonError("field " + where + " must be an object, got " + std::string(JsonTypeName(route)));
    }
    // A sub-search is a search whose `params` are its searchParams; what applies to the
    // whole request (outputs, partitions, consistency) comes from the top level.
    json sub = json::object();
    for (auto it = route.begin(); it != route.end(); ++it) {
      if (it.key() == "params") {
        sub["searchParams"] = it.value();
      } else if (it.key() != "searchParams" && it.key() != "outputFields" && it.key() != "partitionNames" &&
                 it.key() != "consistencyLevel" && it.key() != "groupingField" && it.key() != "metricType") {
        sub[it.key()] = it.value();
      }
    }
    int64_t limit = 0;
    TESSERA_API_RETURN_IF_ERROR(FieldReader(route, std::string(kHybridReq), where + ".").Int("limit", &limit));
    if (limit < 1) return InvalidParameterError(where + ".limit must be at least 1, got " + std::to_string(limit));
    auto decoded = DecodeSearch(sub, schema);
    if (!decoded.ok()) {
      return ApiStatus(decoded.status().code(), where + ": " + decoded.status().message());
    }
    if (!spec.routes.empty() && decoded->num_queries != spec.routes.front().num_queries) {
      return InvalidParameterError(where + " has " + std::to_string(decoded->num_queries) +
                                   " query vectors but search[0] has " +
                                   std::to_string(spec.routes.front().num_queries));
    }
    decoded->output_fields = spec.output_fields;
    decoded->read = spec.read;
    spec.routes.push_back(std::move(decoded).value());
  }

  const json* rerank = nullptr;
  TESSERA_API_RETURN_IF_ERROR(r.Object("rerank", &rerank));
  if (rerank == nullptr) return InvalidParameterError("rerank is required: {\"strategy\": \"rrf\" | \"weighted\"}");
  FieldReader rr(*rerank, "Rerank", "rerank.");
  std::string strategy;
  TESSERA_API_RETURN_IF_ERROR(rr.String("strategy", &strategy));
  for (char& c : strategy) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const json* params = nullptr;
  TESSERA_API_RETURN_IF_ERROR(rr.Object("params", &params));
  static const json kEmpty = json::object();
  FieldReader p(params != nullptr ? *params : kEmpty, "RerankParams", "rerank.params.");
  if (strategy == "rrf") {
    spec.rerank.strategy = RerankSpec::Strategy::kRrf;
    if (const json* k = p.Find("k")) {
      if (!k->is_number()) return p.WrongType("k", "a number", *k);
      spec.rerank.k = k->get<double>();
      if (!(spec.rerank.k > 0 && spec.rerank.k < 16384)) {
        return InvalidParameterError("rerank.params.k must be in (0, 16384), got " + ParamText(*k));
      }
    }
  } else if (strategy == "weighted") {
    spec.rerank.strategy = RerankSpec::Strategy::kWeighted;
    const json* weights = nullptr;
    TESSERA_API_RETURN_IF_ERROR(p.Array("weights", &weights));
    if (weights == nullptr || weights->size() != spec.routes.size()) {
      return InvalidParameterError("rerank.params.weights must hold one weight per sub-search (" +
                                   std::to_string(spec.routes.size()) + ")");
    }
    for (const json& w : *weights) {
      if (!w.is_number() || w.get<double>() < 0 || w.get<double>() > 1) {
        return InvalidParameterError("rerank.params.weights must be numbers in [0, 1], got " + ParamText(w));
      }
      spec.rerank.weights.push_back(w.get<double>());
    }
    TESSERA_API_RETURN_IF_ERROR(p.Bool("norm_score", &spec.rerank.norm_score));
  } else {
    return InvalidParameterError("rerank.strategy must be rrf or weighted, got '" + strategy + "'");
  }
  return spec;
}

ApiResult<DeleteSpec> DecodeDelete(const json& body, const core::CollectionSchema& schema) {
  FieldReader r(body, std::string(kDeleteReq));
  DeleteSpec spec;
  TESSERA_API_RETURN_IF_ERROR(r.String("partitionName", &spec.partition_name));
  if (!spec.partition_name.empty()) TESSERA_API_RETURN_IF_ERROR(ValidateName("partition", spec.partition_name));
  TESSERA_API_ASSIGN_OR_RETURN(spec.filter, DecodeFilter(r, schema, /*required=*/true));
  auto parsed = core::filter::ParseFilter(spec.filter, schema);
  if (!parsed.ok()) return InvalidParameterError(parsed.status().message());
  spec.pks = PrimaryKeysOfFilter(**parsed, schema);
  return spec;
}

}  // namespace tessera::proxy
