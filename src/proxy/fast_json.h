#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string_view>

namespace tessera::proxy {

/// Parses `text` with simdjson and builds the same nlohmann::json that json::parse would:
/// same value types (a non-negative integer is number_unsigned, a negative one
/// number_integer), the last of duplicate keys wins. nullopt whenever simdjson rejects the
/// text (malformed JSON, invalid UTF-8, integers beyond 64 bits, nesting past its limit):
/// the caller then parses with nlohmann, which either accepts it or explains what is wrong.
///
/// Why: request bodies are mostly vectors, thousands of numbers each, and nlohmann's own
/// parser dominated the proxy's cost of a search request.
std::optional<nlohmann::json> ParseJsonFast(std::string_view text);

}  // namespace tessera::proxy
