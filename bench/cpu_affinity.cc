#include "bench/cpu_affinity.h"

#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
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

Result<double> ProcessCpuSeconds(pid_t pid) {
  if (pid == 0) pid = getpid();
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return Status::Unavailable("cannot read " + path);
  // Fields after the command name, which is in parentheses and may hold spaces: state is
  // field 3, utime and stime (clock ticks) fields 14 and 15.
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return Status::Internal("unexpected format of " + path);
  std::istringstream fields(line.substr(close + 2));
  std::string skip;
  for (int field = 3; field < 14; ++field) fields >> skip;
  unsigned long long user = 0, system = 0;
  if (!(fields >> user >> system)) return Status::Internal("unexpected format of " + path);
  return static_cast<double>(user + system) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace tessera::bench
