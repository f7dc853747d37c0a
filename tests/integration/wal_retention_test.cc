// The WAL does not grow for ever: after each garbage-collection pass the coordinator
// deletes the WAL files wholly below the flushed checkpoint (and below the query node's
// tail), and a kill -9 and restart afterwards still finds every acknowledged row.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "harness/standalone_process.h"
#include "integration/ledger.h"
#include "integration/test_util.h"

namespace tessera::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

/// The base offsets of a LocalLog channel's files (each is named by its first offset).
std::set<uint64_t> WalFiles(const std::filesystem::path& channel_dir) {
  std::set<uint64_t> bases;
  for (const auto& entry : std::filesystem::directory_iterator(channel_dir)) {
    if (entry.path().extension() == ".wal") bases.insert(std::stoull(entry.path().stem().string()));
  }
  return bases;
}

TEST(WalRetentionTest, FlushedRecordsLeaveTheWalAndNothingAcknowledgedIsLost) {
  ScratchDir dir("tessera_wal_retention");
  auto env = FastSealEnv();
  env["TESSERA_LOG_SEGMENT_SIZE"] = "16KiB";
  env["TESSERA_COORD_GC_INTERVAL"] = "200ms";
  auto started = StandaloneProcess::Start(dir.Sub("data"), env);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  StandaloneProcess& server = **started;
  RestClient client("127.0.0.1", server.port());
  MustCall(client, "collections/create", {{"collectionName", "kept"}, {"dimension", 8}, {"metricType", "L2"}});
  json described = MustCall(client, "collections/describe", {{"collectionName", "kept"}});
  const std::string channel = "c" + std::to_string(described["data"]["collectionID"].get<int64_t>()) + "_s0";
  const std::filesystem::path channel_dir = std::filesystem::path(dir.Sub("data")) / "wal" / channel;

  constexpr int kBatches = 30;
  for (int64_t b = 0; b < kBatches; ++b) {
    json rows = json::array();
    for (int64_t id = b * 100; id < (b + 1) * 100; ++id) rows.push_back(Row(id));
    MustCall(client, "entities/insert", {{"collectionName", "kept"}, {"data", rows}});
  }
  MustCall(client, "collections/flush", {{"collectionName", "kept"}});
  // Each 16 KiB file holds about two 100-row records: 15 or more files were written, and
  // all but the newest one or two go once they are flushed.
  std::set<uint64_t> files = WalFiles(channel_dir);
  for (int i = 0; i < 100 && files.size() > 2; ++i) {
    std::this_thread::sleep_for(100ms);
    files = WalFiles(channel_dir);
  }
  ASSERT_FALSE(files.empty());
  EXPECT_LE(files.size(), 2u);
  EXPECT_GE(*files.begin(), 20u) << "the files below offset 20 should be gone";

  server.Kill();
  ASSERT_EQ(server.Restart().ToString(), "OK") << server.LogTail();
  RestClient restarted("127.0.0.1", server.port());
  const std::vector<int64_t> ids = AllIds(restarted, "kept");
  EXPECT_EQ(ids.size(), static_cast<size_t>(kBatches * 100));
  EXPECT_EQ(std::set<int64_t>(ids.begin(), ids.end()).size(), static_cast<size_t>(kBatches * 100));
}

}  // namespace
}  // namespace tessera::testing
