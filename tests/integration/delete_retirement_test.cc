// Deletes are retired by compaction once nothing is left for them to hide (time ticks,
// src/coord/README.md): under upsert churn the deltalogs stop growing with the history,
// and no retired delete brings a row back, before or after a kill -9.

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "harness/standalone_process.h"
#include "integration/ledger.h"
#include "integration/test_util.h"

namespace tessera::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int kKeys = 600;
constexpr int kRounds = 4;
constexpr int kDeletedFrom = 500;  // ids kDeletedFrom.. are deleted at the end

json Version(int64_t id, int version) {
  json row = Row(id);
  row["tag"] = version;
  return row;
}

void WriteRound(RestClient& client, const std::string& route, int version) {
  for (int64_t first = 0; first < kKeys; first += 200) {
    json rows = json::array();
    for (int64_t id = first; id < first + 200; ++id) rows.push_back(Version(id, version));
    MustCall(client, route, {{"collectionName", "churn"}, {"data", rows}});
  }
}

/// Every visible row's tag by id, read with Strong consistency.
std::map<int64_t, int> Tags(RestClient& client) {
  json r = MustCall(client, "entities/query",
                    {{"collectionName", "churn"}, {"filter", "id >= 0"}, {"outputFields", {"id", "tag"}},
                     {"limit", 16384}, {"consistencyLevel", "Strong"}});
  std::map<int64_t, int> tags;
  for (const json& row : r["data"]) {
    EXPECT_TRUE(tags.emplace(row["id"].get<int64_t>(), row["tag"].get<int>()).second) << "id twice: " << row.dump();
  }
  return tags;
}

double Retired(RestClient& client) {
  auto metrics = client.Send("GET", "/metrics", "");
  EXPECT_TRUE(metrics.ok());
  return metrics.ok() ? MetricValue(metrics->body, "tessera_datanode_compaction_deletes_retired_total").value_or(-1)
                      : -1;
}

TEST(DeleteRetirementTest, CompactionRetiresDeletesAndNoRowComesBack) {
  ScratchDir dir("tessera_delete_retirement");
  auto env = FastSealEnv();
  env["TESSERA_PROXY_TIME_TICK_INTERVAL"] = "50ms";
  auto started = StandaloneProcess::Start(dir.Sub("data"), env);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  StandaloneProcess& server = **started;
  RestClient client("127.0.0.1", server.port());
  MustCall(client, "collections/create", {{"collectionName", "churn"}, {"dimension", 8}, {"metricType", "L2"}});

  WriteRound(client, "entities/insert", 0);
  for (int version = 1; version <= kRounds; ++version) WriteRound(client, "entities/upsert", version);
  MustCall(client, "entities/delete",
           {{"collectionName", "churn"}, {"filter", "id >= " + std::to_string(kDeletedFrom)}});
  // A tick after the last write, then a row so that the tick lands in a sealed segment.
  std::this_thread::sleep_for(300ms);
  MustCall(client, "entities/insert", {{"collectionName", "churn"}, {"data", {Version(100000, 9)}}});
  MustCall(client, "collections/flush", {{"collectionName", "churn"}});
  EXPECT_EQ(Retired(client), 0);

  json job = MustCall(client, "collections/compact", {{"collectionName", "churn"}});
  const int64_t job_id = job["data"]["compactionID"].get<int64_t>();
  std::string state;
  for (int i = 0; i < 600 && state != "Completed"; ++i) {
    std::this_thread::sleep_for(100ms);
    state = MustCall(client, "collections/get_compaction_state", {{"jobID", job_id}})["data"]["state"];
  }
  ASSERT_EQ(state, "Completed");
  // Every delete was older than the tick and every segment was an input: all retired
  // (the upserts' deletes of each round, and the final deletes).
  const double expected = kKeys * kRounds + (kKeys - kDeletedFrom);
  EXPECT_EQ(Retired(client), expected);

  auto check = [&](RestClient& c, const std::string& when) {
    const std::map<int64_t, int> tags = Tags(c);
    EXPECT_EQ(tags.size(), static_cast<size_t>(kDeletedFrom + 1)) << when;
    for (int64_t id = 0; id < kDeletedFrom; ++id) {
      auto it = tags.find(id);
      ASSERT_NE(it, tags.end()) << when << ": id " << id << " is missing";
      EXPECT_EQ(it->second, kRounds) << when << ": id " << id << " is not its newest version";
    }
    EXPECT_EQ(tags.count(100000), 1u) << when;
  };
  check(client, "after compaction");
  server.Kill();
  ASSERT_EQ(server.Restart().ToString(), "OK") << server.LogTail();
  RestClient restarted("127.0.0.1", server.port());
  check(restarted, "after kill -9 and restart");
}

}  // namespace
}  // namespace tessera::testing
