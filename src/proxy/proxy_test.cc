// Handler tests: a Proxy over a real LocalLog, an in-test coordinator and query node.

#include "proxy/proxy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/metrics.h"
#include "msg/wal_message.h"
#include "proxy/proxy_test_util.h"
#include "proxy/sharding.h"

namespace tessera::proxy {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using testing::ProxyHarness;

class ProxyTest : public ::testing::Test {
 protected:
  // A quick-mode collection "docs" (dim 2, COSINE unless told) with rows ids 1..n.
  void CreateQuick(const std::string& name = "docs", json extra = json::object()) {
    json body = {{"collectionName", name}, {"dimension", 2}};
    body.update(extra);
    h_.Ok("collections/create", body);
  }
  json Insert(const std::string& name, json rows, std::map<std::string, std::string> headers = {}) {
    return h_.Ok("entities/insert", {{"collectionName", name}, {"data", std::move(rows)}}, headers);
  }
  int Code(const std::string& route, const json& body) { return h_.Call(route, body).value("code", -1); }
  std::string Message(const std::string& route, const json& body) {
    return h_.Call(route, body).value("message", std::string());
  }

  ProxyHarness h_;
};

TEST_F(ProxyTest, QuickCreateDescribeMatchesTheSpec) {
  CreateQuick("docs", {{"metricType", "L2"}});
  json out = h_.Ok("collections/describe", {{"collectionName", "docs"}});
  EXPECT_EQ(out["message"], "");
  const json& d = out["data"];
  EXPECT_EQ(d["collectionName"], "docs");
  EXPECT_TRUE(d["collectionID"].is_number_integer());
  EXPECT_EQ(d["description"], "");
  EXPECT_EQ(d["autoId"], false);
  ASSERT_EQ(d["fields"].size(), 2u) << "$meta must be hidden: " << d["fields"].dump();
  EXPECT_EQ(d["fields"][0]["name"], "id");
  EXPECT_EQ(d["fields"][0]["type"], "Int64");
  EXPECT_EQ(d["fields"][0]["primaryKey"], true);
  EXPECT_EQ(d["fields"][1]["name"], "vector");
  EXPECT_EQ(d["fields"][1]["type"], "FloatVector");
  EXPECT_EQ(d["fields"][1]["params"], json::parse(R"([{"key":"dim","value":"2"}])"));
  EXPECT_EQ(d["indexes"], json::parse(R"([{"fieldName":"vector","indexName":"vector","metricType":"L2"}])"));
  EXPECT_EQ(d["load"], "LoadStateLoaded");
  EXPECT_EQ(d["shardsNum"], 1);
  EXPECT_EQ(d["partitionsNum"], 1);
  EXPECT_EQ(d["consistencyLevel"], "Bounded");
  EXPECT_EQ(d["enableDynamicField"], true);
  EXPECT_EQ(d["aliases"], json::array());
  EXPECT_EQ(d["functions"], json::array());
  EXPECT_EQ(d["properties"], json::array());
}

TEST_F(ProxyTest, ListHasDrop) {
  EXPECT_EQ(h_.Ok("collections/list", json::object())["data"], json::array());
  CreateQuick("b");
  CreateQuick("a");
  EXPECT_EQ(h_.Ok("collections/list", json::object())["data"], json::parse(R"(["a","b"])"));
  EXPECT_EQ(h_.Ok("collections/has", {{"collectionName", "a"}})["data"], json::parse(R"({"has":true})"));
  EXPECT_EQ(h_.Ok("collections/has", {{"collectionName", "zz"}})["data"], json::parse(R"({"has":false})"));
  h_.Ok("collections/drop", {{"collectionName", "a"}});
  EXPECT_EQ(h_.Ok("collections/list", json::object())["data"], json::parse(R"(["b"])"));
  EXPECT_EQ(Code("collections/drop", {{"collectionName", "a"}}), 100);
  EXPECT_EQ(Code("collections/describe", {{"collectionName", "nope"}}), 100);
}

TEST_F(ProxyTest, EnvelopeErrorsAndRoutes) {
  HttpResponse empty = h_.Raw("collections/list", "");
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(json::parse(empty.body)["code"], 1801);
  EXPECT_THAT(empty.body, HasSubstr("the request body should be nil, however {} is valid"));
  EXPECT_EQ(empty.content_type, "application/json; charset=utf-8");

  HttpResponse bad = h_.Raw("collections/list", "{nope");
  EXPECT_EQ(json::parse(bad.body)["code"], 1801);
  EXPECT_FALSE(json::parse(bad.body).contains("data"));

  EXPECT_EQ(h_.Raw("collections/nothing", "{}").status, 404);
  EXPECT_EQ(h_.Raw("collections/list", "{}", {}, "GET").status, 404);
  json unimplemented = json::parse(h_.Raw("users/list", "{}").body);
  EXPECT_EQ(unimplemented["code"], 10);
  EXPECT_THAT(unimplemented["message"].get<std::string>(), HasSubstr("/v2/vectordb/users/list"));
  EXPECT_EQ(json::parse(h_.Raw("jobs/import/create", "{}").body)["code"], 10);

  // Missing collectionName: 1802 in the validator's words.
  json missing = h_.Call("collections/describe", json::object());
  EXPECT_EQ(missing["code"], 1802);
  EXPECT_THAT(missing["message"].get<std::string>(),
              HasSubstr("Field validation for 'CollectionName' failed on the 'required' tag"));
  // Names are validated before any work.
  json bad_name = h_.Call("collections/describe", {{"collectionName", "1abc"}});
  EXPECT_EQ(bad_name["code"], 1100);
  EXPECT_THAT(bad_name["message"].get<std::string>(), HasSubstr("1abc"));
  // The access log gets the Milvus code and the names, but never a name that failed
  // validation (it could hold anything, newlines included).
  EXPECT_EQ(h_.Raw("collections/describe", R"({"collectionName":"1abc"})").log_fields, " code=1100 db=default");
  EXPECT_EQ(h_.Raw("collections/describe", R"({"collectionName":"a\nb"})").log_fields, " code=1100 db=default");
  EXPECT_EQ(h_.Raw("collections/nothing", "{}").log_fields, " code=404");
  // Wrong JSON type for a known field.
  json wrong = h_.Call("collections/describe", {{"collectionName", 5}});
  EXPECT_EQ(wrong["code"], 1801);
  EXPECT_THAT(wrong["message"].get<std::string>(), HasSubstr("collectionName"));
}

TEST_F(ProxyTest, DatabaseFromBodyThenHeaderThenDefault) {
  h_.Ok("databases/create", {{"dbName", "other"}});
  h_.Ok("collections/create", {{"collectionName", "x"}, {"dimension", 2}, {"dbName", "other"}});
  EXPECT_EQ(h_.Ok("collections/list", json::object())["data"], json::array());
  EXPECT_EQ(h_.Ok("collections/list", json::object(), {{"DB-Name", "other"}})["data"], json::parse(R"(["x"])"));
  EXPECT_EQ(h_.Ok("collections/list", {{"dbName", "other"}}, {{"db-name", "default"}})["data"],
            json::parse(R"(["x"])"));
  EXPECT_EQ(Code("collections/list", {{"dbName", "missing"}}), 800);
}

TEST_F(ProxyTest, AWriteThatFailsOnALaterShardSaysHowManyRowsWereWritten) {
  // A regular file where a channel's directory belongs makes every append to that one
  // channel fail (ENOTDIR) while the other channels work: a real failure of one shard.
  auto block_channel = [&](const std::string& collection, int shard) {
    auto info = h_.coordinator().DescribeCollection("default", collection);
    ASSERT_TRUE(info.ok());
    std::ofstream(h_.wal_dir() + "/" + info->Channel(shard)) << "not a directory";
  };
  json rows = json::array();
  for (int i = 1; i <= 20; ++i) rows.push_back({{"id", i}, {"vector", {1.0 * i, 0.5}}});

  CreateQuick("later", {{"params", {{"shardsNum", 2}}}});
  block_channel("later", 1);
  for (const std::string route : {"entities/insert", "entities/upsert"}) {
    json out = h_.Call(route, {{"collectionName", "later"}, {"data", rows}});
    EXPECT_NE(out.value("code", 0), 0) << route;
    const std::string message = out.value("message", "");
    EXPECT_NE(message.find(route.substr(9) + " partly applied: "), std::string::npos) << message;
    EXPECT_NE(message.find(" of 20 rows were written to other shards"), std::string::npos) << message;
  }
  json del = h_.Call("entities/delete", {{"collectionName", "later"}, {"filter", "id in [1, 2, 3, 4, 5, 6]"}});
  EXPECT_NE(del.value("message", "").find("delete partly applied: "), std::string::npos) << del.dump();
  auto info = h_.coordinator().DescribeCollection("default", "later");
  ASSERT_TRUE(info.ok());
  auto last = h_.log().LastOffset(info->Channel(0));
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(std::optional<uint64_t>(2), *last) << "shard 0 kept the insert, the upsert and the delete";

  // When the first shard fails nothing was written, and the error says only what failed.
  CreateQuick("first", {{"params", {{"shardsNum", 2}}}});
  block_channel("first", 0);
  json out = h_.Call("entities/insert", {{"collectionName", "first"}, {"data", rows}});
  EXPECT_NE(out.value("code", 0), 0);
  EXPECT_EQ(out.value("message", "").find("partly"), std::string::npos) << out.dump();
  auto first = h_.coordinator().DescribeCollection("default", "first");
  ASSERT_TRUE(first.ok());
  EXPECT_NE(out.value("message", "").find("appending to WAL channel " + first->Channel(0)), std::string::npos)
      << out.dump();
}

TEST_F(ProxyTest, InsertWritesOneWalRecordPerShardAndAnswersIds) {
  CreateQuick("docs", {{"params", {{"shardsNum", 2}}}});
  json rows = json::array();
  for (int i = 1; i <= 20; ++i) rows.push_back({{"id", i}, {"vector", {1.0 * i, 0.5}}, {"tag", "t"}});
  json out = Insert("docs", rows);
  EXPECT_EQ(out["cost"], 0);
  EXPECT_EQ(out["data"]["insertCount"], 20);
  EXPECT_EQ(out["data"]["insertIds"].size(), 20u);
  EXPECT_EQ(out["data"]["insertIds"][0], 1);

  auto info = h_.coordinator().DescribeCollection("default", "docs");
  ASSERT_TRUE(info.ok());
  size_t total = 0;
  uint64_t ts = 0;
  for (int shard = 0; shard < 2; ++shard) {
    const std::string channel = info->Channel(shard);
    auto last = h_.log().LastOffset(channel);
    ASSERT_TRUE(last.ok());
    ASSERT_TRUE(last->has_value()) << "both shards get rows: " << channel;
    EXPECT_EQ(**last, 0u) << "one record per shard";
    auto sub = h_.log().Subscribe(channel, 0);
    ASSERT_TRUE(sub.ok());
    auto record = (*sub)->Next(std::chrono::milliseconds(1000));
    ASSERT_TRUE(record.ok());
    auto message = msg::DecodeWalMessage(record->payload, info->schema, channel);
    ASSERT_TRUE(message.ok()) << message.status().ToString();
    EXPECT_EQ(message->type, msg::MessageType::kInsert);
    EXPECT_EQ(message->collection_id, info->id);
    if (ts == 0) ts = message->timestamp;
    EXPECT_EQ(message->timestamp, ts) << "one timestamp per request";
    const size_t n = message->rows->num_rows();
    total += n;
    for (size_t r = 0; r < n; ++r) {
      EXPECT_EQ(message->partition_ids[r], info->partitions[0].id);
      const int64_t id = message->rows->column(0).Get(r).get<int64_t>();
      EXPECT_EQ(ShardOf(segment::PrimaryKey(id), 2), shard);
    }
  }
  EXPECT_EQ(total, 20u);
}

TEST_F(ProxyTest, InsertThenSearchQueryGet) {
  CreateQuick("docs", {{"metricType", "L2"}});
  Insert("docs", json::parse(R"([
    {"id": 1, "vector": [0, 0], "color": "red"},
    {"id": 2, "vector": [1, 0], "color": "blue"},
    {"id": 3, "vector": [5, 5], "color": "red"}])"));

  json search = h_.Ok("entities/search", {{"collectionName", "docs"},
                                          {"data", {{0.9, 0}, {5, 4}}},
                                          {"limit", 2},
                                          {"outputFields", {"color"}},
                                          {"consistencyLevel", "Strong"}});
  EXPECT_EQ(search["cost"], 0);
  EXPECT_EQ(search["topks"], json::parse("[2,2]"));
  ASSERT_EQ(search["data"].size(), 4u);
  EXPECT_EQ(search["data"][0]["id"], 2);
  EXPECT_EQ(search["data"][0]["color"], "blue");
  EXPECT_NEAR(search["data"][0]["distance"].get<double>(), 0.01, 1e-5);
  EXPECT_EQ(search["data"][1]["id"], 1);
  EXPECT_EQ(search["data"][2]["id"], 3);

  json query = h_.Ok("entities/query", {{"collectionName", "docs"}, {"filter", "color == \"red\""},
                                        {"consistencyLevel", "Strong"}});
  ASSERT_EQ(query["data"].size(), 2u);
  EXPECT_EQ(query["data"][0]["id"], 1);
  EXPECT_EQ(query["data"][1]["id"], 3);
  EXPECT_EQ(query["cost"], 0);

  json count = h_.Ok("entities/query", {{"collectionName", "docs"}, {"outputFields", {"count(*)"}},
                                        {"consistencyLevel", "Strong"}});
  EXPECT_EQ(count["data"], json::parse(R"j([{"count(*)": 3}])j"));

  json get = h_.Ok("entities/get", {{"collectionName", "docs"}, {"id", {3, "1"}}, {"consistencyLevel", "Strong"}});
  ASSERT_EQ(get["data"].size(), 2u);
  EXPECT_EQ(get["data"][0]["id"], 1);
  EXPECT_EQ(get["data"][1]["vector"], json::parse("[5.0, 5.0]"));
  EXPECT_EQ(h_.Ok("entities/get", {{"collectionName", "docs"}, {"id", 9}, {"consistencyLevel", "Strong"}})["data"],
            json::array());
}

TEST_F(ProxyTest, SearchWithoutHitsHasNoTopks) {
  CreateQuick();
  json out = h_.Ok("entities/search", {{"collectionName", "docs"}, {"data", {{1, 0}}}});
  EXPECT_EQ(out["data"], json::array());
  EXPECT_FALSE(out.contains("topks"));
}

// A search without output fields writes its hits as text directly (HitsText); one naming
// only the key goes through the JSON values. Both must give the same rows.
TEST_F(ProxyTest, SearchHitsWrittenAsTextMatchTheGeneralEncoding) {
  h_.Ok("collections/create", json::parse(R"({"collectionName":"c","schema":{"fields":[
      {"fieldName":"pk","dataType":"VarChar","isPrimary":true,"elementTypeParams":{"max_length":"20"}},
      {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":2}}]},
      "indexParams":[{"fieldName":"v","indexName":"vi","metricType":"L2","indexType":"FLAT"}]})"));
  h_.Ok("entities/insert", {{"collectionName", "c"},
                            {"data", json::parse(R"([{"pk":"k\"1","v":[1,0]},{"pk":"\u00e9t\u00e9","v":[0,1]},
                                                     {"pk":"k3","v":[0.1,0.3]}])")}});
  const json search = {{"collectionName", "c"}, {"data", {{0.25, 0.5}, {0, 1}}}, {"limit", 3},
                       {"consistencyLevel", "Strong"}};
  json with_key = search;
  with_key["outputFields"] = {"pk"};
  const json fast = h_.Ok("entities/search", search);
  const json general = h_.Ok("entities/search", with_key);
  EXPECT_EQ(fast["data"], general["data"]);
  EXPECT_EQ(fast["topks"], json::parse("[3,3]"));
  ASSERT_EQ(fast["data"].size(), 6u) << fast.dump();
  EXPECT_EQ(fast["data"][0]["pk"], "k3");
  EXPECT_NEAR(fast["data"][0]["distance"].get<double>(), 0.0625, 1e-6);
  EXPECT_EQ(fast["data"][1]["pk"], "\u00e9t\u00e9");
  EXPECT_EQ(fast["data"][2]["pk"], "k\"1");
  EXPECT_EQ(fast["data"][3], (json{{"pk", "\u00e9t\u00e9"}, {"distance", 0.0}}));
}

// A VarChar primary key with autoID gets the decimal text of generated ids, as in Milvus.
TEST_F(ProxyTest, VarCharAutoIds) {
  CreateQuick("docs", {{"autoID", true}, {"idType", "VarChar"}, {"params", {{"max_length", 32}}}});
  json out = Insert("docs", json::parse(R"([{"vector": [1, 2]}, {"vector": [3, 4]}])"));
  ASSERT_EQ(out["data"]["insertIds"].size(), 2u) << out.dump();
  ASSERT_TRUE(out["data"]["insertIds"][0].is_string());
  const int64_t first = std::stoll(out["data"]["insertIds"][0].get<std::string>());
  EXPECT_EQ(out["data"]["insertIds"][1], std::to_string(first + 1));
  json got = h_.Ok("entities/get", {{"collectionName", "docs"}, {"id", out["data"]["insertIds"][1]},
                                    {"outputFields", {"vector"}}});
  ASSERT_EQ(got["data"].size(), 1u) << got.dump();
  EXPECT_EQ(got["data"][0]["vector"], json::parse("[3, 4]"));
  EXPECT_EQ(Code("entities/insert", {{"collectionName", "docs"}, {"data", json::parse(R"([{"id": "x", "vector": [1, 2]}])")}}),
            1804) << "no need to pass the key";
}

TEST_F(ProxyTest, Int64AsStringsWhenTheHeaderSaysFalse) {
  CreateQuick("docs", {{"autoID", true}});
  const std::map<std::string, std::string> no_int64 = {{"Accept-Type-Allow-Int64", "false"}};
  json out = Insert("docs", json::parse(R"([{"vector": [1, 2]}, {"vector": [3, 4]}])"), no_int64);
  ASSERT_EQ(out["data"]["insertIds"].size(), 2u);
  ASSERT_TRUE(out["data"]["insertIds"][0].is_string());
  const int64_t first = std::stoll(out["data"]["insertIds"][0].get<std::string>());
  EXPECT_EQ(out["data"]["insertIds"][1], std::to_string(first + 1));

  json query = h_.Ok("entities/query", {{"collectionName", "docs"}, {"consistencyLevel", "Strong"}}, no_int64);
  ASSERT_EQ(query["data"].size(), 2u);
  EXPECT_EQ(query["data"][0]["id"], std::to_string(first));
  json count = h_.Ok("entities/query", {{"collectionName", "docs"}, {"outputFields", {"count(*)"}},
                                        {"consistencyLevel", "Strong"}},
                     no_int64);
  EXPECT_EQ(count["data"][0]["count(*)"], "2");
  json search = h_.Ok("entities/search", {{"collectionName", "docs"}, {"data", {{1, 2}}}, {"consistencyLevel", "Strong"}},
                      no_int64);
  EXPECT_TRUE(search["data"][0]["id"].is_string());
  // Supplying the key of an auto-id collection is 1804.
  json given = h_.Call("entities/insert", {{"collectionName", "docs"}, {"data", {{{"id", 5}, {"vector", {1, 2}}}}}});
  EXPECT_EQ(given["code"], 1804);
  EXPECT_THAT(given["message"].get<std::string>(), HasSubstr("no need to pass pk field(id) when autoid==true"));
}

TEST_F(ProxyTest, InsertConversionErrorsAre1804NamingRowAndField) {
  CreateQuick();
  json out = h_.Call("entities/insert",
                     {{"collectionName", "docs"}, {"data", json::parse(R"([{"id":1,"vector":[1,2]},{"id":2,"vector":[1]}])")}});
  EXPECT_EQ(out["code"], 1804);
  EXPECT_THAT(out["message"].get<std::string>(), HasSubstr("row 1"));
  EXPECT_THAT(out["message"].get<std::string>(), HasSubstr("vector"));
  EXPECT_EQ(Code("entities/insert", {{"collectionName", "docs"}, {"data", json::array()}}), 1804);
  EXPECT_EQ(Code("entities/insert", {{"collectionName", "docs"}, {"data", {{"id", 1}}}}), 1801);
  EXPECT_EQ(Code("entities/insert", {{"collectionName", "docs"}}), 1802);
  EXPECT_EQ(Code("entities/insert", {{"collectionName", "nope"}, {"data", json::parse(R"([{"id":1}])")}}), 100);
  // Nothing was written.
  auto info = h_.coordinator().DescribeCollection("default", "docs");
  auto last = h_.log().LastOffset(info->Channel(0));
  ASSERT_TRUE(last.ok());
  EXPECT_FALSE(last->has_value());
}

TEST_F(ProxyTest, ReadsOfAnUnloadedCollectionAre101) {
  h_.Ok("collections/create", json::parse(R"({"collectionName":"c","schema":{"fields":[
      {"fieldName":"pk","dataType":"Int64","isPrimary":true},
      {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":"2"}}]}})"));
  EXPECT_EQ(h_.Ok("collections/describe", {{"collectionName", "c"}})["data"]["load"], "LoadStateNotLoad");
  EXPECT_EQ(Code("entities/query", {{"collectionName", "c"}}), 101);
  EXPECT_EQ(Code("entities/search", {{"collectionName", "c"}, {"data", {{1, 2}}}}), 101);
  // Loading needs an index first (the coordinator says so; 700).
  EXPECT_EQ(Code("collections/load", {{"collectionName", "c"}}), 700);
}

TEST_F(ProxyTest, Metrics) {
  CreateQuick();
  Insert("docs", json::parse(R"([{"id":1,"vector":[1,2]}])"));
  const std::string text = metrics::Registry::Default().Render();
  EXPECT_THAT(text, HasSubstr("tessera_http_requests_total{code=\"0\",endpoint=\"/v2/vectordb/entities/insert\"}"));
  EXPECT_THAT(text, HasSubstr("tessera_http_request_duration_seconds_bucket{endpoint=\"/v2/vectordb/entities/insert\""));
  EXPECT_THAT(text, HasSubstr("tessera_rows_inserted_total"));
  EXPECT_THAT(text, HasSubstr("tessera_wal_append_duration_seconds_count"));
}


TEST_F(ProxyTest, DeleteByKeysAndByFilter) {
  CreateQuick("docs", {{"params", {{"shardsNum", 3}}}});
  json rows = json::array();
  for (int i = 1; i <= 10; ++i) rows.push_back({{"id", i}, {"vector", {1.0 * i, 1}}, {"n", i}});
  Insert("docs", rows);
  const json strong = {{"collectionName", "docs"}, {"outputFields", {"count(*)"}}, {"consistencyLevel", "Strong"}};

  json by_keys = h_.Ok("entities/delete", {{"collectionName", "docs"}, {"filter", "id in [1, 2, 99]"}});
  EXPECT_EQ(by_keys["data"], json::parse(R"({"deleteCount":3})")) << "keys are taken from the filter as given";
  EXPECT_FALSE(h_.query_node().last_query().has_value()) << "a key-only filter needs no query";
  EXPECT_EQ(h_.Ok("entities/query", strong)["data"][0]["count(*)"], 8);

  json by_filter = h_.Ok("entities/delete", {{"collectionName", "docs"}, {"filter", "n >= 8"}});
  EXPECT_EQ(by_filter["data"]["deleteCount"], 3);
  EXPECT_EQ(h_.Ok("entities/query", strong)["data"][0]["count(*)"], 5);
  json equal = h_.Ok("entities/delete", {{"collectionName", "docs"}, {"filter", "id == 3"}});
  EXPECT_EQ(equal["data"]["deleteCount"], 1);
  json rest = h_.Ok("entities/query", {{"collectionName", "docs"}, {"consistencyLevel", "Strong"}});
  std::vector<int64_t> ids;
  for (const json& row : rest["data"]) ids.push_back(row["id"].get<int64_t>());
  EXPECT_EQ(ids, (std::vector<int64_t>{4, 5, 6, 7}));

  EXPECT_EQ(Code("entities/delete", {{"collectionName", "docs"}}), 1802);
  EXPECT_EQ(Code("entities/delete", {{"collectionName", "docs"}, {"filter", "id in ["}}), 1100);
  EXPECT_EQ(Code("entities/delete", {{"collectionName", "docs"}, {"filter", "n > 1"}, {"partitionName", "nope"}}), 200);
  EXPECT_EQ(h_.Ok("entities/delete", {{"collectionName", "docs"}, {"filter", "n > 100"}})["data"]["deleteCount"], 0);
}

TEST_F(ProxyTest, DeleteByFilterNeedsALoadedCollection) {
  h_.Ok("collections/create", json::parse(R"({"collectionName":"c","schema":{"fields":[
      {"fieldName":"pk","dataType":"Int64","isPrimary":true},
      {"fieldName":"n","dataType":"Int64"},
      {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":2}}]}})"));
  EXPECT_EQ(Code("entities/delete", {{"collectionName", "c"}, {"filter", "n > 1"}}), 101);
  EXPECT_EQ(h_.Ok("entities/delete", {{"collectionName", "c"}, {"filter", "pk in [1]"}})["data"]["deleteCount"], 1);
}

TEST_F(ProxyTest, UpsertReplacesRowsAtOneTimestamp) {
  CreateQuick("docs", {{"params", {{"shardsNum", 2}}}});
  Insert("docs", json::parse(R"([{"id":1,"vector":[1,1],"v":"old"},{"id":2,"vector":[2,2],"v":"old"}])"));
  json out = h_.Ok("entities/upsert", {{"collectionName", "docs"},
                                       {"data", json::parse(R"([{"id":2,"vector":[3,3],"v":"new"},
                                                                {"id":3,"vector":[4,4],"v":"new"}])")}});
  EXPECT_EQ(out["data"], json::parse(R"({"upsertCount":2,"upsertIds":[2,3]})"));
  EXPECT_EQ(out["cost"], 0);
  json all = h_.Ok("entities/query", {{"collectionName", "docs"}, {"consistencyLevel", "Strong"}});
  ASSERT_EQ(all["data"].size(), 3u) << all.dump();
  EXPECT_EQ(all["data"][0]["v"], "old");
  EXPECT_EQ(all["data"][1]["v"], "new");
  EXPECT_EQ(all["data"][1]["vector"], json::parse("[3.0,3.0]"));
  EXPECT_EQ(all["data"][2]["v"], "new");
  EXPECT_EQ(Code("entities/upsert", {{"collectionName", "docs"}, {"data", json::parse(R"([{"vector":[1,1]}])")}}), 1804);
  EXPECT_EQ(Code("entities/upsert", {{"collectionName", "docs"},
                                     {"data", json::parse(R"([{"id":1,"vector":[1,1]},{"id":1,"vector":[1,1]}])")}}),
            1100);
}

TEST_F(ProxyTest, ConsistencyLevelsChooseWaitOffsets) {
  CreateQuick("docs", {{"params", {{"shardsNum", 2}}}});
  auto info = h_.coordinator().DescribeCollection("default", "docs");
  const std::string c0 = info->Channel(0);
  const std::string c1 = info->Channel(1);
  json rows = json::array();
  for (int i = 1; i <= 8; ++i) rows.push_back({{"id", i}, {"vector", {1, 2}}});
  Insert("docs", rows);
  Insert("docs", rows);
  auto wait_of = [&](const char* level) {
    json body = {{"collectionName", "docs"}, {"data", {{1, 2}}}};
    if (level != nullptr) body["consistencyLevel"] = level;
    h_.Ok("entities/search", body);
    return h_.query_node().last_search()->wait;
  };
  const querynode::WaitOffsets both = {{c0, 2}, {c1, 2}};
  EXPECT_EQ(wait_of("Strong"), both);
  EXPECT_EQ(wait_of("Session"), both);
  EXPECT_EQ(wait_of("Eventually"), querynode::WaitOffsets{});
  EXPECT_EQ(wait_of("Bounded"), querynode::WaitOffsets{}) << "writes younger than the staleness";
  EXPECT_EQ(wait_of(nullptr), querynode::WaitOffsets{}) << "the collection default is Bounded";
  // A write by someone else (not acknowledged by this proxy): Strong sees it, Session not.
  msg::WalMessage foreign;
  foreign.type = msg::MessageType::kDelete;
  foreign.collection_id = info->id;
  foreign.timestamp = 1;
  foreign.deleted_pks = {segment::PrimaryKey(int64_t{12345})};
  auto record = msg::EncodeWalMessage(foreign);
  ASSERT_TRUE(record.ok());
  ASSERT_TRUE(h_.log().Append(c0, std::vector<std::string>{*record}).ok());
  EXPECT_EQ(wait_of("Strong"), (querynode::WaitOffsets{{c0, 3}, {c1, 2}}));
  EXPECT_EQ(wait_of("Session"), both);
  json bad = h_.Call("entities/search", {{"collectionName", "docs"}, {"data", {{1, 2}}}, {"consistencyLevel", "unknown"}});
  EXPECT_EQ(bad["code"], 1100);
  EXPECT_THAT(bad["message"].get<std::string>(), HasSubstr("consistencyLevel can only be"));
}

TEST_F(ProxyTest, BoundedStalenessFromOptions) {
  ProxyOptions options;
  options.bounded_staleness = std::chrono::milliseconds(0);
  ProxyHarness h(options);
  h.Ok("collections/create", {{"collectionName", "docs"}, {"dimension", 2}});
  h.Ok("entities/insert", {{"collectionName", "docs"}, {"data", json::parse(R"([{"id":1,"vector":[1,2]}])")}});
  json out = h.Ok("entities/query", {{"collectionName", "docs"}});
  EXPECT_EQ(out["data"].size(), 1u) << "zero staleness: Bounded sees the write";
  auto info = h.coordinator().DescribeCollection("default", "docs");
  EXPECT_EQ(h.query_node().last_query()->wait, (querynode::WaitOffsets{{info->Channel(0), 1}}));
}

TEST_F(ProxyTest, WritesAreRefusedWhileTheAdmissionCheckSaysSo) {
  std::atomic<bool> full{false};
  ProxyOptions options;
  options.admit_write = [&full] {
    return full ? Status::ResourceExhausted("memory quota exceeded: the process uses 9 GiB") : Status::OK();
  };
  ProxyHarness h(options);
  h.Ok("collections/create", {{"collectionName", "docs"}, {"dimension", 2}});
  const json row = json::parse(R"([{"id":1,"vector":[1,2]}])");
  h.Ok("entities/insert", {{"collectionName", "docs"}, {"data", row}});
  auto info = h.coordinator().DescribeCollection("default", "docs");
  ASSERT_TRUE(info.ok());
  const auto before = h.log().LastOffset(info->Channel(0));
  ASSERT_TRUE(before.ok());

  full = true;
  for (const std::string route : {"entities/insert", "entities/upsert"}) {
    json out = h.Call(route, {{"collectionName", "docs"}, {"data", row}});
    EXPECT_EQ(out.value("code", -1), 9) << route << " " << out.dump();
    EXPECT_THAT(out.value("message", ""), HasSubstr("memory quota exceeded")) << route;
  }
  // Validation comes first: a bad request gets its own error, not the quota's.
  json bad = h.Call("entities/insert", {{"collectionName", "docs"}, {"data", json::parse(R"([{"id":2}])")}});
  EXPECT_NE(bad.value("code", -1), 9) << bad.dump();
  // Nothing refused reached the WAL; a delete still does.
  EXPECT_EQ(*h.log().LastOffset(info->Channel(0)), *before);
  h.Ok("entities/delete", {{"collectionName", "docs"}, {"filter", "id in [1]"}});
  EXPECT_NE(*h.log().LastOffset(info->Channel(0)), *before);

  full = false;
  h.Ok("entities/insert", {{"collectionName", "docs"}, {"data", row}});
}

TEST_F(ProxyTest, QueryRequestCarriesTheDecodedFields) {
  CreateQuick();
  h_.Ok("partitions/create", {{"collectionName", "docs"}, {"partitionName", "p1"}});
  json out = h_.Ok("entities/query", {{"collectionName", "docs"}, {"filter", "id > 0"}, {"limit", 7}, {"offset", 2},
                                      {"outputFields", {"vector"}}, {"partitionNames", {"p1"}}},
                   {{"Request-Timeout", "3"}});
  auto q = h_.query_node().last_query();
  ASSERT_TRUE(q.has_value());
  auto info = h_.coordinator().DescribeCollection("default", "docs");
  EXPECT_EQ(q->collection_id, info->id);
  EXPECT_EQ(q->filter, "id > 0");
  EXPECT_EQ(q->limit, 7u);
  EXPECT_EQ(q->offset, 2u);
  EXPECT_EQ(q->output_fields, std::vector<std::string>{"vector"});
  EXPECT_EQ(q->partition_ids, std::vector<int64_t>{info->partitions[1].id});
  EXPECT_EQ(q->timeout, std::chrono::milliseconds(3000));
  EXPECT_EQ(Code("entities/query", {{"collectionName", "docs"}, {"partitionNames", {"nope"}}}), 200);

  h_.Ok("entities/search", {{"collectionName", "docs"}, {"data", {{1, 2}}}, {"searchParams", {{"params", {{"nprobe", 4}}}}}});
  EXPECT_EQ(h_.query_node().last_search()->params, json::parse(R"({"nprobe":4})"));
  EXPECT_EQ(h_.query_node().last_search()->limit, 100u);
}

TEST_F(ProxyTest, PartitionsRouteRowsAndCount) {
  CreateQuick();
  EXPECT_EQ(h_.Ok("partitions/list", {{"collectionName", "docs"}})["data"], json::parse(R"(["_default"])"));
  h_.Ok("partitions/create", {{"collectionName", "docs"}, {"partitionName", "p1"}});
  EXPECT_EQ(h_.Ok("partitions/list", {{"collectionName", "docs"}})["data"], json::parse(R"(["_default","p1"])"));
  EXPECT_EQ(h_.Ok("partitions/has", {{"collectionName", "docs"}, {"partitionName", "p1"}})["data"]["has"], true);
  EXPECT_EQ(h_.Ok("partitions/has", {{"collectionName", "docs"}, {"partitionName", "p2"}})["data"]["has"], false);
  h_.Ok("entities/insert", {{"collectionName", "docs"}, {"partitionName", "p1"},
                            {"data", json::parse(R"([{"id":1,"vector":[1,2]}])")}});
  Insert("docs", json::parse(R"([{"id":2,"vector":[1,2]}])"));
  json in_p1 = h_.Ok("entities/query", {{"collectionName", "docs"}, {"partitionNames", {"p1"}},
                                        {"consistencyLevel", "Strong"}});
  ASSERT_EQ(in_p1["data"].size(), 1u);
  EXPECT_EQ(in_p1["data"][0]["id"], 1);
  EXPECT_EQ(Code("entities/insert", {{"collectionName", "docs"}, {"partitionName", "p9"},
                                     {"data", json::parse(R"([{"id":1,"vector":[1,2]}])")}}),
            200);
  auto info = h_.coordinator().DescribeCollection("default", "docs");
  h_.coordinator().SetRowCount(info->id, info->partitions[1].id, 5);
  h_.coordinator().SetRowCount(info->id, -1, 6);
  EXPECT_EQ(h_.Ok("partitions/get_stats", {{"collectionName", "docs"}, {"partitionName", "p1"}})["data"],
            json::parse(R"({"rowCount":5})"));
  EXPECT_EQ(h_.Ok("collections/get_stats", {{"collectionName", "docs"}})["data"], json::parse(R"({"rowCount":6})"));
  EXPECT_EQ(Code("partitions/get_stats", {{"collectionName", "docs"}, {"partitionName", "zz"}}), 200);
  h_.Ok("partitions/release", {{"collectionName", "docs"}, {"partitionNames", {"p1"}}});
  EXPECT_EQ(h_.Ok("collections/get_load_state", {{"collectionName", "docs"}, {"partitionNames", "p1"}})["data"],
            json::parse(R"({"loadState":"LoadStateNotLoad"})"));
  h_.Ok("partitions/load", {{"collectionName", "docs"}, {"partitionNames", {"p1"}}});
  EXPECT_EQ(h_.Ok("collections/get_load_state", {{"collectionName", "docs"}, {"partitionNames", {"p1"}}})["data"]
                ["loadState"],
            "LoadStateLoaded");
  EXPECT_EQ(Code("partitions/load", {{"collectionName", "docs"}}), 1802);
  EXPECT_EQ(Code("partitions/drop", {{"collectionName", "docs"}, {"partitionName", "zz"}}), 200);
  h_.Ok("partitions/drop", {{"collectionName", "docs"}, {"partitionName", "p1"}});
}

TEST_F(ProxyTest, DeleteWithAPartitionDeletesOnlyKeysFoundThere) {
  CreateQuick();
  h_.Ok("partitions/create", {{"collectionName", "docs"}, {"partitionName", "p1"}});
  h_.Ok("entities/insert", {{"collectionName", "docs"}, {"partitionName", "p1"},
                            {"data", json::parse(R"([{"id":1,"vector":[1,2]}])")}});
  Insert("docs", json::parse(R"([{"id":2,"vector":[1,2]},{"id":3,"vector":[1,2]}])"));
  json in_default = h_.Ok("entities/delete", {{"collectionName", "docs"}, {"filter", "id in [1, 2]"},
                                              {"partitionName", "_default"}});
  EXPECT_EQ(in_default["data"]["deleteCount"], 1) << "id 1 is in p1, not in _default";
  json left = h_.Ok("entities/query", {{"collectionName", "docs"}, {"consistencyLevel", "Strong"}});
  std::vector<int64_t> ids;
  for (const json& row : left["data"]) ids.push_back(row["id"].get<int64_t>());
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(Code("entities/delete", {{"collectionName", "docs"}, {"filter", "id in [3]"}, {"partitionName", "nope"}}),
            200);
  EXPECT_EQ(h_.Ok("entities/delete", {{"collectionName", "docs"}, {"filter", "id == 1"}, {"partitionName", "p1"}})
                ["data"]["deleteCount"],
            1);
  EXPECT_EQ(h_.Ok("entities/query", {{"collectionName", "docs"}, {"consistencyLevel", "Strong"}})["data"].size(), 1u);
}

TEST_F(ProxyTest, PartitionKeyCollections) {
  h_.Ok("collections/create", json::parse(R"({"collectionName":"mt","schema":{"fields":[
      {"fieldName":"pk","dataType":"Int64","isPrimary":true},
      {"fieldName":"tenant","dataType":"VarChar","isPartitionKey":true,"elementTypeParams":{"max_length":16}},
      {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":2}}]},
      "params":{"partitionsNum":4},
      "indexParams":[{"fieldName":"v","metricType":"L2"}]})"));
  EXPECT_EQ(h_.Ok("partitions/list", {{"collectionName", "mt"}})["data"].size(), 4u);
  h_.Ok("entities/insert", {{"collectionName", "mt"},
                            {"data", json::parse(R"([{"pk":1,"tenant":"a","v":[1,2]},{"pk":2,"tenant":"b","v":[1,2]}])")}});
  EXPECT_EQ(Code("entities/insert", {{"collectionName", "mt"}, {"partitionName", "_default_0"},
                                     {"data", json::parse(R"([{"pk":3,"tenant":"a","v":[1,2]}])")}}),
            1100);
  EXPECT_EQ(h_.Ok("entities/query", {{"collectionName", "mt"}, {"filter", "tenant == \"a\""},
                                     {"consistencyLevel", "Strong"}})["data"].size(),
            1u);
}

TEST_F(ProxyTest, CustomCreateWithIndexLoadsAndDescribesEveryType) {
  h_.Ok("collections/create", json::parse(R"({"collectionName":"c","schema":{"enableDynamicField":false,"fields":[
      {"fieldName":"pk","dataType":"VarChar","isPrimary":true,"elementTypeParams":{"max_length":"20"}},
      {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":2}},
      {"fieldName":"b","dataType":"Bool","nullable":true},
      {"fieldName":"j","dataType":"JSON","nullable":true},
      {"fieldName":"a","dataType":"Array","elementDataType":"Int64","elementTypeParams":{"max_capacity":3}},
      {"fieldName":"d","dataType":"Double","defaultValue":1.5}]},
      "params":{"consistencyLevel":"Strong"},
      "indexParams":[{"fieldName":"v","indexName":"vi","metricType":"IP","indexType":"HNSW","params":{"M":8}}]})"));
  json d = h_.Ok("collections/describe", {{"collectionName", "c"}})["data"];
  EXPECT_EQ(d["load"], "LoadStateLoaded");
  EXPECT_EQ(d["consistencyLevel"], "Strong");
  EXPECT_EQ(d["enableDynamicField"], false);
  ASSERT_EQ(d["fields"].size(), 6u);
  EXPECT_EQ(d["fields"][0]["params"], json::parse(R"([{"key":"max_length","value":"20"}])"));
  EXPECT_EQ(d["fields"][2]["nullable"], true);
  EXPECT_EQ(d["fields"][4]["type"], "Array");
  EXPECT_EQ(d["fields"][4]["elementType"], "Int64");
  EXPECT_EQ(d["fields"][5]["defaultValue"], 1.5);
  EXPECT_FALSE(d["fields"][1].contains("defaultValue"));
  EXPECT_EQ(d["indexes"], json::parse(R"([{"fieldName":"v","indexName":"vi","metricType":"IP"}])"));

  h_.Ok("entities/insert", {{"collectionName", "c"},
                            {"data", json::parse(R"([{"pk":"k\"1","v":[1,0],"j":{"x":[1]},"a":[1,2]},
                                                     {"pk":"k2","v":[0,1],"b":true,"j":null,"a":[]}])")}});
  json rows = h_.Ok("entities/get", {{"collectionName", "c"}, {"id", {"k\"1", "k2"}}})["data"];
  ASSERT_EQ(rows.size(), 2u) << rows.dump();
  EXPECT_EQ(rows[0]["pk"], "k\"1");
  EXPECT_EQ(rows[0]["j"], R"({"x":[1]})") << "JSON field as text";
  EXPECT_EQ(rows[0]["a"], json::parse("[1,2]")) << "Array as a plain array";
  EXPECT_EQ(rows[0]["b"], nullptr);
  EXPECT_EQ(rows[0]["d"], 1.5);
  EXPECT_EQ(rows[1]["b"], true);
  // Unknown keys without the dynamic field are a conversion error.
  EXPECT_EQ(Code("entities/insert", {{"collectionName", "c"}, {"data", json::parse(R"([{"pk":"x","v":[1,0],"z":1}])")}}),
            1804);
  EXPECT_EQ(Code("entities/query", {{"collectionName", "c"}, {"outputFields", {"z"}}}), 1700);
  // Ids of the wrong type.
  EXPECT_EQ(Code("entities/get", {{"collectionName", "c"}, {"id", 5}}), 1806);
}

TEST_F(ProxyTest, IndexesLifecycle) {
  h_.Ok("collections/create", json::parse(R"({"collectionName":"c","schema":{"fields":[
      {"fieldName":"pk","dataType":"Int64","isPrimary":true},
      {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":2}}]}})"));
  EXPECT_EQ(h_.Ok("indexes/list", {{"collectionName", "c"}})["data"], json::array());
  EXPECT_EQ(Code("indexes/create", {{"collectionName", "c"}}), 1802);
  EXPECT_EQ(Code("indexes/create", {{"collectionName", "c"}, {"indexParams", {{{"fieldName", "zz"}}}}}), 1802);
  h_.Ok("indexes/create", json::parse(R"({"collectionName":"c","indexParams":[{"fieldName":"v","indexName":"idx",
      "metricType":"L2","indexType":"IVF_FLAT","params":{"nlist":"16"}}]})"));
  EXPECT_EQ(h_.Ok("indexes/list", {{"collectionName", "c"}})["data"], json::parse(R"(["idx"])"));
  json d = h_.Ok("indexes/describe", {{"collectionName", "c"}, {"indexName", "idx"}})["data"];
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0]["indexName"], "idx");
  EXPECT_EQ(d[0]["fieldName"], "v");
  EXPECT_EQ(d[0]["indexType"], "IVF_FLAT");
  EXPECT_EQ(d[0]["metricType"], "L2");
  EXPECT_EQ(d[0]["indexState"], "Finished");
  EXPECT_EQ(d[0]["totalRows"], 10);
  EXPECT_EQ(d[0]["indexedRows"], 10);
  EXPECT_EQ(d[0]["pendingRows"], 0);
  EXPECT_EQ(d[0]["failReason"], "");
  EXPECT_EQ(d[0]["indexParams"],
            json::parse(R"([{"key":"index_type","value":"IVF_FLAT"},{"key":"metric_type","value":"L2"},
                            {"key":"nlist","value":"16"}])"));
  EXPECT_EQ(Code("indexes/describe", {{"collectionName", "c"}, {"indexName", "nope"}}), 700);
  EXPECT_EQ(Code("indexes/create", json::parse(R"({"collectionName":"c","indexParams":[{"fieldName":"v"}]})")), 702);
  EXPECT_EQ(Code("indexes/drop", {{"collectionName", "c"}, {"indexName", "nope"}}), 700);
  h_.Ok("collections/load", {{"collectionName", "c"}});
  EXPECT_EQ(Code("indexes/drop", {{"collectionName", "c"}, {"indexName", "idx"}}), 65535) << "loaded";
  h_.Ok("collections/release", {{"collectionName", "c"}});
  h_.Ok("indexes/drop", {{"collectionName", "c"}, {"indexName", "idx"}});
  EXPECT_EQ(h_.Ok("indexes/list", {{"collectionName", "c"}})["data"], json::array());
  EXPECT_EQ(json::parse(h_.Raw("indexes/alter_properties", "{}").body)["code"], 10);
}

TEST_F(ProxyTest, AliasesResolveEverywhere) {
  CreateQuick("docs");
  h_.Ok("aliases/create", {{"collectionName", "docs"}, {"aliasName", "al"}});
  EXPECT_EQ(Code("aliases/create", {{"collectionName", "docs"}, {"aliasName", "al"}}), 1602);
  EXPECT_EQ(h_.Ok("aliases/list", json::object())["data"], json::parse(R"(["al"])"));
  EXPECT_EQ(h_.Ok("aliases/list", {{"collectionName", "docs"}})["data"], json::parse(R"(["al"])"));
  EXPECT_EQ(h_.Ok("aliases/describe", {{"aliasName", "al"}})["data"],
            json::parse(R"({"aliasName":"al","collectionName":"docs","dbName":"default"})"));
  EXPECT_EQ(h_.Ok("collections/describe", {{"collectionName", "docs"}})["data"]["aliases"], json::parse(R"(["al"])"));
  h_.Ok("entities/insert", {{"collectionName", "al"}, {"data", json::parse(R"([{"id":1,"vector":[1,2]}])")}});
  EXPECT_EQ(h_.Ok("entities/query", {{"collectionName", "al"}, {"consistencyLevel", "Strong"}})["data"].size(), 1u);
  CreateQuick("other");
  h_.Ok("aliases/alter", {{"collectionName", "other"}, {"aliasName", "al"}});
  EXPECT_EQ(h_.Ok("aliases/describe", {{"aliasName", "al"}})["data"]["collectionName"], "other");
  h_.Ok("aliases/drop", {{"aliasName", "al"}});
  EXPECT_EQ(Code("aliases/describe", {{"aliasName", "al"}}), 1600);
  EXPECT_EQ(Code("aliases/drop", {{"aliasName", "al"}}), 1600);
  EXPECT_EQ(Code("aliases/create", {{"collectionName", "zz"}, {"aliasName", "b"}}), 100);
}

TEST_F(ProxyTest, Databases) {
  EXPECT_EQ(h_.Ok("databases/list", json::object())["data"], json::parse(R"(["default"])"));
  EXPECT_EQ(Code("databases/create", json::object()), 1802) << "dbName must be in the body";
  EXPECT_EQ(Code("databases/create", {{"dbName", "bad-name"}}), 802) << "Milvus: invalid database name";
  h_.Ok("databases/create", {{"dbName", "d1"}, {"properties", {{"database.replica.number", 1}}}});
  json d = h_.Ok("databases/describe", {{"dbName", "d1"}})["data"];
  EXPECT_EQ(d["dbName"], "d1");
  EXPECT_TRUE(d["dbID"].is_number_integer());
  EXPECT_EQ(d["properties"], json::parse(R"([{"key":"database.replica.number","value":"1"}])"));
  h_.Ok("databases/alter", {{"dbName", "d1"}, {"properties", {{"k", "v"}}}});
  h_.Ok("databases/drop_properties", {{"dbName", "d1"}, {"propertyKeys", {"database.replica.number"}}});
  EXPECT_EQ(h_.Ok("databases/describe", {{"dbName", "d1"}})["data"]["properties"],
            json::parse(R"([{"key":"k","value":"v"}])"));
  h_.Ok("databases/drop", {{"dbName", "d1"}});
  EXPECT_EQ(Code("databases/describe", {{"dbName", "d1"}}), 800);
}

TEST_F(ProxyTest, CollectionMaintenance) {
  CreateQuick("docs");
  EXPECT_EQ(h_.Ok("collections/get_load_state", {{"collectionName", "docs"}})["data"],
            json::parse(R"({"loadState":"LoadStateLoaded","loadProgress":100})"));
  h_.Ok("collections/release", {{"collectionName", "docs"}});
  EXPECT_EQ(h_.Ok("collections/get_load_state", {{"collectionName", "docs"}})["data"],
            json::parse(R"({"loadState":"LoadStateNotLoad"})"));
  EXPECT_EQ(Code("collections/refresh_load", {{"collectionName", "docs"}}), 101) << "refreshes only a loaded collection";
  h_.Ok("collections/load", {{"collectionName", "docs"}});
  h_.Ok("collections/refresh_load", {{"collectionName", "docs"}});
  EXPECT_EQ(Code("collections/get_load_state", {{"collectionName", "zz"}}), 100);
  EXPECT_EQ(Code("collections/get_load_state", {{"collectionName", "docs"}, {"partitionNames", {"zz"}}}), 200);

  h_.Ok("collections/flush", {{"collectionName", "docs"}});
  EXPECT_EQ(h_.coordinator().flushes(), 1);
  json compact = h_.Ok("collections/compact", {{"collectionName", "docs"}});
  ASSERT_TRUE(compact["data"]["compactionID"].is_number_integer());
  const int64_t job = compact["data"]["compactionID"];
  json state = h_.Ok("collections/get_compaction_state", {{"jobID", job}})["data"];
  EXPECT_EQ(state["compactionID"], job);
  EXPECT_EQ(state["state"], "Completed");
  EXPECT_EQ(state["completedPlanNumber"], 1);
  EXPECT_EQ(h_.Ok("collections/get_compaction_state", {{"compactionID", job}})["data"]["compactionID"], job);
  EXPECT_EQ(Code("collections/get_compaction_state", json::object()), 1802);

  h_.Ok("collections/alter_properties", {{"collectionName", "docs"}, {"properties", {{"collection.insertRate.max.mb", 60}}}});
  EXPECT_EQ(h_.Ok("collections/describe", {{"collectionName", "docs"}})["data"]["properties"],
            json::parse(R"([{"key":"collection.insertRate.max.mb","value":"60"}])"));
  h_.Ok("collections/drop_properties", {{"collectionName", "docs"}, {"propertyKeys", {"collection.insertRate.max.mb"}}});
  EXPECT_EQ(h_.Ok("collections/describe", {{"collectionName", "docs"}})["data"]["properties"], json::array());

  h_.Ok("collections/rename", {{"collectionName", "docs"}, {"newCollectionName", "renamed"}});
  EXPECT_EQ(h_.Ok("collections/list", json::object())["data"], json::parse(R"(["renamed"])"));
  EXPECT_EQ(Code("collections/rename", {{"collectionName", "renamed"}}), 1802);
  EXPECT_EQ(Code("collections/rename", {{"collectionName", "renamed"}, {"newCollectionName", "1x"}}), 1100);
}

TEST_F(ProxyTest, BodyLimitsAndGarbageNeverCrash) {
  CreateQuick();
  for (const char* body : {"null", "[]", "\"x\"", "{\"collectionName\":null}", "{\"data\":{}}",
                           "{\"collectionName\":\"docs\",\"data\":[[[]]]}", "{\"collectionName\":\"docs\",\"data\":[null]}",
                           "{\"collectionName\":\"docs\",\"filter\":\"\\u0000\"}", "{\"collectionName\":\"docs\",\"limit\":1e400}"}) {
    for (const char* route : {"entities/insert", "entities/search", "entities/query", "entities/get",
                              "entities/delete", "collections/create", "indexes/create"}) {
      HttpResponse r = h_.Raw(route, body);
      EXPECT_EQ(r.status, 200) << route << " " << body;
      json parsed = json::parse(r.body, nullptr, false);
      ASSERT_FALSE(parsed.is_discarded()) << r.body;
      ASSERT_TRUE(parsed["code"].is_number_integer()) << r.body;
      const bool may_succeed = std::string(route) == "entities/query" && std::string(body).find("docs") != std::string::npos;
      if (!may_succeed) {
        EXPECT_NE(parsed["code"], 0) << route << " " << body;
      }
    }
  }
}


TEST_F(ProxyTest, HybridSearchFusesRoutes) {
  h_.Ok("collections/create", json::parse(R"({"collectionName":"h","schema":{"fields":[
      {"fieldName":"pk","dataType":"Int64","isPrimary":true},
      {"fieldName":"tag","dataType":"VarChar","elementTypeParams":{"max_length":8}},
      {"fieldName":"a","dataType":"FloatVector","elementTypeParams":{"dim":2}},
      {"fieldName":"b","dataType":"FloatVector","elementTypeParams":{"dim":2}}]},
      "indexParams":[{"fieldName":"a","metricType":"L2"},{"fieldName":"b","metricType":"L2"}]})"));
  h_.Ok("entities/insert", {{"collectionName", "h"}, {"data", json::parse(R"([
      {"pk":1,"tag":"x","a":[0,0],"b":[9,9]},
      {"pk":2,"tag":"y","a":[1,0],"b":[1,0]},
      {"pk":3,"tag":"z","a":[9,9],"b":[0,0]}])")}});
  json out = h_.Ok("entities/hybrid_search", json::parse(R"({"collectionName":"h","consistencyLevel":"Strong",
      "search":[{"data":[[0,0]],"annsField":"a","limit":2},{"data":[[0,0]],"annsField":"b","limit":2}],
      "rerank":{"strategy":"rrf","params":{"k":10}},"limit":3,"outputFields":["tag"]})"));
  EXPECT_EQ(out["cost"], 0);
  EXPECT_EQ(out["topks"], json::parse("[3]"));
  ASSERT_EQ(out["data"].size(), 3u) << out.dump();
  // 2 is second in both routes (1/12 + 1/12) and beats 1 and 3 (first in one route, 1/11).
  EXPECT_EQ(out["data"][0]["pk"], 2);
  EXPECT_EQ(out["data"][0]["tag"], "y");
  EXPECT_NEAR(out["data"][0]["distance"].get<double>(), 2.0 / 12, 1e-6);
  EXPECT_EQ(out["data"][1]["pk"], 1);
  EXPECT_EQ(out["data"][2]["pk"], 3);
  EXPECT_EQ(json::parse(h_.Raw("entities/advanced_search", out.dump()).body)["code"], 1802) << "same handler";
  EXPECT_EQ(Code("entities/hybrid_search", json::parse(R"({"collectionName":"h",
      "search":[{"data":[[0,0]],"limit":2}],"rerank":{"strategy":"rrf"}})")),
            1801) << "two vector fields and no annsField";
}


TEST_F(ProxyTest, ConcurrentWritersAreAllAcknowledged) {
  CreateQuick("docs", {{"params", {{"shardsNum", 2}}}});
  constexpr int kThreads = 8;
  constexpr int kRequests = 10;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRequests; ++r) {
        json rows = json::array();
        for (int i = 0; i < 5; ++i) rows.push_back({{"id", (t * kRequests + r) * 5 + i}, {"vector", {1, 2}}});
        HttpResponse response = h_.Raw("entities/insert", json{{"collectionName", "docs"}, {"data", rows}}.dump());
        if (json::parse(response.body)["code"] != 0) ++failures;
        HttpResponse read = h_.Raw("entities/query", R"j({"collectionName":"docs","outputFields":["count(*)"],"consistencyLevel":"Session"})j");
        if (json::parse(read.body)["code"] != 0) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  json count = h_.Ok("entities/query", {{"collectionName", "docs"}, {"outputFields", {"count(*)"}},
                                        {"consistencyLevel", "Strong"}});
  EXPECT_EQ(count["data"][0]["count(*)"], kThreads * kRequests * 5);
}

}  // namespace
}  // namespace tessera::proxy
