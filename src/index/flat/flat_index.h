#pragma once

#include <memory>

#include "index/index.h"

namespace tessera::index {

/// Creates an exact (brute-force) index. `build_params` must already be validated (FLAT
/// has none). Search runs one of two paths:
///  - few queries: each query scans all rows with the SIMD batch kernel (memory-bound);
///  - many queries (>= kFlatBlasMinQueries): blocks of queries x rows go through BLAS sgemm
///    (|q|^2 + |x|^2 - 2 q.x for L2), as FAISS does, which is compute-bound and far faster
///    per query.
Result<std::unique_ptr<Index>> CreateFlatIndex(MetricType metric, size_t dim,
                                               const nlohmann::json& build_params);

/// Queries per batch from which FLAT uses the BLAS path.
inline constexpr size_t kFlatBlasMinQueries = 16;

}  // namespace tessera::index
