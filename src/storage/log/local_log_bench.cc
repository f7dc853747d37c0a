// local_log_bench: LocalLog append throughput with 1, 8 and 64 concurrent appenders of
// 1 KiB records (one record per Append), plus fdatasyncs per second and the mean group size.
// With --nats=URL the same measurement runs against NatsLog on that JetStream server (fsync
// columns are not applicable there and print 0).
//
//   local_log_bench [--dir=/tmp/local_log_bench] [--seconds=3] [--record_bytes=1024]
//                   [--appenders=1,8,64] [--nats=nats://127.0.0.1:4222]
//
// A figures tool, not a test. Each configuration runs on a fresh directory (LocalLog) or a
// fresh channel that is deleted afterwards (NatsLog).

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <unistd.h>

#include "storage/log/local_log.h"
#include "storage/log/nats_log.h"

namespace {

using tessera::storage::LocalLog;
using tessera::storage::LocalLogStats;
using tessera::storage::Log;
using tessera::storage::NatsLog;
using tessera::storage::NatsLogOptions;

bool Flag(std::string_view arg, std::string_view name, std::string* value) {
  const std::string prefix = "--" + std::string(name) + "=";
  if (!arg.starts_with(prefix)) return false;
  *value = std::string(arg.substr(prefix.size()));
  return true;
}

int Run(int argc, char** argv) {
  std::string dir = "/tmp/local_log_bench";
  double seconds = 3;
  size_t record_bytes = 1024;
  std::vector<int> appenders = {1, 8, 64};
  std::string nats_url;
  for (int i = 1; i < argc; ++i) {
    std::string v;
    if (Flag(argv[i], "dir", &v)) {
      dir = v;
    } else if (Flag(argv[i], "nats", &v)) {
      nats_url = v;
    } else if (Flag(argv[i], "seconds", &v)) {
      seconds = std::atof(v.c_str());
    } else if (Flag(argv[i], "record_bytes", &v)) {
      record_bytes = static_cast<size_t>(std::atoll(v.c_str()));
    } else if (Flag(argv[i], "appenders", &v)) {
      appenders.clear();
      for (size_t pos = 0; pos <= v.size();) {
        const size_t comma = std::min(v.find(',', pos), v.size());
        appenders.push_back(std::atoi(v.substr(pos, comma - pos).c_str()));
        pos = comma + 1;
      }
    } else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }

  std::printf("%-9s %12s %10s %10s %12s %12s\n", "appenders", "records/s", "MB/s", "fsyncs/s", "records/fsync",
              "mean_us");
  for (int n : appenders) {
    std::unique_ptr<Log> log;
    LocalLog* local = nullptr;
    NatsLog* nats = nullptr;
    if (nats_url.empty()) {
      std::filesystem::remove_all(dir);
      auto opened = LocalLog::Open(dir);
      if (!opened.ok()) {
        std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
        return 1;
      }
      local = opened->get();
      log = std::move(opened).value();
    } else {
      NatsLogOptions options;
      options.url = nats_url;
      options.stream_prefix = "TESSERA_BENCH_" + std::to_string(::getpid()) + "_";
      auto opened = NatsLog::Open(options);
      if (!opened.ok()) {
        std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
        return 1;
      }
      nats = opened->get();
      log = std::move(opened).value();
      (void)nats->DeleteChannel("bench");
    }
    const std::vector<std::string> record(1, std::string(record_bytes, 'r'));
    std::atomic<bool> stop{false};
    std::atomic<bool> failed{false};
    std::atomic<uint64_t> latency_ns{0};
    std::atomic<uint64_t> done{0};
    // Warm-up: creates the channel and its first segment outside the timed window.
    if (!log->Append("bench", record).ok()) return 1;
    const LocalLogStats before = local != nullptr ? local->stats() : LocalLogStats{};
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < n; ++t) {
      threads.emplace_back([&] {
        while (!stop.load(std::memory_order_relaxed)) {
          const auto t0 = std::chrono::steady_clock::now();
          if (!log->Append("bench", record).ok()) failed = true;
          latency_ns += static_cast<uint64_t>(
              std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
          ++done;
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto& th : threads) th.join();
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    LocalLogStats after = local != nullptr ? local->stats() : LocalLogStats{};
    if (local == nullptr) {  // NatsLog keeps no stats: count completed appends
      after.records = done.load();
      after.payload_bytes = done.load() * record_bytes;
    }
    if (failed) {
      std::fprintf(stderr, "an append failed\n");
      return 1;
    }
    const double records = static_cast<double>(after.records - before.records);
    const double syncs = static_cast<double>(after.syncs - before.syncs);
    std::printf("%-9d %12.0f %10.2f %10.0f %12.2f %12.0f\n", n, records / elapsed,
                static_cast<double>(after.payload_bytes - before.payload_bytes) / elapsed / 1e6, syncs / elapsed,
                syncs > 0 ? records / syncs : 0.0,
                done > 0 ? static_cast<double>(latency_ns.load()) / static_cast<double>(done.load()) / 1e3 : 0.0);
    std::fflush(stdout);
    if (nats != nullptr) (void)nats->DeleteChannel("bench");
  }
  if (nats_url.empty()) std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
