#include "coord/scalar_index.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace tessera::coord {

namespace {

using core::DataType;

// The type an index looks at: an Array's elements.
DataType IndexedType(const core::FieldSchema& field) {
  return field.data_type == DataType::kArray ? field.element_type : field.data_type;
}

bool IsInteger(DataType t) { return core::IsIntegerType(t); }

struct ScalarIndexRule {
  std::string_view name;
  bool (*accepts)(const core::FieldSchema&);
  std::string_view accepted;  // for messages
  std::initializer_list<std::string_view> params;
};

bool AcceptsSort(const core::FieldSchema& f) { return core::IsNumericType(f.data_type); }
bool AcceptsTrie(const core::FieldSchema& f) { return f.data_type == DataType::kVarChar; }
bool AcceptsBitmap(const core::FieldSchema& f) {
  // BITMAP suits few distinct values; Milvus refuses it on floats, JSON and the primary key.
  const DataType t = IndexedType(f);
  return !f.is_primary_key && f.data_type != DataType::kJSON &&
         (t == DataType::kBool || IsInteger(t) || t == DataType::kVarChar);
}
bool AcceptsInverted(const core::FieldSchema&) { return true; }
bool AcceptsNgram(const core::FieldSchema& f) {
  return f.data_type == DataType::kVarChar || f.data_type == DataType::kJSON;
}

constexpr std::string_view kJsonParams[] = {"json_path", "json_cast_type", "json_cast_function"};
constexpr std::string_view kJsonCastTypes[] = {"BOOL", "DOUBLE", "VARCHAR", "ARRAY_BOOL", "ARRAY_DOUBLE", "ARRAY_VARCHAR"};

const ScalarIndexRule kRules[] = {
    {"STL_SORT", AcceptsSort, "Int8, Int16, Int32, Int64, Float and Double fields", {}},
    {"TRIE", AcceptsTrie, "VarChar fields", {}},
    {"BITMAP", AcceptsBitmap,
     "Bool, integer and VarChar fields and Arrays of them, not the primary key",
     {"bitmap_cardinality_limit"}},
    {"HYBRID", AcceptsBitmap,
     "Bool, integer and VarChar fields and Arrays of them, not the primary key",
     {"bitmap_cardinality_limit"}},
    {"INVERTED", AcceptsInverted, "every scalar field", {"json_path", "json_cast_type", "json_cast_function"}},
    {"NGRAM", AcceptsNgram, "VarChar and JSON fields", {"min_gram", "max_gram", "json_path", "json_cast_type"}},
    {"AUTOINDEX", AcceptsInverted, "every scalar field", {"json_path", "json_cast_type", "json_cast_function"}},
};

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

// A positive integer parameter, given as a number or as numeric text (REST forwards both).
Result<int64_t> PositiveIntParam(const IndexInfo& index, const std::string& key) {
  const nlohmann::json& v = index.params.at(key);
  int64_t n = 0;
  if (v.is_number_integer()) {
    n = v.get<int64_t>();
  } else if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s.empty() || s.size() > 18 || !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); })) {
      return Status::InvalidArgument("index parameter " + key + " of " + index.index_type +
                                     " must be a positive integer, got \"" + s + "\"");
    }
    n = std::stoll(s);
  } else {
    return Status::InvalidArgument("index parameter " + key + " of " + index.index_type +
                                   " must be a positive integer, got " + v.dump());
  }
  if (n < 1) {
    return Status::InvalidArgument("index parameter " + key + " of " + index.index_type +
                                   " must be a positive integer, got " + std::to_string(n));
  }
  return n;
}

}  // namespace

Status NormalizeScalarIndex(const core::FieldSchema& field, IndexInfo& index) {
  index.index_type = index.index_type.empty() ? "AUTOINDEX" : Upper(index.index_type);
  const ScalarIndexRule* rule = nullptr;
  for (const ScalarIndexRule& r : kRules) {
    if (r.name == index.index_type) rule = &r;
  }
  const std::string field_desc = "field '" + field.name + "' (" + std::string(core::DataTypeName(field.data_type)) + ")";
  if (rule == nullptr) {
    return Status::InvalidArgument("index type " + index.index_type + " cannot index scalar " + field_desc +
                                   "; scalar index types: STL_SORT, TRIE, BITMAP, HYBRID, INVERTED, NGRAM, AUTOINDEX");
  }
  if (!rule->accepts(field)) {
    return Status::InvalidArgument(index.index_type + " cannot index " + field_desc + ": it takes " +
                                   std::string(rule->accepted));
  }
  if (index.params.is_null()) index.params = nlohmann::json::object();
  if (!index.params.is_object()) {
    return Status::InvalidArgument("index params of " + index.index_type + " on " + field_desc + " must be a JSON object");
  }
  index.params.erase("mmap.enabled");  // an index property: nothing is mapped here
  for (auto it = index.params.begin(); it != index.params.end(); ++it) {
    if (std::find(rule->params.begin(), rule->params.end(), it.key()) == rule->params.end()) {
      return Status::InvalidArgument("unknown index parameter " + it.key() + " for " + index.index_type + " on " +
                                     field_desc);
    }
    const bool json_param = std::find(std::begin(kJsonParams), std::end(kJsonParams), it.key()) != std::end(kJsonParams);
    if (json_param && field.data_type != DataType::kJSON) {
      return Status::InvalidArgument("index parameter " + it.key() + " applies to JSON fields only, not to " +
                                     field_desc);
    }
  }
  if (index.params.contains("bitmap_cardinality_limit")) {
    TESSERA_RETURN_IF_ERROR(PositiveIntParam(index, "bitmap_cardinality_limit").status());
  }
  if (index.index_type == "NGRAM") {
    if (!index.params.contains("min_gram") || !index.params.contains("max_gram")) {
      return Status::InvalidArgument("NGRAM on " + field_desc + " needs index parameters min_gram and max_gram");
    }
    TESSERA_ASSIGN_OR_RETURN(const int64_t min_gram, PositiveIntParam(index, "min_gram"));
    TESSERA_ASSIGN_OR_RETURN(const int64_t max_gram, PositiveIntParam(index, "max_gram"));
    if (min_gram > max_gram) {
      return Status::InvalidArgument("NGRAM min_gram (" + std::to_string(min_gram) + ") exceeds max_gram (" +
                                     std::to_string(max_gram) + ")");
    }
  }
  if (field.data_type == DataType::kJSON && index.index_type != "NGRAM" && !index.params.contains("json_cast_type")) {
    return Status::InvalidArgument(index.index_type + " on " + field_desc +
                                   " needs index parameter json_cast_type (and json_path for a key inside it)");
  }
  for (std::string_view key : kJsonParams) {
    if (index.params.contains(key) && !index.params.at(key).is_string()) {
      return Status::InvalidArgument("index parameter " + std::string(key) + " must be a string, got " +
                                     index.params.at(key).dump());
    }
  }
  if (index.params.contains("json_cast_type")) {
    const std::string cast = Upper(index.params.at("json_cast_type").get<std::string>());
    if (std::find(std::begin(kJsonCastTypes), std::end(kJsonCastTypes), cast) == std::end(kJsonCastTypes)) {
      return Status::InvalidArgument("index parameter json_cast_type must be one of BOOL, DOUBLE, VARCHAR, "
                                     "ARRAY_BOOL, ARRAY_DOUBLE, ARRAY_VARCHAR; got \"" + cast + "\"");
    }
    index.params["json_cast_type"] = cast;
  }
  index.metric_type.clear();
  return Status::OK();
}

}  // namespace tessera::coord
