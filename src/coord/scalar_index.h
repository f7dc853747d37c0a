// Index definitions on scalar fields (STL_SORT, TRIE, BITMAP, HYBRID, INVERTED, NGRAM,
// AUTOINDEX), accepted so that Milvus scripts which index their filter fields work.
//
// They are catalog entries only: Tessera evaluates filters on the columns themselves, so a
// scalar index has nothing to build, is never loaded, and reads as fully indexed. The checks
// follow Milvus's own (which types each index takes, and its parameters), so a definition
// Milvus refuses is refused here too, with a message that names the field and its type.

#ifndef TESSERA_COORD_SCALAR_INDEX_H_
#define TESSERA_COORD_SCALAR_INDEX_H_

#include "common/status.h"
#include "coord/catalog_types.h"
#include "core/schema.h"

namespace tessera::coord {

/// Checks and normalises `index` (index_type upper-cased and defaulted to AUTOINDEX,
/// metric_type cleared: scalar indexes have none) for the scalar field `field`.
/// InvalidArgument naming the problem: a vector index type, a type that cannot index the
/// field's type, an unknown or out-of-range parameter.
Status NormalizeScalarIndex(const core::FieldSchema& field, IndexInfo& index);

}  // namespace tessera::coord

#endif  // TESSERA_COORD_SCALAR_INDEX_H_
