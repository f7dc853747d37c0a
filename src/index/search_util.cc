#include "index/search_util.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "common/thread_pool.h"
#include "index/vector_store.h"

namespace tessera::index {

Status CheckSearchRequest(const Index& index, const SearchRequest& request) {
  if (request.num_queries == 0) return Status::InvalidArgument("search needs at least one query vector");
  if (request.queries == nullptr) return Status::InvalidArgument("search query vectors are missing");
  if (request.k == 0 || request.k > kMaxTopK) {
    return Status::InvalidArgument("search limit k = " + std::to_string(request.k) +
                                   " is out of range [1, " + std::to_string(kMaxTopK) + "]");
  }
  if (request.skip != nullptr && request.skip->size() != index.size()) {
    return Status::InvalidArgument("skip bitset has " + std::to_string(request.skip->size()) +
                                   " bits but the index has " + std::to_string(index.size()) +
                                   " rows");
  }
  return Status::OK();
}

Result<PreparedQueries> PrepareQueries(const Index& index, const SearchRequest& request) {
  const size_t dim = index.dim();
  PreparedQueries out;
  out.dim_ = dim;
  out.data_.Resize(request.num_queries * dim);
  std::memcpy(out.data_.data(), request.queries, request.num_queries * dim * sizeof(float));
  for (size_t i = 0; i < request.num_queries * dim; ++i) {
    if (!std::isfinite(out.data_[i])) {
      return Status::InvalidArgument("query vector " + std::to_string(i / dim) + " has a " +
                                     (std::isnan(out.data_[i]) ? "NaN" : "infinite") +
                                     " component at position " + std::to_string(i % dim));
    }
  }
  if (index.metric() == MetricType::kCosine) {
    for (size_t q = 0; q < request.num_queries; ++q) NormalizeInPlace(out.data_.data() + q * dim, dim);
  }
  return out;
}

SearchResult EmptyResult(MetricType metric, size_t num_queries, size_t k) {
  SearchResult result;
  result.num_queries = num_queries;
  result.k = k;
  result.ids.assign(num_queries * k, -1);
  const float inf = std::numeric_limits<float>::infinity();
  result.distances.assign(num_queries * k, metric == MetricType::kL2 ? inf : -inf);
  return result;
}

void StoreTopK(MetricType metric, size_t query, core::TopK* top, SearchResult* result) {
  const auto sorted = top->TakeSorted();
  for (size_t r = 0; r < sorted.size(); ++r) {
    result->ids[query * result->k + r] = sorted[r].id;
    result->distances[query * result->k + r] = ScoreToDistance(metric, sorted[r].score);
  }
}

void RunPerQuery(const SearchRequest& request, size_t n, const std::function<void(size_t)>& fn) {
  if (request.pool != nullptr && n > 1) {
    request.pool->ParallelFor(n, fn);
  } else {
    for (size_t q = 0; q < n; ++q) fn(q);
  }
}

}  // namespace tessera::index
