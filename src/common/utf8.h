#pragma once

#include <cstddef>
#include <string_view>

namespace tessera {

/// Length in bytes of the well-formed UTF-8 sequence starting at text[pos], or 0 when it
/// is malformed there (bad lead byte, truncated, overlong, surrogate, above U+10FFFF).
/// Requires pos < text.size().
size_t ValidUtf8SequenceLength(std::string_view text, size_t pos);

/// True when `text` is well-formed UTF-8.
bool IsValidUtf8(std::string_view text);

/// Like ValidUtf8SequenceLength, but never 0: a malformed byte counts as one, so callers
/// that step through arbitrary bytes always make progress.
inline size_t Utf8SequenceLength(std::string_view text, size_t pos) {
  const size_t len = ValidUtf8SequenceLength(text, pos);
  return len == 0 ? 1 : len;
}

}  // namespace tessera
