#pragma once

// Process-wide metrics in the Prometheus text exposition format (version 0.0.4).
// Instruments are created once (by name + labels) and live as long as the registry; hot
// paths keep the returned reference and update it lock-free.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tessera::metrics {

using Labels = std::map<std::string, std::string>;

class Counter {
 public:
  void Inc(double v = 1) { value_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

/// Cumulative buckets with the given upper bounds (ascending), plus +Inf, sum and count.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  /// Per-bucket (non-cumulative) counts, bounds().size() + 1 entries; sum; count.
  void Snapshot(std::vector<uint64_t>* buckets, double* sum, uint64_t* count) const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<double> sum_{0};
  std::atomic<uint64_t> count_{0};
};

/// Latency buckets in seconds, 100 µs .. 60 s.
std::vector<double> LatencyBuckets();

/// Thread-safe. Names must match [a-zA-Z_:][a-zA-Z0-9_:]*; one name has one type and help.
class Registry {
 public:
  /// The registry /metrics renders.
  static Registry& Default();

  Counter& GetCounter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& GetGauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& GetHistogram(const std::string& name, const std::string& help, const Labels& labels = {},
                          std::vector<double> bounds = LatencyBuckets());
  /// A gauge read when rendering (queue depths, memory). Re-registering replaces it.
  void SetGaugeCallback(const std::string& name, const std::string& help, std::function<double()> read,
                        const Labels& labels = {});
  void RemoveCallback(const std::string& name, const Labels& labels = {});
  /// A counter read when rendering, for components that keep their own monotonic counts
  /// (the disk cache's hits and misses). `read` must never decrease.
  void SetCounterCallback(const std::string& name, const std::string& help, std::function<double()> read,
                          const Labels& labels = {});

  /// All families in the text format, sorted by name.
  std::string Render() const;

 private:
  struct Family {
    std::string type;  // counter, gauge, histogram
    std::string help;
    std::map<Labels, std::unique_ptr<Counter>> counters;
    std::map<Labels, std::unique_ptr<Gauge>> gauges;
    std::map<Labels, std::unique_ptr<Histogram>> histograms;
    std::map<Labels, std::function<double()>> callbacks;
  };
  Family& GetFamily(const std::string& name, const std::string& type, const std::string& help);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

}  // namespace tessera::metrics
