#include "common/config_parse.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace tessera::config {
namespace {

constexpr uint64_t kMaxValue = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

Status CannotParse(std::string_view text, std::string_view what, std::string_view expected) {
  return Status::InvalidArgument("cannot parse '" + std::string(text) + "' as " +
                                 std::string(what) + " (expected " + std::string(expected) + ")");
}

// a * b, or false on overflow past kMaxValue.
bool MulChecked(uint64_t a, uint64_t b, uint64_t* out) {
  if (a != 0 && b > kMaxValue / a) return false;
  *out = a * b;
  return true;
}

struct Unit {
  const char* name;
  uint64_t factor;
};

constexpr Unit kSizeUnits[] = {
    {"", 1},
    {"b", 1},
    {"kb", 1000ull},
    {"mb", 1000ull * 1000},
    {"gb", 1000ull * 1000 * 1000},
    {"tb", 1000ull * 1000 * 1000 * 1000},
    {"pb", 1000ull * 1000 * 1000 * 1000 * 1000},
    {"kib", 1ull << 10},
    {"mib", 1ull << 20},
    {"gib", 1ull << 30},
    {"tib", 1ull << 40},
    {"pib", 1ull << 50},
};

constexpr Unit kDurationUnits[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 3600 * 1000}, {"d", 24 * 3600 * 1000},
};

constexpr std::string_view kSizeExpected =
    "e.g. 10GiB, 512MiB, 100KB or a plain number of bytes";
constexpr std::string_view kDurationExpected = "e.g. 500ms, 10s, 5m, 1h30m";

}  // namespace

Result<int64_t> ParseInt(std::string_view text) {
  std::string_view s = text;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) {
    if (ec == std::errc::result_out_of_range) {
      return CannotParse(text, "an integer", "a value within the 64-bit signed range");
    }
    return CannotParse(text, "an integer", "a whole number such as 19530");
  }
  return value;
}

Result<double> ParseDouble(std::string_view text) {
  std::string_view s = text;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(value)) {
    return CannotParse(text, "a number", "a finite decimal number such as 0.9");
  }
  return value;
}

Result<bool> ParseBool(std::string_view text) {
  const std::string s = Lower(text);
  if (s == "true" || s == "yes" || s == "on" || s == "1") return true;
  if (s == "false" || s == "no" || s == "off" || s == "0") return false;
  return CannotParse(text, "a boolean", "true/false, yes/no, on/off or 1/0");
}

Result<uint64_t> ParseByteSize(std::string_view text) {
  const std::string_view s = Trim(text);
  size_t number_end = 0;
  while (number_end < s.size() &&
         (std::isdigit(static_cast<unsigned char>(s[number_end])) || s[number_end] == '.')) {
    ++number_end;
  }
  const std::string_view number = s.substr(0, number_end);
  const std::string unit_name = Lower(Trim(s.substr(number_end)));
  const Unit* unit = nullptr;
  for (const Unit& u : kSizeUnits) {
    if (unit_name == u.name) unit = &u;
  }
  if (number.empty() || unit == nullptr) return CannotParse(text, "a size", kSizeExpected);

  const size_t dot = number.find('.');
  if (dot == std::string_view::npos) {
    uint64_t mantissa = 0, bytes = 0;
    const auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), mantissa);
    if (ec == std::errc::result_out_of_range || (ec == std::errc() && mantissa > kMaxValue) ||
        (ec == std::errc() && !MulChecked(mantissa, unit->factor, &bytes))) {
      return CannotParse(text, "a size", "at most 8EiB");
    }
    if (ec != std::errc() || ptr != number.data() + number.size()) {
      return CannotParse(text, "a size", kSizeExpected);
    }
    return bytes;
  }
  // A fraction: exact for any realistic input since the factors are powers of 2 or 10 and
  // the mantissa has few digits; a non-whole result is refused rather than rounded.
  double mantissa = 0;
  const auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), mantissa);
  if (ec != std::errc() || ptr != number.data() + number.size() || number.find('.', dot + 1) != std::string_view::npos) {
    return CannotParse(text, "a size", kSizeExpected);
  }
  const long double bytes = static_cast<long double>(mantissa) * unit->factor;
  if (bytes > static_cast<long double>(kMaxValue)) return CannotParse(text, "a size", "at most 8EiB");
  if (std::floor(bytes) != bytes) {
    return CannotParse(text, "a size", "a whole number of bytes; use a smaller unit");
  }
  return static_cast<uint64_t>(bytes);
}

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  const std::string s = Lower(Trim(text));
  if (s == "0") return std::chrono::milliseconds(0);
  if (s.empty()) return CannotParse(text, "a duration", kDurationExpected);
  uint64_t total = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t digits_begin = pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
    const size_t unit_begin = pos;
    while (pos < s.size() && std::isalpha(static_cast<unsigned char>(s[pos]))) ++pos;
    if (digits_begin == unit_begin || unit_begin == pos) {
      return CannotParse(text, "a duration", kDurationExpected);
    }
    const std::string_view unit_name(s.data() + unit_begin, pos - unit_begin);
    const Unit* unit = nullptr;
    for (const Unit& u : kDurationUnits) {
      if (unit_name == u.name) unit = &u;
    }
    if (unit == nullptr) return CannotParse(text, "a duration", kDurationExpected);
    uint64_t count = 0, ms = 0;
    const auto [ptr, ec] = std::from_chars(s.data() + digits_begin, s.data() + unit_begin, count);
    if (ec != std::errc() || count > kMaxValue || !MulChecked(count, unit->factor, &ms) ||
        ms > kMaxValue - total) {
      return CannotParse(text, "a duration", "at most 2^63-1 milliseconds");
    }
    total += ms;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(total));
}

std::vector<std::string> ParseStringList(std::string_view text) {
  std::vector<std::string> out;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find(',', begin);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view item = Trim(text.substr(begin, end - begin));
    if (!item.empty()) out.emplace_back(item);
    begin = end + 1;
  }
  return out;
}

std::string FormatByteSize(uint64_t bytes) {
  static constexpr const char* kNames[] = {"PiB", "TiB", "GiB", "MiB", "KiB"};
  static constexpr int kShifts[] = {50, 40, 30, 20, 10};
  for (size_t i = 0; i < 5; ++i) {
    const uint64_t factor = uint64_t{1} << kShifts[i];
    if (bytes != 0 && bytes % factor == 0) return std::to_string(bytes / factor) + kNames[i];
  }
  return std::to_string(bytes) + "B";
}

std::string FormatDuration(std::chrono::milliseconds duration) {
  const int64_t ms = duration.count();
  if (ms == 0) return "0s";
  for (auto it = std::rbegin(kDurationUnits); it != std::rend(kDurationUnits); ++it) {
    const auto factor = static_cast<int64_t>(it->factor);
    if (ms % factor == 0) return std::to_string(ms / factor) + it->name;
  }
  return std::to_string(ms) + "ms";
}

}  // namespace tessera::config
