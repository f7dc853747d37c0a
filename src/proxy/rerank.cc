#include "proxy/rerank.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numbers>

namespace tessera::proxy {

double NormalizeScore(double distance, const std::string& metric) {
  if (metric == "COSINE") return (1 + distance) / 2;
  if (metric == "IP") return 0.5 + std::atan(distance) / std::numbers::pi;
  return 1 - 2 * std::atan(distance) / std::numbers::pi;
}

std::vector<std::vector<querynode::Hit>> FuseHits(const std::vector<querynode::SearchResponse>& routes,
                                                  const std::vector<std::string>& metrics,
                                                  const RerankSpec& rerank, size_t limit, size_t offset) {
  size_t num_queries = 0;
  for (const auto& r : routes) num_queries = std::max(num_queries, r.hits.size());
  std::vector<std::vector<querynode::Hit>> out(num_queries);
  for (size_t q = 0; q < num_queries; ++q) {
    struct Fused {
      double score = 0;
      const querynode::Hit* first = nullptr;
    };
    std::map<segment::PrimaryKey, Fused> fused;
    for (size_t r = 0; r < routes.size(); ++r) {
      if (q >= routes[r].hits.size()) continue;
      const std::string& metric = r < metrics.size() ? metrics[r] : std::string("L2");
      const std::vector<querynode::Hit>& hits = routes[r].hits[q];
      for (size_t rank = 0; rank < hits.size(); ++rank) {
        const querynode::Hit& hit = hits[rank];
        Fused& f = fused[hit.pk];
        if (f.first == nullptr) f.first = &hit;
        if (rerank.strategy == RerankSpec::Strategy::kRrf) {
          f.score += 1.0 / (rerank.k + static_cast<double>(rank + 1));
        } else {
          const double weight = r < rerank.weights.size() ? rerank.weights[r] : 0;
          double score = hit.distance;
          if (rerank.norm_score) {
            score = NormalizeScore(hit.distance, metric);
          } else if (metric != "COSINE" && metric != "IP") {
            score = -score;
          }
          f.score += weight * score;
        }
      }
    }
    std::vector<std::pair<segment::PrimaryKey, Fused>> ranked(fused.begin(), fused.end());
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto& a, const auto& b) { return a.second.score > b.second.score; });
    for (size_t i = offset; i < ranked.size() && out[q].size() < limit; ++i) {
      querynode::Hit hit = *ranked[i].second.first;
      hit.distance = static_cast<float>(ranked[i].second.score);
      out[q].push_back(std::move(hit));
    }
  }
  return out;
}

}  // namespace tessera::proxy
