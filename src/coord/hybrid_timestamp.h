// Hybrid timestamps, the clock every role shares: physical milliseconds since the Unix
// epoch << 18 | a logical counter. The coordinator's TSO hands them out (tso.h); WAL
// records, rows and deletes carry them; TTL expiry compares against them.

#ifndef TESSERA_COORD_HYBRID_TIMESTAMP_H_
#define TESSERA_COORD_HYBRID_TIMESTAMP_H_

#include <cstdint>

namespace tessera::coord {

/// Bits of a hybrid timestamp that hold the logical counter.
inline constexpr int kLogicalBits = 18;
inline constexpr uint64_t kMaxLogical = (uint64_t{1} << kLogicalBits) - 1;

inline uint64_t ComposeTimestamp(int64_t physical_ms, uint64_t logical) {
  return (static_cast<uint64_t>(physical_ms) << kLogicalBits) | logical;
}
inline int64_t PhysicalMs(uint64_t ts) { return static_cast<int64_t>(ts >> kLogicalBits); }

}  // namespace tessera::coord

#endif  // TESSERA_COORD_HYBRID_TIMESTAMP_H_
