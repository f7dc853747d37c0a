#include "bench/cpu_affinity.h"

#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

namespace tessera::bench {

std::vector<int> CpuRange(int first, int last) {
  std::vector<int> cpus;
  for (int c = first; c < last; ++c) cpus.push_back(c);
  return cpus;
}

Status PinProcess(pid_t pid, const std::vector<int>& cpus) {
  if (cpus.empty()) return Status::InvalidArgument("no CPUs to pin to");
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus) CPU_SET(c, &set);
  if (pid == 0) pid = getpid();
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(tasks, ec)) {
    const pid_t tid = static_cast<pid_t>(std::stol(entry.path().filename().string()));
    // A thread that exited meanwhile (ESRCH) needs no pinning.
    if (sched_setaffinity(tid, sizeof(set), &set) != 0 && errno != ESRCH) {
      return Status::Internal("sched_setaffinity of thread " + std::to_string(tid) + " of process " +
                              std::to_string(pid) + ": " + std::strerror(errno));
    }
  }
  if (ec) return Status::Internal("listing " + tasks.string() + ": " + ec.message());
  return Status::OK();
}

}  // namespace tessera::bench
