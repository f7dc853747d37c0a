// Retention: the WAL does not grow for ever (after each garbage-collection pass the
// coordinator deletes the WAL files wholly below the flushed checkpoint and below the query
// node's tail, and a kill -9 and restart afterwards still finds every acknowledged row),
// and neither does the disk cache (GC's deletes go through it).

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

// Bytes of the regular files under `root`, but for those under `root`/`skip`. Files come
// and go meanwhile (GC, the cache's temporaries): a walk that hits one is done again.
uint64_t BytesUnder(const std::filesystem::path& root, const std::string& skip = "") {
  for (int attempt = 0; attempt < 20; ++attempt) {
    uint64_t bytes = 0;
    std::error_code ec;
    std::filesystem::recursive_directory_iterator it(root, ec);
    const std::filesystem::recursive_directory_iterator end;
    while (!ec && it != end) {
      const std::string relative = it->path().lexically_relative(root).string();
      if (skip.empty() || !relative.starts_with(skip)) {
        if (it->is_regular_file(ec) && !ec) bytes += std::filesystem::file_size(it->path(), ec);
      }
      if (!ec) it.increment(ec);
    }
    if (!ec) return bytes;
  }
  ADD_FAILURE() << "could not measure " << root << ": its files kept changing";
  return 0;
}

// Garbage collection also empties the disk cache of what it deletes: after compaction
// merged many small segments and their files were collected, the cache holds about what
// the object store still holds (before, it kept every deleted file until it filled up).
TEST(WalRetentionTest, GcRemovesCachedCopiesOfDeletedObjects) {
  ScratchDir dir("tessera_cache_gc");
  auto env = FastSealEnv();
  env["TESSERA_COORD_GC_INTERVAL"] = "200ms";
  env["TESSERA_COORD_GC_GRACE_PERIOD"] = "1s";
  env["TESSERA_COORD_COMPACTION_INTERVAL"] = "0s";
  auto started = StandaloneProcess::Start(dir.Sub("data"), env);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  RestClient client("127.0.0.1", (*started)->port());
  MustCall(client, "collections/create", {{"collectionName", "merged"}, {"dimension", 8}, {"metricType", "L2"}});
  for (int64_t b = 0; b < 20; ++b) {
    json rows = json::array();
    for (int64_t id = b * 200; id < (b + 1) * 200; ++id) rows.push_back(Row(id));
    MustCall(client, "entities/insert", {{"collectionName", "merged"}, {"data", rows}});
  }
  MustCall(client, "collections/flush", {{"collectionName", "merged"}});
  const json job = MustCall(client, "collections/compact", {{"collectionName", "merged"}})["data"]["compactionID"];
  json state;
  for (int i = 0; i < 600; ++i) {
    state = MustCall(client, "collections/get_compaction_state", {{"jobID", job}})["data"];
    if (state["state"] == "Completed") break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(state["state"], "Completed") << state.dump();
  ASSERT_GE(state["completedPlanNumber"].get<int>(), 1) << state.dump();
  const std::filesystem::path data = dir.Sub("data");
  // Wait for GC to take the compaction's inputs (the output holds the same rows).
  const uint64_t before_gc = BytesUnder(data / "objects");
  uint64_t objects = before_gc;
  for (int i = 0; i < 300 && objects * 4 > before_gc * 3; ++i) {
    std::this_thread::sleep_for(100ms);
    objects = BytesUnder(data / "objects");
  }
  ASSERT_LE(objects * 4, before_gc * 3) << "GC did not delete the compacted inputs: " << before_gc << " -> " << objects;
  uint64_t cached = 0;
  for (int i = 0; i < 200; ++i) {
    objects = BytesUnder(data / "objects");
    cached = BytesUnder(data / "cache", "tmp/");
    if (cached <= objects + objects / 5 + 64 * 1024) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_LE(cached, objects + objects / 5 + 64 * 1024)
      << "cache " << cached << " bytes, objects " << objects << " (" << before_gc << " before GC)";
  EXPECT_EQ(AllIds(client, "merged").size(), 4000u);
}

}  // namespace
}  // namespace tessera::testing
