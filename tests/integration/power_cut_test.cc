// Reliability test plan 2.3, lose un-fsynced data: the standalone runs with the fault file
// layer preloaded (tests/harness/fault_fs_preload.cc), which on command puts every file
// and directory entry under the data directory back to its last fsynced state and kills
// the process. kill -9 alone keeps the page cache, so only this shows that a write is
// acknowledged after it is durable, not merely written. The library is tested first on a
// probe process whose every change is known.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "harness/child_process.h"
#include "harness/standalone_process.h"
#include "integration/ledger.h"
#include "integration/test_util.h"

namespace tessera::testing {
namespace {

namespace fs = std::filesystem;

// What the probe's file `name` holds, or "(absent)".
std::string Content(const fs::path& path) {
  if (!fs::exists(path)) return "(absent)";
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The environment that preloads the fault file layer over `root`, cut through `fifo`.
std::map<std::string, std::string> PowerCutEnv(const std::string& root, const std::string& fifo) {
  return {{"LD_PRELOAD", TESSERA_FAULT_FS_LIB},
          {"TESSERA_FAULT_FS_ROOT", root},
          {"TESSERA_FAULT_FS_CUT_TRIGGER", fifo}};
}

// Writes the trigger byte: the process holding the library cuts its power. A process just
// started may not have opened the FIFO yet (ENXIO), so this retries for up to 10 s.
void CutPower(const std::string& fifo) {
  int fd = -1;
  for (int i = 0; i < 1000 && fd < 0; ++i) {
    fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (fd < 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GE(fd, 0) << "no fault file layer is reading " << fifo;
  ASSERT_EQ(::write(fd, "x", 1), 1);
  ::close(fd);
}

// Waits until the process dies of the cut (SIGKILL, with the library's line in its log).
void ExpectCutDeath(ChildProcess& process) {
  auto code = process.Wait(std::chrono::seconds(30));
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 128 + SIGKILL);
  EXPECT_NE(process.LogTail().find("power-cut: restored"), std::string::npos) << process.LogTail();
}

// Starts the probe on `dir/root` under the library and waits for its "ready".
std::unique_ptr<ChildProcess> StartProbe(const ScratchDir& dir) {
  const std::string fifo = dir.Sub("trigger");
  EXPECT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  fs::create_directories(dir.Sub("root"));
  auto probe = ChildProcess::Start({TESSERA_FAULT_FS_PROBE, dir.Sub("root")}, PowerCutEnv(dir.Sub("root"), fifo),
                                   dir.Sub("probe.log"));
  EXPECT_TRUE(probe.ok()) << probe.status().ToString();
  if (!probe.ok()) return nullptr;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while ((*probe)->LogTail().find("ready") == std::string::npos) {
    if (!(*probe)->running() || std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "probe did not get ready: " << (*probe)->LogTail();
      return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::move(*probe);
}

TEST(PowerCutTest, TheLibraryKeepsExactlyWhatWasSynced) {
  ScratchDir dir("tessera_power_cut_probe");
  auto probe = StartProbe(dir);
  ASSERT_NE(probe, nullptr);
  CutPower(dir.Sub("trigger"));
  ExpectCutDeath(*probe);
  const fs::path a = dir.path() / "root" / "a";
  EXPECT_EQ(Content(a / "overwritten"), "AAAA");                     // overwrite and append undone
  EXPECT_EQ(Content(a / "synced_file_unsynced_entry"), "(absent)");  // its directory never synced
  EXPECT_EQ(Content(a / "renamed_from"), "R");                       // rename undone
  EXPECT_EQ(Content(a / "renamed_to"), "(absent)");
  EXPECT_EQ(Content(a / "replaced"), "old");                         // the replaced file is back
  EXPECT_EQ(Content(a / "replacement"), "(absent)");
  EXPECT_EQ(Content(a / "unlinked"), "U");                           // unlink undone
  EXPECT_EQ(Content(a / "truncated"), "12345678");                   // truncate undone
  EXPECT_FALSE(fs::exists(a / "subdir"));                            // mkdir undone with what it held
  EXPECT_EQ(Content(dir.path() / "root" / "b" / "later"), "L");      // durable: kept
  EXPECT_FALSE(fs::exists(dir.path() / "root" / ".power-cut"));      // the library's backups are gone
}

// The control: the same changes survive a plain kill -9 (the page cache outlives the
// process), so what the cut removed above is the cut's doing.
TEST(PowerCutTest, APlainKillKeepsUnsyncedChanges) {
  ScratchDir dir("tessera_power_cut_control");
  auto probe = StartProbe(dir);
  ASSERT_NE(probe, nullptr);
  probe->Kill();
  const fs::path a = dir.path() / "root" / "a";
  EXPECT_EQ(Content(a / "overwritten"), "ABBACCCC");
  EXPECT_EQ(Content(a / "synced_file_unsynced_entry"), "x");
  EXPECT_EQ(Content(a / "renamed_from"), "(absent)");
  EXPECT_EQ(Content(a / "renamed_to"), "R");
  EXPECT_EQ(Content(a / "replaced"), "new");
  EXPECT_EQ(Content(a / "unlinked"), "(absent)");
  EXPECT_EQ(Content(a / "truncated"), "12zz");
  EXPECT_EQ(Content(a / "subdir" / "inner"), "in");
  EXPECT_EQ(Content(dir.path() / "root" / "b" / "later"), "L");
}

// Rounds of insert and delete load, each ended by a power cut at a random moment, then a
// restart (under the library again) and a Strong read checked against what was
// acknowledged. Segments seal, flush, get indexed and compacted, and unreferenced files are
// collected, between the cuts. TESSERA_TEST_ROUNDS=N runs N rounds instead of 5 (a soak:
// 60 rounds take about 4 minutes).
TEST(PowerCutTest, AcknowledgedWritesSurviveAPowerCutUnderLoad) {
  ScratchDir dir("tessera_power_cut");
  const std::string fifo = dir.Sub("trigger");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto env = FastSealEnv();
  env["TESSERA_COORD_COMPACTION_INTERVAL"] = "500ms";
  env["TESSERA_COORD_GC_INTERVAL"] = "200ms";
  env["TESSERA_COORD_GC_GRACE_PERIOD"] = "2s";
  for (auto& [key, value] : PowerCutEnv(dir.Sub("data"), fifo)) env[key] = value;
  auto server = StandaloneProcess::Start(dir.Sub("data"), env);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  {
    RestClient client("127.0.0.1", (*server)->port());
    MustCall(client, "collections/create", {{"collectionName", "power"}, {"dimension", 8}, {"metricType", "L2"}});
  }
  const char* rounds_env = std::getenv("TESSERA_TEST_ROUNDS");
  const int rounds = rounds_env != nullptr ? std::max(1, std::atoi(rounds_env)) : 5;
  RunCrashRounds(**server, "power", rounds, 4242, [&] {
    CutPower(fifo);
    ExpectCutDeath((*server)->process());
  });
}

// Reliability test plan 1.3 with power cuts: cut again and again while it recovers (the
// recovery's own writes, a new WAL segment, a checkpoint, are lost too), the server still
// converges and loses nothing acknowledged.
TEST(PowerCutTest, PowerCutsDuringRecoveryConverge) {
  ScratchDir dir("tessera_power_cut_loop");
  const std::string fifo = dir.Sub("trigger");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto env = FastSealEnv();
  for (auto& [key, value] : PowerCutEnv(dir.Sub("data"), fifo)) env[key] = value;
  auto server = StandaloneProcess::Start(dir.Sub("data"), env);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  {
    RestClient client("127.0.0.1", (*server)->port());
    MustCall(client, "collections/create", {{"collectionName", "loop"}, {"dimension", 8}, {"metricType", "L2"}});
  }
  Ledger ledger;
  WriteFor((*server)->port(), "loop", std::chrono::milliseconds(1500), &ledger);
  std::mt19937 rng(777);
  for (int loop = 0; loop < 6; ++loop) {
    CutPower(fifo);
    ExpectCutDeath((*server)->process());
    if (HasFailure()) return;
    ASSERT_TRUE((*server)->RestartWithoutWaiting().ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 600));  // mid-recovery, mostly
  }
  ASSERT_EQ((*server)->Restart().ToString(), "OK");  // on failure: the reason and the log tail
  CheckRecovered(**server, "loop", ledger, "after 6 power cuts during recovery");
  EXPECT_GT(ledger.acked.size(), 100u);
}

}  // namespace
}  // namespace tessera::testing
