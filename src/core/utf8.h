#pragma once

#include <cstddef>
#include <string_view>

namespace tessera::core {

/// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool IsValidUtf8(std::string_view text);

/// Length in bytes of the UTF-8 sequence starting at text[pos] (1 for a malformed lead
/// byte, so callers always make progress). Requires pos < text.size().
size_t Utf8SequenceLength(std::string_view text, size_t pos);

}  // namespace tessera::core
