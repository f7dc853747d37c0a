// AVX2 + FMA kernels. Compiled with -mavx2 -mfma (see CMakeLists.txt); only called after
// dispatch.cc has checked CPUID.
#include <immintrin.h>

#include <cmath>

#include "core/simd/distance.h"

namespace tessera::simd {
namespace {

inline float HorizontalSum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v);
  __m128 hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}

float L2Sqr(const float* a, const float* b, size_t dim) noexcept {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
    acc0 = _mm256_fmadd_ps(d0, d0, acc0);
    acc1 = _mm256_fmadd_ps(d1, d1, acc1);
  }
  if (i + 8 <= dim) {
    __m256 d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    acc0 = _mm256_fmadd_ps(d, d, acc0);
    i += 8;
  }
  float sum = HorizontalSum(_mm256_add_ps(acc0, acc1));
  for (; i < dim; ++i) {
    const float d = a[i] - b[i];
    sum += d * d;
  }
  return sum;
}

float InnerProduct(const float* a, const float* b, size_t dim) noexcept {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  if (i + 8 <= dim) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    i += 8;
  }
  float sum = HorizontalSum(_mm256_add_ps(acc0, acc1));
  for (; i < dim; ++i) sum += a[i] * b[i];
  return sum;
}

float Cosine(const float* a, const float* b, size_t dim) noexcept {
  __m256 ab = _mm256_setzero_ps(), aa = _mm256_setzero_ps(), bb = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= dim; i += 8) {
    __m256 va = _mm256_loadu_ps(a + i), vb = _mm256_loadu_ps(b + i);
    ab = _mm256_fmadd_ps(va, vb, ab);
    aa = _mm256_fmadd_ps(va, va, aa);
    bb = _mm256_fmadd_ps(vb, vb, bb);
  }
  float sab = HorizontalSum(ab), saa = HorizontalSum(aa), sbb = HorizontalSum(bb);
  for (; i < dim; ++i) {
    sab += a[i] * b[i];
    saa += a[i] * a[i];
    sbb += b[i] * b[i];
  }
  if (saa <= 0 || sbb <= 0) return 0;
  return sab / (std::sqrt(saa) * std::sqrt(sbb));
}

void L2SqrBatch(const float* q, const float* base, size_t n, size_t dim, float* out) noexcept {
  for (size_t r = 0; r < n; ++r) {
    if (r + 2 < n) _mm_prefetch(reinterpret_cast<const char*>(base + (r + 2) * dim), _MM_HINT_T0);
    out[r] = L2Sqr(q, base + r * dim, dim);
  }
}

void InnerProductBatch(const float* q, const float* base, size_t n, size_t dim,
                       float* out) noexcept {
  for (size_t r = 0; r < n; ++r) out[r] = InnerProduct(q, base + r * dim, dim);
}

}  // namespace

namespace internal {
const DistanceFns kAvx2Fns = {L2Sqr, InnerProduct, Cosine, L2SqrBatch, InnerProductBatch};
}  // namespace internal

}  // namespace tessera::simd
