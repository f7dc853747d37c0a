// AVX-512F/BW kernels. Compiled with -mavx512f -mavx512bw -mfma (see CMakeLists.txt); only called after
// dispatch.cc has checked CPUID and OS support for the ZMM state. Tails use masked loads,
// so no scalar remainder loop is needed.
// GCC 12's AVX-512 headers use _mm512_undefined_*() in a way that trips -Wuninitialized at
// -O3 (GCC bug 105593, fixed in later releases); the warning is in the headers, not here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cmath>

#include "core/simd/distance.h"

namespace tessera::simd {
namespace {

inline __mmask16 TailMask(size_t remaining) {
  return static_cast<__mmask16>((1u << remaining) - 1u);
}

float L2Sqr(const float* a, const float* b, size_t dim) noexcept {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
    acc0 = _mm512_fmadd_ps(d0, d0, acc0);
    acc1 = _mm512_fmadd_ps(d1, d1, acc1);
  }
  for (; i + 16 <= dim; i += 16) {
    __m512 d = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    acc0 = _mm512_fmadd_ps(d, d, acc0);
  }
  if (i < dim) {
    const __mmask16 m = TailMask(dim - i);
    __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
    acc1 = _mm512_fmadd_ps(d, d, acc1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

float InnerProduct(const float* a, const float* b, size_t dim) noexcept {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
  }
  for (; i + 16 <= dim; i += 16) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
  }
  if (i < dim) {
    const __mmask16 m = TailMask(dim - i);
    acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), acc1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

float Cosine(const float* a, const float* b, size_t dim) noexcept {
  __m512 ab = _mm512_setzero_ps(), aa = _mm512_setzero_ps(), bb = _mm512_setzero_ps();
  for (size_t i = 0; i < dim; i += 16) {
    const __mmask16 m = dim - i >= 16 ? static_cast<__mmask16>(0xFFFF) : TailMask(dim - i);
    __m512 va = _mm512_maskz_loadu_ps(m, a + i), vb = _mm512_maskz_loadu_ps(m, b + i);
    ab = _mm512_fmadd_ps(va, vb, ab);
    aa = _mm512_fmadd_ps(va, va, aa);
    bb = _mm512_fmadd_ps(vb, vb, bb);
  }
  const float saa = _mm512_reduce_add_ps(aa), sbb = _mm512_reduce_add_ps(bb);
  if (saa <= 0 || sbb <= 0) return 0;
  return _mm512_reduce_add_ps(ab) / (std::sqrt(saa) * std::sqrt(sbb));
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

inline __mmask64 TailMask64(size_t remaining) {
  return remaining >= 64 ? ~__mmask64{0} : ((__mmask64{1} << remaining) - 1);
}

// 64 codes per step (AVX-512BW): |a-b| as bytes, widened to 16 bits, madd into 32-bit lanes.
// The tail is a masked load, so no scalar loop.
uint32_t L2SqrU8(const uint8_t* a, const uint8_t* b, size_t dim) noexcept {
  const __m512i zero = _mm512_setzero_si512();
  __m512i acc = _mm512_setzero_si512();
  for (size_t i = 0; i < dim; i += 64) {
    const __mmask64 m = TailMask64(dim - i);
    const __m512i va = _mm512_maskz_loadu_epi8(m, a + i);
    const __m512i vb = _mm512_maskz_loadu_epi8(m, b + i);
    const __m512i diff = _mm512_or_si512(_mm512_subs_epu8(va, vb), _mm512_subs_epu8(vb, va));
    const __m512i lo = _mm512_unpacklo_epi8(diff, zero);
    const __m512i hi = _mm512_unpackhi_epi8(diff, zero);
    acc = _mm512_add_epi32(acc, _mm512_madd_epi16(lo, lo));
    acc = _mm512_add_epi32(acc, _mm512_madd_epi16(hi, hi));
  }
  return static_cast<uint32_t>(_mm512_reduce_add_epi32(acc));
}

uint32_t DotU8(const uint8_t* a, const uint8_t* b, size_t dim) noexcept {
  const __m512i zero = _mm512_setzero_si512();
  __m512i acc = _mm512_setzero_si512();
  for (size_t i = 0; i < dim; i += 64) {
    const __mmask64 m = TailMask64(dim - i);
    const __m512i va = _mm512_maskz_loadu_epi8(m, a + i);
    const __m512i vb = _mm512_maskz_loadu_epi8(m, b + i);
    acc = _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_unpacklo_epi8(va, zero), _mm512_unpacklo_epi8(vb, zero)));
    acc = _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_unpackhi_epi8(va, zero), _mm512_unpackhi_epi8(vb, zero)));
  }
  return static_cast<uint32_t>(_mm512_reduce_add_epi32(acc));
}

}  // namespace

namespace internal {
const DistanceFns kAvx512Fns = {L2Sqr, InnerProduct, Cosine, L2SqrBatch, InnerProductBatch, L2SqrU8, DotU8};
}  // namespace internal

}  // namespace tessera::simd

#pragma GCC diagnostic pop
