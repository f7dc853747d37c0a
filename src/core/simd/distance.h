#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tessera::simd {

/// Instruction-set levels with a compiled kernel set, lowest first.
enum class Level : uint8_t { kScalar = 0, kAvx2 = 1, kAvx512 = 2, kAvx512Vnni = 3 };

std::string_view LevelName(Level level);

/// One kernel set. Every pointer is non-null; every function is thread-safe and pure.
/// Vectors are `dim` float32 values; no alignment is required (aligned is faster).
struct DistanceFns {
  /// Squared Euclidean distance sum((a_i - b_i)^2).
  float (*l2_sqr)(const float* a, const float* b, size_t dim) noexcept;
  /// Inner product sum(a_i * b_i).
  float (*inner_product)(const float* a, const float* b, size_t dim) noexcept;
  /// Cosine similarity ip(a,b) / (|a| |b|); 0 when either vector has zero norm.
  float (*cosine)(const float* a, const float* b, size_t dim) noexcept;
  /// out[i] = l2_sqr(query, base + i*dim) for i in [0, n): one query against a
  /// contiguous row-major block (the FLAT scan).
  void (*l2_sqr_batch)(const float* query, const float* base, size_t n, size_t dim,
                       float* out) noexcept;
  /// out[i] = inner_product(query, base + i*dim).
  void (*inner_product_batch)(const float* query, const float* base, size_t n, size_t dim,
                              float* out) noexcept;
  /// sum((a_i - b_i)^2) over uint8 codes (scalar-quantised vectors). Exact in integers;
  /// cannot overflow for dim <= 66051.
  uint32_t (*l2_sqr_u8)(const uint8_t* a, const uint8_t* b, size_t dim) noexcept;
  /// sum(a_i * b_i) over uint8 codes. Exact; cannot overflow for dim <= 66051.
  uint32_t (*dot_u8)(const uint8_t* a, const uint8_t* b, size_t dim) noexcept;
};

/// The kernels in use: chosen once, on first call, as the highest level the CPU supports
/// (CPUID), capped by the environment variable TESSERA_SIMD_LEVEL (scalar, avx2, avx512,
/// avx512_vnni)
/// when set. Thread-safe.
const DistanceFns& Active();
Level ActiveLevel();

/// The kernels of one level, or nullptr when this CPU cannot run them. For tests and
/// benchmarks that compare levels.
const DistanceFns* ForLevel(Level level);

/// Highest level this CPU supports, ignoring the environment variable.
Level DetectCpuLevel();

namespace internal {
// One definition per ISA translation unit (scalar.cc, avx2.cc, avx512.cc).
extern const DistanceFns kScalarFns;
extern const DistanceFns kAvx2Fns;
extern const DistanceFns kAvx512Fns;
// The VNNI level is the AVX-512 set with this uint8 dot product.
extern uint32_t (*const kAvx512VnniDotU8)(const uint8_t*, const uint8_t*, size_t) noexcept;
}  // namespace internal

}  // namespace tessera::simd
