// The scalar kernels: the source of truth every ISA version is tested against.
#include <cmath>

#include "core/simd/distance.h"

namespace tessera::simd {
namespace {

float L2Sqr(const float* a, const float* b, size_t dim) noexcept {
  float sum = 0;
  for (size_t i = 0; i < dim; ++i) {
    const float d = a[i] - b[i];
    sum += d * d;
  }
  return sum;
}

float InnerProduct(const float* a, const float* b, size_t dim) noexcept {
  float sum = 0;
  for (size_t i = 0; i < dim; ++i) sum += a[i] * b[i];
  return sum;
}

float Cosine(const float* a, const float* b, size_t dim) noexcept {
  float ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < dim; ++i) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  if (aa <= 0 || bb <= 0) return 0;
  return ab / (std::sqrt(aa) * std::sqrt(bb));
}

void L2SqrBatch(const float* q, const float* base, size_t n, size_t dim, float* out) noexcept {
  for (size_t i = 0; i < n; ++i) out[i] = L2Sqr(q, base + i * dim, dim);
}

void InnerProductBatch(const float* q, const float* base, size_t n, size_t dim,
                       float* out) noexcept {
  for (size_t i = 0; i < n; ++i) out[i] = InnerProduct(q, base + i * dim, dim);
}

uint32_t L2SqrU8(const uint8_t* a, const uint8_t* b, size_t dim) noexcept {
  uint32_t sum = 0;
  for (size_t i = 0; i < dim; ++i) {
    const int32_t d = static_cast<int32_t>(a[i]) - static_cast<int32_t>(b[i]);
    sum += static_cast<uint32_t>(d * d);
  }
  return sum;
}

uint32_t DotU8(const uint8_t* a, const uint8_t* b, size_t dim) noexcept {
  uint32_t sum = 0;
  for (size_t i = 0; i < dim; ++i) sum += static_cast<uint32_t>(a[i]) * b[i];
  return sum;
}

}  // namespace

namespace internal {
const DistanceFns kScalarFns = {L2Sqr, InnerProduct, Cosine, L2SqrBatch, InnerProductBatch, L2SqrU8, DotU8};
}  // namespace internal

}  // namespace tessera::simd
