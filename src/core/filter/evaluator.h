#pragma once

#include "common/result.h"
#include "core/bitset.h"
#include "core/column_set.h"
#include "core/filter/ast.h"

namespace tessera::core::filter {

/// Evaluates a parsed filter over every row of `columns` and returns the matching rows
/// (a Bitset of size columns.num_rows()). Deleted rows are evaluated like any other; the
/// caller combines the result with columns.deleted().
///
/// Null semantics (three-valued, collapsed at the end): a comparison, `in`, `like` or
/// contains on a null value or a missing JSON key is unknown; `not` keeps unknown unknown;
/// `and`/`or` follow Kleene logic; unknown rows do not match. `is null` / `is not null`
/// are never unknown.
///
/// Comparisons of a plain numeric, Bool or VarChar column with a constant (optionally after
/// one arithmetic operation with a constant) run as tight loops over the contiguous column
/// that write 64-bit words; JSON, dynamic-field and other expressions are evaluated row by
/// row. InvalidArgument when `expr` was parsed against a different schema. Thread-safe for
/// concurrent calls on an unchanging ColumnSet.
Result<Bitset> EvaluateFilter(const Expr& expr, const ColumnSet& columns);

}  // namespace tessera::core::filter
