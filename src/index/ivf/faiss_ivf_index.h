#pragma once

#include <cstddef>
#include <memory>

#include "index/index.h"

namespace tessera::index {

/// Creates an IVF_FLAT, IVF_SQ8 or IVF_PQ index backed by FAISS (IndexIVFFlat,
/// IndexIVFScalarQuantizer with QT_8bit, IndexIVFPQ over an IndexFlatL2/IndexFlatIP coarse
/// quantizer). `build_params` must already be validated against ParamSchema(type) (nlist; m
/// and nbits for IVF_PQ). IVF_PQ: `m` 0 is resolved with DefaultPqM(dim) and the resolved
/// value is what build_params() reports; an `m` that does not divide dim is InvalidArgument.
///
/// Behaviour (see the comments in faiss_ivf_index.cc):
///  - Build trains k-means on all rows (FAISS subsamples to 256 points per list) with FAISS's
///    fixed seed, so builds are deterministic. Fewer rows than nlist: nlist is clamped to the
///    row count for this segment (logged); build_params() keeps the requested nlist, searches
///    validate nprobe against it and visit min(nprobe, lists) lists. IVF_PQ needs at least
///    2^nbits rows to train its codebooks, else InvalidArgument with the count needed.
///  - Search: nprobe > nlist is InvalidArgument. Without a pool a search runs on the calling
///    thread (FAISS's OpenMP team pinned to 1); with a pool the query batch is split into
///    chunks spread over the pool, each FAISS call single-threaded. Build uses OpenMP with
///    pool->size() threads (1 without a pool).
///  - FAISS exceptions become kInternal (kDataLoss when loading a blob).
Result<std::unique_ptr<Index>> CreateFaissIvfIndex(IndexType type, MetricType metric, size_t dim,
                                                   const nlohmann::json& build_params);

/// The IVF_PQ sub-quantizer count used when the `m` parameter is 0: the largest divisor of
/// dim that leaves sub-vectors of 4 to 16 dimensions (dim 128 -> 32: 16x compression at
/// nbits 8). When dim has no such divisor (a prime dim, say), the smallest divisor that keeps
/// sub-vectors at no more than 16 dimensions (127 -> 127). Always divides dim.
size_t DefaultPqM(size_t dim);

}  // namespace tessera::index
