// Reliability test plan 2.6, slow disk: the standalone runs with the fault file layer
// (tests/harness/fault_fs_preload.cc) adding 200 ms to every fsync/fdatasync under its
// data directory (WAL group commits, segment and index objects, the metadata store), while
// writers insert and segments seal, flush and get indexed. Every insert must still be
// answered, each within a bound (backpressure, not a stall), Strong search keeps working,
// and every acknowledged row is there exactly once (no write applied twice).

#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness/standalone_process.h"
#include "integration/ledger.h"
#include "integration/test_util.h"

namespace tessera::testing {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kSyncDelayMs = 200;

TEST(SlowDiskTest, InsertsAreAnsweredWithinABoundAndAppliedOnce) {
  ScratchDir dir("tessera_slow_disk");
  auto env = FastSealEnv();
  env["LD_PRELOAD"] = TESSERA_FAULT_FS_LIB;
  env["TESSERA_FAULT_FS_ROOT"] = dir.Sub("data");
  env["TESSERA_FAULT_FS_SYNC_DELAY"] = std::to_string(kSyncDelayMs);
  auto server = StandaloneProcess::Start(dir.Sub("data"), env);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const int port = (*server)->port();
  RestClient client("127.0.0.1", port);
  auto created = Clock::now();
  MustCall(client, "collections/create", {{"collectionName", "slow"}, {"dimension", 8}, {"metricType", "L2"}});
  // The layer really slows syncs down: creating a collection commits metadata more than once.
  EXPECT_GE(Clock::now() - created, std::chrono::milliseconds(kSyncDelayMs)) << "the sync delay is not in effect";

  std::mutex mu;
  std::set<int64_t> acked;
  std::vector<double> latencies_s;
  std::vector<std::string> errors;
  std::atomic<int64_t> next_id{1};
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&] {
      RestClient writer("127.0.0.1", port);
      while (!stop.load()) {
        json rows = json::array();
        std::vector<int64_t> ids;
        for (int i = 0; i < 10; ++i) {
          ids.push_back(next_id.fetch_add(1));
          rows.push_back(Row(ids.back()));
        }
        const auto start = Clock::now();
        auto r = writer.Call("entities/insert", {{"collectionName", "slow"}, {"data", rows}});
        const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        std::lock_guard lock(mu);
        latencies_s.push_back(seconds);
        if (r.ok() && r->value("code", -1) == 0) {
          acked.insert(ids.begin(), ids.end());
        } else {
          errors.push_back(r.ok() ? r->dump() : r.status().ToString());
        }
      }
    });
  }
  // Strong searches meanwhile: each waits for the slow WAL and must still answer.
  int searches = 0;
  const auto until = Clock::now() + std::chrono::seconds(6);
  while (Clock::now() < until) {
    MustCall(client, "entities/search", {{"collectionName", "slow"}, {"data", {RowVector(1)}}, {"limit", 3},
                                           {"consistencyLevel", "Strong"}});
    ++searches;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  stop = true;
  for (auto& t : writers) t.join();

  EXPECT_TRUE(errors.empty()) << errors.size() << " inserts failed; first: " << errors.front();
  ASSERT_GT(latencies_s.size(), 20u) << "too few inserts to mean anything";
  std::sort(latencies_s.begin(), latencies_s.end());
  const double p50 = latencies_s[latencies_s.size() / 2];
  const double p99 = latencies_s[latencies_s.size() * 99 / 100];
  printf("slow disk (+%d ms per sync): %zu inserts, p50 %.3f s, p99 %.3f s, %d Strong searches\n", kSyncDelayMs,
         latencies_s.size(), p50, p99, searches);
  // A group commit costs one delayed sync; queueing behind one more, and a metadata commit
  // now and then, stay far below this bound. A stall (a lock held across a flush's many
  // syncs) would not.
  EXPECT_LT(p99, 5.0) << "p50 " << p50 << " s, p99 " << p99 << " s over " << latencies_s.size() << " inserts";
  EXPECT_GE(p50, kSyncDelayMs / 1000.0) << "an insert was acknowledged without waiting for its sync";
  EXPECT_GT(searches, 5);

  const std::vector<int64_t> ids = AllIds(client, "slow");
  std::set<int64_t> seen;
  for (int64_t id : ids) EXPECT_TRUE(seen.insert(id).second) << "id " << id << " applied twice";
  for (int64_t id : acked) EXPECT_TRUE(seen.contains(id)) << "acknowledged id " << id << " missing";
  EXPECT_EQ(seen.size(), acked.size()) << "rows visible that no acknowledged insert wrote";
  auto health = client.Send("GET", "/healthz", "");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200) << health->body;
}

// server.shutdown_timeout bounds the whole shutdown, the final flushes included: with every
// sync 200 ms slow, flushing four collections takes far longer than the 1 s allowed, so the
// process ends at the deadline (exit 1), and the restart replays the WAL: nothing is lost.
TEST(SlowDiskTest, ShutdownEndsWithinItsTimeoutAndLosesNothing) {
  ScratchDir dir("tessera_slow_shutdown");
  std::map<std::string, std::string> env = {{"TESSERA_DATANODE_SEAL_IDLE_TIME", "1h"},
                                            {"TESSERA_SERVER_SHUTDOWN_TIMEOUT", "1s"},
                                            {"LD_PRELOAD", TESSERA_FAULT_FS_LIB},
                                            {"TESSERA_FAULT_FS_ROOT", dir.Sub("data")},
                                            {"TESSERA_FAULT_FS_SYNC_DELAY", std::to_string(kSyncDelayMs)}};
  auto server = StandaloneProcess::Start(dir.Sub("data"), env);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  RestClient client("127.0.0.1", (*server)->port());
  constexpr int kCollections = 4;
  for (int c = 0; c < kCollections; ++c) {
    const std::string name = "slow" + std::to_string(c);
    MustCall(client, "collections/create", {{"collectionName", name}, {"dimension", 8}, {"metricType", "L2"}});
    json rows = json::array();
    for (int64_t id = 1; id <= 50; ++id) rows.push_back(Row(id));
    MustCall(client, "entities/insert", {{"collectionName", name}, {"data", rows}});
  }
  const auto start = Clock::now();
  auto code = (*server)->Terminate(std::chrono::seconds(60));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 1) << "the flushes cannot finish in 1 s";
  EXPECT_LT(seconds, 5.0) << "the shutdown ran past server.shutdown_timeout";
  server->reset();

  auto again = StandaloneProcess::Start(dir.Sub("data"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  RestClient after("127.0.0.1", (*again)->port());
  for (int c = 0; c < kCollections; ++c) {
    json count = MustCall(after, "entities/query", {{"collectionName", "slow" + std::to_string(c)},
                                                    {"outputFields", {"count(*)"}}, {"consistencyLevel", "Strong"}});
    EXPECT_EQ(count["data"][0]["count(*)"], 50) << count.dump();
  }
}

// Shutdown with server.drain_delay (not a slow-disk case, but the same shutdown path):
// /readyz turns 503 at once so a load balancer stops sending, requests are still answered
// for the delay, then the server stops cleanly (exit 0). A delay not shorter than
// server.shutdown_timeout, which it is part of, stops start-up.
TEST(DrainTest, ReadyzAnswers503WhileRequestsAreStillServed) {
  ScratchDir dir("tessera_drain");
  auto refused = StandaloneProcess::Start(dir.Sub("refused"), {{"TESSERA_SERVER_DRAIN_DELAY", "5s"},
                                                               {"TESSERA_SERVER_SHUTDOWN_TIMEOUT", "5s"}});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("server.drain_delay"), std::string::npos) << refused.status().ToString();

  auto server = StandaloneProcess::Start(dir.Sub("data"), {{"TESSERA_SERVER_DRAIN_DELAY", "3s"}});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  RestClient client("127.0.0.1", (*server)->port());
  MustCall(client, "collections/create", {{"collectionName", "d"}, {"dimension", 8}, {"metricType", "L2"}});
  MustCall(client, "entities/insert", {{"collectionName", "d"}, {"data", json::array({Row(1), Row(2)})}});
  const auto start = Clock::now();
  (*server)->process().Signal(SIGTERM);
  bool saw_503 = false;
  while (!saw_503 && Clock::now() - start < std::chrono::seconds(2)) {
    auto ready = client.Send("GET", "/readyz", "");
    saw_503 = ready.ok() && ready->status == 503;
    if (!saw_503) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(saw_503) << "/readyz did not turn 503 after SIGTERM";
  // Still serving: liveness, and a Strong read of what was written.
  EXPECT_EQ(client.Send("GET", "/healthz", "")->status, 200);
  json count = MustCall(client, "entities/query",
                        {{"collectionName", "d"}, {"outputFields", {"count(*)"}}, {"consistencyLevel", "Strong"}});
  EXPECT_EQ(count["data"][0]["count(*)"], 2) << count.dump();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3)) << "the checks above ran past the drain delay";
  auto code = (*server)->process().Wait(std::chrono::seconds(60));
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 0) << (*server)->LogTail();
  EXPECT_GE(Clock::now() - start, std::chrono::seconds(3)) << "the listener closed before the drain delay ended";
}

}  // namespace
}  // namespace tessera::testing
