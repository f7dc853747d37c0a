#include "bench/concurrent.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>
#include <vector>

namespace tessera::bench {

Result<Timing> RunConcurrently(size_t workers, size_t n, const std::function<Status(size_t worker, size_t item)>& fn) {
  using Clock = std::chrono::steady_clock;
  if (workers == 0 || n == 0) return Status::InvalidArgument("RunConcurrently needs workers > 0 and items > 0");
  std::vector<double> latency_ms(n);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mu;
  Status first_error;
  auto work = [&](size_t worker) {
    for (size_t item; !failed && (item = next.fetch_add(1)) < n;) {
      const auto start = Clock::now();
      Status s = fn(worker, item);
      latency_ms[item] = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      if (!s.ok()) {
        std::lock_guard lock(error_mu);
        if (!failed) first_error = s.WithContext("item " + std::to_string(item));
        failed = true;
      }
    }
  };
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (size_t w = 1; w < workers; ++w) threads.emplace_back(work, w);
  work(0);
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (failed) return first_error;
  return TimingOf(std::move(latency_ms), seconds);
}

Timing TimingOf(std::vector<double> latency_ms, double seconds) {
  Timing timing;
  const size_t n = latency_ms.size();
  timing.calls = n;
  timing.seconds = seconds;
  if (n == 0) return timing;
  std::sort(latency_ms.begin(), latency_ms.end());
  timing.per_second = static_cast<double>(n) / seconds;
  timing.p50_ms = latency_ms[n / 2];
  timing.p99_ms = latency_ms[std::min(n - 1, n * 99 / 100)];
  return timing;
}

size_t PassesFor(const Timing& pass, double min_seconds) {
  const double passes = std::ceil(min_seconds / std::max(pass.seconds, 1e-6));
  return static_cast<size_t>(std::clamp(passes, 1.0, 1e6));
}

}  // namespace tessera::bench
