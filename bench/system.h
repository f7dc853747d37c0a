#pragma once

#include <cstddef>

namespace tessera::bench {

/// Resets the kernel's peak-RSS mark for this process (writes 5 to /proc/self/clear_refs),
/// so PeakRssBytes() afterwards measures one phase. Best effort: a no-op where unsupported.
void ResetPeakRss();
/// VmHWM of this process in bytes (0 when /proc is unavailable).
size_t PeakRssBytes();

/// Single-thread sequential read bandwidth in GB/s (1e9 bytes/s) over a buffer of `bytes`,
/// best of `repeats` passes. The reference for the FLAT scan rate: give it the size of the
/// scanned data to compare like with like (a buffer that fits in cache reads faster).
double MeasureReadBandwidth(size_t bytes, int repeats = 5);

}  // namespace tessera::bench
