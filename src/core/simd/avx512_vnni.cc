// AVX-512 VNNI kernels: the uint8 dot product with vpdpbusd (u8 x s8 -> s32, four products
// per lane per instruction). Compiled with -mavx512f -mavx512bw -mavx512vnni; the other
// kernels of this level come from avx512.cc (see dispatch.cc).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12 header issue, see avx512.cc
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "core/simd/distance.h"

namespace tessera::simd {
namespace {

// vpdpbusd multiplies unsigned by signed bytes. Flipping the top bit of b turns it into the
// signed value b - 128, so sum(a * (b ^ 0x80)) = sum(a*b) - 128 * sum(a); a second vpdpbusd
// against all-ones gives sum(a) for the correction. Exact for dim <= 66051.
uint32_t DotU8(const uint8_t* a, const uint8_t* b, size_t dim) noexcept {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  const __m512i ones = _mm512_set1_epi8(1);
  __m512i dot = _mm512_setzero_si512();
  __m512i sum_a = _mm512_setzero_si512();
  for (size_t i = 0; i < dim; i += 64) {
    const size_t left = dim - i;
    const __mmask64 m = left >= 64 ? ~__mmask64{0} : ((__mmask64{1} << left) - 1);
    const __m512i va = _mm512_maskz_loadu_epi8(m, a + i);
    // Masked-off lanes of b become -128 after the flip, but a is 0 there: they add nothing.
    const __m512i vb = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, b + i), flip);
    dot = _mm512_dpbusd_epi32(dot, va, vb);
    sum_a = _mm512_dpbusd_epi32(sum_a, va, ones);
  }
  const int64_t signed_dot = _mm512_reduce_add_epi32(dot);
  const int64_t total_a = _mm512_reduce_add_epi32(sum_a);
  return static_cast<uint32_t>(signed_dot + 128 * total_a);
}

}  // namespace

namespace internal {
uint32_t (*const kAvx512VnniDotU8)(const uint8_t*, const uint8_t*, size_t) noexcept = DotU8;
}  // namespace internal

}  // namespace tessera::simd

#pragma GCC diagnostic pop
