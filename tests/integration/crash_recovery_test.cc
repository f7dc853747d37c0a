// kill -9 at random moments under concurrent insert and delete load, then restart on the
// same data directory: every acknowledged write is there exactly once, nothing
// unacknowledged appears, DDL survives, loaded collections come back loaded, and built
// indexes are loaded from their files rather than rebuilt; killed again and again during
// recovery, it still converges.

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <random>
#include <thread>

#include "harness/standalone_process.h"
#include "integration/ledger.h"
#include "integration/test_util.h"

namespace tessera::testing {
namespace {

using nlohmann::json;

TEST(CrashRecoveryTest, KillNineUnderLoadLosesNothingAcknowledged) {
  ScratchDir dir("tessera_crash");
  auto server = StandaloneProcess::Start(dir.Sub("data"), FastSealEnv());
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  {
    RestClient client("127.0.0.1", (*server)->port());
    MustCall(client, "collections/create", {{"collectionName", "crash"}, {"dimension", 8}, {"metricType", "L2"}});
  }
  RunCrashRounds(**server, "crash", 6, 12345, [&] { (*server)->Kill(); });
}

TEST(CrashRecoveryTest, BuiltIndexesAreLoadedNotRebuiltAfterKill) {
  ScratchDir dir("tessera_crash_index");
  auto server = StandaloneProcess::Start(dir.Sub("data"), FastSealEnv());
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  RestClient client("127.0.0.1", (*server)->port());
  MustCall(client, "collections/create", {{"collectionName", "idx"}, {"dimension", 8}, {"metricType", "L2"}});
  json rows = json::array();
  for (int64_t id = 1; id <= 500; ++id) rows.push_back(Row(id));
  MustCall(client, "entities/insert", {{"collectionName", "idx"}, {"data", rows}});
  MustCall(client, "collections/flush", {{"collectionName", "idx"}});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    auto d = MustCall(client, "indexes/describe", {{"collectionName", "idx"}, {"indexName", "vector"}});
    if (d["data"][0]["indexState"] == "Finished" && d["data"][0]["pendingRows"] == 0) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << d.dump();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  (*server)->Kill();
  ASSERT_EQ((*server)->Restart().ToString(), "OK");  // on failure: the reason and the log tail
  RestClient after("127.0.0.1", (*server)->port());
  auto s = MustCall(after, "entities/search",
                    {{"collectionName", "idx"}, {"data", {RowVector(42)}}, {"limit", 1},
                     {"consistencyLevel", "Strong"}});
  ASSERT_EQ(s["data"][0]["id"], 42) << s.dump();
  auto metrics = after.Send("GET", "/metrics", "");
  ASSERT_TRUE(metrics.ok());
  auto built = MetricValue(metrics->body, "tessera_indexnode_builds_total{result=\"ok\"}");
  ASSERT_TRUE(built.has_value()) << "the index build counter is not exported";
  EXPECT_EQ(*built, 0) << "an index was rebuilt after the restart";
}

// Reliability test plan 1.3: killed again and again while it recovers, the server still
// converges, loses nothing and does not grow its state with every loop.
TEST(CrashRecoveryTest, CrashLoopDuringRecoveryConverges) {
  ScratchDir dir("tessera_crash_loop");
  auto server = StandaloneProcess::Start(dir.Sub("data"), FastSealEnv());
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  Ledger ledger;
  {
    RestClient client("127.0.0.1", (*server)->port());
    MustCall(client, "collections/create", {{"collectionName", "loop"}, {"dimension", 8}, {"metricType", "L2"}});
    WriteFor((*server)->port(), "loop", std::chrono::milliseconds(1500), &ledger);
    MustCall(client, "collections/flush", {{"collectionName", "loop"}});
  }
  auto segments = [&]() -> std::optional<double> {
    RestClient client("127.0.0.1", (*server)->port());
    auto metrics = client.Send("GET", "/metrics", "");
    if (!metrics.ok()) return std::nullopt;
    return MetricValue(metrics->body, "tessera_coord_segments{state=\"flushed\"}");
  };
  ASSERT_EQ((*server)->Restart().ToString(), "OK");  // on failure: the reason and the log tail
  const std::optional<double> before = segments();
  ASSERT_TRUE(before.has_value() && *before > 0) << "no flushed segment to recover";

  std::mt19937 rng(4242);
  for (int loop = 0; loop < 10; ++loop) {
    ASSERT_TRUE((*server)->RestartWithoutWaiting().ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 400));  // mid-recovery, mostly
  }
  ASSERT_EQ((*server)->Restart().ToString(), "OK");  // on failure: the reason and the log tail
  CheckRecovered(**server, "loop", ledger, "after 10 kills during recovery");
  EXPECT_EQ(segments(), before) << "the segment count changed across crash loops with no writes";
  EXPECT_GT(ledger.acked.size(), 100u);
}

}  // namespace
}  // namespace tessera::testing
