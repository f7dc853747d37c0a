#include "proxy/json_fields.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "proxy/fast_json.h"
#include "proxy/http_types.h"

namespace tessera::proxy {

using nlohmann::json;

namespace {

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Deepest nesting of arrays/objects in `text`, counted outside string literals. Stops
// early once `limit` is exceeded. Malformed text is left to the parser to report.
int NestingDepth(std::string_view text, int limit) {
  int depth = 0;
  int max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) max_depth = depth;
      if (max_depth > limit) return max_depth;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}


}  // namespace

ApiResult<json> ParseBody(std::string_view text, PackedVectors* vectors) {
  size_t first = 0;
  while (first < text.size() && IsJsonSpace(text[first])) ++first;
  if (first == text.size()) return EmptyBodyError();
  json parsed;
  if (std::optional<json> fast = ParseJsonFast(text, vectors, kMaxJsonDepth)) {
    parsed = std::move(*fast);
  } else {
    // Checked here, before nlohmann's recursive parser; the fast parser checked it itself.
    if (NestingDepth(text, kMaxJsonDepth) > kMaxJsonDepth) {
      return BadJsonError("the body is nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    }
    try {
      parsed = json::parse(text);
    } catch (const json::exception& e) {
      return BadJsonError(e.what());
    }
  }
  if (!parsed.is_object()) {
    return BadJsonError("the body must be a JSON object, got " + std::string(JsonTypeName(parsed)));
  }
  return parsed;
}

std::string_view JsonTypeName(const json& value) {
  switch (value.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "object";
    case json::value_t::array: return "array";
    case json::value_t::string: return "string";
    case json::value_t::boolean: return "bool";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "integer";
    case json::value_t::number_float: return "number";
    case json::value_t::binary: return "binary";
    case json::value_t::discarded: return "invalid";
  }
  return "invalid";
}

std::string ParamText(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<int64_t> ParseInt64(std::string_view text) {
  if (text.empty()) return std::nullopt;
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (*begin == '+') {
    ++begin;
    if (begin == end || *begin == '-') return std::nullopt;
  }
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(begin, end, v);
  if (ec != std::errc() || ptr != end || begin == end) return std::nullopt;
  return v;
}

json NumericParam(const json& v) {
  if (!v.is_string()) return v;
  const std::string& s = v.get_ref<const std::string&>();
  if (auto i = ParseInt64(s)) return *i;
  if (!s.empty() && s.size() < 64) {
    const bool numeric_start = std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '.';
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (numeric_start && end == s.c_str() + s.size() && std::isfinite(d)) return d;
  }
  return v;
}

std::optional<bool> ParseGoBool(std::string_view text) {
  if (text == "1" || text == "t" || text == "T" || text == "TRUE" || text == "true" || text == "True") return true;
  if (text == "0" || text == "f" || text == "F" || text == "FALSE" || text == "false" || text == "False") {
    return false;
  }
  return std::nullopt;
}

ApiResult<int64_t> IntParam(const json& value, std::string_view name) {
  if (value.is_number_integer()) {
    if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return InvalidParameterError(std::string(name) + " is out of range");
    }
    return value.get<int64_t>();
  }
  if (value.is_string()) {
    if (auto v = ParseInt64(value.get_ref<const std::string&>())) return *v;
  }
  if (value.is_number_float()) {
    const double d = value.get<double>();
    if (d >= -9.2e18 && d <= 9.2e18 && static_cast<double>(static_cast<int64_t>(d)) == d) {
      return static_cast<int64_t>(d);
    }
  }
  return InvalidParameterError(std::string(name) + " must be an integer, got " + ParamText(value));
}

ApiStatus ValidateName(std::string_view kind, std::string_view name) {
  auto fail = [&](std::string_view why) {
    ApiStatus error = InvalidParameterError("Invalid " + std::string(kind) + " name: " + std::string(name) + ". " +
                                            std::string(why));
    // Milvus has a code of its own for database names (ErrDatabaseInvalidName).
    return kind == "database" ? ApiStatus(code::kInvalidDatabaseName, error.message()) : error;
  };
  if (name.empty()) return fail("the " + std::string(kind) + " name should not be empty");
  if (name.size() > 255) return fail("the length of a " + std::string(kind) + " name must be at most 255 characters");
  const unsigned char first = static_cast<unsigned char>(name[0]);
  if (!(std::isalpha(first) || first == '_')) {
    return fail("the first character of a " + std::string(kind) + " name must be an underscore or letter");
  }
  for (char c : name) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) || u == '_')) {
      return fail(std::string(kind) + " name can only contain numbers, letters and underscores");
    }
  }
  return ApiStatus::OK();
}

std::map<std::string, std::string> PropertiesFromJson(const json& object) {
  std::map<std::string, std::string> out;
  if (!object.is_object()) return out;
  for (auto it = object.begin(); it != object.end(); ++it) out[it.key()] = ParamText(it.value());
  return out;
}

// ---- FieldReader ----------------------------------------------------------------------

FieldReader::FieldReader(const json& object, std::string owner, std::string prefix)
    : object_(object), owner_(std::move(owner)), prefix_(std::move(prefix)) {}

const json* FieldReader::Find(std::string_view key) const {
  if (!object_.is_object()) return nullptr;
  auto it = object_.find(key);
  if (it != object_.end()) return it->is_null() ? nullptr : &*it;
  for (auto i = object_.begin(); i != object_.end(); ++i) {
    if (EqualsIgnoringCase(i.key(), key)) return i->is_null() ? nullptr : &*i;
  }
  return nullptr;
}

ApiStatus FieldReader::Missing(std::string_view key) const {
  // The validator names the Go field: the JSON key with its first letter upper-cased.
  std::string field = Name(key);
  const size_t last = field.rfind('.');
  const size_t pos = last == std::string::npos ? 0 : last + 1;
  if (pos < field.size()) field[pos] = static_cast<char>(std::toupper(static_cast<unsigned char>(field[pos])));
  return MissingRequiredError(owner_, field);
}

ApiStatus FieldReader::WrongType(std::string_view key, std::string_view expected, const json& got) const {
  return BadJsonError("field " + Name(key) + " must be " + std::string(expected) + ", got " +
                      std::string(JsonTypeName(got)));
}

ApiStatus FieldReader::String(std::string_view key, std::string* out) const {
  const json* v = Find(key);
  if (v == nullptr) return ApiStatus::OK();
  if (!v->is_string()) return WrongType(key, "a string", *v);
  *out = v->get<std::string>();
  return ApiStatus::OK();
}

ApiStatus FieldReader::Bool(std::string_view key, bool* out) const {
  const json* v = Find(key);
  if (v == nullptr) return ApiStatus::OK();
  if (!v->is_boolean()) return WrongType(key, "a bool", *v);
  *out = v->get<bool>();
  return ApiStatus::OK();
}

ApiStatus FieldReader::Int(std::string_view key, int64_t* out) const {
  const json* v = Find(key);
  if (v == nullptr) return ApiStatus::OK();
  if (!v->is_number_integer()) return WrongType(key, "an integer", *v);
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    return BadJsonError("field " + Name(key) + " overflows int64");
  }
  *out = v->get<int64_t>();
  return ApiStatus::OK();
}

ApiStatus FieldReader::StringArray(std::string_view key, std::vector<std::string>* out) const {
  const json* v = Find(key);
  if (v == nullptr) return ApiStatus::OK();
  if (!v->is_array()) return WrongType(key, "an array of strings", *v);
  std::vector<std::string> values;
  values.reserve(v->size());
  for (size_t i = 0; i < v->size(); ++i) {
    const json& e = (*v)[i];
    if (!e.is_string()) {
      return BadJsonError("field " + Name(key) + "[" + std::to_string(i) + "] must be a string, got " +
                          std::string(JsonTypeName(e)));
    }
    values.push_back(e.get<std::string>());
  }
  *out = std::move(values);
  return ApiStatus::OK();
}

ApiStatus FieldReader::Object(std::string_view key, const json** out) const {
  const json* v = Find(key);
  if (v == nullptr) return ApiStatus::OK();
  if (!v->is_object()) return WrongType(key, "an object", *v);
  *out = v;
  return ApiStatus::OK();
}

ApiStatus FieldReader::Array(std::string_view key, const json** out) const {
  const json* v = Find(key);
  if (v == nullptr) return ApiStatus::OK();
  if (!v->is_array()) return WrongType(key, "an array", *v);
  *out = v;
  return ApiStatus::OK();
}

ApiStatus FieldReader::RequiredString(std::string_view key, std::string* out) const {
  const json* v = Find(key);
  if (v == nullptr) return Missing(key);
  if (!v->is_string()) return WrongType(key, "a string", *v);
  if (v->get_ref<const std::string&>().empty()) return Missing(key);
  *out = v->get<std::string>();
  return ApiStatus::OK();
}

ApiStatus FieldReader::RequiredArray(std::string_view key, const json** out) const {
  const json* v = Find(key);
  if (v == nullptr) return Missing(key);
  if (!v->is_array()) return WrongType(key, "an array", *v);
  *out = v;
  return ApiStatus::OK();
}

ApiStatus FieldReader::RequiredStringArray(std::string_view key, std::vector<std::string>* out) const {
  if (Find(key) == nullptr) return Missing(key);
  return StringArray(key, out);
}

}  // namespace tessera::proxy
