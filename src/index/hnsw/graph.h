#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "common/aligned_buffer.h"
#include "common/status.h"

namespace tessera::index {
class BlobReader;
class BlobWriter;
}  // namespace tessera::index

namespace tessera::index::hnsw {

/// The HNSW adjacency structure, without vectors.
///
/// Layout: layer 0 is one flat array with a fixed stride of (1 + 2M) uint32 per node:
/// [count, neighbour_0, ..., neighbour_{2M-1}], so a node's layer-0 list is one cache-friendly
/// run. Upper layers (a node has them only if its level > 0, about 1/M of nodes) live in a
/// per-node vector of `level` blocks of (1 + M). Layer 0 sits in an AlignedBuffer (huge
/// pages when large: a walk reads lists at random) with room for `capacity0_` nodes.
///
/// Thread-safety: structure changes (Resize) need exclusive access. Lists are read and
/// written under the node's lock (LockNode) during parallel construction; once built the
/// graph is immutable and lists may be read without locks.
class Graph {
 public:
  explicit Graph(size_t m) : m_(m), stride0_(1 + 2 * m) {}

  size_t m() const { return m_; }
  size_t size() const { return levels_.size(); }
  /// Max neighbours at `layer`: 2M on layer 0, M above.
  size_t MaxDegree(int layer) const { return layer == 0 ? 2 * m_ : m_; }

  /// Grows to `n` nodes; new nodes get `levels[i]` layers above 0 and empty lists.
  void AddNodes(std::span<const uint8_t> levels);

  int level(uint32_t node) const { return levels_[node]; }

  /// The neighbour list of `node` at `layer`: element 0 is the count.
  const uint32_t* List(uint32_t node, int layer) const {
    return layer == 0 ? &layer0_[node * stride0_] : &upper_[node][(layer - 1) * (1 + m_)];
  }
  uint32_t* MutableList(uint32_t node, int layer) {
    return layer == 0 ? &layer0_[node * stride0_] : &upper_[node][(layer - 1) * (1 + m_)];
  }
  void SetList(uint32_t node, int layer, std::span<const uint32_t> neighbours);

  std::mutex& NodeLock(uint32_t node) { return locks_[node]; }

  uint32_t entry_point() const { return entry_point_; }
  int max_level() const { return max_level_; }
  void SetEntryPoint(uint32_t node, int level) {
    entry_point_ = node;
    max_level_ = level;
  }

  size_t MemoryUsage() const;

  /// Writes levels, entry point and all lists; Load validates every id and count
  /// (kDataLoss on any inconsistency).
  void Serialize(BlobWriter& out) const;
  Status Load(BlobReader& in, size_t rows);

 private:
  size_t m_;
  size_t stride0_;
  std::vector<uint8_t> levels_;
  AlignedBuffer<uint32_t> layer0_;  // capacity0_ * stride0_ elements, the first size() nodes in use
  size_t capacity0_ = 0;
  std::vector<std::vector<uint32_t>> upper_;
  std::unique_ptr<std::mutex[]> locks_;
  uint32_t entry_point_ = 0;
  int max_level_ = -1;  // -1: empty graph
};

}  // namespace tessera::index::hnsw
