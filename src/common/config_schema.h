#pragma once

// The declarative registry of configuration keys: what keys exist, their types, defaults and
// documentation. Config (config.h) loads values against a schema; RenderMarkdown turns the
// schema into docs/configuration.md.

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"

namespace tessera::config {

/// The type of a key's value; it decides the accepted spellings (see config_parse.h).
enum class ValueType {
  kString,
  kInt,       ///< int64, optionally range-checked by KeySpec::min/max
  kBool,      ///< true/false, yes/no, on/off, 1/0
  kDouble,    ///< finite float64
  kBytes,     ///< a byte size: "10GiB", "512MiB", "100KB", "4096"
  kDuration,  ///< "500ms", "10s", "5m", "1h30m"; read as std::chrono::milliseconds
  kStringList ///< YAML sequence, or a comma-separated string in env vars and flags
};

std::string_view ValueTypeName(ValueType type);

/// A byte count, distinct from kInt in the Value variant.
struct ByteSize {
  uint64_t bytes = 0;
  bool operator==(const ByteSize&) const = default;
};

/// A parsed value; the alternative matches the key's ValueType (in enum order).
using Value = std::variant<std::string, int64_t, bool, double, ByteSize, std::chrono::milliseconds,
                           std::vector<std::string>>;

/// One documented key, `section.key`. Plain aggregate so a table of them reads like a spec;
/// fill it with designated initializers. Strings must outlive the schema (use literals).
struct KeySpec {
  const char* section;
  const char* key;
  ValueType type;
  /// The default in the same textual form a user would write (parsed like user input, so a
  /// bad default is caught when the schema is built). For kStringList: comma-separated.
  const char* default_value;
  /// One line for the docs.
  const char* doc;
  /// kString only: when non-empty, a comma-separated list of the allowed values.
  const char* choices = "";
  /// kInt and kBytes (in bytes): inclusive range.
  int64_t min = std::numeric_limits<int64_t>::min();
  int64_t max = std::numeric_limits<int64_t>::max();
  /// kDouble only: inclusive range.
  double real_min = -std::numeric_limits<double>::infinity();
  double real_max = std::numeric_limits<double>::infinity();
  /// Hidden in dumps and logs (passwords, keys).
  bool secret = false;
};

/// An immutable, validated set of KeySpecs. Thread-safe after construction (read-only).
/// Config objects keep a pointer into their schema, so it must outlive them; the default
/// schema is a process-lifetime singleton.
class ConfigSchema {
 public:
  /// Validates the table: section and key names are [a-z0-9_]+, no duplicate `section.key`,
  /// no two keys mapping to the same environment variable, choices only on strings, every
  /// default parses and passes its own checks. InvalidArgument naming the key otherwise.
  static Result<ConfigSchema> Make(std::span<const KeySpec> keys);

  /// Tessera's keys (config_keys.cc). Aborts if that table is invalid (a programmer error,
  /// also covered by a unit test).
  static const ConfigSchema& Default();

  /// The spec of "section.key", or null.
  const KeySpec* Find(std::string_view dotted_key) const;
  bool HasSection(std::string_view section) const;

  /// All keys in table order.
  std::span<const KeySpec> keys() const { return keys_; }
  /// Section names, sorted.
  std::vector<std::string> Sections() const;
  /// Key names of one section, in table order.
  std::vector<std::string> KeysOf(std::string_view section) const;

 private:
  std::vector<KeySpec> keys_;
  std::map<std::string, size_t, std::less<>> by_name_;  // "section.key" -> index into keys_
};

/// Parses `text` as a value of `spec` and checks choices and range. InvalidArgument with a
/// message that does not name the key ("cannot parse 'ten' as a size (expected ...)").
Result<Value> ParseValue(const KeySpec& spec, std::string_view text);

/// The value in the user-facing textual form (sizes with IEC units, durations with units,
/// lists comma-separated).
std::string FormatValue(const Value& value);

/// "TESSERA_<SECTION>_<KEY>", upper case: object_store.secret_key -> TESSERA_OBJECT_STORE_SECRET_KEY.
std::string EnvVarName(const KeySpec& spec);

/// "section.key".
std::string DottedName(const KeySpec& spec);

/// docs/configuration.md: one table per section (key, type, default, env var, doc), in
/// table order, plus a short preamble on precedence and value syntax.
std::string RenderMarkdown(const ConfigSchema& schema);

}  // namespace tessera::config
