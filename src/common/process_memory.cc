#include "common/process_memory.h"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <utility>

namespace tessera {
namespace {

/// The first line of `path` as a byte count; 0 when it is missing, "max" or not a number.
uint64_t ReadLimitFile(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text == "max") return 0;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return 0;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

/// The smaller non-zero of `a` and `b` (0 = no limit).
uint64_t Tighter(uint64_t a, uint64_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return std::min(a, b);
}

/// The limits of the cgroup `path` (as /proc/self/cgroup names it) and its ancestors,
/// under the hierarchy mounted at `mount`, reading `file` in each.
uint64_t CgroupLimit(const std::string& mount, std::string path, const std::string& file) {
  uint64_t limit = 0;
  while (true) {
    limit = Tighter(limit, ReadLimitFile(mount + (path == "/" ? "" : path) + "/" + file));
    if (path.empty() || path == "/") break;
    const size_t slash = path.rfind('/');
    path = slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
  }
  return limit;
}

uint64_t CgroupMemoryLimit() {
  std::ifstream cgroups("/proc/self/cgroup");
  std::string line;
  uint64_t limit = 0;
  // v1 reports "no limit" as a number near 2^63; anything above the physical memory
  // limits nothing, and the caller takes the minimum with it.
  while (std::getline(cgroups, line)) {
    const size_t first = line.find(':');
    const size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (controllers.empty()) {
      limit = Tighter(limit, CgroupLimit("/sys/fs/cgroup", path, "memory.max"));
    } else if (("," + controllers + ",").find(",memory,") != std::string::npos) {
      // Without a cgroup namespace the process's own group may not be visible under the
      // mount; its nearest visible ancestor (at worst the root) still bounds it.
      limit = Tighter(limit, CgroupLimit("/sys/fs/cgroup/memory", path, "memory.limit_in_bytes"));
    }
  }
  return limit;
}

}  // namespace

uint64_t ResidentMemoryBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t pages_total = 0, pages_resident = 0;
  if (!(statm >> pages_total >> pages_resident)) return 0;
  return pages_resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

uint64_t MemoryAvailableToProcess() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGESIZE);
  const uint64_t physical =
      pages > 0 && page_size > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size) : 0;
  return Tighter(physical, CgroupMemoryLimit());
}

void ReleaseFreeMemoryToKernel() { malloc_trim(0); }

std::string HumanBytes(uint64_t bytes) {
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  // Round first: 1023.96 MiB reads as "1.0 GiB", not "1024.0 MiB".
  for (value /= 1024; value >= 1023.95 && unit + 1 < std::size(kUnits); value /= 1024) ++unit;
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f %s", value, kUnits[unit]);
  return text;
}

MemoryWatermark::MemoryWatermark(uint64_t limit, std::string setting, std::chrono::milliseconds interval)
    : limit_(limit), setting_(std::move(setting)), interval_(interval) {}

Status MemoryWatermark::Check() {
  if (limit_ == 0) return Status::OK();
  std::lock_guard<std::mutex> l(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (measured_at_ == std::chrono::steady_clock::time_point() || now - measured_at_ >= interval_) {
    measured_at_ = now;
    in_use_ = ResidentMemoryBytes();
    if (in_use_ > limit_) {
      ReleaseFreeMemoryToKernel();
      in_use_ = ResidentMemoryBytes();
    }
  }
  if (in_use_ <= limit_) return Status::OK();
  return Status::ResourceExhausted("memory quota exceeded: the process uses " + HumanBytes(in_use_) +
                                   ", above its limit of " + HumanBytes(limit_) + " (" + setting_ +
                                   "); writes are refused until it is below (searches, queries and deletes go on)");
}

}  // namespace tessera
