// DESIGN §6: a query node checks memory before it accepts a segment, so a collection that
// does not fit is a clear error instead of an out-of-memory kill; and writes stop while the
// process is above its limit. The server is restarted with a memory limit below what it
// already uses: it must come up, say why the collection it had loaded is not, refuse loads
// (code 3) and inserts (code 9, nothing written), take deletes, and once the limit is
// lifted hold exactly what was acknowledged.

#include <gtest/gtest.h>

#include <set>

#include "harness/standalone_process.h"
#include "integration/ledger.h"
#include "integration/test_util.h"

namespace tessera::testing {
namespace {

using nlohmann::json;

constexpr int kRows = 3000;

bool Contains(const json& reply, const std::string& key, const std::string& text) {
  return reply.value(key, "").find(text) != std::string::npos;
}

TEST(MemoryLimitTest, ACollectionThatDoesNotFitIsRefusedWithAReasonAndNothingIsLost) {
  ScratchDir dir("tessera_memory_limit");
  auto started = StandaloneProcess::Start(dir.Sub("data"), FastSealEnv());
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  StandaloneProcess& server = **started;
  RestClient client("127.0.0.1", server.port());
  MustCall(client, "collections/create", {{"collectionName", "mem"}, {"dimension", 8}, {"metricType", "L2"}});
  for (int64_t first = 0; first < kRows; first += 500) {
    json rows = json::array();
    for (int64_t id = first; id < first + 500; ++id) rows.push_back(Row(id));
    MustCall(client, "entities/insert", {{"collectionName", "mem"}, {"data", rows}});
  }
  MustCall(client, "collections/flush", {{"collectionName", "mem"}});

  // 1 MiB is less than the process takes before it loads anything.
  server.env()["TESSERA_QUERYNODE_MEMORY_LIMIT"] = "1MiB";
  server.env()["TESSERA_COORD_LOAD_RETRY_INTERVAL"] = "100ms";  // retries keep failing meanwhile
  ASSERT_EQ(server.Restart().ToString(), "OK") << server.LogTail();
  RestClient limited("127.0.0.1", server.port());
  auto health = limited.Send("GET", "/healthz", "");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  auto metrics = limited.Send("GET", "/metrics", "");
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(MetricValue(metrics->body, "tessera_querynode_memory_limit_bytes"), 1048576.0);

  // The load at recovery failed: get_load_state says so, and so does a search.
  json state = MustCall(limited, "collections/get_load_state", {{"collectionName", "mem"}});
  EXPECT_EQ(state["data"]["loadState"], "LoadStateNotLoad") << state.dump();
  EXPECT_TRUE(Contains(state, "message", "not enough memory")) << state.dump();
  EXPECT_TRUE(Contains(state, "message", "querynode.memory_limit")) << state.dump();
  auto search = limited.Call("entities/search", {{"collectionName", "mem"}, {"data", {RowVector(1)}}, {"limit", 3}});
  ASSERT_TRUE(search.ok()) << search.status().ToString();
  EXPECT_EQ((*search)["code"], 101) << search->dump();
  EXPECT_TRUE(Contains(*search, "message", "not enough memory")) << search->dump();

  // Inserts are refused and not written; deletes are taken.
  json rows = json::array();
  for (int64_t id = kRows; id < kRows + 100; ++id) rows.push_back(Row(id));
  auto insert = limited.Call("entities/insert", {{"collectionName", "mem"}, {"data", rows}});
  ASSERT_TRUE(insert.ok()) << insert.status().ToString();
  EXPECT_EQ((*insert)["code"], 9) << insert->dump();
  EXPECT_TRUE(Contains(*insert, "message", "memory quota exceeded")) << insert->dump();
  EXPECT_TRUE(Contains(*insert, "message", "querynode.memory_limit")) << insert->dump();
  MustCall(limited, "entities/delete", {{"collectionName", "mem"}, {"filter", "id in [0, 1, 2]"}});
  // An explicit load is refused with the memory code and the reason.
  auto load = limited.Call("collections/load", {{"collectionName", "mem"}});
  ASSERT_TRUE(load.ok()) << load.status().ToString();
  EXPECT_EQ((*load)["code"], 3) << load->dump();
  EXPECT_TRUE(Contains(*load, "message", "sealed segments of collection")) << load->dump();
  EXPECT_TRUE(Contains(*load, "message", "querynode.memory_limit")) << load->dump();
  // Released, the collection no longer reports the old failure.
  MustCall(limited, "collections/release", {{"collectionName", "mem"}});
  state = MustCall(limited, "collections/get_load_state", {{"collectionName", "mem"}});
  EXPECT_EQ(state["data"]["loadState"], "LoadStateNotLoad");
  EXPECT_EQ(state.value("message", ""), "") << state.dump();

  // Without the limit: every acknowledged row, without the deleted or the refused ones.
  server.env().erase("TESSERA_QUERYNODE_MEMORY_LIMIT");
  ASSERT_EQ(server.Restart().ToString(), "OK") << server.LogTail();
  RestClient unlimited("127.0.0.1", server.port());
  MustCall(unlimited, "collections/load", {{"collectionName", "mem"}});
  const std::vector<int64_t> ids = AllIds(unlimited, "mem");
  std::set<int64_t> expected;
  for (int64_t id = 3; id < kRows; ++id) expected.insert(id);
  EXPECT_EQ(ids.size(), expected.size());
  EXPECT_TRUE(std::set<int64_t>(ids.begin(), ids.end()) == expected);
}

}  // namespace
}  // namespace tessera::testing
