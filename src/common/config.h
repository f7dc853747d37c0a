#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/config_schema.h"
#include "common/result.h"

namespace tessera::config {

/// Environment variables as name -> value. Injected so tests need not touch the process
/// environment.
using Environment = std::map<std::string, std::string>;

/// A snapshot of the process environment (environ).
Environment ProcessEnvironment();

/// Typed configuration values for every key of a schema (docs/configuration.md).
///
/// Precedence, lowest to highest: the schema default, the YAML file, the environment variable
/// TESSERA_<SECTION>_<KEY>, then Set() (command-line flags). Every value goes through the
/// same parser whatever its source. Environment variables that start with TESSERA_ but name
/// no key are ignored: the prefix is shared with other knobs (TESSERA_SIMD_LEVEL).
///
/// Errors are InvalidArgument naming the key and the source:
///   config key 'cache.size' (config.yaml line 4): cannot parse 'ten' as a size (expected ...)
/// A missing file is NotFound. yaml-cpp's exceptions never escape.
///
/// Thread-compatible value type: const methods may run concurrently; Set() needs exclusion.
/// Keeps a pointer to its schema, which must outlive it (the default one always does).
class Config {
 public:
  /// All defaults.
  explicit Config(const ConfigSchema& schema = ConfigSchema::Default());

  /// Parses YAML text (a mapping of sections to mappings of keys), then applies `env`.
  /// `source_name` names the text in messages ("<string>" or the file path). An empty
  /// document, or an empty section (`cache:`), leaves defaults in place.
  static Result<Config> LoadString(std::string_view yaml_text,
                                   const Environment& env = ProcessEnvironment(),
                                   const ConfigSchema& schema = ConfigSchema::Default(),
                                   std::string_view source_name = "<string>");
  /// Reads and parses the file at `path`; NotFound when it cannot be read.
  static Result<Config> LoadFile(const std::string& path,
                                 const Environment& env = ProcessEnvironment(),
                                 const ConfigSchema& schema = ConfigSchema::Default());

  /// Overrides "section.key" with `value`, validated as every other source. `source` names
  /// the origin in error messages and Source() (the CLI passes "flag --set").
  Status Set(std::string_view key, std::string_view value, std::string_view source = "flag");

  /// Typed getters. Asking for a key the schema lacks, or with the wrong type, is a
  /// programmer error and aborts (TESSERA_CHECK) naming the key.
  const std::string& GetString(std::string_view key) const;
  int64_t GetInt(std::string_view key) const;
  bool GetBool(std::string_view key) const;
  double GetDouble(std::string_view key) const;
  /// kBytes keys, in bytes.
  uint64_t GetBytes(std::string_view key) const;
  std::chrono::milliseconds GetDuration(std::string_view key) const;
  const std::vector<std::string>& GetStringList(std::string_view key) const;

  /// Where the current value came from: "default", "<file> line N", "environment variable
  /// TESSERA_...", or the Set() source. Empty for an unknown key.
  std::string Source(std::string_view key) const;

  /// Every key as "section.key = value  # source", secrets masked; for the start-up log.
  std::string Dump() const;

  const ConfigSchema& schema() const { return *schema_; }

 private:
  struct Entry {
    Value value;
    std::string source;
  };

  Status ApplyYaml(std::string_view yaml_text, std::string_view source_name);
  Status ApplyEnvironment(const Environment& env);
  Status Assign(const KeySpec& spec, std::string_view text, std::string source);
  const Value& Get(std::string_view key, ValueType type) const;

  const ConfigSchema* schema_;
  std::map<std::string, Entry, std::less<>> values_;  // "section.key" -> value
};

}  // namespace tessera::config
