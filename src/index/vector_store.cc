#include "index/vector_store.h"

#include <cmath>

#include "core/simd/distance.h"

namespace tessera::index {

void NormalizeInPlace(float* v, size_t dim) {
  const float norm_sq = simd::Active().inner_product(v, v, dim);
  if (norm_sq <= 0) return;
  const float inv = 1.0f / std::sqrt(norm_sq);
  for (size_t i = 0; i < dim; ++i) v[i] *= inv;
}

void VectorStore::Reserve(size_t rows) {
  if (rows * dim_ > data_.size()) data_.Resize(rows * dim_);
}

void VectorStore::Append(const float* src, size_t n) {
  if ((rows_ + n) * dim_ > data_.size()) Reserve(std::max(rows_ + n, rows_ * 3 / 2 + 16));
  float* dst = data_.data() + rows_ * dim_;
  std::memcpy(dst, src, n * dim_ * sizeof(float));
  if (metric_ == MetricType::kCosine) {
    for (size_t i = 0; i < n; ++i) NormalizeInPlace(dst + i * dim_, dim_);
  }
  rows_ += n;
}

}  // namespace tessera::index
