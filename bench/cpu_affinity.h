#pragma once

#include <sys/types.h>

#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace tessera::bench {

/// CPUs [first, last) of this machine as a list ("the first half", "the second half").
std::vector<int> CpuRange(int first, int last);

/// Restricts every thread of process `pid` (0 = this process) to `cpus`; threads they
/// start later inherit it. Used to give the server and the load generator separate cores,
/// so the server's throughput is not taken by the client's own work.
Status PinProcess(pid_t pid, const std::vector<int>& cpus);

/// CPU time (user + system, all threads) process `pid` (0 = this process) has used so far,
/// from /proc/<pid>/stat. The difference over a run divided by its requests is the CPU a
/// request costs: a steadier figure than throughput on a shared machine.
Result<double> ProcessCpuSeconds(pid_t pid);

}  // namespace tessera::bench
