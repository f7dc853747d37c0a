// Every named crash site (common/crash_point.h; reliability test plan 1.5): the server runs
// with TESSERA_CRASHPOINT=<site>:<n> under insert and delete load while flushes, index
// builds, compactions, collection drops and garbage collection all happen, until the site
// kills it (SIGKILL, like kill -9). Then it restarts on the same data directory without the
// crash point: every acknowledged write is there exactly once, no acknowledged delete is
// undone, the collection is loaded, and a drop that reached its commit stays dropped.
// The whole run is done twice: once with a plain SIGKILL at the site, once under the fault
// file layer (tests/harness/fault_fs_preload.cc), which turns that SIGKILL into a power cut
// (everything not fsynced is lost too; plan 2.3 at every site).

#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/crash_point.h"
#include "harness/standalone_process.h"
#include "integration/ledger.h"
#include "integration/test_util.h"

namespace tessera::testing {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Everything the sites sit on happens within a second or two: FastSealEnv's small
// segments, plus compaction every 500 ms and GC every 200 ms of files unreferenced for 2 s.
std::map<std::string, std::string> BusyEnv() {
  std::map<std::string, std::string> env = FastSealEnv();
  env["TESSERA_COORD_COMPACTION_INTERVAL"] = "500ms";
  env["TESSERA_COORD_GC_INTERVAL"] = "200ms";
  env["TESSERA_COORD_GC_GRACE_PERIOD"] = "2s";
  return env;
}

// Flushes and compacts the main collection, and creates, fills, flushes and drops scratch
// collections, in a loop until `stop`; every answer is ignored (the server may be dying).
void RunChurn(int port, std::atomic<bool>* stop, std::atomic<int>* scratch_seq) {
  RestClient client("127.0.0.1", port);
  while (!stop->load()) {
    (void)client.Call("collections/flush", {{"collectionName", "points"}});
    (void)client.Call("collections/compact", {{"collectionName", "points"}});
    const std::string scratch = "scratch_" + std::to_string(scratch_seq->fetch_add(1));
    (void)client.Call("collections/create", {{"collectionName", scratch}, {"dimension", 8}});
    json rows = json::array();
    for (int64_t id = 1; id <= 5; ++id) rows.push_back(Row(id));
    (void)client.Call("entities/insert", {{"collectionName", scratch}, {"data", rows}});
    (void)client.Call("collections/flush", {{"collectionName", scratch}});
    (void)client.Call("collections/drop", {{"collectionName", scratch}});
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// The parameter: false for a plain SIGKILL at the site, true for a power cut there.
class CrashPointsTest : public ::testing::TestWithParam<bool> {};

TEST_P(CrashPointsTest, EverySiteRecoversWithNothingAcknowledgedLost) {
  const bool power_cut = GetParam();
  ScratchDir dir("tessera_crash_points");
  auto env = BusyEnv();
  if (power_cut) {
    env["LD_PRELOAD"] = TESSERA_FAULT_FS_LIB;
    env["TESSERA_FAULT_FS_ROOT"] = dir.Sub("data");
    env["TESSERA_FAULT_FS_CUT_ON_SELF_KILL"] = "1";
  }
  auto server = StandaloneProcess::Start(dir.Sub("data"), env);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  {
    RestClient client("127.0.0.1", (*server)->port());
    MustCall(client, "collections/create", {{"collectionName", "points"}, {"dimension", 8}, {"metricType", "L2"}});
  }
  Ledger ledger;
  std::atomic<int64_t> next_id{1};
  std::atomic<int> scratch_seq{0};
  std::mt19937 rng(20261122);
  // Two passes over the sites: the first crashes at an early hit, the second at a later one
  // (so with more state behind it: more segments, a second compaction, a later GC pass).
  for (int pass = 0; pass < 2; ++pass) {
    for (std::string_view site : crash_point::kSiteNames) {
      // Sites reached on every write or flush can fire at a later hit than the rarer ones.
      const bool frequent = site.starts_with("wal.") || site.starts_with("proxy.") || site.starts_with("datanode.flush");
      const int nth = pass == 0 ? (frequent ? 1 + static_cast<int>(rng() % 5) : 1)
                                : (frequent ? 6 + static_cast<int>(rng() % 10) : 2 + static_cast<int>(rng() % 2));
      const std::string crash = std::string(site) + ":" + std::to_string(nth);
      SCOPED_TRACE("TESSERA_CRASHPOINT=" + crash);
      (*server)->Kill();
      (*server)->env()["TESSERA_CRASHPOINT"] = crash;
      // Recovery can reach the site too (it resumes a pending index build, a compaction's
      // handoff, a GC pass): then the start-up itself is this round's crash.
      const Status restarted = (*server)->Restart();
      const bool crashed_in_recovery =
          !restarted.ok() && restarted.message().find("crash point " + std::string(site) + " hit") != std::string::npos;
      ASSERT_TRUE(restarted.ok() || crashed_in_recovery) << restarted.ToString();

      const auto started = Clock::now();
      if (!crashed_in_recovery) {
        std::atomic<bool> stop{false};
        std::vector<std::thread> threads;
        for (int w = 0; w < 2; ++w) {
          threads.emplace_back(RunWriter, (*server)->port(), "points", w, 10, std::chrono::milliseconds(50), &next_id,
                               &stop, &ledger);
        }
        threads.emplace_back(RunChurn, (*server)->port(), &stop, &scratch_seq);
        const auto deadline = started + std::chrono::seconds(60);
        while ((*server)->process().running() && Clock::now() < deadline) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        stop = true;
        for (auto& t : threads) t.join();
      }
      auto exit_code = (*server)->process().Wait(std::chrono::seconds(5));
      ASSERT_TRUE(exit_code.ok()) << "the crash point was never reached in 60 s\n" << (*server)->LogTail();
      ASSERT_EQ(*exit_code, 128 + SIGKILL) << (*server)->LogTail();
      ASSERT_NE((*server)->LogTail().find("crash point " + std::string(site) + " hit"), std::string::npos)
          << "the server died, but not at its crash point\n" << (*server)->LogTail();
      if (power_cut) {
        ASSERT_NE((*server)->LogTail().find("power-cut: restored"), std::string::npos)
            << "the crash point did not cut the power\n" << (*server)->LogTail();
      }
      std::printf("crash point %s reached %s %.1f s of load\n", crash.c_str(),
                  crashed_in_recovery ? "during recovery, after" : "after",
                  std::chrono::duration<double>(Clock::now() - started).count());

      (*server)->env().erase("TESSERA_CRASHPOINT");
      ASSERT_EQ((*server)->Restart().ToString(), "OK");  // on failure: the reason and the log tail
      CheckRecovered(**server, "points", ledger, crash);
      if (HasFatalFailure()) return;
      RestClient client("127.0.0.1", (*server)->port());
      // Scratch collections a crash left behind mid-churn are dropped here. In the drop round
      // there must be none: every earlier drop was acknowledged, and the one that died had
      // committed.
      auto list = MustCall(client, "collections/list", json::object());
      for (const json& name : list["data"]) {
        if (!name.get<std::string>().starts_with("scratch_")) continue;
        EXPECT_NE(site, "coord.drop_before_segments") << "a collection whose drop was committed is back: " << name;
        MustCall(client, "collections/drop", {{"collectionName", name}});
      }
    }
  }
  EXPECT_GT(ledger.acked.size(), 100u) << "the load was too light to mean anything";
}

INSTANTIATE_TEST_SUITE_P(KillOrPowerCut, CrashPointsTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) { return info.param ? "PowerCut" : "Kill"; });

TEST(CrashPointConfigTest, MalformedCrashPointRefusesToStart) {
  ScratchDir dir("tessera_crash_points_bad");
  auto server = StandaloneProcess::Start(dir.Sub("data"), {{"TESSERA_CRASHPOINT", "datanode.flush:1"}});
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("TESSERA_CRASHPOINT must be <site>:<n>"), std::string::npos)
      << server.status().ToString();
  EXPECT_NE(server.status().message().find("got 'datanode.flush:1'"), std::string::npos) << server.status().ToString();
}

}  // namespace
}  // namespace tessera::testing
