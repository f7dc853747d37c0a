#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace tessera::proxy {

/// Query vectors lifted out of a search body by ParseJsonFast (see there).
struct PackedVectors {
  size_t rows = 0;  // 0: nothing was lifted out
  size_t dim = 0;
  std::vector<float> values;  // rows * dim; each number as static_cast<float>(its double value)
};

/// Parses `text` with simdjson and builds the same nlohmann::json that json::parse would:
/// same value types (a non-negative integer is number_unsigned, a negative one
/// number_integer), the last of duplicate keys wins. nullopt whenever simdjson rejects the
/// text (malformed JSON, invalid UTF-8, integers beyond 64 bits, nesting past its limit):
/// the caller then parses with nlohmann, which either accepts it or explains what is wrong.
/// Also nullopt when arrays/objects nest deeper than `max_depth` (the root's counts as 1).
///
/// Why: request bodies are mostly vectors, thousands of numbers each, and nlohmann's own
/// parser dominated the proxy's cost of a search request.
///
/// With `vectors`: when the body is an object whose key "data" (the only key that reads as
/// "data" ASCII case-insensitively) holds a non-empty array of equally long, non-empty
/// arrays of numbers, those numbers go to *vectors and "data" becomes an array of as many
/// nulls. A search's query vectors are most of its body; building (and destroying) a JSON
/// value per number cost more than the rest of the request. Any other shape of "data" is
/// left in the JSON, so the decoder reports it as usual.
std::optional<nlohmann::json> ParseJsonFast(std::string_view text, PackedVectors* vectors = nullptr,
                                            int max_depth = 1024);

}  // namespace tessera::proxy
