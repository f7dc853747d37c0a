#pragma once

#include <memory>

#include "index/index.h"

namespace tessera::index {

/// Creates an IVF_FLAT, IVF_SQ8 or IVF_PQ index backed by FAISS. `build_params` must already
/// be validated against ParamSchema(type) (nlist; m and nbits for IVF_PQ).
Result<std::unique_ptr<Index>> CreateFaissIvfIndex(IndexType type, MetricType metric, size_t dim,
                                                   const nlohmann::json& build_params);

}  // namespace tessera::index
