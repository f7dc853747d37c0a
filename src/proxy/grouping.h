// Grouping search (`groupingField`, spec §7.2 search): the hits of a query grouped by the
// value of a scalar field, `limit` groups of up to `groupSize` hits each.
//
// The proxy groups the query node's ordinary top-k list: it asks for k = (offset + limit) *
// groupSize hits with the group field among the output fields and, while some query has
// too few groups (or, with strictGroupSize, too few hits in a kept group) and more hits
// may exist, asks again with four times the k, up to 16384. So a group whose hits all lie
// past the 16384 nearest is not found; Milvus's own grouping has a similar search window.

#ifndef TESSERA_PROXY_GROUPING_H_
#define TESSERA_PROXY_GROUPING_H_

#include <string>
#include <vector>

#include "querynode/query_node.h"

namespace tessera::proxy {

struct GroupingSpec {
  std::string field;  // empty: no grouping
  size_t group_size = 1;
  bool strict = false;  // strictGroupSize: fill every returned group when the hits allow
};

struct GroupedHits {
  /// Groups [offset, offset + limit) in the order of their best hit, each group's hits
  /// best first and contiguous.
  std::vector<querynode::Hit> hits;
  /// False when a larger candidate list could change the answer: fewer than offset + limit
  /// groups, or (strict) a returned group not full, while `exhausted` was false.
  bool complete = true;
};

/// Groups `candidates` (one query's hits, best first, each `row` holding spec.field) and
/// cuts the window. `exhausted`: no hit exists beyond the candidates.
GroupedHits GroupHits(std::vector<querynode::Hit> candidates, const GroupingSpec& spec, size_t offset, size_t limit,
                      bool exhausted);

}  // namespace tessera::proxy

#endif  // TESSERA_PROXY_GROUPING_H_
