#pragma once

// Response side: the envelope (spec §1.5) and value encodings (spec §3.3). Pure functions.
//
// Decisions:
//  - Int64 values (primary keys, Int64 fields, insert/upsert ids, count(*)) are JSON numbers,
//    or decimal strings when the client sent Accept-Type-Allow-Int64: false. Elements of
//    Array<Int64> fields stay numbers (Milvus converts only Int64 columns).
//  - JSON schema fields are returned as strings holding the JSON text (as Milvus does);
//    dynamic-field keys are flattened into the row as native JSON values.
//  - Array fields are plain JSON arrays ([1,2], ["a"]), not Milvus' protobuf-shaped objects
//    ({"Data":{"LongData":...}}, milvus-io/milvus#52048): the plain form is what clients
//    expect and what they send on insert.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "coord/catalog_types.h"
#include "coord/coordinator.h"
#include "core/schema.h"
#include "proxy/api_status.h"
#include "segment/deltalog.h"

namespace tessera::proxy {

/// The body of a successful call.
struct Reply {
  nlohmann::json data = nlohmann::json::object();
  // When set, the JSON text of `data`, written by the handler itself (a search's hits,
  // which would otherwise cost a JSON value per hit); `data` is then ignored.
  std::optional<std::string> data_text;
  bool with_cost = false;                // "cost": 0 (insert, upsert, query, get, search)
  std::optional<nlohmann::json> topks;   // search
  std::optional<std::string> message;    // describe / get_load_state carry "message" too
};

/// `value` as compact JSON text, invalid UTF-8 in strings replaced (never throws).
std::string JsonText(const nlohmann::json& value);

/// {"code":0,"data":...} plus the optional members, as JSON text (invalid UTF-8 replaced).
std::string EncodeSuccess(Reply reply);
/// {"code":N,"message":"..."}.
std::string EncodeError(const ApiStatus& status);

/// A primary key / Int64 value per the Int64 rule.
nlohmann::json EncodePk(const segment::PrimaryKey& pk, bool int64_as_number);
nlohmann::json EncodeInt64(int64_t v, bool int64_as_number);

/// Re-encodes a row from the query node (ColumnSet::GetRow encoding) for the response:
/// JSON fields -> JSON text strings, Int64 fields -> strings when !int64_as_number. Keys
/// that are not schema fields (dynamic keys, "distance") are kept as they are.
nlohmann::json EncodeRow(nlohmann::json row, const core::CollectionSchema& schema, bool int64_as_number);

/// "LoadStateNotLoad" | "LoadStateLoading" | "LoadStateLoaded".
std::string_view LoadStateName(coord::LoadState state);

/// The data of collections/describe (spec §7.1.2) from the catalog entry and its load state.
nlohmann::json DescribeCollectionData(const coord::CollectionInfo& info, coord::LoadState load_state);

/// [{"key":k,"value":v}, ...] of a string map.
nlohmann::json KeyValueList(const std::map<std::string, std::string>& properties);

}  // namespace tessera::proxy
