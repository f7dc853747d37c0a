// Every REST endpoint and the documented error paths, over HTTP against the real binary
// (../shared/spec/REST_API.md). One server for the suite; each test uses its own names.

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "harness/standalone_process.h"
#include "integration/test_util.h"

namespace tessera::testing {
namespace {

using nlohmann::json;

class RestApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new ScratchDir("tessera_rest");
    auto started = StandaloneProcess::Start(dir_->Sub("data"), {{"TESSERA_DATANODE_SEAL_IDLE_TIME", "200ms"}});
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = started->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }
  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    client_ = std::make_unique<RestClient>("127.0.0.1", server_->port());
  }
  json Call(const std::string& route, const json& body, const std::map<std::string, std::string>& headers = {}) {
    auto r = client_->Call(route, body, headers);
    EXPECT_TRUE(r.ok()) << route << ": " << r.status().ToString();
    return r.ok() ? *r : json::object();
  }
  json Ok(const std::string& route, const json& body) { return MustCall(*client_, route, body); }
  // Expects error `code` whose message contains `needle`.
  void ExpectError(const std::string& route, const json& body, int code, const std::string& needle) {
    json r = Call(route, body);
    EXPECT_EQ(r.value("code", 0), code) << route << " " << body.dump().substr(0, 200) << " -> " << r.dump();
    EXPECT_NE(r.value("message", "").find(needle), std::string::npos)
        << route << ": message '" << r.value("message", "") << "' lacks '" << needle << "'";
    EXPECT_FALSE(r.contains("data")) << r.dump();
  }
  void QuickCollection(const std::string& name, int rows = 0) {
    Ok("collections/create", {{"collectionName", name}, {"dimension", 8}, {"metricType", "L2"}});
    if (rows == 0) return;
    json data = json::array();
    for (int64_t id = 1; id <= rows; ++id) {
      json row = Row(id);
      row["color"] = id % 2 == 0 ? "red" : "blue";
      data.push_back(row);
    }
    Ok("entities/insert", {{"collectionName", name}, {"data", data}});
  }

  static ScratchDir* dir_;
  static StandaloneProcess* server_;
  std::unique_ptr<RestClient> client_;
};

ScratchDir* RestApiTest::dir_ = nullptr;
StandaloneProcess* RestApiTest::server_ = nullptr;

TEST_F(RestApiTest, TransportConventions) {
  auto health = client_->Send("GET", "/healthz", "");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  auto ready = client_->Send("GET", "/readyz", "");
  EXPECT_EQ(ready->status, 200);
  auto options = client_->Send("OPTIONS", "/v2/vectordb/collections/list", "");
  EXPECT_EQ(options->status, 204);
  auto cors = options->headers.find("Access-Control-Allow-Origin");
  ASSERT_NE(cors, options->headers.end());
  EXPECT_EQ(cors->second, "*");
  EXPECT_EQ(client_->Send("POST", "/v2/vectordb/collections/nope", "{}")->status, 404);
  EXPECT_EQ(client_->Send("GET", "/v2/vectordb/collections/list", "")->status, 404);
  // The body is JSON whatever the Content-Type says (the Node SDK sends none).
  auto plain = client_->Send("POST", "/v2/vectordb/collections/list", "{}", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(json::parse(plain->body)["code"], 0) << plain->body;
  auto empty = client_->Send("POST", "/v2/vectordb/collections/list", "");
  EXPECT_EQ(json::parse(empty->body)["code"], 1801) << empty->body;
  auto bad = client_->Send("POST", "/v2/vectordb/collections/list", "{not json");
  EXPECT_EQ(bad->status, 200);
  EXPECT_EQ(json::parse(bad->body)["code"], 1801) << bad->body;
  auto metrics = client_->Send("GET", "/metrics", "");
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("tessera_http_requests_total"), std::string::npos);
  for (const char* series : {"tessera_process_resident_memory_bytes", "tessera_diskcache_hits_total",
                             "tessera_diskcache_misses_total", "tessera_coord_segments", "tessera_wal_append_duration_seconds",
                             "tessera_indexnode_pending_builds", "tessera_datanode_flushes_total",
                             "tessera_querynode_wal_lag_records", "tessera_coord_deferred_index_builds"}) {
    EXPECT_NE(metrics->body.find(series), std::string::npos) << series << " is not exported";
  }
}

// One access-log line per request (reliability test plan 9.11): request id, client
// address, method, path, HTTP status, Milvus code, database, collection, latency.
TEST_F(RestApiTest, AccessLogLineNamesClientCodeDatabaseAndCollection) {
  json reply = Call("collections/describe", {{"collectionName", "audit_missing"}});
  const int code = reply.value("code", 0);
  ASSERT_NE(code, 0) << reply.dump();
  // Info lines reach the log file in batches, at least once a second.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::string tail = server_->LogTail();
  while (tail.find("collection=audit_missing") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    tail = server_->LogTail();
  }
  const size_t at = tail.find("collection=audit_missing");
  ASSERT_NE(at, std::string::npos) << tail;
  const size_t begin = tail.rfind('\n', at) + 1;
  const std::string line = tail.substr(begin, tail.find('\n', at) - begin);
  for (const std::string& part :
       {std::string("http request_id="), std::string(" remote=127.0.0.1:"), std::string(" method=POST"),
        std::string(" path=/v2/vectordb/collections/describe"), std::string(" status=200"),
        " code=" + std::to_string(code) + " db=default collection=audit_missing", std::string(" latency_ms=")}) {
    EXPECT_NE(line.find(part), std::string::npos) << "'" << part << "' missing from: " << line;
  }
}

TEST_F(RestApiTest, OversizedBodyIsRefused) {
  std::string big(65 << 20, ' ');
  big.front() = '{';
  big.back() = '}';
  auto r = client_->Send("POST", "/v2/vectordb/collections/list", big);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 413);
}

TEST_F(RestApiTest, CollectionLifecycle) {
  QuickCollection("life");
  auto d = Ok("collections/describe", {{"collectionName", "life"}});
  EXPECT_EQ(d["data"]["collectionName"], "life");
  EXPECT_EQ(d["data"]["fields"].size(), 2u) << d.dump();
  EXPECT_EQ(d["data"]["shardsNum"], 1);
  EXPECT_EQ(d["data"]["enableDynamicField"], true);
  EXPECT_EQ(d["data"]["indexes"][0]["fieldName"], "vector");
  EXPECT_EQ(d["data"]["indexes"][0]["metricType"], "L2");
  EXPECT_EQ(d["data"]["load"], "LoadStateLoaded");
  EXPECT_NE(Ok("collections/list", json::object())["data"].dump().find("\"life\""), std::string::npos);
  EXPECT_EQ(Ok("collections/has", {{"collectionName", "life"}})["data"]["has"], true);
  EXPECT_EQ(Ok("collections/has", {{"collectionName", "nope"}})["data"]["has"], false);
  EXPECT_EQ(Ok("collections/get_load_state", {{"collectionName", "life"}})["data"]["loadState"], "LoadStateLoaded");
  Ok("collections/release", {{"collectionName", "life"}});
  EXPECT_EQ(Ok("collections/get_load_state", {{"collectionName", "life"}})["data"]["loadState"], "LoadStateNotLoad");
  ExpectError("entities/search", {{"collectionName", "life"}, {"data", {RowVector(1)}}}, 101, "not loaded");
  Ok("collections/load", {{"collectionName", "life"}});
  Ok("collections/rename", {{"collectionName", "life"}, {"newCollectionName", "life2"}});
  EXPECT_EQ(Ok("collections/has", {{"collectionName", "life2"}})["data"]["has"], true);
  Ok("collections/drop", {{"collectionName", "life2"}});
  EXPECT_EQ(Ok("collections/has", {{"collectionName", "life2"}})["data"]["has"], false);
}

// A create whose index is wrong creates nothing, so the corrected request succeeds; the same
// create again is accepted (Milvus makes create idempotent), a different one is not.
TEST_F(RestApiTest, CreateWithIndexParamsIsAllOrNothingAndIdempotent) {
  json body = {{"collectionName", "atomic"},
               {"schema",
                {{"fields",
                  {{{"fieldName", "id"}, {"dataType", "Int64"}, {"isPrimary", true}},
                   {{"fieldName", "v"}, {"dataType", "FloatVector"}, {"elementTypeParams", {{"dim", 8}}}}}}}},
               {"indexParams", {{{"fieldName", "v"}, {"indexType", "DISKANN"}, {"metricType", "L2"}}}}};
  ExpectError("collections/create", body, 1100, "DISKANN");
  EXPECT_EQ(Ok("collections/has", {{"collectionName", "atomic"}})["data"]["has"], false);
  body["indexParams"][0]["indexType"] = "HNSW";
  Ok("collections/create", body);
  Ok("collections/create", body);
  EXPECT_EQ(Ok("collections/get_load_state", {{"collectionName", "atomic"}})["data"]["loadState"], "LoadStateLoaded");
  body["schema"]["fields"][1]["elementTypeParams"]["dim"] = 16;
  ExpectError("collections/create", body, 65535, "already exists");
  json out_of_range = {{"collectionName", "atomic2"},
                       {"schema",
                        {{"fields",
                          {{{"fieldName", "id"}, {"dataType", "Int64"}, {"isPrimary", true}},
                           {{"fieldName", "d"}, {"dataType", "Int8"}, {"defaultValue", 300}},
                           {{"fieldName", "v"}, {"dataType", "FloatVector"}, {"elementTypeParams", {{"dim", 8}}}}}}}}};
  ExpectError("collections/create", out_of_range, 1100, "300");
  Ok("collections/drop", {{"collectionName", "atomic"}});
}

TEST_F(RestApiTest, CustomSchemaEveryFieldType) {
  json schema = {
      {"autoID", false},
      {"enableDynamicField", true},
      {"fields",
       {{{"fieldName", "pk"}, {"dataType", "VarChar"}, {"isPrimary", true}, {"elementTypeParams", {{"max_length", 32}}}},
        {{"fieldName", "vec"}, {"dataType", "FloatVector"}, {"elementTypeParams", {{"dim", "4"}}}},
        {{"fieldName", "b"}, {"dataType", "Bool"}},
        {{"fieldName", "i8"}, {"dataType", "Int8"}},
        {{"fieldName", "i16"}, {"dataType", "Int16"}},
        {{"fieldName", "i32"}, {"dataType", "Int32"}, {"isClusteringKey", true}},
        {{"fieldName", "i64"}, {"dataType", "Int64"}},
        {{"fieldName", "f"}, {"dataType", "Float"}},
        {{"fieldName", "d"}, {"dataType", "Double"}},
        {{"fieldName", "s"}, {"dataType", "VarChar"}, {"elementTypeParams", {{"max_length", 16}}}},
        {{"fieldName", "j"}, {"dataType", "JSON"}},
        {{"fieldName", "a"}, {"dataType", "Array"}, {"elementDataType", "Int64"},
         {"elementTypeParams", {{"max_capacity", 8}}}},
        {{"fieldName", "n"}, {"dataType", "Int32"}, {"nullable", true}}}}};
  Ok("collections/create",
     {{"collectionName", "typed"},
      {"schema", schema},
      {"indexParams", {{{"fieldName", "vec"}, {"indexName", "vec_idx"}, {"metricType", "COSINE"},
                        {"indexType", "HNSW"}, {"params", {{"M", 8}, {"efConstruction", 64}}}}}},
      {"params", {{"shardsNum", 2}}}});
  json row = {{"pk", "a"}, {"vec", {1, 0, 0, 0}}, {"b", true}, {"i8", 1}, {"i16", 2}, {"i32", 3},
              {"i64", "9007199254740993"}, {"f", 1.5}, {"d", 2.5}, {"s", "x"}, {"j", {{"k", 1}}},
              {"a", {1, 2}}, {"extra", "dyn"}};
  auto ins = Ok("entities/insert", {{"collectionName", "typed"}, {"data", {row}}});
  EXPECT_EQ(ins["data"]["insertCount"], 1);
  EXPECT_EQ(ins["data"]["insertIds"][0], "a");
  auto q = Ok("entities/query", {{"collectionName", "typed"}, {"filter", "pk == \"a\""}, {"outputFields", {"*"}},
                                 {"consistencyLevel", "Strong"}});
  ASSERT_EQ(q["data"].size(), 1u) << q.dump();
  const json& got = q["data"][0];
  EXPECT_EQ(got["i64"], 9007199254740993LL) << got.dump();  // Int64 as a number by default
  EXPECT_EQ(got["j"], "{\"k\":1}") << "JSON fields come back as JSON text";
  EXPECT_EQ(got["extra"], "dyn") << "dynamic keys are flattened into the row";
  EXPECT_TRUE(got["n"].is_null());
  EXPECT_EQ(got["a"], json({1, 2}));
  auto as_strings = Call("entities/query", {{"collectionName", "typed"}, {"filter", "i64 > 0"},
                                            {"outputFields", {"i64"}}, {"consistencyLevel", "Strong"}},
                         {{"Accept-Type-Allow-Int64", "false"}});
  EXPECT_EQ(as_strings["data"][0]["i64"], "9007199254740993") << as_strings.dump();
  auto d = Ok("collections/describe", {{"collectionName", "typed"}});
  EXPECT_EQ(d["data"]["shardsNum"], 2);
  EXPECT_EQ(d["data"]["fields"].size(), 13u);
  for (const json& field : d["data"]["fields"]) {
    EXPECT_EQ(field["clusteringKey"], field["name"] == "i32") << "isClusteringKey is kept: " << field.dump();
  }
  ExpectError("entities/insert", {{"collectionName", "typed"}, {"data", {{{"pk", "b"}, {"vec", {1, 0, 0}}}}}}, 1804,
              "vec");
}

TEST_F(RestApiTest, InsertSearchQueryGetDelete) {
  QuickCollection("ents", 200);
  auto s = Ok("entities/search", {{"collectionName", "ents"}, {"data", {RowVector(7), RowVector(9)}}, {"limit", 3},
                                  {"outputFields", {"tag", "color"}}, {"consistencyLevel", "Strong"}});
  ASSERT_EQ(s["topks"], json({3, 3})) << s.dump();
  EXPECT_EQ(s["data"][0]["id"], 7);
  EXPECT_NEAR(s["data"][0]["distance"].get<double>(), 0.0, 1e-4);
  EXPECT_EQ(s["data"][0]["color"], "blue");
  EXPECT_EQ(s["data"][3]["id"], 9);
  EXPECT_LE(s["data"][0]["distance"].get<double>(), s["data"][1]["distance"].get<double>());
  auto filtered = Ok("entities/search", {{"collectionName", "ents"}, {"data", {RowVector(7)}}, {"limit", 10},
                                         {"filter", "color == \"red\" and tag < 5"}, {"outputFields", {"tag", "color"}},
                                         {"searchParams", {{"params", {{"ef", 64}}}}},
                                         {"consistencyLevel", "Strong"}});
  ASSERT_EQ(filtered["data"].size(), 10u);
  for (const auto& hit : filtered["data"]) {
    EXPECT_EQ(hit["color"], "red");
    EXPECT_LT(hit["tag"].get<int>(), 5);
  }
  // Range search over HTTP: radius / range_filter from searchParams.params, with a
  // parameter of another index type (ignored) and ignoreGrowing at the top level.
  auto nearest = Ok("entities/search", {{"collectionName", "ents"}, {"data", {RowVector(7)}}, {"limit", 5},
                                        {"consistencyLevel", "Strong"}});
  ASSERT_EQ(nearest["data"].size(), 5u);
  const double d1 = nearest["data"][1]["distance"].get<double>();
  const double d3 = nearest["data"][3]["distance"].get<double>();
  ASSERT_LT(d1, d3);
  auto ranged = Ok("entities/search",
                   {{"collectionName", "ents"}, {"data", {RowVector(7)}}, {"limit", 10}, {"consistencyLevel", "Strong"},
                    {"searchParams", {{"ignoreGrowing", false}, {"params", {{"radius", d3}, {"range_filter", d1}, {"nprobe", 8}}}}}});
  std::vector<json> ranged_ids;
  for (const auto& hit : ranged["data"]) ranged_ids.push_back(hit["id"]);
  EXPECT_EQ(ranged_ids, (std::vector<json>{nearest["data"][1]["id"], nearest["data"][2]["id"]})) << ranged.dump();
  auto count = Ok("entities/query", {{"collectionName", "ents"}, {"filter", ""}, {"outputFields", {"count(*)"}},
                                     {"consistencyLevel", "Strong"}});
  EXPECT_EQ(count["data"][0]["count(*)"], 200);
  auto page = Ok("entities/query", {{"collectionName", "ents"}, {"filter", "id > 10"}, {"limit", 5}, {"offset", 5},
                                    {"outputFields", {"id"}}, {"consistencyLevel", "Strong"}});
  ASSERT_EQ(page["data"].size(), 5u);
  EXPECT_EQ(page["data"][0]["id"], 16);
  auto def = Ok("entities/query", {{"collectionName", "ents"}, {"filter", "id > 0"}, {"consistencyLevel", "Strong"}});
  EXPECT_EQ(def["data"].size(), 100u) << "query limit defaults to 100";
  auto got = Ok("entities/get", {{"collectionName", "ents"}, {"id", {3, 4}}, {"outputFields", {"id", "vector"}}});
  ASSERT_EQ(got["data"].size(), 2u);
  EXPECT_EQ(got["data"][0]["vector"].size(), 8u);
  auto del = Ok("entities/delete", {{"collectionName", "ents"}, {"filter", "id in [3, 4, 5]"}});
  EXPECT_EQ(del["data"]["deleteCount"], 3);
  Ok("entities/delete", {{"collectionName", "ents"}, {"filter", "tag == 9"}});
  auto after = Ok("entities/query", {{"collectionName", "ents"}, {"filter", "id in [3, 4, 5, 6] or tag == 9"},
                                     {"outputFields", {"id"}}, {"consistencyLevel", "Strong"}});
  ASSERT_EQ(after["data"].size(), 1u) << after.dump();
  EXPECT_EQ(after["data"][0]["id"], 6);
  auto up = Ok("entities/upsert", {{"collectionName", "ents"}, {"data", {{{"id", 6}, {"vector", RowVector(6)},
                                                                          {"tag", 6}, {"color", "green"}}}}});
  EXPECT_EQ(up["data"]["upsertCount"], 1);
  auto v = Ok("entities/query", {{"collectionName", "ents"}, {"filter", "id == 6"}, {"outputFields", {"color"}},
                                 {"consistencyLevel", "Strong"}});
  ASSERT_EQ(v["data"].size(), 1u);
  EXPECT_EQ(v["data"][0]["color"], "green");
}

TEST_F(RestApiTest, RequestValidationErrors) {
  QuickCollection("val", 10);
  ExpectError("collections/describe", json::object(), 1802, "CollectionName");
  ExpectError("collections/describe", {{"collectionName", "missing_one"}}, 100, "missing_one");
  ExpectError("collections/create", {{"collectionName", "1bad"}, {"dimension", 8}}, 1100, "1bad");
  ExpectError("collections/create", {{"collectionName", std::string(256, 'a')}, {"dimension", 8}}, 1100, "255");
  ExpectError("collections/create", {{"collectionName", "nodim"}}, 1100, "dimension");
  ExpectError("collections/create", {{"collectionName", "val"}, {"dimension", 8}}, 65535, "val");
  ExpectError("entities/search", {{"collectionName", "val"}, {"data", {{1, 2, 3}}}}, 1100, "dimension");
  ExpectError("entities/search", {{"collectionName", "val"}, {"data", "x"}}, 1801, "data");
  ExpectError("entities/search", {{"collectionName", "val"}, {"data", {RowVector(1)}}, {"limit", -1}}, 1100, "limit");
  ExpectError("entities/search", {{"collectionName", "val"}, {"data", {RowVector(1)}}, {"limit", 16000},
                                  {"offset", 1000}}, 1100, "16384");
  ExpectError("entities/search", {{"collectionName", "val"}, {"data", {RowVector(1)}}, {"filter", "tag >"}}, 1100,
              "position");
  ExpectError("entities/search", {{"collectionName", "val"}, {"data", {RowVector(1)}}, {"consistencyLevel", "Bad"}},
              1100, "consistencyLevel");
  ExpectError("entities/insert", {{"collectionName", "val"}, {"data", json::array()}}, 1804, "");
  ExpectError("entities/insert", {{"collectionName", "val"}, {"data", {{{"id", 1}, {"vector", {1, 2}}}}}}, 1804,
              "vector");
  ExpectError("entities/delete", {{"collectionName", "val"}}, 1802, "Filter");
  ExpectError("entities/get", {{"collectionName", "val"}, {"id", {{"x", 1}}}}, 1806, "");
  ExpectError("partitions/has", {{"collectionName", "val"}}, 1802, "PartitionName");
  ExpectError("indexes/describe", {{"collectionName", "val"}, {"indexName", "nope"}}, 700, "nope");
  ExpectError("aliases/describe", {{"aliasName", "nope"}}, 1600, "nope");
  ExpectError("databases/describe", {{"dbName", "nope"}}, 800, "nope");
  // NaN cannot be written in JSON; a huge exponent overflows to Inf.
  auto inf = client_->Send("POST", "/v2/vectordb/entities/insert",
                           R"({"collectionName":"val","data":[{"id":99,"vector":[1e999,0,0,0,0,0,0,0]}]})");
  ASSERT_TRUE(inf.ok());
  EXPECT_NE(json::parse(inf->body)["code"], 0) << inf->body;
}

TEST_F(RestApiTest, PartitionsAliasesDatabasesIndexes) {
  QuickCollection("parts", 20);
  EXPECT_EQ(Ok("partitions/list", {{"collectionName", "parts"}})["data"], json({"_default"}));
  Ok("partitions/create", {{"collectionName", "parts"}, {"partitionName", "p1"}});
  EXPECT_EQ(Ok("partitions/has", {{"collectionName", "parts"}, {"partitionName", "p1"}})["data"]["has"], true);
  Ok("partitions/load", {{"collectionName", "parts"}, {"partitionNames", {"p1"}}});
  json rows = json::array();
  for (int64_t id = 1000; id < 1010; ++id) rows.push_back(Row(id));
  Ok("entities/insert", {{"collectionName", "parts"}, {"partitionName", "p1"}, {"data", rows}});
  auto in_p1 = Ok("entities/query", {{"collectionName", "parts"}, {"partitionNames", {"p1"}},
                                     {"outputFields", {"count(*)"}}, {"consistencyLevel", "Strong"}});
  EXPECT_EQ(in_p1["data"][0]["count(*)"], 10);
  Ok("collections/flush", {{"collectionName", "parts"}});
  EXPECT_EQ(Ok("partitions/get_stats", {{"collectionName", "parts"}, {"partitionName", "p1"}})["data"]["rowCount"], 10);
  EXPECT_EQ(Ok("collections/get_stats", {{"collectionName", "parts"}})["data"]["rowCount"], 30);
  Ok("partitions/release", {{"collectionName", "parts"}, {"partitionNames", {"p1"}}});
  Ok("partitions/drop", {{"collectionName", "parts"}, {"partitionName", "p1"}});
  EXPECT_EQ(Ok("partitions/has", {{"collectionName", "parts"}, {"partitionName", "p1"}})["data"]["has"], false);
  // The dropped partition's rows leave the count at once, and the files at the next
  // compaction (which rewrites the segments holding them).
  EXPECT_EQ(Ok("collections/get_stats", {{"collectionName", "parts"}})["data"]["rowCount"], 20);
  const json job = Ok("collections/compact", {{"collectionName", "parts"}})["data"]["compactionID"];
  json state;
  for (int i = 0; i < 300; ++i) {
    state = Ok("collections/get_compaction_state", {{"collectionName", "parts"}, {"jobID", job}})["data"];
    if (state["state"] == "Completed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(state["state"], "Completed") << state.dump();
  EXPECT_GE(state.value("completedPlanNumber", 0), 1) << "the segment holding p1's rows was rewritten: " << state.dump();
  EXPECT_EQ(Ok("collections/get_stats", {{"collectionName", "parts"}})["data"]["rowCount"], 20);
  auto remaining = Ok("entities/query", {{"collectionName", "parts"}, {"outputFields", {"count(*)"}},
                                         {"consistencyLevel", "Strong"}});
  EXPECT_EQ(remaining["data"][0]["count(*)"], 20);

  Ok("aliases/create", {{"collectionName", "parts"}, {"aliasName", "al"}});
  EXPECT_EQ(Ok("aliases/describe", {{"aliasName", "al"}})["data"]["collectionName"], "parts");
  EXPECT_EQ(Ok("aliases/list", json::object())["data"], json({"al"}));
  auto via_alias = Ok("entities/query", {{"collectionName", "al"}, {"outputFields", {"count(*)"}},
                                         {"consistencyLevel", "Strong"}});
  EXPECT_EQ(via_alias["data"][0]["count(*)"], 20);
  QuickCollection("parts2");
  Ok("aliases/alter", {{"collectionName", "parts2"}, {"aliasName", "al"}});
  EXPECT_EQ(Ok("aliases/describe", {{"aliasName", "al"}})["data"]["collectionName"], "parts2");
  ExpectError("aliases/create", {{"collectionName", "parts"}, {"aliasName", "al"}}, 1602, "alias");
  ExpectError("aliases/create", {{"collectionName", "parts2"}, {"aliasName", "parts"}}, 1601, "conflicts");
  ExpectError("collections/create", {{"collectionName", "al"}, {"dimension", 8}}, 1601, "conflicts");
  Ok("aliases/drop", {{"aliasName", "al"}});
  ExpectError("databases/create", {{"dbName", "bad-db"}}, 802, "bad-db");

  Ok("databases/create", {{"dbName", "db1"}});
  EXPECT_NE(Ok("databases/list", json::object())["data"].dump().find("db1"), std::string::npos);
  Ok("collections/create", {{"dbName", "db1"}, {"collectionName", "indb"}, {"dimension", 4}});
  auto in_db = Call("collections/list", json::object(), {{"DB-Name", "db1"}});
  EXPECT_EQ(in_db["data"], json({"indb"}));
  EXPECT_EQ(Ok("databases/describe", {{"dbName", "db1"}})["data"]["dbName"], "db1");
  Ok("collections/drop", {{"dbName", "db1"}, {"collectionName", "indb"}});
  Ok("databases/drop", {{"dbName", "db1"}});

  EXPECT_EQ(Ok("indexes/list", {{"collectionName", "parts"}})["data"], json({"vector"}));
  Ok("collections/flush", {{"collectionName", "parts"}});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  json index;
  do {
    index = Ok("indexes/describe", {{"collectionName", "parts"}, {"indexName", "vector"}});
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (index["data"][0]["indexState"] != "Finished" && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(index["data"][0]["indexState"], "Finished") << index.dump();
  EXPECT_EQ(index["data"][0]["indexType"], "AUTOINDEX");
  EXPECT_EQ(index["data"][0]["indexedRows"], index["data"][0]["totalRows"]);
  ExpectError("indexes/drop", {{"collectionName", "parts"}, {"indexName", "vector"}}, 65535, "release");
  Ok("collections/release", {{"collectionName", "parts"}});
  Ok("indexes/drop", {{"collectionName", "parts"}, {"indexName", "vector"}});
  EXPECT_EQ(Ok("indexes/list", {{"collectionName", "parts"}})["data"], json::array());
  Ok("indexes/create", {{"collectionName", "parts"},
                        {"indexParams", {{{"fieldName", "vector"}, {"indexName", "ivf"}, {"metricType", "L2"},
                                          {"indexType", "IVF_FLAT"}, {"params", {{"nlist", 4}}}}}}});
  Ok("collections/load", {{"collectionName", "parts"}});
  auto s = Ok("entities/search", {{"collectionName", "parts"}, {"data", {RowVector(5)}}, {"limit", 1},
                                  {"searchParams", {{"nprobe", 4}}}, {"consistencyLevel", "Strong"}});
  EXPECT_EQ(s["data"][0]["id"], 5) << s.dump();
}

}  // namespace
}  // namespace tessera::testing
