// Baseline: hnswlib from Debian's libhnswlib-dev, header-only. This translation unit alone
// is compiled with -O3 -march=native (see CMakeLists.txt) so the baseline gets its best
// SIMD code on the benchmark machine; that is why the benchmark is its own binary and the
// portable `tessera` binary never links it.
#include <hnswlib/hnswlib.h>

#include <atomic>
#include <thread>
#include <vector>

#include "bench/engine.h"

namespace tessera::bench {
namespace {

class HnswlibIndex final : public BenchIndex {
 public:
  HnswlibIndex(const IndexOptions& options) : options_(options), space_(options.dim) {}

  Status Build(const float* data, size_t n, size_t threads) override {
    try {
      index_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(
          &space_, n, options_.hnsw_m, options_.hnsw_ef_construction, /*random_seed=*/100);
      index_->addPoint(data, 0);
      std::atomic<size_t> next{1};
      std::vector<std::thread> workers;
      for (size_t t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
          for (size_t i; (i = next.fetch_add(1)) < n;) index_->addPoint(data + i * options_.dim, i);
        });
      }
      for (auto& w : workers) w.join();
    } catch (const std::exception& e) {
      return Status::Internal(std::string("hnswlib build failed: ") + e.what());
    }
    return Status::OK();
  }

  std::vector<nlohmann::json> SearchSweep() const override { return HnswSweep(); }

  Status SearchOne(const float* query, size_t k, const nlohmann::json& params,
                   const core::Bitset* skip, int64_t* ids) const override {
    if (skip != nullptr) return Status::Unimplemented("this hnswlib version has no filter hook");
    // hnswlib keeps ef in the index object (setEf), which is not thread-safe to change during
    // searches; the runner changes params only between sweep points.
    const size_t ef = params.at("ef").get<size_t>();
    if (index_->ef_ != ef) index_->setEf(ef);
    auto found = index_->searchKnn(query, k);
    for (size_t i = k; i-- > 0;) {
      if (found.empty()) {
        ids[i] = -1;
        continue;
      }
      ids[i] = static_cast<int64_t>(found.top().second);
      found.pop();
    }
    // searchKnn may return fewer than k: shift to the front.
    size_t first = 0;
    while (first < k && ids[first] == -1) ++first;
    if (first > 0) {
      for (size_t i = 0; i + first < k; ++i) ids[i] = ids[i + first];
      for (size_t i = k - first; i < k; ++i) ids[i] = -1;
    }
    return Status::OK();
  }

  size_t IndexBytes() const override {
    return index_->max_elements_ * index_->size_data_per_element_ +
           index_->max_elements_ * sizeof(void*) +
           index_->cur_element_count * index_->size_links_per_element_ / index_->M_;  // upper levels, approx.
  }

  nlohmann::json BuildParams() const override {
    return {{"M", options_.hnsw_m}, {"efConstruction", options_.hnsw_ef_construction}};
  }

 private:
  IndexOptions options_;
  hnswlib::L2Space space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> index_;
};

}  // namespace

Result<std::unique_ptr<BenchIndex>> MakeHnswlibIndex(const IndexOptions& options) {
  if (options.index != "HNSW") return Status::Unimplemented("hnswlib offers HNSW only");
  return std::unique_ptr<BenchIndex>(std::make_unique<HnswlibIndex>(options));
}

}  // namespace tessera::bench
