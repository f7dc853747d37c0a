#pragma once

#include <memory>
#include <string_view>

#include "common/result.h"
#include "core/filter/ast.h"
#include "core/schema.h"

namespace tessera::core::filter {

/// Parses a Milvus boolean filter expression (spec §6; supported subset in docs/filter.md)
/// and binds it to `schema`: identifiers resolve to fields (or to `$meta["name"]` when the
/// dynamic field is enabled), and operand types are checked.
///
/// Errors are InvalidArgument with the message
///   "filter parse error at position <pos> near '<token>': <what>"
/// (pos is the 0-based byte offset; "near end of input" at the end). Unknown fields and type
/// mismatches use the same format and name the field. The returned tree refers to fields by
/// index, so it is valid only with `schema` (or a ColumnSet built from it). Thread-safe.
Result<std::unique_ptr<Expr>> ParseFilter(std::string_view text, const CollectionSchema& schema);

}  // namespace tessera::core::filter
