#include "index/hnsw/graph.h"

#include <algorithm>
#include <string>

#include "index/blob.h"

namespace tessera::index::hnsw {

void Graph::AddNodes(std::span<const uint8_t> levels) {
  const size_t old_n = size();
  const size_t n = old_n + levels.size();
  levels_.insert(levels_.end(), levels.begin(), levels.end());
  if (n > capacity0_) {  // grows geometrically: Add may come in many small batches
    capacity0_ = std::max(n, capacity0_ * 3 / 2 + 16);
    layer0_.Resize(capacity0_ * stride0_);  // new lists zeroed: count 0
  }
  upper_.resize(n);
  for (size_t i = old_n; i < n; ++i) {
    if (levels_[i] > 0) upper_[i].assign(levels_[i] * (1 + m_), 0);
  }
  locks_ = std::make_unique<std::mutex[]>(n);
}

void Graph::SetList(uint32_t node, int layer, std::span<const uint32_t> neighbours) {
  uint32_t* list = MutableList(node, layer);
  list[0] = static_cast<uint32_t>(neighbours.size());
  std::copy(neighbours.begin(), neighbours.end(), list + 1);
}

size_t Graph::MemoryUsage() const {
  size_t bytes = levels_.capacity() + layer0_.MemoryUsage() +
                 upper_.capacity() * sizeof(std::vector<uint32_t>) + size() * sizeof(std::mutex);
  for (const auto& u : upper_) bytes += u.capacity() * sizeof(uint32_t);
  return bytes;
}

void Graph::Serialize(BlobWriter& out) const {
  out.Put<uint64_t>(m_);
  out.Put<uint32_t>(entry_point_);
  out.Put<int32_t>(max_level_);
  out.PutArray(std::span<const uint8_t>(levels_));
  out.PutArray(std::span<const uint32_t>(layer0_.data(), size() * stride0_));
  for (size_t i = 0; i < size(); ++i) {
    if (levels_[i] > 0) out.PutBytes(upper_[i].data(), upper_[i].size() * sizeof(uint32_t));
  }
}

Status Graph::Load(BlobReader& in, size_t rows) {
  uint64_t m = 0;
  int32_t max_level = 0;
  TESSERA_RETURN_IF_ERROR(in.Get(&m, "HNSW M"));
  if (m != m_) {
    return Status::DataLoss("HNSW graph M " + std::to_string(m) + " does not match build params M " +
                            std::to_string(m_));
  }
  TESSERA_RETURN_IF_ERROR(in.Get(&entry_point_, "HNSW entry point"));
  TESSERA_RETURN_IF_ERROR(in.Get(&max_level, "HNSW max level"));
  TESSERA_RETURN_IF_ERROR(in.GetArray(&levels_, "HNSW levels", rows));
  TESSERA_ASSIGN_OR_RETURN(const size_t layer0_count, in.GetCount<uint32_t>("HNSW layer 0", rows * stride0_));
  capacity0_ = rows;
  layer0_.Resize(layer0_count);
  TESSERA_RETURN_IF_ERROR(in.GetBytes(layer0_.data(), layer0_count * sizeof(uint32_t), "HNSW layer 0"));
  upper_.assign(rows, {});
  int highest = rows == 0 ? -1 : 0;
  for (size_t i = 0; i < rows; ++i) {
    highest = std::max<int>(highest, levels_[i]);
    if (levels_[i] == 0) continue;
    upper_[i].resize(levels_[i] * (1 + m_));
    TESSERA_RETURN_IF_ERROR(
        in.GetBytes(upper_[i].data(), upper_[i].size() * sizeof(uint32_t), "HNSW upper layers"));
  }
  if (max_level != highest || (rows > 0 && (entry_point_ >= rows || levels_[entry_point_] != max_level))) {
    return Status::DataLoss("HNSW entry point " + std::to_string(entry_point_) + " at level " +
                            std::to_string(max_level) + " is inconsistent with the node levels");
  }
  max_level_ = max_level;
  // Every list must be within its degree bound and name existing nodes: a damaged graph
  // must never send a search out of bounds.
  for (uint32_t node = 0; node < rows; ++node) {
    for (int layer = 0; layer <= levels_[node]; ++layer) {
      const uint32_t* list = List(node, layer);
      if (list[0] > MaxDegree(layer)) {
        return Status::DataLoss("HNSW node " + std::to_string(node) + " layer " +
                                std::to_string(layer) + " has " + std::to_string(list[0]) +
                                " neighbours, above the bound " + std::to_string(MaxDegree(layer)));
      }
      for (uint32_t j = 1; j <= list[0]; ++j) {
        if (list[j] >= rows || levels_[list[j]] < layer) {
          return Status::DataLoss("HNSW node " + std::to_string(node) + " layer " +
                                  std::to_string(layer) + " links to invalid node " +
                                  std::to_string(list[j]));
        }
      }
    }
  }
  locks_ = std::make_unique<std::mutex[]>(rows);
  return Status::OK();
}

}  // namespace tessera::index::hnsw
