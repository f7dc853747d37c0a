#include "index/flat/flat_index.h"

#include <cblas.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "common/thread_pool.h"
#include "core/simd/distance.h"
#include "core/topk.h"
#include "index/blob.h"
#include "index/search_util.h"
#include "index/vector_store.h"

namespace tessera::index {
namespace {

// Rows per block of the scan and of the sgemm path: the distances of one block stay in L2.
constexpr size_t kRowBlock = 4096;
constexpr size_t kQueryBlock = 64;

class FlatIndex final : public Index {
 public:
  FlatIndex(MetricType metric, size_t dim, nlohmann::json params)
      : metric_(metric), params_(std::move(params)), vectors_(dim, metric) {}

  IndexType type() const override { return IndexType::kFlat; }
  MetricType metric() const override { return metric_; }
  size_t dim() const override { return vectors_.dim(); }
  size_t size() const override { return vectors_.size(); }
  const nlohmann::json& build_params() const override { return params_; }

  Status Build(const float* data, size_t n, ThreadPool* pool) override {
    if (size() != 0) return Status::FailedPrecondition("FLAT index is already built");
    return Add(data, n, pool);
  }

  Status Add(const float* data, size_t n, ThreadPool*) override {
    const size_t first = vectors_.size();
    vectors_.Append(data, n);
    if (metric_ == MetricType::kL2) {
      norms_.resize(vectors_.size());
      const auto& fns = simd::Active();
      for (size_t i = first; i < vectors_.size(); ++i) {
        norms_[i] = fns.inner_product(vectors_.row(i), vectors_.row(i), dim());
      }
    }
    return Status::OK();
  }

  Result<SearchResult> Search(const SearchRequest& request) const override {
    TESSERA_RETURN_IF_ERROR(CheckSearchRequest(*this, request));
    TESSERA_ASSIGN_OR_RETURN(PreparedQueries queries, PrepareQueries(*this, request));
    SearchResult result = EmptyResult(metric_, request.num_queries, request.k);
    // A filter that keeps few rows: visit only those, one distance each.
    const bool sparse = request.skip != nullptr && (size() - request.skip->Count()) * 4 < size();
    if (sparse) {
      RunPerQuery(request, [&](size_t q) { SearchPassing(queries.row(q), request, q, &result); });
      result.stats.distances_computed = static_cast<uint64_t>(request.num_queries) * (size() - request.skip->Count());
      return result;
    }
    if (request.num_queries >= kFlatBlasMinQueries && size() >= kRowBlock / 4) {
      SearchBlas(queries.data(), request, &result);
    } else {
      RunPerQuery(request, [&](size_t q) {
        SearchOne(queries.row(q), request, q, &result);
      });
    }
    result.stats.distances_computed = static_cast<uint64_t>(request.num_queries) * size();
    return result;
  }

  size_t MemoryUsage() const override {
    return vectors_.MemoryUsage() + norms_.capacity() * sizeof(float);
  }

 protected:
  Status SerializePayload(BlobWriter& out) const override {
    out.PutArray(std::span<const float>(vectors_.data(), vectors_.size() * dim()));
    return Status::OK();
  }

  Status LoadPayload(BlobReader& in, size_t rows) override {
    std::vector<float> data;
    TESSERA_RETURN_IF_ERROR(in.GetArray(&data, "FLAT vectors", rows * dim()));
    return Add(data.data(), rows, nullptr);
  }

 private:
  // Score of a row against a query: smaller is better (see MetricType).
  void ScanBlock(const float* query, size_t begin, size_t count, float* scores) const {
    const auto& fns = simd::Active();
    if (metric_ == MetricType::kL2) {
      fns.l2_sqr_batch(query, vectors_.row(begin), count, dim(), scores);
    } else {
      fns.inner_product_batch(query, vectors_.row(begin), count, dim(), scores);
      for (size_t i = 0; i < count; ++i) scores[i] = -scores[i];
    }
  }

  void SearchOne(const float* query, const SearchRequest& request, size_t q,
                 SearchResult* result) const {
    core::TopK top(request.k);
    std::vector<float> scores(std::min(kRowBlock, size()));
    for (size_t begin = 0; begin < size(); begin += kRowBlock) {
      const size_t count = std::min(kRowBlock, size() - begin);
      ScanBlock(query, begin, count, scores.data());
      PushBlock(begin, count, scores.data(), request.skip, &top);
    }
    StoreTopK(metric_, q, &top, result);
  }

  void SearchPassing(const float* query, const SearchRequest& request, size_t q,
                     SearchResult* result) const {
    core::TopK top(request.k);
    ForEachPassingRow(*request.skip, size(), [&](size_t row) {
      float score;
      ScanBlock(query, row, 1, &score);
      top.Push(static_cast<int64_t>(row), score);
    });
    StoreTopK(metric_, q, &top, result);
  }

  static void PushBlock(size_t begin, size_t count, const float* scores, const core::Bitset* skip,
                        core::TopK* top) {
    float threshold = top->threshold();
    for (size_t i = 0; i < count; ++i) {
      if (scores[i] > threshold) continue;
      if (skip != nullptr && skip->Test(begin + i)) continue;
      top->Push(static_cast<int64_t>(begin + i), scores[i]);
      threshold = top->threshold();
    }
  }

  // Many queries: for each block of queries, sgemm against blocks of rows gives the inner
  // products; L2 adds the norms. BLAS threads do the parallel work here; the selection of
  // each query's top-k is spread over the pool.
  void SearchBlas(const float* queries, const SearchRequest& request, SearchResult* result) const {
    const size_t d = dim();
    for (size_t q0 = 0; q0 < request.num_queries; q0 += kQueryBlock) {
      const size_t nq = std::min(kQueryBlock, request.num_queries - q0);
      std::vector<float> qnorms(nq, 0.0f);
      if (metric_ == MetricType::kL2) {
        for (size_t i = 0; i < nq; ++i) {
          const float* q = queries + (q0 + i) * d;
          qnorms[i] = simd::Active().inner_product(q, q, d);
        }
      }
      std::vector<core::TopK> tops(nq, core::TopK(request.k));
      std::vector<float> ip(nq * kRowBlock);
      for (size_t r0 = 0; r0 < size(); r0 += kRowBlock) {
        const size_t nr = std::min(kRowBlock, size() - r0);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(nq),
                    static_cast<int>(nr), static_cast<int>(d), 1.0f, queries + q0 * d,
                    static_cast<int>(d), vectors_.row(r0), static_cast<int>(d), 0.0f, ip.data(),
                    static_cast<int>(nr));
        RunPerQuery(request, nq, [&](size_t i) {
          float* scores = ip.data() + i * nr;
          if (metric_ == MetricType::kL2) {
            for (size_t j = 0; j < nr; ++j) {
              scores[j] = std::max(0.0f, qnorms[i] + norms_[r0 + j] - 2.0f * scores[j]);
            }
          } else {
            for (size_t j = 0; j < nr; ++j) scores[j] = -scores[j];
          }
          PushBlock(r0, nr, scores, request.skip, &tops[i]);
        });
      }
      for (size_t i = 0; i < nq; ++i) StoreTopK(metric_, q0 + i, &tops[i], result);
    }
  }

  MetricType metric_;
  nlohmann::json params_;
  VectorStore vectors_;
  std::vector<float> norms_;  // |x|^2 per row, L2 only
};

}  // namespace

Result<std::unique_ptr<Index>> CreateFlatIndex(MetricType metric, size_t dim,
                                               const nlohmann::json& build_params) {
  return std::unique_ptr<Index>(std::make_unique<FlatIndex>(metric, dim, build_params));
}

}  // namespace tessera::index
