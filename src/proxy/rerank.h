#pragma once

// Fusing the sub-searches of hybrid_search (spec §7.2.7). Pure function.

#include <cstddef>
#include <string>
#include <vector>

#include "proxy/decode_entities.h"
#include "querynode/query_node.h"

namespace tessera::proxy {

/// Normalised score in [0, 1], larger = better, of a distance under `metric`:
/// COSINE (1 + d) / 2, IP 0.5 + atan(d) / pi, anything else (L2) 1 - 2 atan(d) / pi.
double NormalizeScore(double distance, const std::string& metric);

/// Fuses per-route results into one list per query, best first, with `offset` hits skipped
/// and at most `limit` kept. `routes[r].hits[q]` are route r's hits for query q (best first);
/// `metrics[r]` is route r's metric. A key found by several routes appears once, with the
/// row of the first route that found it; its `distance` is the fused score (larger =
/// better): rrf sums 1 / (k + rank); weighted sums weight * score, where score is the
/// normalised one with norm_score, else the raw distance (negated for L2, so that larger is
/// better). Ties are broken by key.
std::vector<std::vector<querynode::Hit>> FuseHits(const std::vector<querynode::SearchResponse>& routes,
                                                  const std::vector<std::string>& metrics,
                                                  const RerankSpec& rerank, size_t limit, size_t offset);

}  // namespace tessera::proxy
