#pragma once

// Status (canonical code + message) -> Milvus error code, by what the call was about.
// The whole mapping is the table in error_map.cc.

#include "common/status.h"
#include "proxy/api_status.h"

namespace tessera::proxy {

/// What the failing call was doing; decides the code of errors whose message does not say.
enum class ErrorContext {
  kGeneral,     // catalog calls in general
  kCollection,  // resolving a collection by name (NotFound -> 100)
  kPartition,   // resolving a partition (NotFound -> 200)
  kIndex,       // resolving an index (NotFound -> 700)
  kDatabase,    // resolving a database (NotFound -> 800)
  kAlias,       // resolving an alias (NotFound -> 1600)
  kInsertData,  // converting insert / upsert rows (InvalidArgument -> 1804)
  kPrimaryKey,  // primary keys of get / delete (InvalidArgument -> 1806)
  kRead,        // search / query on the query node (FailedPrecondition "not loaded" -> 101)
};

/// The Milvus code for `status` (not OK) in `context`, with the status message kept.
/// Rules, first match wins: the message names the object ("collection not found",
/// "partition not loaded", "index not found", ...); then the context's code for
/// NotFound / InvalidArgument; then a code per canonical code (InvalidArgument 1100,
/// Unimplemented 10, Unavailable 2, DeadlineExceeded 10001, ...); else 65535.
ApiStatus ToApiStatus(const Status& status, ErrorContext context = ErrorContext::kGeneral);

}  // namespace tessera::proxy
