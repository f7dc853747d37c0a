// Baseline: FAISS from Debian's libfaiss-dev (IndexFlatL2, IndexHNSWFlat, IndexIVFFlat).
#include <cblas.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <omp.h>

#include "bench/engine.h"

namespace tessera::bench {
namespace {

// Passes rows whose bit is clear in the skip bitset.
class SkipSelector final : public faiss::IDSelector {
 public:
  explicit SkipSelector(const core::Bitset& skip) : skip_(skip) {}
  bool is_member(faiss::Index::idx_t id) const override { return !skip_.Test(static_cast<size_t>(id)); }

 private:
  const core::Bitset& skip_;
};

class FaissIndex final : public BenchIndex {
 public:
  explicit FaissIndex(const IndexOptions& options) : options_(options) {
    const int d = static_cast<int>(options.dim);
    if (options.index == "FLAT") {
      index_ = std::make_unique<faiss::IndexFlatL2>(d);
    } else if (options.index == "HNSW") {
      auto hnsw = std::make_unique<faiss::IndexHNSWFlat>(d, options.hnsw_m);
      hnsw->hnsw.efConstruction = options.hnsw_ef_construction;
      index_ = std::move(hnsw);
    } else {
      quantizer_ = std::make_unique<faiss::IndexFlatL2>(d);
      index_ = std::make_unique<faiss::IndexIVFFlat>(quantizer_.get(), d, options.ivf_nlist);
    }
  }

  Status Build(const float* data, size_t n, size_t threads) override {
    omp_set_num_threads(static_cast<int>(threads));
    try {
      if (!index_->is_trained) index_->train(static_cast<faiss::Index::idx_t>(n), data);
      index_->add(static_cast<faiss::Index::idx_t>(n), data);
    } catch (const std::exception& e) {
      return Status::Internal(std::string("faiss build failed: ") + e.what());
    }
    return Status::OK();
  }

  std::vector<nlohmann::json> SearchSweep() const override {
    if (options_.index == "HNSW") return HnswSweep();
    if (options_.index == "FLAT") return {nlohmann::json::object()};
    return IvfSweep(options_.ivf_nlist);
  }

  Status SearchOne(const float* query, size_t k, const nlohmann::json& params,
                   const core::Bitset* skip, int64_t* ids) const override {
    omp_set_num_threads(1);  // per calling thread: one query needs no OpenMP team
    return Search(query, 1, k, params, skip, ids);
  }

  Status SearchBatch(const float* queries, size_t nq, size_t k, const nlohmann::json& params,
                     size_t threads, int64_t* ids) const override {
    if (options_.index != "FLAT") return Status::Unimplemented("batched search is measured for FLAT only");
    omp_set_num_threads(static_cast<int>(threads));
    openblas_set_num_threads(static_cast<int>(threads));
    Status s = Search(queries, nq, k, params, nullptr, ids);
    openblas_set_num_threads(1);
    return s;
  }

  bool SupportsFilter() const override { return options_.index == "IVF_FLAT"; }

  size_t IndexBytes() const override {
    faiss::VectorIOWriter writer;
    faiss::write_index(index_.get(), &writer);
    return writer.data.size();
  }

  nlohmann::json BuildParams() const override {
    if (options_.index == "HNSW") return {{"M", options_.hnsw_m}, {"efConstruction", options_.hnsw_ef_construction}};
    if (options_.index == "FLAT") return nlohmann::json::object();
    return {{"nlist", options_.ivf_nlist}};
  }

 private:
  Status Search(const float* queries, size_t nq, size_t k, const nlohmann::json& params,
                const core::Bitset* skip, int64_t* ids) const {
    if (skip != nullptr && !SupportsFilter()) return Status::Unimplemented("filter not measured for this FAISS index");
    std::vector<float> distances(nq * k);
    std::vector<faiss::Index::idx_t> labels(nq * k);
    try {
      if (options_.index == "HNSW") {
        // efSearch lives in the index; the runner changes params only between sweep points.
        auto* hnsw = static_cast<faiss::IndexHNSWFlat*>(index_.get());
        hnsw->hnsw.efSearch = params.at("ef").get<int>();
        index_->search(static_cast<faiss::Index::idx_t>(nq), queries, static_cast<faiss::Index::idx_t>(k),
                       distances.data(), labels.data());
      } else if (options_.index == "FLAT") {
        index_->search(static_cast<faiss::Index::idx_t>(nq), queries, static_cast<faiss::Index::idx_t>(k),
                       distances.data(), labels.data());
      } else {
        faiss::SearchParametersIVF sp;
        sp.nprobe = params.at("nprobe").get<size_t>();
        std::unique_ptr<SkipSelector> selector;
        if (skip != nullptr) {
          selector = std::make_unique<SkipSelector>(*skip);
          sp.sel = selector.get();
        }
        index_->search(static_cast<faiss::Index::idx_t>(nq), queries, static_cast<faiss::Index::idx_t>(k),
                       distances.data(), labels.data(), &sp);
      }
    } catch (const std::exception& e) {
      return Status::Internal(std::string("faiss search failed: ") + e.what());
    }
    for (size_t i = 0; i < nq * k; ++i) ids[i] = labels[i];
    return Status::OK();
  }

  IndexOptions options_;
  std::unique_ptr<faiss::IndexFlatL2> quantizer_;
  std::unique_ptr<faiss::Index> index_;
};

}  // namespace

Result<std::unique_ptr<BenchIndex>> MakeFaissIndex(const IndexOptions& options) {
  if (options.index != "FLAT" && options.index != "HNSW" && options.index != "IVF_FLAT") {
    return Status::Unimplemented("the FAISS baseline covers FLAT, HNSW and IVF_FLAT");
  }
  return std::unique_ptr<BenchIndex>(std::make_unique<FaissIndex>(options));
}

}  // namespace tessera::bench
