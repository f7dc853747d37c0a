#include <cpuid.h>

#include <cstdlib>
#include <string>

#include "core/simd/distance.h"

namespace tessera::simd {
namespace {

uint64_t ReadXcr0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

Level CapFromEnvironment(Level cpu) {
  const char* env = std::getenv("TESSERA_SIMD_LEVEL");
  if (env == nullptr) return cpu;
  const std::string want(env);
  Level cap = cpu;
  if (want == "scalar") cap = Level::kScalar;
  else if (want == "avx2") cap = Level::kAvx2;
  else if (want == "avx512") cap = Level::kAvx512;
  else if (want == "avx512_vnni") cap = Level::kAvx512Vnni;
  return cap < cpu ? cap : cpu;  // the variable can only lower the level
}

const DistanceFns& FnsOf(Level level) {
  static const DistanceFns kAvx512VnniFns = [] {
    DistanceFns fns = internal::kAvx512Fns;
    fns.dot_u8 = internal::kAvx512VnniDotU8;
    return fns;
  }();
  switch (level) {
    case Level::kAvx512Vnni: return kAvx512VnniFns;
    case Level::kAvx512: return internal::kAvx512Fns;
    case Level::kAvx2: return internal::kAvx2Fns;
    case Level::kScalar: break;
  }
  return internal::kScalarFns;
}

}  // namespace

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kScalar: return "scalar";
    case Level::kAvx2: return "avx2";
    case Level::kAvx512: return "avx512";
    case Level::kAvx512Vnni: return "avx512_vnni";
  }
  return "unknown";
}

Level DetectCpuLevel() {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return Level::kScalar;
  const bool fma = ecx & bit_FMA;
  const bool osxsave = ecx & bit_OSXSAVE;
  if (!osxsave) return Level::kScalar;
  const uint64_t xcr0 = ReadXcr0();
  const bool ymm_state = (xcr0 & 0x6) == 0x6;
  const bool zmm_state = (xcr0 & 0xE6) == 0xE6;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return Level::kScalar;
  const bool avx2 = ebx & bit_AVX2;
  const bool avx512f = ebx & bit_AVX512F;
  const bool avx512bw = ebx & bit_AVX512BW;
  const bool avx512vnni = ecx & bit_AVX512VNNI;
  if (avx512f && avx512bw && avx512vnni && fma && zmm_state) return Level::kAvx512Vnni;
  if (avx512f && avx512bw && fma && zmm_state) return Level::kAvx512;
  if (avx2 && fma && ymm_state) return Level::kAvx2;
  return Level::kScalar;
}

Level ActiveLevel() {
  static const Level level = CapFromEnvironment(DetectCpuLevel());
  return level;
}

const DistanceFns& Active() {
  static const DistanceFns& fns = FnsOf(ActiveLevel());
  return fns;
}

const DistanceFns* ForLevel(Level level) {
  return level <= DetectCpuLevel() ? &FnsOf(level) : nullptr;
}

}  // namespace tessera::simd
