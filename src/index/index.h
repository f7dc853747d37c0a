#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "core/bitset.h"
#include "index/metric.h"

namespace tessera {
class ThreadPool;
}

namespace tessera::index {

class BlobWriter;
class BlobReader;

/// Index types. Serialized as uint8_t, so values are fixed. AUTOINDEX is not a type of its
/// own: the factory resolves it to HNSW with default parameters.
enum class IndexType : uint8_t { kFlat = 0, kHnsw = 1, kIvfFlat = 2, kIvfSq8 = 3, kIvfPq = 4 };

/// Parses "FLAT", "HNSW", "IVF_FLAT", "IVF_SQ8", "IVF_PQ", "AUTOINDEX" (case-insensitive;
/// AUTOINDEX gives kHnsw). Anything else is InvalidArgument listing the allowed names.
Result<IndexType> ParseIndexType(std::string_view name);
std::string_view IndexTypeName(IndexType type);

/// Work done by a search, summed over its queries (Vespa's Stats, usearch's add_result_t).
struct SearchStats {
  uint64_t distances_computed = 0;
  uint64_t nodes_visited = 0;
};

/// One batch of queries. Rows are numbered 0..size()-1 in insertion order; results name rows.
struct SearchRequest {
  /// Row-major queries, num_queries * dim floats. Borrowed for the call.
  const float* queries = nullptr;
  size_t num_queries = 0;
  size_t k = 10;
  /// Search-phase parameters (ef, nprobe), validated against the index's schema; an empty
  /// object means defaults.
  nlohmann::json params = nlohmann::json::object();
  /// Rows to skip (deleted or filtered out); bit i set = row i is never returned.
  /// Null means no row is skipped. Its size must equal the index's size(). Borrowed.
  const core::Bitset* skip = nullptr;
  /// Spreads queries over this pool when non-null; otherwise runs on the calling thread.
  ThreadPool* pool = nullptr;
};

/// Results, num_queries rows of k slots each, best first. A slot with no result (fewer than
/// k rows pass the filter) has id -1 and distance +inf for L2, -inf for IP/COSINE.
struct SearchResult {
  size_t num_queries = 0;
  size_t k = 0;
  std::vector<int64_t> ids;
  std::vector<float> distances;  // user-facing values, see MetricType
  SearchStats stats;

  int64_t id(size_t query, size_t rank) const { return ids[query * k + rank]; }
  float distance(size_t query, size_t rank) const { return distances[query * k + rank]; }
};

/// A vector index over float32 rows of one dimension and metric.
///
/// Thread-safety: Search() and the const accessors may run concurrently with each other;
/// Build()/Add() need exclusive access (sealed segments are built once, then only searched).
/// Errors come back as Status: bad parameters and inputs are kInvalidArgument, a damaged blob
/// is kDataLoss, a failure inside a third-party library is kInternal with its message.
class Index {
 public:
  virtual ~Index() = default;

  virtual IndexType type() const = 0;
  virtual MetricType metric() const = 0;
  virtual size_t dim() const = 0;
  /// Number of rows added.
  virtual size_t size() const = 0;
  /// The validated build parameters, defaults filled in.
  virtual const nlohmann::json& build_params() const = 0;

  /// Trains (where the type needs it) and adds `n` rows (row-major, n * dim floats) to an
  /// empty index. Uses `pool` for parallel work when non-null.
  virtual Status Build(const float* data, size_t n, ThreadPool* pool) = 0;
  /// Appends rows to a built index (rows get the next numbers).
  virtual Status Add(const float* data, size_t n, ThreadPool* pool) = 0;

  virtual Result<SearchResult> Search(const SearchRequest& request) const = 0;

  /// A self-describing blob: header (magic, format version, type, metric, dim, rows, build
  /// params) + type-specific payload + CRC32C footer. See docs/format/index.md.
  Result<std::vector<uint8_t>> Serialize() const;

  /// Bytes held in memory (vectors, graph, codes).
  virtual size_t MemoryUsage() const = 0;

 protected:
  friend Result<std::unique_ptr<Index>> LoadIndex(std::span<const uint8_t> blob);
  /// Appends the type-specific payload (everything but the envelope) to `out`.
  virtual Status SerializePayload(BlobWriter& out) const = 0;
  /// Restores the payload written by SerializePayload into an index freshly made by
  /// CreateIndex with the blob's type, metric, dim and build params. The envelope and its
  /// checksum are already verified; the payload is still bounds-checked (kDataLoss).
  virtual Status LoadPayload(BlobReader& in, size_t rows) = 0;
};

/// Creates an empty index. `build_params` is validated against the type's schema (unknown or
/// out-of-range parameters are InvalidArgument naming the parameter and its range).
Result<std::unique_ptr<Index>> CreateIndex(IndexType type, MetricType metric, size_t dim,
                                           const nlohmann::json& build_params);

/// Restores an index from Serialize() output. Truncation, a bad magic or version, or a
/// checksum mismatch is kDataLoss; never a crash.
Result<std::unique_ptr<Index>> LoadIndex(std::span<const uint8_t> blob);

}  // namespace tessera::index
