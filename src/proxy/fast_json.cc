#include "proxy/fast_json.h"

#include <simdjson.h>

#include <memory>
#include <string>

#include "proxy/http_types.h"

namespace tessera::proxy {
namespace {

using nlohmann::json;
namespace dom = simdjson::dom;

// Bodies up to this size are parsed by a per-thread parser that keeps its buffers; larger
// ones (bulk inserts) by a parser freed afterwards, so no HTTP thread holds on to memory
// sized for the largest body it ever saw.
constexpr size_t kReusedParserMaxBytes = 1 << 20;

// Thrown (and caught in ParseJsonFast) when the text nests deeper than allowed.
struct TooDeep {};

// `depth`: how many arrays/objects enclose `e` (0 for the root).
json ToJson(dom::element e, int depth, int max_depth) {
  switch (e.type()) {
    case dom::element_type::ARRAY: {
      if (depth + 1 > max_depth) throw TooDeep();
      json out = json::array();
      dom::array array = e.get_array().value_unsafe();
      auto& items = out.get_ref<json::array_t&>();
      items.reserve(array.size());
      for (dom::element item : array) items.push_back(ToJson(item, depth + 1, max_depth));
      return out;
    }
    case dom::element_type::OBJECT: {
      if (depth + 1 > max_depth) throw TooDeep();
      json out = json::object();
      auto& fields = out.get_ref<json::object_t&>();
      dom::object object = e.get_object().value_unsafe();
      for (dom::key_value_pair field : object) {
        fields[std::string(field.key)] = ToJson(field.value, depth + 1, max_depth);
      }
      return out;
    }
    case dom::element_type::INT64: {
      const int64_t v = e.get_int64().value_unsafe();
      // nlohmann reads a number without '-' as unsigned.
      return v >= 0 ? json(static_cast<uint64_t>(v)) : json(v);
    }
    case dom::element_type::UINT64:
      return json(e.get_uint64().value_unsafe());
    case dom::element_type::DOUBLE:
      return json(e.get_double().value_unsafe());
    case dom::element_type::STRING:
      return json(std::string(e.get_string().value_unsafe()));
    case dom::element_type::BOOL:
      return json(e.get_bool().value_unsafe());
    case dom::element_type::NULL_VALUE:
      return json(nullptr);
  }
  return json();
}

// Appends the numbers of `rows` (an array of equally long arrays of numbers) to *out;
// false (with *out cleared) for any other shape.
bool PackRows(dom::element rows, PackedVectors* out) {
  dom::array outer;
  if (rows.get_array().get(outer) != simdjson::SUCCESS || outer.size() == 0) return false;
  for (dom::element row : outer) {
    dom::array numbers;
    if (row.get_array().get(numbers) != simdjson::SUCCESS || numbers.size() == 0 ||
        (out->dim != 0 && numbers.size() != out->dim)) {
      *out = PackedVectors();
      return false;
    }
    if (out->dim == 0) out->values.reserve(outer.size() * numbers.size());
    out->dim = numbers.size();
    for (dom::element x : numbers) {
      double value;
      switch (x.type()) {
        case dom::element_type::INT64: value = static_cast<double>(x.get_int64().value_unsafe()); break;
        case dom::element_type::UINT64: value = static_cast<double>(x.get_uint64().value_unsafe()); break;
        case dom::element_type::DOUBLE: value = x.get_double().value_unsafe(); break;
        default:
          *out = PackedVectors();
          return false;
      }
      out->values.push_back(static_cast<float>(value));
    }
    ++out->rows;
  }
  return true;
}

// The root object, with "data" lifted into *vectors when it has the shape (see header).
json RootWithPackedData(dom::object root, PackedVectors* vectors, int max_depth) {
  if (max_depth < 1) throw TooDeep();
  size_t data_keys = 0;
  for (dom::key_value_pair field : root) data_keys += EqualsIgnoringCase(field.key, "data") ? 1 : 0;
  json out = json::object();
  auto& fields = out.get_ref<json::object_t&>();
  for (dom::key_value_pair field : root) {
    if (data_keys == 1 && field.key == "data" && max_depth >= 3 && PackRows(field.value, vectors)) {
      fields["data"] = json::array();
      fields["data"].get_ref<json::array_t&>().resize(vectors->rows);
    } else {
      fields[std::string(field.key)] = ToJson(field.value, 1, max_depth);
    }
  }
  return out;
}

}  // namespace

std::optional<json> ParseJsonFast(std::string_view text, PackedVectors* vectors, int max_depth) {
  thread_local dom::parser reused;
  std::unique_ptr<dom::parser> own;
  dom::parser* parser = &reused;
  if (text.size() > kReusedParserMaxBytes) {
    own = std::make_unique<dom::parser>();
    parser = own.get();
  }
  // realloc_if_needed: copies the text into a padded buffer (simdjson reads past the end).
  dom::element root;
  if (parser->parse(text.data(), text.size(), /*realloc_if_needed=*/true).get(root) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  try {
    if (vectors != nullptr) {
      *vectors = PackedVectors();
      if (root.type() == dom::element_type::OBJECT) {
        return RootWithPackedData(root.get_object().value_unsafe(), vectors, max_depth);
      }
    }
    return ToJson(root, 0, max_depth);
  } catch (const TooDeep&) {
    if (vectors != nullptr) *vectors = PackedVectors();
    return std::nullopt;
  }
}

}  // namespace tessera::proxy
