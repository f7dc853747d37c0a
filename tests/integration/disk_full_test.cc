// Reliability test plan 2.5, disk full: the whole data directory (WAL, segment files,
// metadata) on a small tmpfs that is then filled. Writes are refused with a clear error and
// never acknowledged, the server keeps serving reads, a restart while full is refused with a
// clear error, and once space is freed the server starts, writes resume, the flush
// completes, and a restart finds exactly the acknowledged rows.

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <thread>

#include "harness/standalone_process.h"
#include "harness/tmpfs_mount.h"
#include "integration/ledger.h"
#include "integration/test_util.h"

namespace tessera::testing {
namespace {

using nlohmann::json;

json RowsFrom(int64_t first, int count) {
  json rows = json::array();
  for (int64_t id = first; id < first + count; ++id) rows.push_back(Row(id));
  return rows;
}

std::set<int64_t> IdSet(RestClient& client, const std::string& collection) {
  const std::vector<int64_t> ids = AllIds(client, collection);
  return std::set<int64_t>(ids.begin(), ids.end());
}

TEST(DiskFullTest, WritesAreRefusedWhileFullAndResumeOnceSpaceIsFreed) {
  ScratchDir dir("tessera_disk_full");
  TmpfsMount fs(dir.Sub("fs"), 96ull << 20);
  if (!fs.ok()) GTEST_SKIP() << fs.error();
  // The data directory is the tmpfs itself, so the server's log (written beside it) is not.
  auto server = StandaloneProcess::Start(fs.path(), FastSealEnv());
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  RestClient client("127.0.0.1", (*server)->port());
  MustCall(client, "collections/create", {{"collectionName", "full"}, {"dimension", 8}, {"metricType", "L2"}});

  std::set<int64_t> acked;
  int64_t next_id = 0;
  auto insert = [&](int count) {
    auto r = client.Call("entities/insert", {{"collectionName", "full"}, {"data", RowsFrom(next_id, count)}});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    const int code = r.ok() ? r->value("code", -1) : -1;
    if (code == 0) {
      for (int64_t id = next_id; id < next_id + count; ++id) acked.insert(id);
    }
    next_id += count;
    return r.ok() ? *r : json::object();
  };
  for (int i = 0; i < 5; ++i) ASSERT_EQ(insert(50)["code"], 0);

  const std::string ballast = fs.path() + "/ballast";
  ASSERT_GT(FillFilesystem(ballast), 0u);
  // A write may still fit the slack of a page the WAL already holds; soon none does.
  json refused;
  for (int i = 0; i < 50 && refused.is_null(); ++i) {
    json reply = insert(200);
    if (reply.value("code", -1) != 0) refused = reply;
  }
  ASSERT_FALSE(refused.is_null()) << "every insert was acknowledged on a full disk";
  EXPECT_EQ(refused["code"], 9) << refused.dump();
  EXPECT_NE(refused.value("message", "").find("No space left on device"), std::string::npos) << refused.dump();
  for (int i = 0; i < 3; ++i) {
    json again = insert(200);
    EXPECT_EQ(again["code"], 9) << again.dump();
  }

  // DDL needs the metadata store: refused the same way, or done if SQLite still had a free
  // page; never a crash or another error.
  auto created = client.Call("collections/create", {{"collectionName", "while_full"}, {"dimension", 4}});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(created->value("code", -1) == 0 || created->value("code", -1) == 9) << created->dump();

  // Long enough for the data node to seal what was acknowledged and fail to flush it.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  // Still serving: health, and a Strong read of exactly the acknowledged rows.
  auto health = client.Send("GET", "/healthz", "");
  ASSERT_TRUE(health.ok()) << health.status().ToString();
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(IdSet(client, "full"), acked);

  // Killed while full, it cannot start (recovery persists the timestamp high-water mark
  // first) and says why; nothing acknowledged is lost by that.
  ASSERT_TRUE((*server)->RestartWithoutWaiting().ok());
  auto exited = (*server)->process().Wait(std::chrono::seconds(60));
  ASSERT_TRUE(exited.ok()) << "the server neither started nor exited on a full disk: " << (*server)->LogTail();
  EXPECT_EQ(*exited, 1);
  EXPECT_NE((*server)->LogTail().find("free space on the data directory's filesystem"), std::string::npos)
      << (*server)->LogTail();

  std::filesystem::remove(ballast);
  ASSERT_EQ((*server)->Restart().ToString(), "OK");  // on failure: the reason and the log tail
  EXPECT_EQ(IdSet(client, "full"), acked);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(insert(50)["code"], 0) << "writes did not resume once space was freed";
  MustCall(client, "collections/flush", {{"collectionName", "full"}});
  EXPECT_EQ(IdSet(client, "full"), acked);

  ASSERT_EQ((*server)->Restart().ToString(), "OK");  // on failure: the reason and the log tail
  RestClient after("127.0.0.1", (*server)->port());
  EXPECT_EQ(IdSet(after, "full"), acked) << (*server)->LogTail();
  auto r = after.Call("entities/insert", {{"collectionName", "full"}, {"data", RowsFrom(next_id, 10)}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->value("code", -1), 0) << r->dump();
}

}  // namespace
}  // namespace tessera::testing
