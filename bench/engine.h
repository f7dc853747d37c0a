#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "core/bitset.h"

namespace tessera::bench {

/// One engine's index under test, behind a common face so the runner measures every engine
/// the same way. Search functions must be safe to call concurrently after Build.
class BenchIndex {
 public:
  virtual ~BenchIndex() = default;

  /// Builds from `n` row-major vectors using `threads` threads.
  virtual Status Build(const float* data, size_t n, size_t threads) = 0;

  /// The search-parameter points to sweep (e.g. {"ef": 40}); one empty object for none.
  virtual std::vector<nlohmann::json> SearchSweep() const = 0;

  /// Searches one query on the calling thread; writes k ids (-1 padded).
  /// `skip` (rows to exclude) is null when unfiltered; engines without filter support
  /// return Unimplemented when it is set.
  virtual Status SearchOne(const float* query, size_t k, const nlohmann::json& params,
                           const core::Bitset* skip, int64_t* ids) const = 0;

  /// Searches a whole batch in one call using `threads` threads (the FLAT batched path).
  /// Unimplemented where the engine has no batched path worth measuring.
  virtual Status SearchBatch(const float* queries, size_t nq, size_t k, const nlohmann::json& params,
                             size_t threads, int64_t* ids) const {
    return Status::Unimplemented("no batched search");
  }

  virtual bool SupportsFilter() const { return false; }
  /// Bytes the index holds (vectors + structure).
  virtual size_t IndexBytes() const = 0;
  virtual nlohmann::json BuildParams() const = 0;
};

/// Options shared by all engines' index constructors.
struct IndexOptions {
  std::string index;  // FLAT, HNSW, IVF_FLAT, IVF_SQ8, IVF_PQ
  size_t dim = 0;
  int hnsw_m = 16;
  int hnsw_ef_construction = 200;
  int ivf_nlist = 256;
  int pq_m = 0;  // 0: engine default
};

/// Factories; each returns Unimplemented for an index type that engine does not offer.
Result<std::unique_ptr<BenchIndex>> MakeTesseraIndex(const IndexOptions& options);
Result<std::unique_ptr<BenchIndex>> MakeHnswlibIndex(const IndexOptions& options);
Result<std::unique_ptr<BenchIndex>> MakeFaissIndex(const IndexOptions& options);

/// The sweeps every engine uses, so points line up side by side.
std::vector<nlohmann::json> HnswSweep();
std::vector<nlohmann::json> IvfSweep(int nlist);

}  // namespace tessera::bench
