#include "coord/properties.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string_view>

namespace tessera::coord {

namespace {

enum class Kind { kBool, kNonNegativeInt, kNonNegativeNumber };

struct KnownProperty {
  std::string_view key;
  Kind kind;
};

constexpr KnownProperty kCollectionProperties[] = {
    {"collection.ttl.seconds", Kind::kNonNegativeInt},
    {"mmap.enabled", Kind::kBool},
    {"lazyload.enabled", Kind::kBool},
    {"collection.autocompaction.enabled", Kind::kBool},
    {"partitionkey.isolation", Kind::kBool},
    {"collection.replica.number", Kind::kNonNegativeInt},
    {"collection.insertRate.max.mb", Kind::kNonNegativeNumber},
    {"collection.insertRate.min.mb", Kind::kNonNegativeNumber},
    {"collection.upsertRate.max.mb", Kind::kNonNegativeNumber},
    {"collection.upsertRate.min.mb", Kind::kNonNegativeNumber},
    {"collection.deleteRate.max.mb", Kind::kNonNegativeNumber},
    {"collection.deleteRate.min.mb", Kind::kNonNegativeNumber},
    {"collection.queryRate.max.qps", Kind::kNonNegativeNumber},
    {"collection.queryRate.min.qps", Kind::kNonNegativeNumber},
    {"collection.searchRate.max.vps", Kind::kNonNegativeNumber},
    {"collection.searchRate.min.vps", Kind::kNonNegativeNumber},
    {"collection.diskProtection.diskQuota.mb", Kind::kNonNegativeNumber},
};

constexpr KnownProperty kDatabaseProperties[] = {
    {"database.max.collections", Kind::kNonNegativeInt},
    {"database.replica.number", Kind::kNonNegativeInt},
    {"database.diskQuota.mb", Kind::kNonNegativeNumber},
    {"database.force.deny.writing", Kind::kBool},
    {"database.force.deny.reading", Kind::kBool},
};

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::optional<int64_t> ParseNonNegativeInt(std::string_view text) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0) return std::nullopt;
  return v;
}

bool IsNonNegativeNumber(std::string_view text) {
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  return ec == std::errc() && end == text.data() + text.size() && v >= 0;
}

template <size_t N>
Status Validate(const KnownProperty (&known)[N], const std::map<std::string, std::string>& properties) {
  for (const auto& [key, value] : properties) {
    const KnownProperty* p = nullptr;
    for (const KnownProperty& k : known) p = k.key == key ? &k : p;
    if (p == nullptr) continue;
    switch (p->kind) {
      case Kind::kBool:
        if (Lower(value) != "true" && Lower(value) != "false") {
          return Status::InvalidArgument("property " + key + " must be true or false, got \"" + value + "\"");
        }
        break;
      case Kind::kNonNegativeInt:
        if (!ParseNonNegativeInt(value)) {
          return Status::InvalidArgument("property " + key + " must be a non-negative integer, got \"" + value + "\"");
        }
        break;
      case Kind::kNonNegativeNumber:
        if (!IsNonNegativeNumber(value)) {
          return Status::InvalidArgument("property " + key + " must be a non-negative number, got \"" + value + "\"");
        }
        break;
    }
  }
  return Status::OK();
}

}  // namespace

Status ValidateCollectionProperties(const std::map<std::string, std::string>& properties) {
  return Validate(kCollectionProperties, properties);
}

Status ValidateDatabaseProperties(const std::map<std::string, std::string>& properties) {
  return Validate(kDatabaseProperties, properties);
}

std::optional<int64_t> MaxCollections(const std::map<std::string, std::string>& properties) {
  auto it = properties.find(kMaxCollectionsProperty);
  return it == properties.end() ? std::nullopt : ParseNonNegativeInt(it->second);
}

bool AutoCompactionEnabled(const std::map<std::string, std::string>& properties) {
  auto it = properties.find(kAutoCompactionProperty);
  return it == properties.end() || Lower(it->second) != "false";
}

}  // namespace tessera::coord
