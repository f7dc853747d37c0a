#pragma once

// Helpers shared by the Index implementations. Private to src/index.

#include <bit>
#include <functional>
#include <vector>

#include "common/aligned_buffer.h"
#include "core/topk.h"
#include "index/index.h"

namespace tessera::index {

/// Largest k a search may ask for (Milvus' topK limit).
inline constexpr size_t kMaxTopK = 16384;

/// Validates the parts of a request every index checks: queries present, k in [1, 16384],
/// a skip bitset sized to the index. InvalidArgument naming the problem otherwise.
Status CheckSearchRequest(const Index& index, const SearchRequest& request);

/// The request's queries copied into an aligned buffer, normalised for COSINE.
/// NaN or infinite components are InvalidArgument naming the query and component.
class PreparedQueries {
 public:
  const float* data() const { return data_.data(); }
  const float* row(size_t q) const { return data_.data() + q * dim_; }

 private:
  friend Result<PreparedQueries> PrepareQueries(const Index& index, const SearchRequest& request);
  AlignedBuffer<float> data_;
  size_t dim_ = 0;
};
Result<PreparedQueries> PrepareQueries(const Index& index, const SearchRequest& request);

/// A result with every slot empty (id -1, worst distance for the metric).
SearchResult EmptyResult(MetricType metric, size_t num_queries, size_t k);

/// Writes the sorted contents of `top` into row `query` of `result`, converting scores to
/// user-facing distances. Empties `top`.
void StoreTopK(MetricType metric, size_t query, core::TopK* top, SearchResult* result);

/// Calls fn(row) for every row in [0, rows) whose bit in `skip` is clear, in order; cost is
/// proportional to the passing rows plus rows/64.
template <typename Fn>
void ForEachPassingRow(const core::Bitset& skip, size_t rows, Fn&& fn) {
  for (size_t w = 0; w < skip.num_words(); ++w) {
    uint64_t pass = ~skip.words()[w];
    while (pass != 0) {
      const size_t row = w * 64 + static_cast<size_t>(std::countr_zero(pass));
      if (row >= rows) return;
      pass &= pass - 1;
      fn(row);
    }
  }
}

/// Calls fn(q) for q in [0, n) on request.pool when set, else inline.
void RunPerQuery(const SearchRequest& request, size_t n, const std::function<void(size_t)>& fn);
inline void RunPerQuery(const SearchRequest& request, const std::function<void(size_t)>& fn) {
  RunPerQuery(request, request.num_queries, fn);
}

}  // namespace tessera::index
