// Reliability test plan 2.4, fsync fails: the standalone runs under libfiu's POSIX preload
// (Debian fiu-utils) and the test makes fdatasync fail through fiu's control fifo. A WAL
// channel whose sync failed stops taking writes (after a failed fsync the page cache cannot
// be trusted): inserts are refused with the reason, /healthz turns 503 so an orchestrator
// restarts the process, and after the restart every acknowledged row is there and writes
// work again.

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
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

constexpr char kFiuLibraries[] = "/usr/lib/fiu/fiu_run_preload.so /usr/lib/fiu/fiu_posix_preload.so";

// Sends one command to the fiu control fifo of process `pid` and returns fiu's answer
// ("0" on success).
std::string FiuControl(const std::string& prefix, pid_t pid, const std::string& command) {
  const std::string base = prefix + "-" + std::to_string(pid);
  { std::ofstream(base + ".in") << command << "\n"; }
  std::string reply;
  std::ifstream out(base + ".out");
  std::getline(out, reply);
  return reply;
}

TEST(FsyncFailureTest, FailedWalSyncStopsWritesFailsHealthAndRestartRecovers) {
  if (!std::filesystem::exists("/usr/lib/fiu/fiu_posix_preload.so")) {
    GTEST_SKIP() << "libfiu's POSIX preload is missing (Debian fiu-utils; scripts/install-deps.sh installs it)";
  }
  ScratchDir dir("tessera_fsync_failure");
  auto env = FastSealEnv();
  env["LD_PRELOAD"] = kFiuLibraries;
  env["FIU_CTRL_FIFO"] = dir.Sub("fiu");
  env["FIU_ENABLE"] = "";
  auto server = StandaloneProcess::Start(dir.Sub("data"), env);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  RestClient client("127.0.0.1", (*server)->port());
  MustCall(client, "collections/create", {{"collectionName", "synced"}, {"dimension", 8}, {"metricType", "L2"}});

  std::set<int64_t> acked, attempted;
  int64_t next_id = 0;
  auto insert = [&](RestClient& to) {
    json rows = json::array();
    for (int i = 0; i < 20; ++i, ++next_id) {
      rows.push_back(Row(next_id));
      attempted.insert(next_id);
    }
    auto r = to.Call("entities/insert", {{"collectionName", "synced"}, {"data", rows}});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok() && r->value("code", -1) == 0) {
      for (int64_t id = next_id - 20; id < next_id; ++id) acked.insert(id);
    }
    return r.ok() ? *r : json::object();
  };
  for (int i = 0; i < 5; ++i) ASSERT_EQ(insert(client)["code"], 0);

  const pid_t pid = (*server)->process().pid();
  ASSERT_EQ(FiuControl(dir.Sub("fiu"), pid, "enable name=posix/io/sync/fdatasync,failinfo=5"), "0");
  json refused = insert(client);
  ASSERT_EQ(FiuControl(dir.Sub("fiu"), pid, "disable name=posix/io/sync/fdatasync"), "0");
  EXPECT_NE(refused["code"], 0) << refused.dump();
  EXPECT_NE(refused.value("message", "").find("fdatasync"), std::string::npos) << refused.dump();

  // Syncs work again, but the channel stays stopped until a restart, and says so.
  json after = insert(client);
  EXPECT_NE(after["code"], 0) << after.dump();
  EXPECT_NE(after.value("message", "").find("failed"), std::string::npos) << after.dump();
  auto health = client.Send("GET", "/healthz", "");
  ASSERT_TRUE(health.ok()) << health.status().ToString();
  EXPECT_EQ(health->status, 503) << health->body;
  EXPECT_NE(health->body.find("needs a restart"), std::string::npos) << health->body;
  EXPECT_NE(health->body.find("fdatasync"), std::string::npos) << health->body;

  ASSERT_EQ((*server)->Restart().ToString(), "OK");  // on failure: the reason and the log tail
  RestClient restarted("127.0.0.1", (*server)->port());
  health = restarted.Send("GET", "/healthz", "");
  ASSERT_TRUE(health.ok()) << health.status().ToString();
  EXPECT_EQ(health->status, 200) << health->body;
  // Every acknowledged row; a refused one may be there too (its bytes reached the file before
  // the sync failed), but nothing that was never sent.
  const std::vector<int64_t> ids = AllIds(restarted, "synced");
  const std::set<int64_t> present(ids.begin(), ids.end());
  EXPECT_EQ(present.size(), ids.size()) << "a row appears twice";
  for (int64_t id : acked) EXPECT_TRUE(present.count(id)) << "acknowledged row " << id << " lost";
  for (int64_t id : present) EXPECT_TRUE(attempted.count(id)) << "row " << id << " was never inserted";
  EXPECT_EQ(insert(restarted)["code"], 0) << "writes did not resume after the restart";
}

// Random failures of every fsync and fdatasync (WAL, segment files, SQLite) under insert and
// delete load: the process survives whatever it refuses, and after a restart the ledger of
// acknowledged writes holds.
TEST(FsyncFailureTest, RandomSyncFailuresUnderLoadLoseNothingAcknowledged) {
  if (!std::filesystem::exists("/usr/lib/fiu/fiu_posix_preload.so")) {
    GTEST_SKIP() << "libfiu's POSIX preload is missing (Debian fiu-utils; scripts/install-deps.sh installs it)";
  }
  ScratchDir dir("tessera_fsync_random");
  auto env = FastSealEnv();
  env["LD_PRELOAD"] = kFiuLibraries;
  env["FIU_CTRL_FIFO"] = dir.Sub("fiu");
  env["FIU_ENABLE"] = "";
  auto server = StandaloneProcess::Start(dir.Sub("data"), env);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  {
    RestClient client("127.0.0.1", (*server)->port());
    MustCall(client, "collections/create", {{"collectionName", "chaos"}, {"dimension", 8}, {"metricType", "L2"}});
  }
  Ledger ledger;
  std::atomic<int64_t> next_id{1};
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back(RunWriter, (*server)->port(), "chaos", w, 20, std::chrono::milliseconds(5), &next_id, &stop,
                         &ledger);
  }
  const pid_t pid = (*server)->process().pid();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_EQ(FiuControl(dir.Sub("fiu"), pid, "enable_random name=posix/io/sync/*,probability=0.05,failinfo=5"), "0");
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ASSERT_EQ(FiuControl(dir.Sub("fiu"), pid, "disable name=posix/io/sync/*"), "0");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  for (auto& t : writers) t.join();
  EXPECT_TRUE((*server)->process().running()) << "the server died under sync failures: " << (*server)->LogTail();

  ASSERT_EQ((*server)->Restart().ToString(), "OK");  // on failure: the reason and the log tail
  RestClient client("127.0.0.1", (*server)->port());
  CheckAgainstLedger(client, "chaos", ledger, "after the restart");
  EXPECT_GT(ledger.acked.size(), 100u) << "the load was too light to mean anything";
  auto health = client.Send("GET", "/healthz", "");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200) << health->body;
}

}  // namespace
}  // namespace tessera::testing
