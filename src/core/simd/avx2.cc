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

inline uint32_t HorizontalSumEpi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return static_cast<uint32_t>(_mm_cvtsi128_si32(s));
}

// 32 codes per step: |a-b| as bytes (saturating subtractions both ways), widened to 16 bits,
// then madd squares and adds adjacent pairs into 32-bit lanes.
uint32_t L2SqrU8(const uint8_t* a, const uint8_t* b, size_t dim) noexcept {
  const __m256i zero = _mm256_setzero_si256();
  __m256i acc = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    const __m256i va = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i));
    const __m256i vb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i));
    const __m256i diff = _mm256_or_si256(_mm256_subs_epu8(va, vb), _mm256_subs_epu8(vb, va));
    const __m256i lo = _mm256_unpacklo_epi8(diff, zero);
    const __m256i hi = _mm256_unpackhi_epi8(diff, zero);
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(lo, lo));
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(hi, hi));
  }
  uint32_t sum = HorizontalSumEpi32(acc);
  for (; i < dim; ++i) {
    const int32_t d = static_cast<int32_t>(a[i]) - static_cast<int32_t>(b[i]);
    sum += static_cast<uint32_t>(d * d);
  }
  return sum;
}

uint32_t DotU8(const uint8_t* a, const uint8_t* b, size_t dim) noexcept {
  const __m256i zero = _mm256_setzero_si256();
  __m256i acc = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    const __m256i va = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i));
    const __m256i vb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i));
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_unpacklo_epi8(va, zero), _mm256_unpacklo_epi8(vb, zero)));
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_unpackhi_epi8(va, zero), _mm256_unpackhi_epi8(vb, zero)));
  }
  uint32_t sum = HorizontalSumEpi32(acc);
  for (; i < dim; ++i) sum += static_cast<uint32_t>(a[i]) * b[i];
  return sum;
}

}  // namespace

namespace internal {
const DistanceFns kAvx2Fns = {L2Sqr, InnerProduct, Cosine, L2SqrBatch, InnerProductBatch, L2SqrU8, DotU8};
}  // namespace internal

}  // namespace tessera::simd
