// The engine under test: Tessera's own indexes through the public Index interface.
#include <cblas.h>

#include "bench/engine.h"
#include "common/thread_pool.h"
#include "index/index.h"

namespace tessera::bench {
namespace {

class TesseraIndex final : public BenchIndex {
 public:
  TesseraIndex(std::unique_ptr<index::Index> index, index::IndexType type, int nlist)
      : index_(std::move(index)), type_(type), nlist_(nlist) {}

  Status Build(const float* data, size_t n, size_t threads) override {
    ThreadPool pool(threads);
    return index_->Build(data, n, threads > 1 ? &pool : nullptr);
  }

  std::vector<nlohmann::json> SearchSweep() const override {
    switch (type_) {
      case index::IndexType::kHnsw: return HnswSweep();
      case index::IndexType::kFlat: return {nlohmann::json::object()};
      default: return IvfSweep(nlist_);
    }
  }

  Status SearchOne(const float* query, size_t k, const nlohmann::json& params,
                   const core::Bitset* skip, int64_t* ids) const override {
    index::SearchRequest request{.queries = query, .num_queries = 1, .k = k, .params = params, .skip = skip};
    TESSERA_ASSIGN_OR_RETURN(index::SearchResult result, index_->Search(request));
    std::copy(result.ids.begin(), result.ids.end(), ids);
    return Status::OK();
  }

  Status SearchBatch(const float* queries, size_t nq, size_t k, const nlohmann::json& params,
                     size_t threads, int64_t* ids) const override {
    if (type_ != index::IndexType::kFlat) return Status::Unimplemented("batched search is measured for FLAT only");
    ThreadPool pool(threads);
    openblas_set_num_threads(static_cast<int>(threads));
    index::SearchRequest request{.queries = queries, .num_queries = nq, .k = k, .params = params,
                                 .pool = threads > 1 ? &pool : nullptr};
    auto result = index_->Search(request);
    openblas_set_num_threads(1);
    if (!result.ok()) return result.status();
    std::copy(result->ids.begin(), result->ids.end(), ids);
    return Status::OK();
  }

  bool SupportsFilter() const override { return true; }
  size_t IndexBytes() const override { return index_->MemoryUsage(); }
  nlohmann::json BuildParams() const override { return index_->build_params(); }

 private:
  std::unique_ptr<index::Index> index_;
  index::IndexType type_;
  int nlist_;
};

}  // namespace

Result<std::unique_ptr<BenchIndex>> MakeTesseraIndex(const IndexOptions& options) {
  // HNSW_SQ8 is a benchmark name for HNSW with {"sq8": 1}: the walk on 8-bit codes.
  const bool sq8 = options.index == "HNSW_SQ8";
  TESSERA_ASSIGN_OR_RETURN(index::IndexType type, index::ParseIndexType(sq8 ? "HNSW" : options.index));
  nlohmann::json params = nlohmann::json::object();
  if (type == index::IndexType::kHnsw) {
    params = {{"M", options.hnsw_m}, {"efConstruction", options.hnsw_ef_construction}};
    if (sq8) params["sq8"] = 1;
  } else if (type != index::IndexType::kFlat) {
    params = {{"nlist", options.ivf_nlist}};
    if (type == index::IndexType::kIvfPq && options.pq_m > 0) params["m"] = options.pq_m;
  }
  TESSERA_ASSIGN_OR_RETURN(auto idx, index::CreateIndex(type, index::MetricType::kL2, options.dim, params));
  return std::unique_ptr<BenchIndex>(std::make_unique<TesseraIndex>(std::move(idx), type, options.ivf_nlist));
}

std::vector<nlohmann::json> HnswSweep() {
  std::vector<nlohmann::json> out;
  for (int ef : {10, 16, 24, 32, 48, 64, 96, 128, 256}) out.push_back({{"ef", ef}});
  return out;
}

std::vector<nlohmann::json> IvfSweep(int nlist) {
  std::vector<nlohmann::json> out;
  for (int nprobe : {1, 2, 4, 8, 16, 32, 64}) {
    if (nprobe <= nlist) out.push_back({{"nprobe", nprobe}});
  }
  return out;
}

}  // namespace tessera::bench
