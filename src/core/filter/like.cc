#include "core/filter/like.h"

#include "common/utf8.h"

namespace tessera::core::filter {

LikePattern::LikePattern(std::string_view pattern) {
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size() &&
        (pattern[i + 1] == '%' || pattern[i + 1] == '_' || pattern[i + 1] == '\\')) {
      elements_.push_back({'l', pattern[++i]});
    } else if (c == '%') {
      if (elements_.empty() || elements_.back().kind != '%') elements_.push_back({'%', 0});
    } else if (c == '_') {
      elements_.push_back({'_', 0});
    } else {
      elements_.push_back({'l', c});
    }
  }
  // Classify: literal core with optional leading/trailing '%' and nothing else.
  size_t begin = 0;
  size_t end = elements_.size();
  const bool lead = begin < end && elements_[begin].kind == '%';
  if (lead) ++begin;
  const bool trail = begin < end && elements_[end - 1].kind == '%';
  if (trail) --end;
  for (size_t i = begin; i < end; ++i) {
    if (elements_[i].kind != 'l') return;  // stays kGeneral
    literal_.push_back(elements_[i].byte);
  }
  mode_ = lead ? (trail ? Mode::kInfix : Mode::kSuffix) : (trail ? Mode::kPrefix : Mode::kExact);
  if (lead && !trail && begin == end) mode_ = Mode::kInfix;  // "%" alone matches all
}

bool LikePattern::Match(std::string_view text) const {
  switch (mode_) {
    case Mode::kExact: return text == literal_;
    case Mode::kPrefix: return text.starts_with(literal_);
    case Mode::kSuffix: return text.ends_with(literal_);
    case Mode::kInfix: return text.find(literal_) != std::string_view::npos;
    case Mode::kGeneral: return MatchGeneral(text);
  }
  return false;
}

bool LikePattern::MatchGeneral(std::string_view text) const {
  size_t t = 0;
  size_t p = 0;
  size_t star_p = std::string_view::npos;  // element index after the last '%'
  size_t star_t = 0;                       // text position that '%' currently swallows up to
  while (t < text.size()) {
    if (p < elements_.size() && elements_[p].kind == '%') {
      star_p = ++p;
      star_t = t;
      continue;
    }
    if (p < elements_.size() && elements_[p].kind == '_') {
      t += Utf8SequenceLength(text, t);
      ++p;
      continue;
    }
    if (p < elements_.size() && elements_[p].byte == text[t]) {
      ++t;
      ++p;
      continue;
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    star_t += Utf8SequenceLength(text, star_t);
    t = star_t;
  }
  while (p < elements_.size() && elements_[p].kind == '%') ++p;
  return p == elements_.size();
}

}  // namespace tessera::core::filter
