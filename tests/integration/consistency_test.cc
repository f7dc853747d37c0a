// Reads while the write path is busy: Strong read-after-write under concurrent writers,
// searches and queries during seal / flush / index / handoff (no missing or duplicated
// ids), and upserts that never show two versions of a row or none.

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "harness/standalone_process.h"
#include "integration/test_util.h"

namespace tessera::testing {
namespace {

using nlohmann::json;

class ConsistencyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new ScratchDir("tessera_consistency");
    auto started = StandaloneProcess::Start(dir_->Sub("data"), {{"TESSERA_DATANODE_SEAL_IDLE_TIME", "100ms"},
                                                                {"TESSERA_DATANODE_SEGMENT_SIZE", "32KiB"}});
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = started->release();
  }
  static void TearDownTestSuite() {
    if (server_ != nullptr) {
      auto code = server_->Terminate();
      EXPECT_TRUE(code.ok() && *code == 0) << "SIGTERM did not exit 0; log:\n" << server_->LogTail();
    }
    delete server_;
    delete dir_;
  }
  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    client_ = std::make_unique<RestClient>("127.0.0.1", server_->port());
  }
  void Create(const std::string& name) {
    MustCall(*client_, "collections/create", {{"collectionName", name}, {"dimension", 8}, {"metricType", "L2"}});
  }

  static ScratchDir* dir_;
  static StandaloneProcess* server_;
  std::unique_ptr<RestClient> client_;
};

ScratchDir* ConsistencyTest::dir_ = nullptr;
StandaloneProcess* ConsistencyTest::server_ = nullptr;

TEST_F(ConsistencyTest, StrongReadSeesEveryAcknowledgedWrite) {
  Create("raw");
  std::atomic<int64_t> next{1};
  std::atomic<int> failures{0};
  auto writer = [&](int w) {
    RestClient client("127.0.0.1", server_->port());
    for (int batch = 0; batch < 25 && failures == 0; ++batch) {
      json rows = json::array();
      std::vector<int64_t> ids;
      for (int i = 0; i < 10; ++i) {
        ids.push_back(next.fetch_add(1));
        rows.push_back(Row(ids.back()));
      }
      auto in = client.Call("entities/insert", {{"collectionName", "raw"}, {"data", rows}});
      if (!in.ok() || (*in)["code"] != 0) {
        ADD_FAILURE() << "insert: " << (in.ok() ? in->dump() : in.status().ToString());
        ++failures;
        return;
      }
      json list = ids;
      auto q = client.Call("entities/query", {{"collectionName", "raw"}, {"filter", "id in " + list.dump()},
                                              {"outputFields", {"id"}}, {"consistencyLevel", "Strong"}});
      if (!q.ok() || (*q)["code"] != 0 || (*q)["data"].size() != ids.size()) {
        ADD_FAILURE() << "writer " << w << " strong query after insert: "
                      << (q.ok() ? q->dump() : q.status().ToString());
        ++failures;
        return;
      }
      auto s = client.Call("entities/search", {{"collectionName", "raw"}, {"data", {RowVector(ids[3])}},
                                               {"limit", 1}, {"consistencyLevel", "Strong"}});
      if (!s.ok() || (*s)["code"] != 0 || (*s)["data"].empty() || (*s)["data"][0]["id"] != ids[3]) {
        ADD_FAILURE() << "writer " << w << " strong search after insert of " << ids[3] << ": "
                      << (s.ok() ? s->dump() : s.status().ToString());
        ++failures;
        return;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) threads.emplace_back(writer, w);
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(ConsistencyTest, NoMissingOrDuplicatedIdsDuringHandoff) {
  Create("handoff");
  std::mutex mu;
  std::set<int64_t> acked;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    RestClient client("127.0.0.1", server_->port());
    for (int64_t base = 1; base <= 3000; base += 100) {
      json rows = json::array();
      for (int64_t id = base; id < base + 100; ++id) rows.push_back(Row(id));
      auto r = client.Call("entities/insert", {{"collectionName", "handoff"}, {"data", rows}});
      ASSERT_TRUE(r.ok() && (*r)["code"] == 0) << (r.ok() ? r->dump() : r.status().ToString());
      std::lock_guard lock(mu);
      for (int64_t id = base; id < base + 100; ++id) acked.insert(id);
    }
    done = true;
  });
  int rounds = 0;
  while (!done || rounds < 5) {
    std::set<int64_t> before;
    {
      std::lock_guard lock(mu);
      before = acked;
    }
    const auto ids = AllIds(*client_, "handoff");
    std::map<int64_t, int> seen;
    for (int64_t id : ids) ASSERT_EQ(++seen[id], 1) << "id " << id << " returned twice (round " << rounds << ")";
    for (int64_t id : before) ASSERT_TRUE(seen.contains(id)) << "id " << id << " missing (round " << rounds << ")";
    if (!before.empty()) {
      const int64_t probe = *std::next(before.begin(), static_cast<long>(rounds % before.size()));
      auto s = MustCall(*client_, "entities/search", {{"collectionName", "handoff"}, {"data", {RowVector(probe)}},
                                                      {"limit", 3}, {"consistencyLevel", "Strong"}});
      ASSERT_FALSE(s["data"].empty()) << s.dump();
      ASSERT_EQ(s["data"][0]["id"], probe) << s.dump();
      std::set<int64_t> hit_ids;
      for (const auto& h : s["data"]) ASSERT_TRUE(hit_ids.insert(h["id"].get<int64_t>()).second) << s.dump();
    }
    ++rounds;
  }
  writer.join();
  EXPECT_EQ(AllIds(*client_, "handoff").size(), 3000u);
}

TEST_F(ConsistencyTest, UpsertNeverShowsTwoVersionsOrNone) {
  Create("upsert");
  json rows = json::array();
  for (int64_t id = 1; id <= 50; ++id) {
    json row = Row(id);
    row["version"] = 0;
    rows.push_back(row);
  }
  MustCall(*client_, "entities/insert", {{"collectionName", "upsert"}, {"data", rows}});
  std::atomic<bool> done{false};
  std::thread writer([&] {
    RestClient client("127.0.0.1", server_->port());
    for (int version = 1; version <= 40; ++version) {
      for (auto& row : rows) row["version"] = version;
      auto r = client.Call("entities/upsert", {{"collectionName", "upsert"}, {"data", rows}});
      ASSERT_TRUE(r.ok() && (*r)["code"] == 0) << (r.ok() ? r->dump() : r.status().ToString());
    }
    done = true;
  });
  int checks = 0;
  while (!done) {
    auto q = MustCall(*client_, "entities/query", {{"collectionName", "upsert"}, {"filter", "id >= 1"},
                                                   {"outputFields", {"id", "version"}}, {"limit", 1000},
                                                   {"consistencyLevel", "Strong"}});
    std::map<int64_t, int> seen;
    for (const auto& row : q["data"]) ++seen[row["id"].get<int64_t>()];
    ASSERT_EQ(seen.size(), 50u) << "a row vanished during upsert: " << q.dump().substr(0, 500);
    for (const auto& [id, n] : seen) ASSERT_EQ(n, 1) << "two versions of " << id;
    ++checks;
  }
  writer.join();
  auto q = MustCall(*client_, "entities/query", {{"collectionName", "upsert"}, {"filter", "version == 40"},
                                                 {"outputFields", {"count(*)"}}, {"consistencyLevel", "Strong"}});
  EXPECT_EQ(q["data"][0]["count(*)"], 50) << q.dump();
  EXPECT_GT(checks, 0);
}

}  // namespace
}  // namespace tessera::testing
