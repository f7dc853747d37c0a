#include "common/crash_point.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <string>

namespace tessera::crash_point {
namespace internal {

bool armed = false;

namespace {
Site target_site = Site::kWalAfterWriteBeforeSync;
uint64_t target_hit = 0;
std::atomic<uint64_t> hits{0};
}  // namespace

void Reached(Site site) {
  if (site != target_site) return;
  const uint64_t hit = hits.fetch_add(1) + 1;
  if (hit != target_hit) return;
  const std::string line = "crash point " + std::string(kSiteNames[static_cast<size_t>(site)]) + " hit (" +
                           std::to_string(hit) + ")\n";
  // write(2), not the logger: nothing buffered may be needed to tell this death apart.
  [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, line.data(), line.size());
  ::kill(::getpid(), SIGKILL);
  ::_exit(137);  // not reached
}

}  // namespace internal

Status InitFromEnvironment() {
  const char* env = std::getenv("TESSERA_CRASHPOINT");
  if (env == nullptr || *env == '\0') return Status::OK();
  const std::string_view value(env);
  std::string known;
  for (std::string_view name : kSiteNames) known += (known.empty() ? "" : ", ") + std::string(name);
  const Status bad = Status::InvalidArgument("TESSERA_CRASHPOINT must be <site>:<n> with n >= 1 and a site among " +
                                             known + "; got '" + std::string(value) + "'");
  const size_t colon = value.rfind(':');
  if (colon == std::string_view::npos) return bad;
  const std::string_view name = value.substr(0, colon);
  const std::string_view count = value.substr(colon + 1);
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), n);
  if (ec != std::errc() || end != count.data() + count.size() || n == 0) return bad;
  for (size_t i = 0; i < kSiteNames.size(); ++i) {
    if (kSiteNames[i] != name) continue;
    internal::target_site = static_cast<Site>(i);
    internal::target_hit = n;
    internal::armed = true;
    return Status::OK();
  }
  return bad;
}

}  // namespace tessera::crash_point
