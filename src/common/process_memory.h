#pragma once

// What this process uses of the machine's memory, and how much it may use at most.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "common/status.h"

namespace tessera {

/// Resident set size of this process in bytes (from /proc/self/statm); 0 if unknown.
uint64_t ResidentMemoryBytes();

/// The memory this process may use before the kernel's OOM killer steps in: the smallest
/// of the physical memory and the memory limits of the process's cgroup and its ancestors
/// (cgroup v2 `memory.max`, or v1 `memory.limit_in_bytes`). 0 if none can be read.
uint64_t MemoryAvailableToProcess();

/// Gives memory freed by the allocator back to the kernel (glibc's malloc_trim), so that
/// the resident size measures what is in use. Costs a walk over the heap: call it only
/// before a decision that depends on the resident size.
void ReleaseFreeMemoryToKernel();

/// "1.5 GiB", "310.2 MiB", "512 B": a byte count for messages.
std::string HumanBytes(uint64_t bytes);

/// Whether the process is above a memory limit, cheap enough to ask on every write: the
/// resident size is read at most once per `interval`, and a reading above the limit first
/// gives freed heap memory back to the kernel and reads again. Thread-safe.
class MemoryWatermark {
 public:
  /// `limit` 0 = never above. `setting` names the limit's configuration key in messages.
  MemoryWatermark(uint64_t limit, std::string setting,
                  std::chrono::milliseconds interval = std::chrono::milliseconds(100));

  /// OK below the limit; else ResourceExhausted "memory quota exceeded: ..." naming the
  /// use, the limit and the setting.
  Status Check();

 private:
  const uint64_t limit_;
  const std::string setting_;
  const std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point measured_at_;  // guarded by mu_
  uint64_t in_use_ = 0;                                // guarded by mu_
};

}  // namespace tessera
