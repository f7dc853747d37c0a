#include "common/config_schema.h"

#include <algorithm>
#include <cctype>

#include "common/check.h"
#include "common/config_parse.h"

namespace tessera::config {
namespace {

bool IsIdentifier(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string Upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

// Markdown table cells must not contain '|' or newlines.
std::string Cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string_view ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kString: return "string";
    case ValueType::kInt: return "int";
    case ValueType::kBool: return "bool";
    case ValueType::kDouble: return "double";
    case ValueType::kBytes: return "size";
    case ValueType::kDuration: return "duration";
    case ValueType::kStringList: return "list of strings";
  }
  return "unknown";
}

Result<Value> ParseValue(const KeySpec& spec, std::string_view text) {
  switch (spec.type) {
    case ValueType::kString: {
      if (spec.choices[0] != '\0') {
        const auto allowed = ParseStringList(spec.choices);
        if (std::find(allowed.begin(), allowed.end(), text) == allowed.end()) {
          std::string message = "'";
          message.append(text).append("' is not one of: ").append(spec.choices);
          return Status::InvalidArgument(message);
        }
      }
      return Value(std::string(text));
    }
    case ValueType::kInt: {
      TESSERA_ASSIGN_OR_RETURN(int64_t v, ParseInt(text));
      if (v < spec.min || v > spec.max) {
        return Status::InvalidArgument(std::to_string(v) + " is out of range [" +
                                       std::to_string(spec.min) + ", " + std::to_string(spec.max) +
                                       "]");
      }
      return Value(v);
    }
    case ValueType::kBool: {
      TESSERA_ASSIGN_OR_RETURN(bool v, ParseBool(text));
      return Value(v);
    }
    case ValueType::kDouble: {
      TESSERA_ASSIGN_OR_RETURN(double v, ParseDouble(text));
      if (!(v >= spec.real_min && v <= spec.real_max)) {
        return Status::InvalidArgument(std::string(text) + " is out of range [" + FormatValue(spec.real_min) + ", " +
                                       FormatValue(spec.real_max) + "]");
      }
      return Value(v);
    }
    case ValueType::kBytes: {
      TESSERA_ASSIGN_OR_RETURN(uint64_t v, ParseByteSize(text));
      if (spec.min > 0 && v < static_cast<uint64_t>(spec.min)) {
        return Status::InvalidArgument(std::string(text) + " is below the smallest allowed size, " +
                                       FormatByteSize(static_cast<uint64_t>(spec.min)));
      }
      return Value(ByteSize{v});
    }
    case ValueType::kDuration: {
      TESSERA_ASSIGN_OR_RETURN(std::chrono::milliseconds v, ParseDuration(text));
      return Value(v);
    }
    case ValueType::kStringList: return Value(ParseStringList(text));
  }
  return Status::Internal("unknown value type");
}

std::string FormatValue(const Value& value) {
  struct Visitor {
    std::string operator()(const std::string& v) const { return v; }
    std::string operator()(int64_t v) const { return std::to_string(v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(double v) const {
      std::string s = std::to_string(v);
      while (s.size() > 1 && s.back() == '0' && s[s.size() - 2] != '.') s.pop_back();
      return s;
    }
    std::string operator()(ByteSize v) const { return FormatByteSize(v.bytes); }
    std::string operator()(std::chrono::milliseconds v) const { return FormatDuration(v); }
    std::string operator()(const std::vector<std::string>& v) const {
      std::string out;
      for (const auto& item : v) out += (out.empty() ? "" : ",") + item;
      return out;
    }
  };
  return std::visit(Visitor{}, value);
}

std::string EnvVarName(const KeySpec& spec) {
  return "TESSERA_" + Upper(spec.section) + "_" + Upper(spec.key);
}

std::string DottedName(const KeySpec& spec) {
  return std::string(spec.section) + "." + spec.key;
}

Result<ConfigSchema> ConfigSchema::Make(std::span<const KeySpec> keys) {
  ConfigSchema schema;
  std::map<std::string, std::string> env_names;
  for (const KeySpec& spec : keys) {
    const std::string name = DottedName(spec);
    auto bad = [&](const std::string& why) {
      return Status::InvalidArgument("config schema key '" + name + "': " + why);
    };
    if (!IsIdentifier(spec.section) || !IsIdentifier(spec.key)) {
      return bad("section and key names must be lower-case [a-z0-9_]+");
    }
    if (schema.by_name_.count(name) != 0) return bad("registered twice");
    const std::string env = EnvVarName(spec);
    if (auto it = env_names.find(env); it != env_names.end()) {
      return bad("environment variable " + env + " is also used by '" + it->second + "'");
    }
    if (spec.choices[0] != '\0' && spec.type != ValueType::kString) {
      return bad("choices are only supported on string keys");
    }
    if (spec.doc == nullptr || spec.doc[0] == '\0') return bad("has no doc line");
    auto parsed = ParseValue(spec, spec.default_value);
    if (!parsed.ok()) return bad("default: " + parsed.status().message());
    env_names.emplace(env, name);
    schema.by_name_.emplace(name, schema.keys_.size());
    schema.keys_.push_back(spec);
  }
  return schema;
}

const KeySpec* ConfigSchema::Find(std::string_view dotted_key) const {
  auto it = by_name_.find(dotted_key);
  return it == by_name_.end() ? nullptr : &keys_[it->second];
}

bool ConfigSchema::HasSection(std::string_view section) const {
  return std::any_of(keys_.begin(), keys_.end(),
                     [&](const KeySpec& k) { return section == k.section; });
}

std::vector<std::string> ConfigSchema::Sections() const {
  std::vector<std::string> out;
  for (const KeySpec& k : keys_) {
    if (std::find(out.begin(), out.end(), k.section) == out.end()) out.emplace_back(k.section);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> ConfigSchema::KeysOf(std::string_view section) const {
  std::vector<std::string> out;
  for (const KeySpec& k : keys_) {
    if (section == k.section) out.emplace_back(k.key);
  }
  return out;
}

std::string RenderMarkdown(const ConfigSchema& schema) {
  std::string out =
      "# Configuration\n"
      "\n"
      "<!-- Generated from src/common/config_keys.cc by config::RenderMarkdown(); do not edit.\n"
      "     Regenerate: TESSERA_UPDATE_GOLDEN=1 build/src/common/common_test "
      "--gtest_filter='*MarkdownMatchesDocs*' -->\n"
      "\n"
      "Tessera reads one YAML file of sections (`cache: {path: ./data/cache, size: 10GiB}`).\n"
      "Every key has a default, so an empty file is valid. Precedence, lowest to highest:\n"
      "default, YAML file, environment variable `TESSERA_<SECTION>_<KEY>`, command-line\n"
      "flag. An unknown section or key, or a value that does not parse,\n"
      "stops start-up with a message naming the key and where the value came from; so does\n"
      "an environment variable `TESSERA_<SECTION>_...` of a known section that names no key\n"
      "(other `TESSERA_*` variables belong to tools and tests).\n"
      "\n"
      "Value syntax:\n"
      "\n"
      "- **size**: a number with an optional unit: `B`, `KB`/`MB`/`GB`/`TB` (powers of 1000),\n"
      "  `KiB`/`MiB`/`GiB`/`TiB` (powers of 1024); `10GiB`, `512MiB`, `100KB`, `4096`.\n"
      "- **duration**: `<n><unit>` terms with units `ms`, `s`, `m`, `h`, `d`: `500ms`, `10s`,\n"
      "  `1h30m`. A bare number other than `0` is rejected.\n"
      "- **bool**: `true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0`.\n"
      "- **list of strings**: a YAML sequence in the file; comma-separated in environment\n"
      "  variables and flags.\n";
  for (const std::string& section : schema.Sections()) {
    out += "\n## `" + section + "`\n\n";
    out += "| Key | Type | Default | Environment variable | Description |\n";
    out += "|---|---|---|---|---|\n";
    for (const KeySpec& k : schema.keys()) {
      if (section != k.section) continue;
      std::string type(ValueTypeName(k.type));
      if (k.choices[0] != '\0') type += " (one of: " + std::string(k.choices) + ")";
      if (k.type == ValueType::kInt && (k.min != std::numeric_limits<int64_t>::min() ||
                                        k.max != std::numeric_limits<int64_t>::max())) {
        type += " in [" + std::to_string(k.min) + ", " + std::to_string(k.max) + "]";
      }
      if (k.type == ValueType::kBytes && k.min > 0) type += " of at least " + FormatByteSize(static_cast<uint64_t>(k.min));
      if (k.type == ValueType::kDouble && (k.real_min > -std::numeric_limits<double>::infinity() ||
                                           k.real_max < std::numeric_limits<double>::infinity())) {
        type += " in [" + FormatValue(k.real_min) + ", " + FormatValue(k.real_max) + "]";
      }
      std::string def = "(empty)";
      if (k.default_value[0] != '\0') def = std::string("`").append(k.default_value).append("`");
      std::string doc = k.doc;
      if (k.secret) doc += " (secret: never logged)";
      out += "| `" + std::string(k.key) + "` | " + Cell(type) + " | " + Cell(def) + " | `" +
             EnvVarName(k) + "` | " + Cell(doc) + " |\n";
    }
  }
  return out;
}

}  // namespace tessera::config
