// Handler tests: a Proxy over a real LocalLog, an in-test coordinator and query node.

#include "proxy/proxy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

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
  EXPECT_EQ(json::parse(h_.Raw("entities/hybrid_search", "{}").body)["code"], 10);

  // Missing collectionName: 1802 in the validator's words.
  json missing = h_.Call("collections/describe", json::object());
  EXPECT_EQ(missing["code"], 1802);
  EXPECT_THAT(missing["message"].get<std::string>(),
              HasSubstr("Field validation for 'CollectionName' failed on the 'required' tag"));
  // Names are validated before any work.
  json bad_name = h_.Call("collections/describe", {{"collectionName", "1abc"}});
  EXPECT_EQ(bad_name["code"], 1100);
  EXPECT_THAT(bad_name["message"].get<std::string>(), HasSubstr("1abc"));
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
    const std::string channel = ShardChannel(info->id, shard);
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
  auto last = h_.log().LastOffset(ShardChannel(info->id, 0));
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

}  // namespace
}  // namespace tessera::proxy
