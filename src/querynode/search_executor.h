#pragma once

#include <chrono>

// PRIVATE header of src/querynode: search and query over a snapshot of a collection's
// segments. The caller holds the collection's shared lock for the whole call.

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/thread_pool.h"
#include "coord/catalog_types.h"
#include "core/filter/ast.h"
#include "querynode/query_node.h"
#include "querynode/segment.h"

namespace tessera::querynode {

/// A filter parsed once per request.
struct PreparedFilter {
  std::unique_ptr<core::filter::Expr> expr;  // null: every row matches
  /// Set when the filter is exactly `<pk> in [...]` or `<pk> == <value>`: the keys, looked
  /// up in each segment's primary-key index instead of evaluating every row.
  std::optional<std::vector<PrimaryKey>> pks;
  /// Rows with a timestamp below this have expired (the collection's TTL,
  /// CollectionInfo::ExpiredBefore); 0: none.
  uint64_t expired_before = 0;
};

/// Parses `text` against `schema`; empty text = no filter. InvalidArgument with the
/// parser's message (position and token) otherwise.
Result<PreparedFilter> PrepareFilter(std::string_view text, const core::CollectionSchema& schema);

/// What searches and queries read, taken under the collection's shared lock.
struct CollectionSnapshot {
  const coord::CollectionInfo* info = nullptr;
  std::vector<const Segment*> segments;  // sealed and growing
};

/// Vector search (see QueryNode::Search). InvalidArgument for a bad field, vector count,
/// limit/offset, output field or search parameter (the message names it); the partitions
/// rules are those of QueryNode. Per-segment work runs on `pool`, in pieces of at most 64
/// queries; a piece that would start after `deadline` ends the search with
/// DeadlineExceeded (the request's timeout bounds the work, not only the wait for data).
Result<SearchResponse> ExecuteSearch(const CollectionSnapshot& snapshot, const SearchRequest& request,
                                     const PreparedFilter& filter, ThreadPool& pool,
                                     std::chrono::steady_clock::time_point deadline =
                                         std::chrono::steady_clock::time_point::max());

/// Scalar query (see QueryNode::Query); a segment whose scan would start after `deadline`
/// ends it with DeadlineExceeded.
Result<QueryResponse> ExecuteQuery(const CollectionSnapshot& snapshot, const QueryRequest& request,
                                   const PreparedFilter& filter, ThreadPool& pool,
                                   std::chrono::steady_clock::time_point deadline =
                                       std::chrono::steady_clock::time_point::max());

}  // namespace tessera::querynode
