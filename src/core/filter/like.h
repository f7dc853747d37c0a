#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tessera::core::filter {

/// A compiled LIKE pattern: `%` matches any sequence, `_` exactly one UTF-8 character,
/// `\%`, `\_` and `\\` match the character itself. Patterns that are a literal with `%` only
/// at the ends (exact, prefix "ab%", suffix "%ab", infix "%ab%") take a fast path.
/// Immutable and thread-safe after construction.
class LikePattern {
 public:
  explicit LikePattern(std::string_view pattern);
  bool Match(std::string_view text) const;

 private:
  enum class Mode { kExact, kPrefix, kSuffix, kInfix, kGeneral };
  // Wildcard matcher over tokens_; greedy with backtracking to the last '%'.
  bool MatchGeneral(std::string_view text) const;

  Mode mode_ = Mode::kGeneral;
  std::string literal_;  // for the fast paths
  // General form: one entry per pattern element: '%' / '_' markers or literal bytes.
  struct Element {
    char kind;  // 'l' literal byte, '%' any sequence, '_' one character
    char byte;
  };
  std::vector<Element> elements_;
};

}  // namespace tessera::core::filter
