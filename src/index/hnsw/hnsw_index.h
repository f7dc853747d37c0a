#pragma once

#include <memory>

#include "index/index.h"

namespace tessera::index {

/// Creates an HNSW index (Malkov & Yashunin, "Efficient and robust approximate nearest
/// neighbor search using Hierarchical Navigable Small World graphs", TPAMI 2018).
/// `build_params` must already be validated: M, efConstruction, seed.
Result<std::unique_ptr<Index>> CreateHnswIndex(MetricType metric, size_t dim,
                                               const nlohmann::json& build_params);

}  // namespace tessera::index
