#pragma once

// What this process uses of the machine's memory, and how much it may use at most.

#include <cstdint>
#include <string>

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

}  // namespace tessera
