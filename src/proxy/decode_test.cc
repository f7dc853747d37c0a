// Pure decoder / encoder tests: no role involved.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/filter/parser.h"
#include "proxy/consistency.h"
#include "proxy/decode_collection.h"
#include "proxy/decode_entities.h"
#include "proxy/encode.h"
#include "proxy/error_map.h"
#include "proxy/fast_json.h"
#include "proxy/filter_util.h"
#include "proxy/json_fields.h"

namespace tessera::proxy {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// A collection schema like the coordinator returns it: ids assigned, $meta declared.
core::CollectionSchema Schema(bool dynamic = true, core::DataType pk = core::DataType::kInt64) {
  core::CollectionSchema s;
  s.name = "c";
  auto add = [&](std::string name, core::DataType type) -> core::FieldSchema& {
    core::FieldSchema f;
    f.id = 100 + static_cast<int64_t>(s.fields.size());
    f.name = std::move(name);
    f.data_type = type;
    s.fields.push_back(f);
    return s.fields.back();
  };
  core::FieldSchema& id = add("pk", pk);
  id.is_primary_key = true;
  if (pk == core::DataType::kVarChar) id.max_length = 64;
  add("vec", core::DataType::kFloatVector).dim = 3;
  add("i64", core::DataType::kInt64).nullable = true;
  add("j", core::DataType::kJSON).nullable = true;
  add("s", core::DataType::kVarChar).max_length = 16;
  if (dynamic) {
    s.enable_dynamic_field = true;
    add("$meta", core::DataType::kJSON).is_dynamic = true;
  }
  EXPECT_TRUE(s.Validate().ok()) << s.Validate().ToString();
  return s;
}

template <typename T>
ApiStatus StatusOf(const ApiResult<T>& r) {
  return r.status();
}

// ---- body parsing and field access --------------------------------------------------------

TEST(ParseBody, EmptyMalformedDeepAndNonObject) {
  EXPECT_EQ(ParseBody("").status().code(), code::kBadJson);
  EXPECT_EQ(ParseBody(" \n\t").status().message(),
            "can only accept json format request, the request body should be nil, however {} is valid");
  auto bad = ParseBody("{\"a\": ");
  EXPECT_EQ(bad.status().code(), 1801);
  EXPECT_THAT(bad.status().message(), StartsWith("can only accept json format request, error: "));
  EXPECT_EQ(ParseBody("[1]").status().code(), 1801);
  EXPECT_EQ(ParseBody(std::string(200, '[') + std::string(200, ']')).status().code(), 1801);
  EXPECT_THAT(ParseBody("{\"a\":" + std::string(200, '[') + std::string(200, ']') + "}").status().message(),
              HasSubstr("nested deeper"));
  // The limit is 128 levels, the root's included, on the fast parser's path as on nlohmann's.
  const auto nested = [](int levels) {
    return "{\"a\":" + std::string(levels - 1, '[') + std::string(levels - 1, ']') + "}";
  };
  EXPECT_TRUE(ParseBody(nested(kMaxJsonDepth)).ok());
  EXPECT_THAT(ParseBody(nested(kMaxJsonDepth + 1)).status().message(), HasSubstr("nested deeper"));
  // Brackets inside strings do not count.
  EXPECT_TRUE(ParseBody("{\"a\":\"" + std::string(300, '[') + "\"}").ok());
  EXPECT_TRUE(ParseBody("{}").ok());
  EXPECT_EQ(ParseBody("{\"s\":\"\xff\"}").status().code(), 1801) << "invalid UTF-8";
}

TEST(FieldReader, TypesRequiredAndCaseInsensitiveKeys) {
  json body = json::parse(R"({"autoId": true, "n": 5, "f": 1.5, "s": "x", "e": "", "arr": ["a", 1], "nul": null,
                              "big": 18446744073709551615})");
  FieldReader r(body, "Req");
  bool b = false;
  EXPECT_TRUE(r.Bool("autoID", &b).ok());
  EXPECT_TRUE(b) << "autoId matches autoID";
  int64_t n = 0;
  EXPECT_TRUE(r.Int("n", &n).ok());
  EXPECT_EQ(n, 5);
  EXPECT_EQ(r.Int("f", &n).code(), 1801);
  EXPECT_THAT(r.Int("f", &n).message(), HasSubstr("field f must be an integer"));
  EXPECT_EQ(r.Int("s", &n).code(), 1801);
  EXPECT_EQ(r.Int("big", &n).code(), 1801);
  std::string s;
  EXPECT_EQ(r.String("n", &s).code(), 1801);
  EXPECT_TRUE(r.String("absent", &s).ok());
  EXPECT_TRUE(r.String("nul", &s).ok()) << "null is absent";
  EXPECT_EQ(r.RequiredString("e", &s).code(), 1802);
  EXPECT_EQ(r.RequiredString("nul", &s).code(), 1802);
  EXPECT_EQ(r.RequiredString("collectionName", &s).message(),
            "missing required parameters, error: Key: 'Req.CollectionName' Error:Field validation for "
            "'CollectionName' failed on the 'required' tag");
  std::vector<std::string> arr;
  EXPECT_EQ(r.StringArray("arr", &arr).code(), 1801);
  EXPECT_THAT(r.StringArray("arr", &arr).message(), HasSubstr("arr[1]"));
  const json* a = nullptr;
  EXPECT_EQ(r.RequiredArray("absent", &a).code(), 1802);
  EXPECT_EQ(r.Object("s", &a).code(), 1801);
}

TEST(Names, Validation) {
  EXPECT_TRUE(ValidateName("collection", "_a1").ok());
  EXPECT_TRUE(ValidateName("collection", std::string(255, 'a')).ok());
  for (std::string bad : {std::string(""), std::string("1a"), std::string("a-b"), std::string("a b"),
                          std::string(256, 'a'), std::string("../x"), std::string("é")}) {
    ApiStatus st = ValidateName("collection", bad);
    EXPECT_EQ(st.code(), 1100) << bad;
    EXPECT_THAT(st.message(), HasSubstr("Invalid collection name")) << bad;
  }
}

TEST(Params, IntBoolNumeric) {
  EXPECT_EQ(*IntParam(json(128), "dim"), 128);
  EXPECT_EQ(*IntParam(json("128"), "dim"), 128);
  EXPECT_EQ(*IntParam(json(2.0), "dim"), 2);
  EXPECT_EQ(IntParam(json("12x"), "dim").status().code(), 1100);
  EXPECT_THAT(IntParam(json(true), "dim").status().message(), HasSubstr("dim"));
  EXPECT_EQ(ParseInt64("+-3"), std::nullopt);
  EXPECT_EQ(ParseInt64("-3"), -3);
  EXPECT_EQ(ParseGoBool("True"), true);
  EXPECT_EQ(ParseGoBool("0"), false);
  EXPECT_EQ(ParseGoBool("yes"), std::nullopt);
  EXPECT_EQ(NumericParam(json("16")), json(16));
  EXPECT_EQ(NumericParam(json("0.5")), json(0.5));
  EXPECT_EQ(NumericParam(json("SQ8")), json("SQ8"));
  EXPECT_EQ(NumericParam(json("inf")), json("inf"));
  EXPECT_EQ(ParamText(json(128)), "128");
  EXPECT_EQ(ParamText(json("x")), "x");
}

// ---- collections/create -----------------------------------------------------------------------

TEST(DecodeCreate, QuickModeDefaults) {
  auto spec = DecodeCreateCollection(json::parse(R"({"collectionName":"q","dimension":4})"));
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_TRUE(spec->quick_mode);
  EXPECT_TRUE(spec->load);
  const core::CollectionSchema& s = spec->request.schema;
  ASSERT_EQ(s.fields.size(), 2u);
  EXPECT_EQ(s.fields[0].name, "id");
  EXPECT_EQ(s.fields[0].data_type, core::DataType::kInt64);
  EXPECT_FALSE(s.fields[0].auto_id);
  EXPECT_EQ(s.fields[1].name, "vector");
  EXPECT_EQ(s.fields[1].dim, 4);
  EXPECT_TRUE(s.enable_dynamic_field);
  EXPECT_EQ(spec->request.num_shards, 1);
  EXPECT_EQ(spec->request.consistency, coord::ConsistencyLevel::kBounded);
  ASSERT_EQ(spec->indexes.size(), 1u);
  EXPECT_EQ(spec->indexes[0].index_name, "vector");
  EXPECT_EQ(spec->indexes[0].index_type, "AUTOINDEX");
  EXPECT_EQ(spec->indexes[0].metric_type, "COSINE");
  auto zero = DecodeCreateCollection(json::parse(R"({"collectionName":"q","dimension":4,"params":{"shardsNum":0}})"));
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->request.num_shards, 1) << "shardsNum 0 means the default, as in Milvus";
}

TEST(DecodeCreate, QuickModeOptions) {
  auto spec = DecodeCreateCollection(json::parse(R"({"collectionName":"q","dimension":4,"metricType":"ip",
      "idType":"VarChar","primaryFieldName":"key","vectorFieldName":"emb","autoId":false,
      "params":{"max_length":"32","enableDynamicField":"false","shardsNum":"2","consistencyLevel":"Strong",
                "ttlSeconds":60,"mmap.enabled":true}})"));
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  const core::CollectionSchema& s = spec->request.schema;
  EXPECT_EQ(s.fields[0].name, "key");
  EXPECT_EQ(s.fields[0].data_type, core::DataType::kVarChar);
  EXPECT_EQ(s.fields[0].max_length, 32);
  EXPECT_EQ(s.fields[1].name, "emb");
  EXPECT_FALSE(s.enable_dynamic_field);
  EXPECT_EQ(spec->request.num_shards, 2);
  EXPECT_EQ(spec->request.consistency, coord::ConsistencyLevel::kStrong);
  EXPECT_EQ(spec->request.properties.at("collection.ttl.seconds"), "60");
  EXPECT_EQ(spec->request.properties.at("mmap.enabled"), "true");
  EXPECT_EQ(spec->indexes[0].metric_type, "IP");
  EXPECT_EQ(spec->indexes[0].index_name, "emb");
}

TEST(DecodeCreate, QuickModeErrors) {
  auto err = [](const char* text) { return DecodeCreateCollection(json::parse(text)).status(); };
  EXPECT_EQ(err(R"({"collectionName":"q"})").message(),
            "dimension is required for quickly create collection(default metric type: COSINE): invalid "
            "parameter[expected=collectionName & dimension][actual=collectionName]");
  EXPECT_EQ(err(R"({"collectionName":"q"})").code(), 1100);
  EXPECT_EQ(err(R"({"dimension":4})").code(), 1802);
  EXPECT_EQ(err(R"({"collectionName":"q","dimension":"4"})").code(), 1801);
  EXPECT_EQ(err(R"({"collectionName":"q","dimension":4,"idType":"unknown"})").message(),
            "idType can only be [Int64, VarChar], default: Int64: invalid parameter[expected=Int64, "
            "Varchar][actual=unknown]");
  EXPECT_EQ(err(R"({"collectionName":"q","dimension":4,"idType":"VarChar"})").code(), 1100);
  EXPECT_EQ(err(R"({"collectionName":"q","dimension":4,"metricType":"HAMMING"})").code(), 1100);
  EXPECT_EQ(err(R"({"collectionName":"q","dimension":4,"params":{"enableDynamicField":"maybe"}})").code(), 65535);
  EXPECT_THAT(err(R"({"collectionName":"q","dimension":4,"params":{"consistencyLevel":"unknown"}})").message(),
              HasSubstr("consistencyLevel can only be [Strong, Session, Bounded, Eventually, Customized], "
                        "default: Bounded, err:parameter:'unknown' is incorrect, please check it: invalid parameter"));
  EXPECT_EQ(err(R"({"collectionName":"q","dimension":4,"params":{"shardsNum":-1}})").code(), 1100);
  EXPECT_EQ(err(R"({"collectionName":"q","dimension":40000})").code(), 1100) << "dim over 32768";
  EXPECT_TRUE(DecodeCreateCollection(json::parse(R"({"collectionName":"q","dimension":4,"autoID":true,
      "idType":"VarChar","params":{"max_length":32}})")).ok()) << "VarChar auto ids are decimal text, as in Milvus";
  EXPECT_EQ(err(R"({"collectionName":"bad-name","dimension":4})").code(), 1100);
  EXPECT_EQ(err(R"({"collectionName":"q","dimension":4,"schema":{"functions":[{"name":"f"}]}})").code(), 1100);
}

TEST(DecodeCreate, CustomModeEveryType) {
  auto spec = DecodeCreateCollection(json::parse(R"({"collectionName":"c","description":"d","schema":{
      "autoID": true, "enabledDynamicField": true, "fields": [
        {"fieldName":"pk","dataType":"Int64","isPrimary":true},
        {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":"8"}},
        {"fieldName":"b","dataType":"Bool","nullable":true},
        {"fieldName":"i8","dataType":"Int8","defaultValue":3},
        {"fieldName":"i16","dataType":"Int16"},
        {"fieldName":"i32","dataType":"Int32"},
        {"fieldName":"i64","dataType":"Int64","isPartitionKey":true},
        {"fieldName":"f","dataType":"Float"},
        {"fieldName":"d","dataType":"Double"},
        {"fieldName":"s","dataType":"VarChar","elementTypeParams":{"max_length":100},"defaultValue":"x"},
        {"fieldName":"j","dataType":"JSON"},
        {"fieldName":"a","dataType":"Array","elementDataType":"VarChar",
         "elementTypeParams":{"max_capacity":"4","max_length":"10"}}]},
      "params": {"partitionsNum": 8},
      "indexParams":[{"fieldName":"v","indexName":"vi","metricType":"L2",
                      "params":{"index_type":"HNSW","M":"16","efConstruction":200}}]})"));
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_FALSE(spec->quick_mode);
  EXPECT_TRUE(spec->load);
  const core::CollectionSchema& s = spec->request.schema;
  EXPECT_EQ(s.description, "d");
  EXPECT_TRUE(s.enable_dynamic_field);
  ASSERT_EQ(s.fields.size(), 12u);
  EXPECT_TRUE(s.fields[0].auto_id);
  EXPECT_EQ(s.fields[1].dim, 8);
  EXPECT_TRUE(s.fields[2].nullable);
  EXPECT_EQ(s.fields[3].default_value, json(3));
  EXPECT_TRUE(s.fields[6].is_partition_key);
  EXPECT_EQ(s.fields[9].max_length, 100);
  EXPECT_EQ(s.fields[11].element_type, core::DataType::kVarChar);
  EXPECT_EQ(s.fields[11].max_capacity, 4);
  EXPECT_EQ(spec->request.num_partitions, 8);
  ASSERT_EQ(spec->indexes.size(), 1u);
  EXPECT_EQ(spec->indexes[0].index_type, "HNSW");
  EXPECT_EQ(spec->indexes[0].metric_type, "L2");
  EXPECT_EQ(spec->indexes[0].params, json::parse(R"({"M":16,"efConstruction":200})"));
}

TEST(DecodeCreate, CustomModeErrors) {
  auto err = [](const std::string& fields, const std::string& extra = "") {
    return DecodeCreateCollection(json::parse(R"({"collectionName":"c","schema":{"fields":)" + fields + "}" + extra +
                                              "}"))
        .status();
  };
  const std::string ok_fields =
      R"([{"fieldName":"pk","dataType":"Int64","isPrimary":true},{"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":2}}])";
  EXPECT_TRUE(err(ok_fields).ok());
  EXPECT_FALSE(DecodeCreateCollection(json::parse(R"({"collectionName":"c","schema":{"fields":)" + ok_fields + "}}"))
                   ->load)
      << "custom mode without indexParams is not loaded";
  EXPECT_EQ(err(R"([{"fieldName":"pk","dataType":"int64","isPrimary":true}])").message(),
            "invalid parameter, data type int64 is invalid(case sensitive).");
  EXPECT_THAT(err(R"([{"fieldName":"pk","dataType":"BinaryVector"}])").message(), HasSubstr("not supported"));
  EXPECT_EQ(err(R"([{"dataType":"Int64"}])").code(), 1802);
  EXPECT_THAT(err(R"([{"dataType":"Int64"}])").message(), HasSubstr("FieldName"));
  EXPECT_EQ(err(R"([{"fieldName":"pk"}])").code(), 1802);
  EXPECT_EQ(err(R"([5])").code(), 1801);
  EXPECT_EQ(err(R"([{"fieldName":"pk","dataType":"Int64","isPrimary":"yes"}])").code(), 1801);
  EXPECT_EQ(err(R"([{"fieldName":"pk","dataType":"Int64","isPrimary":true},
                    {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":"x"}}])").code(), 1100);
  EXPECT_EQ(err(R"([{"fieldName":"pk","dataType":"Int64","isPrimary":true},
                    {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":2}},
                    {"fieldName":"a","dataType":"Array"}])").code(), 1100) << "Array without element type";
  EXPECT_EQ(err(R"([{"fieldName":"pk","dataType":"Int64","isPrimary":true},
                    {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":2}},
                    {"fieldName":"o","dataType":"Int64","defaultValue":{"a":1}}])").code(), 1100);
  EXPECT_EQ(err(R"([{"fieldName":"pk","dataType":"Int64"}])").code(), 1100) << "no primary key";
  EXPECT_EQ(err(R"([{"fieldName":"$meta","dataType":"JSON"}])").code(), 1100);
  // Index on a field the schema lacks: 1802 with Milvus' message.
  ApiStatus missing = err(ok_fields, R"(,"indexParams":[{"fieldName":"nope","metricType":"L2"}])");
  EXPECT_EQ(missing.code(), 1802);
  EXPECT_EQ(missing.message(), "missing required parameters, error: `nope` hasn't defined in schema");
  EXPECT_EQ(err(ok_fields, R"(,"indexParams":[{"metricType":"L2"}])").code(), 1802);
  EXPECT_EQ(err(ok_fields, R"(,"indexParams":[{"fieldName":"v","params":{"nlist":8}}])").message(),
            "only metric type can be passed when use AutoIndex: invalid parameter");
  EXPECT_EQ(err(ok_fields, R"(,"indexParams":[{"fieldName":"v","metricType":"JACCARD","indexType":"FLAT"}])").code(),
            1100);
}

// ---- reads ------------------------------------------------------------------------------------

TEST(DecodeQuery, DefaultsLimitsOutputAndConsistency) {
  const core::CollectionSchema s = Schema();
  auto q = DecodeQuery(json::parse(R"({"collectionName":"c"})"), s);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->limit, 100u);
  EXPECT_EQ(q->offset, 0u);
  EXPECT_TRUE(q->output_fields.empty()) << "all fields";
  EXPECT_FALSE(q->read.consistency.has_value());

  q = DecodeQuery(json::parse(R"({"filter":"i64 > 3","outputFields":["s","color"],"limit":5,"offset":2,
                                 "partitionNames":["p1"],"consistencyLevel":"Session"})"),
                  s);
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(q->filter, "i64 > 3");
  EXPECT_EQ(q->output_fields, (std::vector<std::string>{"s", "color"})) << "dynamic keys allowed";
  EXPECT_EQ(q->limit, 5u);
  EXPECT_EQ(q->offset, 2u);
  EXPECT_EQ(q->read.partition_names, std::vector<std::string>{"p1"});
  EXPECT_EQ(q->read.consistency, coord::ConsistencyLevel::kSession);

  EXPECT_TRUE(DecodeQuery(json::parse(R"j({"outputFields":["count(*)"]})j"), s)->count_only);
  auto code_of = [&](const char* body, const core::CollectionSchema& schema) {
    return DecodeQuery(json::parse(body), schema).status().code();
  };
  EXPECT_EQ(code_of(R"({"limit":-1})", s), 1100);
  EXPECT_EQ(code_of(R"({"limit":16385})", s), 1100);
  EXPECT_EQ(code_of(R"({"offset":-1})", s), 1100);
  EXPECT_EQ(code_of(R"({"limit":16000,"offset":1000})", s), 1100);
  EXPECT_THAT(DecodeQuery(json::parse(R"({"limit":16000,"offset":1000})"), s).status().message(),
              HasSubstr("(offset+limit) should be in range [1, 16384], but got 17000"));
  EXPECT_EQ(code_of(R"({"limit":"5"})", s), 1801);
  EXPECT_EQ(code_of(R"({"consistencyLevel":"strong"})", s), 1100) << "case-sensitive";
  EXPECT_EQ(code_of(R"({"filter":"nope >"})", s), 1100);
  EXPECT_THAT(DecodeQuery(json::parse(R"({"filter":"i64 >"})"), s).status().message(), HasSubstr("filter parse error"));
  EXPECT_EQ(code_of(R"j({"outputFields":["count(*)","s"]})j", s), 1100);
  EXPECT_EQ(code_of(R"({"outputFields":["nope"]})", Schema(/*dynamic=*/false)), 1700);
  EXPECT_EQ(code_of(R"({"outputFields":["a-b"]})", s), 1700);
  EXPECT_EQ(code_of(R"({"partitionNames":["bad name"]})", s), 1100);
  // exprParams templates.
  q = DecodeQuery(json::parse(R"({"filter":"i64 in {ids} and s == {name}","exprParams":{"ids":[1,2],"name":"a\"b"}})"),
                  s);
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(q->filter, R"(i64 in [1, 2] and s == "a\"b")");
  EXPECT_EQ(code_of(R"({"filter":"i64 == {x}","exprParams":{"y":1}})", s), 1100);
}

TEST(DecodeGet, IdsBecomeAPkFilter) {
  auto g = DecodeGet(json::parse(R"({"id":[3,"4",3],"outputFields":["s"]})"), Schema());
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->filter, "pk in [3, 4]");
  EXPECT_EQ(g->limit, 2u);
  EXPECT_EQ(DecodeGet(json::parse(R"({"id":7})"), Schema())->filter, "pk in [7]");
  auto v = DecodeGet(json::parse(R"({"id":["a\"b","c\\d"]})"), Schema(true, core::DataType::kVarChar));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->filter, R"(pk in ["a\"b", "c\\d"])");
  EXPECT_EQ(DecodeGet(json::parse(R"({})"), Schema()).status().code(), 1802);
  EXPECT_EQ(DecodeGet(json::parse(R"({"id":1.5})"), Schema()).status().code(), 1806);
  EXPECT_EQ(DecodeGet(json::parse(R"({"id":"x"})"), Schema()).status().code(), 1806);
  EXPECT_EQ(DecodeGet(json::parse(R"({"id":[{}]})"), Schema()).status().code(), 1806);
  EXPECT_EQ(DecodeGet(json::parse(R"({"id":5})"), Schema(true, core::DataType::kVarChar)).status().code(), 1806);
}

TEST(DecodeSearch, VectorsFieldsAndParams) {
  const core::CollectionSchema s = Schema();
  auto r = DecodeSearch(json::parse(R"({"data":[[1,2,3],[4,5,6]],"limit":3,"outputFields":["*"],
      "searchParams":{"params":{"ef":"64"},"ignoreGrowing":true,"metricType":"L2"}})"),
                        s);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->num_queries, 2u);
  EXPECT_EQ(r->dim, 3u);
  EXPECT_EQ(r->vectors, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(r->field_name, "vec");
  EXPECT_EQ(r->field_id, 101);
  EXPECT_EQ(r->limit, 3u);
  EXPECT_EQ(r->params, json::parse(R"({"ef":64,"ignore_growing":true})"));
  EXPECT_EQ(r->output_fields, (std::vector<std::string>{"pk", "vec", "i64", "j", "s", "$meta"}));
  EXPECT_EQ(DecodeSearch(json::parse(R"({"data":[[1,2,3]]})"), s)->limit, 100u);

  auto err = [&](const char* body) { return DecodeSearch(json::parse(body), s).status(); };
  EXPECT_EQ(err(R"({})").code(), 1802);
  EXPECT_EQ(err(R"({"data":[]})").code(), 1100);
  EXPECT_EQ(err(R"({"data":[[1,2]]})").code(), 1100);
  EXPECT_THAT(err(R"({"data":[[1,2,3],[1,2]]})").message(), HasSubstr("data[1]"));
  EXPECT_EQ(err(R"({"data":[[1,"2",3]]})").code(), 1801);
  EXPECT_EQ(err(R"({"data":["abc"]})").code(), 1801);
  EXPECT_EQ(err(R"({"data":[[1,2,1e39]]})").code(), 1100) << "overflows float32";
  EXPECT_EQ(err(R"({"data":[[1,2,3]],"annsField":"s"})").code(), 1801);
  EXPECT_EQ(err(R"({"data":[[1,2,3]],"annsField":"nope"})").code(), 1801);
  EXPECT_EQ(err(R"({"data":[[1,2,3]],"limit":0,"offset":16384})").code(), 1100);
  EXPECT_EQ(err(R"({"data":[[1,2,3]],"searchParams":{"params":5}})").message(),
            "searchParams.params must be a dict: invalid parameter");
  EXPECT_THAT(err(R"({"data":[[1,2,3]],"searchParams":{"params":{"ef":10},"ef":20}})").message(),
              HasSubstr("ambiguous parameter"));
  EXPECT_TRUE(DecodeSearch(json::parse(R"({"data":[[1,2,3]],"searchParams":{"params":{"ef":10},"ef":"10"}})"), s).ok())
      << "the same value in both places is fine";
  // Grouping: a Bool, integer or VarChar field; groupSize >= 1 with the window in range.
  auto grouped = DecodeSearch(json::parse(R"({"data":[[1,2,3]],"groupingField":"s","groupSize":3,
                                              "strictGroupSize":true,"limit":5})"), s);
  ASSERT_TRUE(grouped.ok()) << grouped.status().message();
  EXPECT_EQ(grouped->grouping.field, "s");
  EXPECT_EQ(grouped->grouping.group_size, 3u);
  EXPECT_TRUE(grouped->grouping.strict);
  EXPECT_EQ(DecodeSearch(json::parse(R"({"data":[[1,2,3]],"groupSize":0})"), s).status().code(), 0)
      << "groupSize without groupingField is ignored";
  EXPECT_THAT(err(R"({"data":[[1,2,3]],"groupingField":"j"})").message(), HasSubstr("grouping takes"));
  EXPECT_EQ(err(R"({"data":[[1,2,3]],"groupingField":"nope"})").code(), 1100);
  EXPECT_EQ(err(R"({"data":[[1,2,3]],"groupingField":"i64","groupSize":0})").code(), 1100);
  EXPECT_THAT(err(R"({"data":[[1,2,3]],"groupingField":"i64","groupSize":100,"limit":200})").message(),
              HasSubstr("groupSize must be at most"));
  EXPECT_THAT(err(R"({"data":[[1,2,3]],"groupingField":"i64","searchParams":{"radius":1}})").message(),
              HasSubstr("cannot be combined"));
  EXPECT_THAT(err(R"({"data":[[1,2,3]],"functionScore":{"functions":[]}})").message(), HasSubstr("functionScore"));
  EXPECT_EQ(DecodeSearch(json::parse(R"({"data":[[1,2,3]],"functionScore":null})"), s).status().code(), 0);
  EXPECT_EQ(err(R"({"data":[[1,2,3]],"filter":"s =="})").code(), 1100);

  core::CollectionSchema two = s;
  core::FieldSchema second;
  second.id = 200;
  second.name = "v2";
  second.data_type = core::DataType::kFloatVector;
  second.dim = 2;
  two.fields.push_back(second);
  ApiStatus ambiguous = DecodeSearch(json::parse(R"({"data":[[1,2]]})"), two).status();
  EXPECT_EQ(ambiguous.code(), 1801);
  EXPECT_THAT(ambiguous.message(), HasSubstr("search without annsField, but already found multiple vector fields"));
  auto chosen = DecodeSearch(json::parse(R"({"data":[[1,2]],"annsField":"v2"})"), two);
  ASSERT_TRUE(chosen.ok());
  EXPECT_EQ(chosen->field_id, 200);
}

// Vectors lifted out of "data" by the parser decode exactly as the JSON path does: same
// values, same errors with the same messages.
TEST(DecodeSearch, PackedVectorsDecodeLikeJson) {
  const core::CollectionSchema s = Schema();
  const std::vector<std::string> bodies = {
      R"({"data":[[1,2,3],[4,5,6]],"limit":3})",
      R"({"data":[[-1,0.5,18446744073709551615]],"filter":"i64 > 2"})",
      R"({"data":[[1e-50,-0.0,3.4028235e38]]})",
      R"({"data":[[1,2,1e39]]})",
      R"({"data":[[1,2,3],[4,5,-1e39]]})",
      R"({"data":[[1,2]]})",
      R"({"data":[[1,2],[3,4]]})",
      R"({"data":[[1,2,3],[1,2]]})",
      R"({"data":[[1,"2",3]]})",
      R"({"data":[[]]})",
      R"({"data":[]})",
      R"({"data":[[1,2,3]],"Data":[[4,5,6]]})",
      R"({"data":[[1,2,3]],"data":[[7,8,9]]})",
      R"({"DATA":[[1,2,3]]})",
  };
  size_t packed_ok = 0;
  for (const std::string& body : bodies) {
    auto plain = ParseBody(body);
    PackedVectors vectors;
    auto lifted = ParseBody(body, &vectors);
    ASSERT_TRUE(plain.ok() && lifted.ok()) << body;
    auto a = DecodeSearch(*plain, s);
    auto b = DecodeSearch(*lifted, s, &vectors);
    ASSERT_EQ(a.ok(), b.ok()) << body;
    if (!a.ok()) {
      EXPECT_EQ(a.status().code(), b.status().code()) << body;
      EXPECT_EQ(a.status().message(), b.status().message()) << body;
      continue;
    }
    EXPECT_EQ(a->vectors, b->vectors) << body;
    EXPECT_EQ(a->num_queries, b->num_queries) << body;
    EXPECT_EQ(a->limit, b->limit) << body;
    EXPECT_EQ(a->filter, b->filter) << body;
    if (vectors.rows > 0) ++packed_ok;
  }
  EXPECT_GE(packed_ok, 3u) << "the fast path was taken";
  PackedVectors vectors;
  ASSERT_TRUE(ParseBody(R"({"data":[[1,2,3]],"Data":[[4,5,6]]})", &vectors).ok());
  EXPECT_EQ(vectors.rows, 0u) << "two keys read as data: left to the JSON path";
}

TEST(DecodeDelete, FilterRequiredAndPkDetection) {
  const core::CollectionSchema s = Schema();
  EXPECT_EQ(DecodeDelete(json::parse(R"({})"), s).status().code(), 1802);
  EXPECT_EQ(DecodeDelete(json::parse(R"({"filter":""})"), s).status().code(), 1802);
  EXPECT_EQ(DecodeDelete(json::parse(R"({"filter":"pk in ["})"), s).status().code(), 1100);
  auto d = DecodeDelete(json::parse(R"({"filter":"pk in [3, 1, 3]"})"), s);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(d->pks.has_value());
  EXPECT_EQ(*d->pks, (std::vector<segment::PrimaryKey>{int64_t{3}, int64_t{1}}));
  EXPECT_EQ(*DecodeDelete(json::parse(R"({"filter":"7 == pk"})"), s)->pks, std::vector<segment::PrimaryKey>{int64_t{7}});
  EXPECT_FALSE(DecodeDelete(json::parse(R"({"filter":"pk > 3"})"), s)->pks.has_value());
  EXPECT_FALSE(DecodeDelete(json::parse(R"({"filter":"pk not in [1]"})"), s)->pks.has_value());
  EXPECT_FALSE(DecodeDelete(json::parse(R"({"filter":"i64 in [1]"})"), s)->pks.has_value());
  auto v = DecodeDelete(json::parse(R"({"filter":"pk in [\"a\", \"b\"]"})"), Schema(true, core::DataType::kVarChar));
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(*v->pks, (std::vector<segment::PrimaryKey>{std::string("a"), std::string("b")}));
}

// ---- filter helpers ---------------------------------------------------------------------------

TEST(FilterUtil, QuotingRoundTripsThroughTheParser) {
  const core::CollectionSchema s = Schema(true, core::DataType::kVarChar);
  for (std::string key : {std::string("plain"), std::string("q\"uote"), std::string("back\\slash"),
                          std::string("nl\nx"), std::string("tab\t"), std::string("ünï"), std::string("%_")}) {
    const std::string filter = PkInFilter("pk", {key});
    auto expr = core::filter::ParseFilter(filter, s);
    ASSERT_TRUE(expr.ok()) << filter << ": " << expr.status().message();
    auto keys = PrimaryKeysOfFilter(**expr, s);
    ASSERT_TRUE(keys.has_value()) << filter;
    ASSERT_EQ(keys->size(), 1u);
    EXPECT_EQ(std::get<std::string>((*keys)[0]), key) << filter;
  }
}

TEST(FilterUtil, ExprParams) {
  json params = json::parse(R"({"a":1,"b":[1.5,"x"],"c":true,"d":{"k":1}})");
  EXPECT_EQ(*ApplyExprParams("x == {a}", &params), "x == 1");
  EXPECT_EQ(*ApplyExprParams("x in {b}", &params), R"(x in [1.5, "x"])");
  EXPECT_EQ(*ApplyExprParams("x == { c }", &params), "x == true");
  EXPECT_EQ(*ApplyExprParams("s == \"{a}\"", &params), "s == \"{a}\"") << "inside a string literal";
  EXPECT_EQ(ApplyExprParams("x == {d}", &params).status().code(), 1100);
  EXPECT_EQ(ApplyExprParams("x == {zz}", &params).status().code(), 1100);
  EXPECT_EQ(*ApplyExprParams("x == {a}", nullptr), "x == {a}");
}

// ---- encoding ---------------------------------------------------------------------------------

TEST(Encode, RowsEnvelopeAndIds) {
  const core::CollectionSchema s = Schema();
  json row = json::parse(R"({"pk": 9007199254740993, "i64": -5, "j": {"k": [1, null]}, "s": "x", "color": {"a": 1}})");
  json as_numbers = EncodeRow(row, s, true);
  EXPECT_EQ(as_numbers["pk"], 9007199254740993);
  EXPECT_EQ(as_numbers["j"], R"({"k":[1,null]})") << "JSON fields as text";
  EXPECT_EQ(as_numbers["color"], json::parse(R"({"a":1})")) << "dynamic keys stay native";
  json as_strings = EncodeRow(row, s, false);
  EXPECT_EQ(as_strings["pk"], "9007199254740993");
  EXPECT_EQ(as_strings["i64"], "-5");
  EXPECT_EQ(as_strings["s"], "x");
  EXPECT_EQ(EncodeRow(json::parse(R"({"j": null})"), s, true)["j"], nullptr);
  EXPECT_EQ(EncodePk(segment::PrimaryKey(std::string("k")), false), "k");

  Reply reply;
  reply.data = json::array();
  reply.with_cost = true;
  reply.topks = json::array({1});
  EXPECT_EQ(json::parse(EncodeSuccess(reply)), json::parse(R"({"code":0,"data":[],"cost":0,"topks":[1]})"));
  EXPECT_EQ(json::parse(EncodeSuccess(Reply{})), json::parse(R"({"code":0,"data":{}})"));
  EXPECT_EQ(json::parse(EncodeError(ApiStatus(100, "collection not found[collection=x]"))),
            json::parse(R"({"code":100,"message":"collection not found[collection=x]"})"));
}

// ---- error mapping ------------------------------------------------------------------------------

TEST(ErrorMap, ByMessageThenContextThenCode) {
  EXPECT_EQ(ToApiStatus(Status::NotFound("collection not found[collection=x]")).code(), 100);
  EXPECT_EQ(ToApiStatus(Status::NotFound("partition not found[partition=p]")).code(), 200);
  EXPECT_EQ(ToApiStatus(Status::NotFound("index not found[index=i]")).code(), 700);
  EXPECT_EQ(ToApiStatus(Status::NotFound("database not found[database=d]")).code(), 800);
  EXPECT_EQ(ToApiStatus(Status::NotFound("alias not found[alias=a]")).code(), 1600);
  EXPECT_EQ(ToApiStatus(Status::NotFound("field not found[field=f]")).code(), 1700);
  EXPECT_EQ(ToApiStatus(Status::FailedPrecondition("collection not loaded[collection=1]")).code(), 101);
  EXPECT_EQ(ToApiStatus(Status::FailedPrecondition("partition not loaded")).code(), 201);
  EXPECT_EQ(ToApiStatus(Status::FailedPrecondition("partition 'p1' of collection 'c' is not loaded")).code(), 201);
  EXPECT_EQ(ToApiStatus(Status::FailedPrecondition("collection not loaded: collection 5 is not loaded")).code(), 101);
  EXPECT_EQ(ToApiStatus(Status::FailedPrecondition("index not found[field=v]")).code(), 700);
  EXPECT_EQ(ToApiStatus(Status::AlreadyExists("alias already exists: a")).code(), 1602);
  EXPECT_EQ(ToApiStatus(Status::NotFound("no such thing"), ErrorContext::kCollection).code(), 100);
  EXPECT_EQ(ToApiStatus(Status::NotFound("no such thing"), ErrorContext::kAlias).code(), 1600);
  EXPECT_EQ(ToApiStatus(Status::InvalidArgument("bad value"), ErrorContext::kInsertData).code(), 1804);
  EXPECT_EQ(ToApiStatus(Status::InvalidArgument("bad key"), ErrorContext::kPrimaryKey).code(), 1806);
  EXPECT_EQ(ToApiStatus(Status::InvalidArgument("bad")).code(), 1100);
  EXPECT_EQ(ToApiStatus(Status::DeadlineExceeded("slow")).code(), 10001);
  EXPECT_EQ(ToApiStatus(Status::Unimplemented("no")).code(), 10);
  EXPECT_EQ(ToApiStatus(Status::Unavailable("down")).code(), 2);
  EXPECT_EQ(ToApiStatus(Status::ResourceExhausted("write wal/ch/x.wal: No space left on device")).code(), 9);
  EXPECT_EQ(ToApiStatus(Status::ResourceExhausted("write x: Disk quota exceeded")).code(), 9);
  EXPECT_EQ(ToApiStatus(Status::ResourceExhausted("commit: database or disk is full")).code(), 9);
  EXPECT_EQ(ToApiStatus(Status::ResourceExhausted("too many requests queued")).code(), 3);
  EXPECT_EQ(ToApiStatus(Status::DataLoss("crc")).code(), 65535);
  EXPECT_EQ(ToApiStatus(Status::DataLoss("crc")).message(), "crc");
}

// ---- consistency ----------------------------------------------------------------------------------

TEST(Consistency, ParseAndNames) {
  for (const char* name : {"Strong", "Session", "Bounded", "Eventually", "Customized"}) {
    auto level = ParseConsistency(name);
    ASSERT_TRUE(level.ok()) << name;
    EXPECT_EQ(ConsistencyName(*level), name);
  }
  EXPECT_EQ(ParseConsistency("STRONG").status().code(), 1100);
}

TEST(Consistency, SessionAndBoundedOffsets) {
  using Clock = AckTracker::Clock;
  AckTracker acks(std::chrono::milliseconds(1000));
  const Clock::time_point t0 = Clock::now();
  const std::vector<std::string> channels = {"a", "b"};
  EXPECT_TRUE(acks.Session(channels).empty());
  acks.Acknowledge("a", 4, t0);
  acks.Acknowledge("a", 2, t0 + std::chrono::milliseconds(100));  // out of order: max wins
  acks.Acknowledge("b", 0, t0 + std::chrono::milliseconds(600));
  EXPECT_EQ(acks.Session(channels), (querynode::WaitOffsets{{"a", 5}, {"b", 1}}));
  EXPECT_TRUE(acks.Bounded(channels, t0 + std::chrono::milliseconds(500)).empty()) << "nothing is 1 s old yet";
  EXPECT_EQ(acks.Bounded(channels, t0 + std::chrono::milliseconds(1150)), (querynode::WaitOffsets{{"a", 5}}));
  EXPECT_EQ(acks.Bounded(channels, t0 + std::chrono::milliseconds(1700)),
            (querynode::WaitOffsets{{"a", 5}, {"b", 1}}));
  EXPECT_EQ(acks.Bounded({"c"}, t0 + std::chrono::seconds(5)), querynode::WaitOffsets{});
}

TEST(Consistency, BoundedMemoryStaysSmall) {
  using Clock = AckTracker::Clock;
  AckTracker acks(std::chrono::milliseconds(1000));
  const Clock::time_point t0 = Clock::now();
  for (int i = 0; i < 100000; ++i) acks.Acknowledge("a", i, t0 + std::chrono::microseconds(10 * i));
  // Everything acknowledged up to 1 s before t0 + 1 s (the first 0..~ entries) is visible.
  auto wait = acks.Bounded({"a"}, t0 + std::chrono::milliseconds(2001));
  EXPECT_EQ(wait.at("a"), 100000u);
}

}  // namespace
}  // namespace tessera::proxy

namespace tessera::proxy {
namespace {

TEST(DecodeHybridSearch, RoutesAndRerank) {
  const core::CollectionSchema s = Schema();
  auto h = DecodeHybridSearch(json::parse(R"({"search":[
      {"data":[[1,2,3]],"limit":5,"filter":"i64 > 1","params":{"ef":32}},
      {"data":[[3,2,1]],"limit":2,"annsField":"vec","outputFields":["ignored"]}],
      "rerank":{"strategy":"Weighted","params":{"weights":[0.3,0.7],"norm_score":true}},
      "limit":4,"outputFields":["s"],"partitionNames":["p"],"consistencyLevel":"Strong"})"),
                              s);
  ASSERT_TRUE(h.ok()) << h.status().message();
  ASSERT_EQ(h->routes.size(), 2u);
  EXPECT_EQ(h->routes[0].limit, 5u);
  EXPECT_EQ(h->routes[0].filter, "i64 > 1");
  EXPECT_EQ(h->routes[0].params, json::parse(R"({"ef":32})"));
  EXPECT_EQ(h->routes[1].output_fields, std::vector<std::string>{"s"}) << "top-level outputs";
  EXPECT_EQ(h->rerank.strategy, RerankSpec::Strategy::kWeighted);
  EXPECT_EQ(h->rerank.weights, (std::vector<double>{0.3, 0.7}));
  EXPECT_TRUE(h->rerank.norm_score);
  EXPECT_EQ(h->limit, 4u);
  EXPECT_EQ(h->read.consistency, coord::ConsistencyLevel::kStrong);

  auto err = [&](const char* body) { return DecodeHybridSearch(json::parse(body), s).status(); };
  EXPECT_EQ(err(R"({"rerank":{"strategy":"rrf"}})").code(), 1802);
  EXPECT_EQ(err(R"({"search":[],"rerank":{"strategy":"rrf"}})").code(), 1100);
  EXPECT_EQ(err(R"({"search":[{"data":[[1,2,3]]}],"rerank":{"strategy":"rrf"}})").code(), 1100) << "limit 0";
  EXPECT_EQ(err(R"({"search":[{"data":[[1,2,3]],"limit":1}]})").code(), 1100) << "no rerank";
  EXPECT_EQ(err(R"({"search":[{"data":[[1,2,3]],"limit":1}],"rerank":{"strategy":"max"}})").code(), 1100);
  EXPECT_EQ(err(R"({"search":[{"data":[[1,2,3]],"limit":1}],"rerank":{"strategy":"rrf","params":{"k":0}}})").code(),
            1100);
  EXPECT_EQ(err(R"({"search":[{"data":[[1,2,3]],"limit":1}],"rerank":{"strategy":"weighted","params":{"weights":[2]}}})")
                .code(),
            1100);
  EXPECT_EQ(err(R"({"search":[{"data":[[1,2,3]],"limit":1},{"data":[[1,2,3],[1,2,3]],"limit":1}],
                   "rerank":{"strategy":"rrf"}})").code(),
            1100) << "different nq";
  ApiStatus bad_vector = err(R"({"search":[{"data":[[1,2]],"limit":1}],"rerank":{"strategy":"rrf"}})");
  EXPECT_EQ(bad_vector.code(), 1100);
  EXPECT_THAT(bad_vector.message(), HasSubstr("search[0]"));
}

}  // namespace
}  // namespace tessera::proxy
