#include "common/config.h"

#include <algorithm>
#include <cctype>

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "common/check.h"

extern char** environ;  // POSIX; declared here because <unistd.h> only does so under _GNU_SOURCE

namespace tessera::config {
namespace {

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string LineOf(std::string_view source_name, const YAML::Mark& mark) {
  if (mark.is_null()) return std::string(source_name);
  return std::string(source_name) + " line " + std::to_string(mark.line + 1);
}

Status UnknownKey(const ConfigSchema& schema, std::string_view section, std::string_view key,
                  const std::string& where) {
  if (!schema.HasSection(section)) {
    return Status::InvalidArgument("unknown config section '" + std::string(section) + "' (" +
                                   where + "; known sections: " + JoinNames(schema.Sections()) +
                                   ")");
  }
  return Status::InvalidArgument("unknown config key '" + std::string(section) + "." +
                                 std::string(key) + "' (" + where + "; known keys in section '" +
                                 std::string(section) + "': " +
                                 JoinNames(schema.KeysOf(section)) + ")");
}

}  // namespace

Environment ProcessEnvironment() {
  Environment env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

Config::Config(const ConfigSchema& schema) : schema_(&schema) {
  for (const KeySpec& spec : schema.keys()) {
    auto parsed = ParseValue(spec, spec.default_value);
    // ConfigSchema::Make already parsed every default.
    TESSERA_CHECK(parsed.ok()) << "default of " << DottedName(spec) << ": " << parsed.status().ToString();
    values_.insert_or_assign(DottedName(spec), Entry{std::move(parsed).value(), "default"});
  }
}

Result<Config> Config::LoadString(std::string_view yaml_text, const Environment& env,
                                  const ConfigSchema& schema, std::string_view source_name) {
  Config config(schema);
  TESSERA_RETURN_IF_ERROR(config.ApplyYaml(yaml_text, source_name));
  TESSERA_RETURN_IF_ERROR(config.ApplyEnvironment(env));
  return config;
}

Result<Config> Config::LoadFile(const std::string& path, const Environment& env,
                                const ConfigSchema& schema) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Status::NotFound("cannot read config file '" + path + "'");
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) return Status::NotFound("cannot read config file '" + path + "'");
  return LoadString(text.str(), env, schema, path);
}

Status Config::ApplyYaml(std::string_view yaml_text, std::string_view source_name) {
  // yaml-cpp reports everything by exception; this function is the adapter boundary.
  try {
    const YAML::Node root = YAML::Load(std::string(yaml_text));
    if (!root.IsDefined() || root.IsNull()) return Status::OK();
    if (!root.IsMap()) {
      return Status::InvalidArgument("config " + LineOf(source_name, root.Mark()) +
                                     ": the top level must be a mapping of sections, e.g. "
                                     "'cache: {size: 10GiB}'");
    }
    std::map<std::string, std::string> seen;  // "section.key" -> where it was set
    for (const auto& section_it : root) {
      const YAML::Node& section_node = section_it.first;
      const std::string where = LineOf(source_name, section_node.Mark());
      if (!section_node.IsScalar()) {
        return Status::InvalidArgument("config " + where + ": section names must be plain strings");
      }
      const std::string section = section_node.Scalar();
      if (!schema_->HasSection(section)) return UnknownKey(*schema_, section, "", where);
      const YAML::Node& body = section_it.second;
      if (body.IsNull()) continue;
      if (!body.IsMap()) {
        return Status::InvalidArgument("config section '" + section + "' (" + where +
                                       ") must be a mapping of keys, e.g. '" + section + ": {" +
                                       schema_->KeysOf(section).front() + ": ...}'");
      }
      for (const auto& key_it : body) {
        const std::string key_where = LineOf(source_name, key_it.first.Mark());
        if (!key_it.first.IsScalar()) {
          return Status::InvalidArgument("config section '" + section + "' (" + key_where +
                                         "): key names must be plain strings");
        }
        const std::string dotted = section + "." + key_it.first.Scalar();
        const KeySpec* spec = schema_->Find(dotted);
        if (spec == nullptr) return UnknownKey(*schema_, section, key_it.first.Scalar(), key_where);
        if (auto [it, inserted] = seen.emplace(dotted, key_where); !inserted) {
          return Status::InvalidArgument("config key '" + dotted + "' is set twice (" + it->second +
                                         " and " + key_where + ")");
        }
        const YAML::Node& value = key_it.second;
        if (spec->type == ValueType::kStringList && value.IsSequence()) {
          std::vector<std::string> items;
          for (const auto& item : value) {
            if (!item.IsScalar()) {
              return Status::InvalidArgument("config key '" + dotted + "' (" +
                                             LineOf(source_name, item.Mark()) +
                                             "): list items must be plain strings");
            }
            items.push_back(item.Scalar());
          }
          values_.insert_or_assign(dotted, Entry{Value(std::move(items)), key_where});
          continue;
        }
        if (value.IsNull()) {
          if (spec->type == ValueType::kString || spec->type == ValueType::kStringList) {
            TESSERA_RETURN_IF_ERROR(Assign(*spec, "", key_where));
            continue;
          }
          return Status::InvalidArgument("config key '" + dotted + "' (" + key_where +
                                         "): has no value (expected a " +
                                         std::string(ValueTypeName(spec->type)) + ")");
        }
        if (!value.IsScalar()) {
          return Status::InvalidArgument(
              "config key '" + dotted + "' (" + key_where + "): expected a " +
              std::string(ValueTypeName(spec->type)) + ", got a " +
              (value.IsMap() ? "mapping" : "sequence"));
        }
        TESSERA_RETURN_IF_ERROR(Assign(*spec, value.Scalar(), key_where));
      }
    }
    return Status::OK();
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("config " + LineOf(source_name, e.mark) +
                                   (e.mark.is_null() ? "" : " column " + std::to_string(e.mark.column + 1)) +
                                   ": invalid YAML: " + e.msg);
  }
}

Status Config::ApplyEnvironment(const Environment& env) {
  // A TESSERA_<SECTION>_* variable must name a key of that section: a misspelt one would
  // otherwise be ignored without a word. (Other TESSERA_* variables belong to tools.)
  for (const auto& [name, value] : env) {
    if (!name.starts_with("TESSERA_")) continue;
    for (const std::string& section : schema_->Sections()) {
      std::string prefix = "TESSERA_" + section + "_";
      std::transform(prefix.begin(), prefix.end(), prefix.begin(), [](unsigned char c) { return std::toupper(c); });
      if (!name.starts_with(prefix)) continue;
      bool known = false;
      for (const KeySpec& spec : schema_->keys()) known = known || EnvVarName(spec) == name;
      if (!known) {
        return Status::InvalidArgument("environment variable " + name + " names no config key (known keys in section '" +
                                       section + "': " + JoinNames(schema_->KeysOf(section)) + ")");
      }
    }
  }
  for (const KeySpec& spec : schema_->keys()) {
    const std::string name = EnvVarName(spec);
    if (auto it = env.find(name); it != env.end()) {
      TESSERA_RETURN_IF_ERROR(Assign(spec, it->second, "environment variable " + name));
    }
  }
  return Status::OK();
}

Status Config::Set(std::string_view key, std::string_view value, std::string_view source) {
  const KeySpec* spec = schema_->Find(key);
  if (spec == nullptr) {
    const size_t dot = key.find('.');
    if (dot == std::string_view::npos) {
      return Status::InvalidArgument("config key '" + std::string(key) + "' (" +
                                     std::string(source) + ") must be written section.key");
    }
    return UnknownKey(*schema_, key.substr(0, dot), key.substr(dot + 1), std::string(source));
  }
  return Assign(*spec, value, std::string(source));
}

Status Config::Assign(const KeySpec& spec, std::string_view text, std::string source) {
  auto parsed = ParseValue(spec, text);
  if (!parsed.ok()) {
    return Status::InvalidArgument("config key '" + DottedName(spec) + "' (" + source +
                                   "): " + parsed.status().message());
  }
  values_.insert_or_assign(DottedName(spec), Entry{std::move(parsed).value(), std::move(source)});
  return Status::OK();
}

const Value& Config::Get(std::string_view key, ValueType type) const {
  const KeySpec* spec = schema_->Find(key);
  TESSERA_CHECK(spec != nullptr) << "unknown config key '" << key << "'";
  TESSERA_CHECK(spec->type == type) << "config key '" << key << "' is a "
                                    << ValueTypeName(spec->type) << ", read as a "
                                    << ValueTypeName(type);
  return values_.find(key)->second.value;
}

const std::string& Config::GetString(std::string_view key) const {
  return std::get<std::string>(Get(key, ValueType::kString));
}
int64_t Config::GetInt(std::string_view key) const {
  return std::get<int64_t>(Get(key, ValueType::kInt));
}
bool Config::GetBool(std::string_view key) const {
  return std::get<bool>(Get(key, ValueType::kBool));
}
double Config::GetDouble(std::string_view key) const {
  return std::get<double>(Get(key, ValueType::kDouble));
}
uint64_t Config::GetBytes(std::string_view key) const {
  return std::get<ByteSize>(Get(key, ValueType::kBytes)).bytes;
}
std::chrono::milliseconds Config::GetDuration(std::string_view key) const {
  return std::get<std::chrono::milliseconds>(Get(key, ValueType::kDuration));
}
const std::vector<std::string>& Config::GetStringList(std::string_view key) const {
  return std::get<std::vector<std::string>>(Get(key, ValueType::kStringList));
}

std::string Config::Source(std::string_view key) const {
  auto it = values_.find(key);
  return it == values_.end() ? std::string() : it->second.source;
}

std::string Config::Dump() const {
  std::string out;
  for (const KeySpec& spec : schema_->keys()) {
    const Entry& entry = values_.find(DottedName(spec))->second;
    std::string text = FormatValue(entry.value);
    if (spec.secret && !text.empty()) text = "****";
    out += DottedName(spec) + " = " + text + "  # " + entry.source + "\n";
  }
  return out;
}

}  // namespace tessera::config
