#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "common/result.h"

namespace tessera::bench {

/// Throughput and per-call latency of one concurrent run.
struct Timing {
  size_t calls = 0;     // calls made
  double seconds = 0;  // wall time of the whole run
  double per_second = 0;  // calls per second of wall time
  double p50_ms = 0;
  double p99_ms = 0;
};

/// Calls `fn(worker, item)` once for every item in [0, n) from `workers` threads (worker
/// 0..workers-1), each thread taking the next unclaimed item, and times every call.
/// A worker index lets callers give each thread its own connection or scratch. Stops at
/// the first error and returns it (with the item number). The same driver measures the
/// HTTP clients and the in-process threads, so both sides are timed identically.
Result<Timing> RunConcurrently(size_t workers, size_t n, const std::function<Status(size_t worker, size_t item)>& fn);

/// The Timing of a run of latency_ms.size() calls that took `seconds` of wall time.
Timing TimingOf(std::vector<double> latency_ms, double seconds);

/// How many passes like `pass` make a run of about `min_seconds` (at least 1).
size_t PassesFor(const Timing& pass, double min_seconds);

}  // namespace tessera::bench
