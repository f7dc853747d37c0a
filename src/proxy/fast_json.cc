#include "proxy/fast_json.h"

#include <simdjson.h>

#include <memory>
#include <string>

namespace tessera::proxy {
namespace {

using nlohmann::json;
namespace dom = simdjson::dom;

// Bodies up to this size are parsed by a per-thread parser that keeps its buffers; larger
// ones (bulk inserts) by a parser freed afterwards, so no HTTP thread holds on to memory
// sized for the largest body it ever saw.
constexpr size_t kReusedParserMaxBytes = 1 << 20;

json ToJson(dom::element e) {
  switch (e.type()) {
    case dom::element_type::ARRAY: {
      json out = json::array();
      dom::array array = e.get_array().value_unsafe();
      auto& items = out.get_ref<json::array_t&>();
      items.reserve(array.size());
      for (dom::element item : array) items.push_back(ToJson(item));
      return out;
    }
    case dom::element_type::OBJECT: {
      json out = json::object();
      auto& fields = out.get_ref<json::object_t&>();
      dom::object object = e.get_object().value_unsafe();
      for (dom::key_value_pair field : object) {
        fields[std::string(field.key)] = ToJson(field.value);
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

}  // namespace

std::optional<json> ParseJsonFast(std::string_view text) {
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
  return ToJson(root);
}

}  // namespace tessera::proxy
