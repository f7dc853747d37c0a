#pragma once

// Reading request bodies: parsing (with the spec's 1801 errors) and typed field access
// (wrong JSON type -> 1801 naming the field, a required field missing or empty -> 1802).
// Pure functions; no role is involved.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "proxy/api_status.h"

namespace tessera::proxy {

struct PackedVectors;  // fast_json.h

/// Deepest array/object nesting a body may have. nlohmann's serializer recurses, so the
/// limit keeps a hostile body from exhausting the stack when a value is echoed or stored.
inline constexpr int kMaxJsonDepth = 128;

/// Parses a request body as JSON whatever its Content-Type: empty (or only whitespace) ->
/// 1801 with the spec's "should be nil" message; malformed, nested deeper than
/// kMaxJsonDepth, or not an object -> 1801 "can only accept json format request, error:
/// <what>".
/// With `vectors`, a search's query vectors may be lifted out of "data" (ParseJsonFast).
ApiResult<nlohmann::json> ParseBody(std::string_view text, PackedVectors* vectors = nullptr);

/// Typed access to one JSON object of a request. Keys match exactly first, then ASCII
/// case-insensitively (Go's encoding/json does; it makes "autoId" read as "autoID").
/// `owner` names the request struct in 1802 messages; `prefix` is prepended to field names
/// in messages ("schema.fields[2]."). Borrowed object: it must outlive the reader.
class FieldReader {
 public:
  FieldReader(const nlohmann::json& object, std::string owner, std::string prefix = "");

  /// The value under `key`, or nullptr when absent. JSON null counts as absent.
  const nlohmann::json* Find(std::string_view key) const;
  bool Has(std::string_view key) const { return Find(key) != nullptr; }
  /// Full name of `key` for messages: prefix + key.
  std::string Name(std::string_view key) const { return prefix_ + std::string(key); }

  /// Optional fields: `*out` is left unchanged when absent; the wrong JSON type is 1801.
  ApiStatus String(std::string_view key, std::string* out) const;
  ApiStatus Bool(std::string_view key, bool* out) const;
  /// Integer JSON numbers only (1.5 and "3" are 1801), within int64.
  ApiStatus Int(std::string_view key, int64_t* out) const;
  ApiStatus StringArray(std::string_view key, std::vector<std::string>* out) const;
  /// An object (`*out` points into the body) / an array.
  ApiStatus Object(std::string_view key, const nlohmann::json** out) const;
  ApiStatus Array(std::string_view key, const nlohmann::json** out) const;

  /// Required variants: absent, null or an empty string -> 1802 naming the field.
  ApiStatus RequiredString(std::string_view key, std::string* out) const;
  /// Absent or null -> 1802; an empty array passes (validator semantics for slices).
  ApiStatus RequiredArray(std::string_view key, const nlohmann::json** out) const;
  ApiStatus RequiredStringArray(std::string_view key, std::vector<std::string>* out) const;

  ApiStatus Missing(std::string_view key) const;
  ApiStatus WrongType(std::string_view key, std::string_view expected, const nlohmann::json& got) const;

 private:
  const nlohmann::json& object_;
  std::string owner_;
  std::string prefix_;
};

/// Name of a JSON value's type for messages ("string", "number", "object", ...).
std::string_view JsonTypeName(const nlohmann::json& value);

/// A value of a "params"-style map (numbers, bools or strings accepted) as its text: strings
/// verbatim, everything else as JSON text (spec §3.1 elementTypeParams).
std::string ParamText(const nlohmann::json& value);

/// "128" -> 128, "0.5" -> 0.5; other strings and every non-string value unchanged. Index and
/// search params arrive as numbers or numeric strings (Milvus forwards them as text).
nlohmann::json NumericParam(const nlohmann::json& value);

/// Parses a whole decimal integer ("128", "-3"); nullopt for anything else.
std::optional<int64_t> ParseInt64(std::string_view text);

/// strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False; nullopt otherwise.
std::optional<bool> ParseGoBool(std::string_view text);

/// A JSON number or numeric string as an integer (elementTypeParams, params.shardsNum).
/// 1100 naming `name` for anything else.
ApiResult<int64_t> IntParam(const nlohmann::json& value, std::string_view name);

/// Validates a database / collection / partition / alias / index name: 1..255 characters
/// of [A-Za-z0-9_], not starting with a digit. 1100 "Invalid <kind> name: <name>. <why>".
ApiStatus ValidateName(std::string_view kind, std::string_view name);

/// A "properties" object as string pairs (values via ParamText).
std::map<std::string, std::string> PropertiesFromJson(const nlohmann::json& object);

}  // namespace tessera::proxy
