#pragma once

#include <cstddef>
#include <cstring>

#include "common/aligned_buffer.h"
#include "index/metric.h"

namespace tessera::index {

/// Row-major float32 vectors in one 64-byte aligned buffer, growing geometrically.
/// COSINE rows are normalised to unit length on append, so COSINE search is IP search.
/// Thread-compatible: appends need exclusive access; reads of rows already appended are safe
/// concurrently with each other.
class VectorStore {
 public:
  VectorStore(size_t dim, MetricType metric) : dim_(dim), metric_(metric) {}

  size_t dim() const { return dim_; }
  size_t size() const { return rows_; }
  const float* row(size_t i) const { return data_.data() + i * dim_; }
  const float* data() const { return data_.data(); }

  /// Appends `n` rows from `src` (n * dim floats).
  void Append(const float* src, size_t n);
  /// Reserves room for `rows` rows in total.
  void Reserve(size_t rows);
  size_t MemoryUsage() const { return data_.MemoryUsage(); }

 private:
  size_t dim_;
  MetricType metric_;
  size_t rows_ = 0;
  AlignedBuffer<float> data_;
};

/// Scales `v` (dim floats) to unit L2 norm in place; leaves a zero vector unchanged.
void NormalizeInPlace(float* v, size_t dim);

}  // namespace tessera::index
