#pragma once

// Filter text helpers of the proxy: quoting values into the Milvus filter language,
// `{name}` templates (exprParams), and recognising filters that only name primary keys.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/filter/ast.h"
#include "core/schema.h"
#include "proxy/api_status.h"
#include "segment/deltalog.h"

namespace tessera::proxy {

/// `s` as a double-quoted filter string literal: `"` and `\` escaped, control bytes as
/// \xHH; other bytes (UTF-8) verbatim.
std::string QuoteFilterString(std::string_view s);

/// `<pk> in [v1, v2, ...]` with VarChar keys quoted.
std::string PkInFilter(std::string_view pk_name, const std::vector<segment::PrimaryKey>& pks);

/// Replaces every `{name}` outside string literals with the literal of params[name] (bool,
/// integer, float, string, or an array of those, nested arrays allowed). nullptr or an
/// empty object leaves `filter` unchanged. 1100 naming the placeholder when a value is
/// missing or of another type.
ApiResult<std::string> ApplyExprParams(std::string_view filter, const nlohmann::json* params);

/// When `expr` (parsed against `schema`) selects rows by primary key only — `pk in [..]`,
/// `pk == v` or `v == pk` — the keys, deduplicated in first-seen order; nullopt otherwise.
std::optional<std::vector<segment::PrimaryKey>> PrimaryKeysOfFilter(const core::filter::Expr& expr,
                                                                    const core::CollectionSchema& schema);

}  // namespace tessera::proxy
