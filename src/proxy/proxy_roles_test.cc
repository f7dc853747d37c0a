// The proxy over the real coordinator and query node (no data or index node: everything
// stays growing and is searched exactly), a real LocalLog, SqliteMetaStore and
// LocalObjectStore. Checks that the proxy and the roles agree on the interface contracts.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "coord/coordinator_impl.h"
#include "proxy/proxy.h"
#include "querynode/query_node_impl.h"
#include "storage/log/local_log.h"
#include "storage/log/log_test_util.h"
#include "storage/meta/sqlite_meta_store.h"
#include "storage/object/local_object_store.h"

namespace tessera::proxy {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

class ProxyRolesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = storage::LocalLog::Open(dir_.path() + "/wal");
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
    auto meta = storage::SqliteMetaStore::Open(dir_.path() + "/meta.db");
    ASSERT_TRUE(meta.ok()) << meta.status().ToString();
    meta_ = std::move(meta).value();
    storage::LocalObjectStoreOptions object_options;
    object_options.sync = false;
    auto objects = storage::LocalObjectStore::Open(dir_.path() + "/objects", object_options);
    ASSERT_TRUE(objects.ok()) << objects.status().ToString();
    objects_ = std::move(objects).value();
    querynode::QueryNodeOptions qn_options;
    qn_options.search_threads = 2;
    query_node_ = querynode::CreateQueryNode(qn_options, log_.get(), objects_.get());
    coord::CoordinatorOptions coord_options;
    coord_options.compaction_interval = std::chrono::milliseconds(0);
    coord_options.gc_interval = std::chrono::milliseconds(0);
    auto coordinator = coord::CoordinatorImpl::Open(coord_options, meta_.get(), objects_.get());
    ASSERT_TRUE(coordinator.ok()) << coordinator.status().ToString();
    coordinator_ = std::move(coordinator).value();
    coordinator_->AttachNodes(nullptr, nullptr, query_node_.get());
    ASSERT_TRUE(coordinator_->Start().ok());
    proxy_ = std::make_unique<Proxy>(ProxyOptions{}, coordinator_.get(), query_node_.get(), log_.get());
  }

  void TearDown() override {
    proxy_.reset();
    if (coordinator_) coordinator_->Stop();
    coordinator_.reset();
    query_node_.reset();
  }

  json Call(const std::string& route, const json& body, const std::map<std::string, std::string>& headers = {}) {
    HttpRequest request;
    request.method = "POST";
    request.path = "/v2/vectordb/" + route;
    for (const auto& [k, v] : headers) request.SetHeader(k, v);
    request.body = body.dump();
    HttpResponse response = proxy_->Handle(request);
    EXPECT_EQ(response.status, 200) << route << ": " << response.body;
    return json::parse(response.body, nullptr, false);
  }
  json Ok(const std::string& route, const json& body, const std::map<std::string, std::string>& headers = {}) {
    json out = Call(route, body, headers);
    EXPECT_EQ(out.value("code", -1), 0) << route << " " << body.dump() << " -> " << out.dump();
    return out;
  }
  int Code(const std::string& route, const json& body) { return Call(route, body).value("code", -1); }

  storage::testing::TempDir dir_;
  std::unique_ptr<storage::LocalLog> log_;
  std::unique_ptr<storage::SqliteMetaStore> meta_;
  std::unique_ptr<storage::LocalObjectStore> objects_;
  std::unique_ptr<querynode::QueryNodeImpl> query_node_;
  std::unique_ptr<coord::CoordinatorImpl> coordinator_;
  std::unique_ptr<Proxy> proxy_;
};

TEST_F(ProxyRolesTest, QuickSetupSession) {
  Ok("collections/create", {{"collectionName", "docs"}, {"dimension", 2}, {"metricType", "L2"}});
  json d = Ok("collections/describe", {{"collectionName", "docs"}})["data"];
  EXPECT_EQ(d["fields"].size(), 2u) << d.dump();
  EXPECT_EQ(d["indexes"][0]["indexName"], "vector");
  EXPECT_EQ(d["indexes"][0]["metricType"], "L2");
  EXPECT_EQ(d["enableDynamicField"], true);
  EXPECT_EQ(d["shardsNum"], 1);
  EXPECT_EQ(Ok("indexes/list", {{"collectionName", "docs"}})["data"], json::parse(R"(["vector"])"));
  EXPECT_EQ(Ok("partitions/list", {{"collectionName", "docs"}})["data"], json::parse(R"(["_default"])"));

  json ins = Ok("entities/insert", {{"collectionName", "docs"}, {"data", json::parse(R"([
      {"id": 1, "vector": [0, 0], "color": "red", "n": 1},
      {"id": 2, "vector": [1, 0], "color": "blue", "n": 2},
      {"id": 3, "vector": [5, 5], "color": "red", "n": 3}])")}});
  EXPECT_EQ(ins["data"]["insertIds"], json::parse("[1,2,3]"));

  json search = Ok("entities/search", {{"collectionName", "docs"}, {"data", {{0.9, 0}}}, {"limit", 2},
                                       {"outputFields", {"color"}}, {"consistencyLevel", "Strong"}});
  ASSERT_EQ(search["data"].size(), 2u) << search.dump();
  EXPECT_EQ(search["topks"], json::parse("[2]"));
  EXPECT_EQ(search["data"][0]["id"], 2);
  EXPECT_EQ(search["data"][0]["color"], "blue");
  EXPECT_NEAR(search["data"][0]["distance"].get<double>(), 0.01, 1e-4);

  json query = Ok("entities/query", {{"collectionName", "docs"}, {"filter", "color == \"red\""},
                                     {"outputFields", {"n"}}, {"consistencyLevel", "Strong"}});
  ASSERT_EQ(query["data"].size(), 2u) << query.dump();
  EXPECT_EQ(query["data"][0]["id"], 1);
  EXPECT_EQ(query["data"][0]["n"], 1);
  json count = Ok("entities/query", {{"collectionName", "docs"}, {"outputFields", {"count(*)"}},
                                     {"consistencyLevel", "Strong"}},
                  {{"Accept-Type-Allow-Int64", "false"}});
  EXPECT_EQ(count["data"][0]["count(*)"], "3");
  json get = Ok("entities/get", {{"collectionName", "docs"}, {"id", {3, 1}}, {"consistencyLevel", "Strong"}});
  ASSERT_EQ(get["data"].size(), 2u) << get.dump();
  EXPECT_EQ(get["data"][1]["color"], "red") << "dynamic keys flattened with outputFields *";

  EXPECT_EQ(Ok("entities/delete", {{"collectionName", "docs"}, {"filter", "id in [1]"}})["data"]["deleteCount"], 1);
  EXPECT_EQ(Ok("entities/delete", {{"collectionName", "docs"}, {"filter", "n >= 3"}})["data"]["deleteCount"], 1);
  json after = Ok("entities/query", {{"collectionName", "docs"}, {"consistencyLevel", "Strong"}});
  ASSERT_EQ(after["data"].size(), 1u) << after.dump();
  EXPECT_EQ(after["data"][0]["id"], 2);

  json up = Ok("entities/upsert", {{"collectionName", "docs"},
                                   {"data", json::parse(R"([{"id":2,"vector":[2,2],"color":"green"}])")}});
  EXPECT_EQ(up["data"]["upsertCount"], 1);
  json upserted = Ok("entities/query", {{"collectionName", "docs"}, {"consistencyLevel", "Strong"}});
  ASSERT_EQ(upserted["data"].size(), 1u) << upserted.dump();
  EXPECT_EQ(upserted["data"][0]["color"], "green");

  EXPECT_EQ(Ok("collections/get_load_state", {{"collectionName", "docs"}})["data"]["loadState"], "LoadStateLoaded");
  Ok("collections/release", {{"collectionName", "docs"}});
  EXPECT_EQ(Code("entities/query", {{"collectionName", "docs"}}), 101);
  EXPECT_EQ(Ok("collections/get_load_state", {{"collectionName", "docs"}})["data"]["loadState"], "LoadStateNotLoad");
  Ok("collections/load", {{"collectionName", "docs"}});
  json reloaded = Ok("entities/query", {{"collectionName", "docs"}, {"consistencyLevel", "Strong"}});
  EXPECT_EQ(reloaded["data"].size(), 1u) << "replayed from the WAL";
  Ok("collections/drop", {{"collectionName", "docs"}});
  EXPECT_EQ(Code("collections/describe", {{"collectionName", "docs"}}), 100);
}

TEST_F(ProxyRolesTest, CustomSchemaAutoIdJsonArraysAndErrors) {
  Ok("collections/create", json::parse(R"({"collectionName":"c","schema":{"autoID":true,"fields":[
      {"fieldName":"pk","dataType":"Int64","isPrimary":true},
      {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":"2"}},
      {"fieldName":"j","dataType":"JSON","nullable":true},
      {"fieldName":"a","dataType":"Array","elementDataType":"VarChar","elementTypeParams":{"max_capacity":4,"max_length":8}},
      {"fieldName":"s","dataType":"VarChar","elementTypeParams":{"max_length":8}}]},
      "params":{"shardsNum":2},
      "indexParams":[{"fieldName":"v","metricType":"COSINE","indexType":"HNSW","params":{"M":8,"efConstruction":32}}]})"));
  json ins = Ok("entities/insert", {{"collectionName", "c"}, {"data", json::parse(R"([
      {"v":[1,0],"j":{"k":[1,2]},"a":["x","y"],"s":"one"},
      {"v":[0,1],"a":[],"s":"two"}])")}});
  ASSERT_EQ(ins["data"]["insertIds"].size(), 2u);
  const int64_t first = ins["data"]["insertIds"][0];
  json rows = Ok("entities/query", {{"collectionName", "c"}, {"filter", "s == \"one\""}, {"consistencyLevel", "Strong"}});
  ASSERT_EQ(rows["data"].size(), 1u) << rows.dump();
  EXPECT_EQ(rows["data"][0]["pk"], first);
  EXPECT_EQ(rows["data"][0]["j"], R"({"k":[1,2]})");
  EXPECT_EQ(rows["data"][0]["a"], json::parse(R"(["x","y"])"));
  json search = Ok("entities/search", {{"collectionName", "c"}, {"data", {{1, 0}, {0, 1}}}, {"limit", 1},
                                       {"outputFields", {"s"}}, {"consistencyLevel", "Strong"},
                                       {"searchParams", {{"params", {{"ef", 16}}}}}});
  EXPECT_EQ(search["topks"], json::parse("[1,1]"));
  EXPECT_EQ(search["data"][0]["s"], "one");
  EXPECT_EQ(search["data"][1]["s"], "two");
  EXPECT_NEAR(search["data"][0]["distance"].get<double>(), 1.0, 1e-5);

  EXPECT_EQ(Code("entities/insert", {{"collectionName", "c"}, {"data", json::parse(R"([{"pk":1,"v":[1,0],"s":"x"}])")}}),
            1804);
  EXPECT_EQ(Code("entities/insert", {{"collectionName", "c"}, {"data", json::parse(R"([{"v":[1,0],"s":"x","zz":1}])")}}),
            1804) << "no dynamic field";
  EXPECT_EQ(Code("entities/search", {{"collectionName", "c"}, {"data", {{1, 0, 0}}}}), 1100);
  EXPECT_EQ(Code("entities/query", {{"collectionName", "c"}, {"filter", "nope > 1"}}), 1100);
  EXPECT_EQ(Code("collections/describe", {{"collectionName", "zz"}}), 100);
  EXPECT_EQ(Code("partitions/drop", {{"collectionName", "c"}, {"partitionName", "zz"}}), 200);
  EXPECT_EQ(Code("indexes/describe", {{"collectionName", "c"}, {"indexName", "zz"}}), 700);
  EXPECT_EQ(Code("aliases/describe", {{"aliasName", "zz"}}), 1600);
  EXPECT_EQ(Code("databases/describe", {{"dbName", "zz"}}), 800);
  json index = Ok("indexes/describe", {{"collectionName", "c"}, {"indexName", "v"}})["data"][0];
  EXPECT_EQ(index["indexType"], "HNSW");
  EXPECT_EQ(index["metricType"], "COSINE");
}

TEST_F(ProxyRolesTest, ScalarIndexesAreAcceptedDescribedAndDropped) {
  const json fields = json::parse(R"([
      {"fieldName":"pk","dataType":"Int64","isPrimary":true},
      {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":"2"}},
      {"fieldName":"n","dataType":"Double"},
      {"fieldName":"s","dataType":"VarChar","elementTypeParams":{"max_length":8}}])");
  // Indexes on scalar fields alone: created, not loaded (the vector field has none).
  Ok("collections/create", {{"collectionName", "only_scalar"}, {"schema", {{"fields", fields}}},
                            {"indexParams", json::parse(R"([{"fieldName":"s","indexType":"INVERTED"}])")}});
  EXPECT_EQ(Ok("collections/get_load_state", {{"collectionName", "only_scalar"}})["data"]["loadState"],
            "LoadStateNotLoad");
  // A scalar index type on the wrong field fails the create, which then creates nothing.
  json bad = Call("collections/create", {{"collectionName", "c"}, {"schema", {{"fields", fields}}},
                                         {"indexParams", json::parse(R"([
      {"fieldName":"v","metricType":"L2","indexType":"HNSW"},
      {"fieldName":"s","indexType":"STL_SORT"}])")}});
  EXPECT_EQ(bad.value("code", -1), 1100) << bad.dump();
  EXPECT_THAT(bad.value("message", ""), HasSubstr("field 's' (VarChar)"));
  EXPECT_EQ(Ok("collections/has", {{"collectionName", "c"}})["data"]["has"], false);

  Ok("collections/create", {{"collectionName", "c"}, {"schema", {{"fields", fields}}},
                            {"indexParams", json::parse(R"([
      {"fieldName":"v","metricType":"L2","indexType":"HNSW"},
      {"fieldName":"s","indexName":"s_idx","indexType":"Trie"}])")}});
  EXPECT_EQ(Ok("collections/get_load_state", {{"collectionName", "c"}})["data"]["loadState"], "LoadStateLoaded");
  Ok("indexes/create", {{"collectionName", "c"},
                        {"indexParams", json::parse(R"([{"fieldName":"n","indexName":"n_idx","indexType":"STL_SORT"}])")}});
  EXPECT_EQ(Code("indexes/create", {{"collectionName", "c"}, {"indexParams", json::parse(R"([
      {"fieldName":"pk","indexType":"NGRAM","params":{"min_gram":2,"max_gram":3}}])")}}),
            1100);
  EXPECT_EQ(Ok("indexes/list", {{"collectionName", "c"}})["data"], json::parse(R"(["v","s_idx","n_idx"])"));
  Ok("entities/insert", {{"collectionName", "c"}, {"data", json::parse(R"([
      {"pk":1,"v":[1,0],"n":0.5,"s":"one"},{"pk":2,"v":[0,1],"n":2.5,"s":"two"}])")}});
  json index = Ok("indexes/describe", {{"collectionName", "c"}, {"indexName", "s_idx"}})["data"][0];
  EXPECT_EQ(index["indexType"], "TRIE");
  EXPECT_EQ(index["fieldName"], "s");
  EXPECT_EQ(index["metricType"], "");
  EXPECT_EQ(index["indexState"], "Finished");
  // Filters on the indexed fields answer as before.
  json rows = Ok("entities/query", {{"collectionName", "c"}, {"filter", "n > 1 and s like \"t%\""},
                                    {"consistencyLevel", "Strong"}});
  ASSERT_EQ(rows["data"].size(), 1u) << rows.dump();
  EXPECT_EQ(rows["data"][0]["pk"], 2);
  // Dropped like any index: after a release.
  EXPECT_NE(Code("indexes/drop", {{"collectionName", "c"}, {"indexName", "n_idx"}}), 0);
  Ok("collections/release", {{"collectionName", "c"}});
  Ok("indexes/drop", {{"collectionName", "c"}, {"indexName", "n_idx"}});
  EXPECT_EQ(Ok("indexes/list", {{"collectionName", "c"}})["data"], json::parse(R"(["v","s_idx"])"));
}

TEST_F(ProxyRolesTest, PartialUpdateKeepsTheFieldsARowLeavesOut) {
  Ok("collections/create", json::parse(R"({"collectionName":"c","schema":{"enableDynamicField":true,"fields":[
      {"fieldName":"pk","dataType":"VarChar","isPrimary":true,"elementTypeParams":{"max_length":8}},
      {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":"2"}},
      {"fieldName":"n","dataType":"Int64"},
      {"fieldName":"s","dataType":"VarChar","nullable":true,"elementTypeParams":{"max_length":8}}]},
      "indexParams":[{"fieldName":"v","metricType":"L2","indexType":"FLAT"}]})"));
  Ok("entities/insert", {{"collectionName", "c"}, {"data", json::parse(R"([
      {"pk":"a","v":[1,0],"n":1,"s":"one","extra":"kept"},
      {"pk":"b","v":[0,1],"n":2,"s":"two"}])")}});
  const auto row = [&](const std::string& key) {
    json rows = Ok("entities/query", {{"collectionName", "c"}, {"filter", "pk == \"" + key + "\""},
                                      {"outputFields", {"*"}}, {"consistencyLevel", "Strong"}})["data"];
    return rows.size() == 1 ? rows[0] : json();
  };
  // Only n of "a", and s of "b" set to null: everything else stays.
  json reply = Ok("entities/upsert", {{"collectionName", "c"}, {"partialUpdate", true}, {"data", json::parse(R"([
      {"pk":"a","n":10},{"pk":"b","s":null,"more":3}])")}});
  EXPECT_EQ(reply["data"]["upsertCount"], 2);
  json a = row("a");
  EXPECT_EQ(a["n"], 10);
  EXPECT_EQ(a["s"], "one");
  EXPECT_EQ(a["v"], json::parse("[1.0,0.0]"));
  EXPECT_EQ(a["extra"], "kept");
  json b = row("b");
  EXPECT_EQ(b["n"], 2);
  EXPECT_TRUE(b["s"].is_null()) << b.dump();
  EXPECT_EQ(b["more"], 3);
  EXPECT_EQ(Ok("entities/query", {{"collectionName", "c"}, {"filter", ""}, {"outputFields", {"count(*)"}},
                                  {"consistencyLevel", "Strong"}})["data"][0]["count(*)"],
            2);
  // A key that is not stored is an insert: its required fields must be there.
  json missing = Call("entities/upsert", {{"collectionName", "c"}, {"partialUpdate", true},
                                          {"data", json::parse(R"([{"pk":"z","n":5}])")}});
  EXPECT_NE(missing.value("code", 0), 0) << missing.dump();
  EXPECT_THAT(missing.value("message", ""), HasSubstr("v"));
  Ok("entities/upsert", {{"collectionName", "c"}, {"partialUpdate", true},
                         {"data", json::parse(R"([{"pk":"z","v":[1,1],"n":5}])")}});
  EXPECT_EQ(row("z")["n"], 5);
  // Without partialUpdate a missing field is still an error, and nothing changes.
  EXPECT_NE(Code("entities/upsert", {{"collectionName", "c"}, {"data", json::parse(R"([{"pk":"a","n":11}])")}}), 0);
  EXPECT_EQ(row("a")["n"], 10);
  // A partial update needs every stored row: refused while a partition is released (its
  // keys would read as absent and their rows be replaced with nulls), or the collection.
  Ok("partitions/create", {{"collectionName", "c"}, {"partitionName", "p2"}});
  Ok("partitions/release", {{"collectionName", "c"}, {"partitionNames", {"p2"}}});
  json partly = Call("entities/upsert", {{"collectionName", "c"}, {"partialUpdate", true},
                                         {"data", json::parse(R"([{"pk":"a","n":12}])")}});
  EXPECT_EQ(partly.value("code", 0), 101) << partly.dump();
  EXPECT_THAT(partly.value("message", ""), HasSubstr("partition p2"));
  Ok("collections/release", {{"collectionName", "c"}});
  EXPECT_EQ(Code("entities/upsert", {{"collectionName", "c"}, {"partialUpdate", true},
                                     {"data", json::parse(R"([{"pk":"a","n":12}])")}}),
            101);
}

TEST_F(ProxyRolesTest, GroupingSearchReturnsGroupsOfNearestHits) {
  Ok("collections/create", json::parse(R"({"collectionName":"c","schema":{"fields":[
      {"fieldName":"id","dataType":"Int64","isPrimary":true},
      {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":"2"}},
      {"fieldName":"doc","dataType":"Int64"}]},
      "indexParams":[{"fieldName":"v","metricType":"L2","indexType":"FLAT"}]})"));
  // Nearest to [1,0] in id order; docs 1,1,1,2,2,3.
  Ok("entities/insert", {{"collectionName", "c"}, {"data", json::parse(R"([
      {"id":1,"v":[1,0],"doc":1},{"id":2,"v":[1,0.1],"doc":1},{"id":3,"v":[1,0.2],"doc":1},
      {"id":4,"v":[1,0.3],"doc":2},{"id":5,"v":[1,0.4],"doc":2},{"id":6,"v":[0,1],"doc":3}])")}});
  const auto ids = [&](json extra) {
    json body = {{"collectionName", "c"}, {"data", {{1, 0}}}, {"groupingField", "doc"}, {"consistencyLevel", "Strong"}};
    body.update(extra);
    json reply = Ok("entities/search", body);
    std::vector<int64_t> out;
    for (const json& row : reply["data"]) {
      EXPECT_TRUE(row.contains("doc")) << row.dump();  // the group's value comes with each hit
      out.push_back(row["id"]);
    }
    EXPECT_EQ(reply["topks"], json::array({out.size()}));
    return out;
  };
  // Not strict: the first 4 candidates hold both groups, so the answer is taken from them
  // (doc 2 has one hit there). Strict: the search widens until doc 2 has two.
  EXPECT_EQ(ids({{"limit", 2}, {"groupSize", 2}}), (std::vector<int64_t>{1, 2, 4}));
  EXPECT_EQ(ids({{"limit", 2}, {"groupSize", 2}, {"strictGroupSize", true}}), (std::vector<int64_t>{1, 2, 4, 5}));
  // The first 3 candidates are all doc 1: the search widens until three groups are found.
  EXPECT_EQ(ids({{"limit", 3}}), (std::vector<int64_t>{1, 4, 6}));
  EXPECT_EQ(ids({{"limit", 1}, {"offset", 1}, {"groupSize", 2}, {"strictGroupSize", true}}),
            (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(ids({{"limit", 5}, {"groupSize", 2}, {"strictGroupSize", true}}),
            (std::vector<int64_t>{1, 2, 4, 5, 6}));
  EXPECT_EQ(ids({{"limit", 2}, {"filter", "id > 1"}, {"outputFields", {"v"}}}), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(Code("entities/search", {{"collectionName", "c"}, {"data", {{1, 0}}}, {"groupingField", "v"}}), 1100);
}

TEST_F(ProxyRolesTest, PropertiesOfTheWrongTypeAreRefusedNamingTheKey) {
  Ok("collections/create", {{"collectionName", "c"}, {"dimension", 2}});
  json bad = Call("collections/alter_properties",
                  {{"collectionName", "c"}, {"properties", {{"collection.ttl.seconds", "abc"}}}});
  EXPECT_NE(bad.value("code", 0), 0) << bad.dump();
  EXPECT_THAT(bad.value("message", ""), HasSubstr("collection.ttl.seconds"));
  Ok("collections/alter_properties", {{"collectionName", "c"}, {"properties", {{"mmap.enabled", true}}}});
  json db = Call("databases/create", {{"dbName", "d"}, {"properties", {{"database.max.collections", "x"}}}});
  EXPECT_NE(db.value("code", 0), 0) << db.dump();
  EXPECT_THAT(db.value("message", ""), HasSubstr("database.max.collections"));
}

TEST_F(ProxyRolesTest, RowsExpireAfterTheCollectionsTtl) {
  Ok("collections/create", {{"collectionName", "c"}, {"dimension", 2}, {"metricType", "L2"},
                            {"params", {{"ttlSeconds", 2}}}});
  EXPECT_EQ(Ok("collections/describe", {{"collectionName", "c"}})["data"]["properties"],
            json::parse(R"([{"key":"collection.ttl.seconds","value":"2"}])"));
  Ok("entities/insert", {{"collectionName", "c"}, {"data", json::parse(R"([{"id":1,"vector":[1,0]},{"id":2,"vector":[0,1]}])")}});
  const auto count = [&] {
    return Ok("entities/query", {{"collectionName", "c"}, {"filter", ""}, {"outputFields", {"count(*)"}},
                                 {"consistencyLevel", "Strong"}})["data"][0]["count(*)"].get<int64_t>();
  };
  EXPECT_EQ(count(), 2);  // within the 2 s
  std::this_thread::sleep_for(std::chrono::milliseconds(2300));
  EXPECT_EQ(count(), 0);
  EXPECT_EQ(Ok("entities/search", {{"collectionName", "c"}, {"data", {{1, 0}}}, {"consistencyLevel", "Strong"}})["data"],
            json::array());
  // Rows written now are visible. Hidden rows are still stored until a compaction drops
  // them, so dropping the TTL before that shows them again.
  Ok("entities/insert", {{"collectionName", "c"}, {"data", json::parse(R"([{"id":3,"vector":[1,1]}])")}});
  EXPECT_EQ(count(), 1);
  Ok("collections/drop_properties", {{"collectionName", "c"}, {"propertyKeys", {"collection.ttl.seconds"}}});
  EXPECT_EQ(count(), 3);
}

TEST_F(ProxyRolesTest, PartitionsAliasesDatabases) {
  Ok("collections/create", {{"collectionName", "docs"}, {"dimension", 2}});
  Ok("partitions/create", {{"collectionName", "docs"}, {"partitionName", "p1"}});
  Ok("entities/insert", {{"collectionName", "docs"}, {"partitionName", "p1"},
                         {"data", json::parse(R"([{"id":1,"vector":[1,2]}])")}});
  Ok("entities/insert", {{"collectionName", "docs"}, {"data", json::parse(R"([{"id":2,"vector":[1,2]}])")}});
  // The coordinator does not load a partition created after the load (201 until loaded).
  if (Code("entities/query", {{"collectionName", "docs"}, {"partitionNames", {"p1"}}}) == 201) {
    Ok("partitions/load", {{"collectionName", "docs"}, {"partitionNames", {"p1"}}});
  }
  json p1 = Ok("entities/query", {{"collectionName", "docs"}, {"partitionNames", {"p1"}}, {"consistencyLevel", "Strong"}});
  ASSERT_EQ(p1["data"].size(), 1u) << p1.dump();
  EXPECT_EQ(p1["data"][0]["id"], 1);
  Ok("aliases/create", {{"collectionName", "docs"}, {"aliasName", "al"}});
  EXPECT_EQ(Ok("entities/query", {{"collectionName", "al"}, {"outputFields", {"count(*)"}},
                                  {"consistencyLevel", "Strong"}})["data"][0]["count(*)"],
            2);
  EXPECT_EQ(Ok("aliases/describe", {{"aliasName", "al"}})["data"]["collectionName"], "docs");
  Ok("databases/create", {{"dbName", "other"}});
  EXPECT_EQ(Ok("databases/list", json::object())["data"], json::parse(R"(["default","other"])"));
  Ok("collections/create", {{"collectionName", "x"}, {"dimension", 2}}, {{"DB-Name", "other"}});
  EXPECT_EQ(Ok("collections/list", {{"dbName", "other"}})["data"], json::parse(R"(["x"])"));
  EXPECT_EQ(Ok("collections/has", {{"collectionName", "x"}})["data"]["has"], false);
}

}  // namespace
}  // namespace tessera::proxy
