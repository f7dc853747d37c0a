#include "coord/catalog_types.h"

#include <gtest/gtest.h>

#include <string>

namespace tessera::coord {
namespace {

using nlohmann::json;

core::FieldSchema Field(int64_t id, std::string name, core::DataType type) {
  core::FieldSchema f;
  f.id = id;
  f.name = std::move(name);
  f.data_type = type;
  return f;
}

IndexInfo Index(int64_t id, std::string name, int64_t field_id, std::string type) {
  IndexInfo index;
  index.id = id;
  index.name = std::move(name);
  index.field_id = field_id;
  index.index_type = std::move(type);
  return index;
}

core::CollectionSchema SampleSchema() {
  core::CollectionSchema schema;
  schema.name = "books";
  schema.description = "a shelf";
  schema.enable_dynamic_field = true;
  core::FieldSchema id = Field(100, "id", core::DataType::kInt64);
  id.is_primary_key = true;
  id.auto_id = true;
  core::FieldSchema vec = Field(101, "vec", core::DataType::kFloatVector);
  vec.dim = 8;
  core::FieldSchema tags = Field(102, "tags", core::DataType::kArray);
  tags.max_length = 20;
  tags.element_type = core::DataType::kVarChar;
  tags.max_capacity = 5;
  tags.nullable = true;
  core::FieldSchema year = Field(103, "year", core::DataType::kInt32);
  year.default_value = json(1999);
  year.is_clustering_key = true;
  core::FieldSchema genre = Field(104, "genre", core::DataType::kVarChar);
  genre.max_length = 16;
  genre.is_partition_key = true;
  core::FieldSchema meta = Field(105, "$meta", core::DataType::kJSON);
  meta.is_dynamic = true;
  schema.fields = {id, vec, tags, year, genre, meta};
  return schema;
}

void ExpectSameSchema(const core::CollectionSchema& a, const core::CollectionSchema& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.description, b.description);
  EXPECT_EQ(a.enable_dynamic_field, b.enable_dynamic_field);
  ASSERT_EQ(a.fields.size(), b.fields.size());
  for (size_t i = 0; i < a.fields.size(); ++i) {
    const core::FieldSchema& x = a.fields[i];
    const core::FieldSchema& y = b.fields[i];
    EXPECT_EQ(x.id, y.id);
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.data_type, y.data_type);
    EXPECT_EQ(x.is_primary_key, y.is_primary_key);
    EXPECT_EQ(x.auto_id, y.auto_id);
    EXPECT_EQ(x.max_length, y.max_length);
    EXPECT_EQ(x.dim, y.dim);
    EXPECT_EQ(x.element_type, y.element_type);
    EXPECT_EQ(x.max_capacity, y.max_capacity);
    EXPECT_EQ(x.nullable, y.nullable);
    EXPECT_EQ(x.default_value, y.default_value);
    EXPECT_EQ(x.is_partition_key, y.is_partition_key);
    EXPECT_EQ(x.is_dynamic, y.is_dynamic);
    EXPECT_EQ(x.is_clustering_key, y.is_clustering_key);
  }
}

TEST(ConsistencyLevel, NamesRoundTrip) {
  for (auto level : {ConsistencyLevel::kStrong, ConsistencyLevel::kSession, ConsistencyLevel::kBounded,
                     ConsistencyLevel::kEventually, ConsistencyLevel::kCustomized}) {
    auto parsed = ParseConsistencyLevel(ConsistencyLevelName(level));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, level);
  }
  EXPECT_EQ(ConsistencyLevelName(ConsistencyLevel::kBounded), "Bounded");
}

TEST(ConsistencyLevel, ParseIsCaseSensitiveAndNamesTheInput) {
  auto bad = ParseConsistencyLevel("strong");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("'strong'"), std::string::npos);
  EXPECT_FALSE(ParseConsistencyLevel("").ok());
}

TEST(CollectionInfo, ChannelsAndFinders) {
  CollectionInfo info;
  info.id = 42;
  info.num_shards = 3;
  EXPECT_EQ(info.Channel(0), "c42_s0");
  EXPECT_EQ(info.Channels(), (std::vector<std::string>{"c42_s0", "c42_s1", "c42_s2"}));
  info.partitions = {{.id = 7, .name = "_default"}, {.id = 8, .name = "p1", .loaded = true}};
  ASSERT_NE(info.FindPartition("p1"), nullptr);
  EXPECT_EQ(info.FindPartition("p1")->id, 8);
  EXPECT_EQ(info.FindPartition("p2"), nullptr);
  info.indexes = {Index(9, "vec_idx", 101, "HNSW")};
  ASSERT_NE(info.FindIndex("vec_idx"), nullptr);
  EXPECT_EQ(info.FindIndex("nope"), nullptr);
  ASSERT_NE(info.IndexOnField(101), nullptr);
  EXPECT_EQ(info.IndexOnField(101)->id, 9);
  EXPECT_EQ(info.IndexOnField(100), nullptr);
}

TEST(CatalogJson, SchemaRoundTrip) {
  const core::CollectionSchema schema = SampleSchema();
  auto back = SchemaFromJson(ToJson(schema));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSameSchema(schema, *back);
  // Through text too, as the MetaStore holds it.
  auto reparsed = SchemaFromJson(json::parse(ToJson(schema).dump()));
  ASSERT_TRUE(reparsed.ok());
  ExpectSameSchema(schema, *reparsed);
}

TEST(CatalogJson, CollectionRoundTrip) {
  CollectionInfo info;
  info.id = 12345678901;
  info.db_name = "shop";
  info.schema = SampleSchema();
  info.num_shards = 2;
  info.num_partitions = 4;
  info.consistency = ConsistencyLevel::kStrong;
  info.properties = {{"collection.ttl.seconds", "60"}};
  info.partitions = {{.id = 1, .name = "_default_0", .loaded = true}, {.id = 2, .name = "_default_1"}};
  info.indexes = {Index(3, "vec", 101, "AUTOINDEX")};
  info.indexes[0].field_name = "vec";
  info.indexes[0].metric_type = "COSINE";
  info.indexes[0].params = {{"M", 16}};
  info.aliases = {"a1", "a2"};
  info.loaded = true;
  info.created_ts = (uint64_t{1} << 63) + 5;
  auto back = CollectionFromJson(json::parse(ToJson(info).dump()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->id, info.id);
  EXPECT_EQ(back->db_name, "shop");
  ExpectSameSchema(info.schema, back->schema);
  EXPECT_EQ(back->num_shards, 2);
  EXPECT_EQ(back->num_partitions, 4);
  EXPECT_EQ(back->consistency, ConsistencyLevel::kStrong);
  EXPECT_EQ(back->properties, info.properties);
  ASSERT_EQ(back->partitions.size(), 2u);
  EXPECT_EQ(back->partitions[0].name, "_default_0");
  EXPECT_TRUE(back->partitions[0].loaded);
  EXPECT_FALSE(back->partitions[1].loaded);
  ASSERT_EQ(back->indexes.size(), 1u);
  EXPECT_EQ(back->indexes[0].index_type, "AUTOINDEX");
  EXPECT_EQ(back->indexes[0].metric_type, "COSINE");
  EXPECT_EQ(back->indexes[0].params, (json{{"M", 16}}));
  EXPECT_EQ(back->aliases, info.aliases);
  EXPECT_TRUE(back->loaded);
  EXPECT_EQ(back->created_ts, info.created_ts);
}

TEST(CatalogJson, SegmentRoundTrip) {
  SegmentInfo s;
  s.id = 77;
  s.collection_id = 5;
  s.channel = "c5_s1";
  s.start_offset = 10;
  s.end_offset = 20;
  s.num_rows = 9;
  s.memory_size = 4096;
  s.time_tick = 12345;
  s.binlogs = {{1, "collections/5/c5_s1/77/binlog/1/1"}, {100, "collections/5/c5_s1/77/binlog/100/1"}};
  s.deltalogs = {"collections/5/c5_s1/77/deltalog/1"};
  s.stats = "collections/5/c5_s1/77/stats/1";
  s.partition_rows = {{3, 4}, {4, 5}};
  s.index_files = {{8, "collections/5/c5_s1/77/index/8/1"}};
  s.compacted_from = {70, 71};
  s.dropped = true;
  auto back = SegmentFromJson(json::parse(ToJson(s).dump()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->id, 77);
  EXPECT_EQ(back->collection_id, 5);
  EXPECT_EQ(back->channel, s.channel);
  EXPECT_EQ(back->start_offset, 10u);
  EXPECT_EQ(back->end_offset, 20u);
  EXPECT_EQ(back->num_rows, 9u);
  EXPECT_EQ(back->memory_size, 4096u);
  EXPECT_EQ(back->time_tick, 12345u);
  EXPECT_EQ(back->binlogs, s.binlogs);
  EXPECT_EQ(back->deltalogs, s.deltalogs);
  EXPECT_EQ(back->stats, s.stats);
  EXPECT_EQ(back->partition_rows, s.partition_rows);
  EXPECT_EQ(back->index_files, s.index_files);
  EXPECT_EQ(back->compacted_from, s.compacted_from);
  EXPECT_TRUE(back->dropped);
}

void ExpectInvalid(const Result<SegmentInfo>& r, const std::string& needle) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
}

TEST(CatalogJson, SegmentShapeErrorsNameTheMember) {
  SegmentInfo s;
  s.id = 1;
  s.collection_id = 2;
  s.channel = "c2_s0";
  s.end_offset = 5;
  const json good = ToJson(s);

  ExpectInvalid(SegmentFromJson(json::array()), "not a JSON object");
  json j = good;
  j.erase("channel");
  ExpectInvalid(SegmentFromJson(j), "'channel'");
  j = good;
  j["id"] = "1";
  ExpectInvalid(SegmentFromJson(j), "'id'");
  j = good;
  j["start_offset"] = -1;
  ExpectInvalid(SegmentFromJson(j), "'start_offset'");
  j = good;
  j["start_offset"] = 9;
  ExpectInvalid(SegmentFromJson(j), "'end_offset'");
  j = good;
  j["binlogs"] = {{"x1", "k"}};
  ExpectInvalid(SegmentFromJson(j), "'binlogs'");
  j = good;
  j["binlogs"] = {{"1", 5}};
  ExpectInvalid(SegmentFromJson(j), "'binlogs'");
  j = good;
  j["deltalogs"] = {1, 2};
  ExpectInvalid(SegmentFromJson(j), "'deltalogs'");
  j = good;
  j["compacted_from"] = {"a"};
  ExpectInvalid(SegmentFromJson(j), "'compacted_from'");
  j = good;
  j["dropped"] = 1;
  ExpectInvalid(SegmentFromJson(j), "'dropped'");
  j = good;
  j["id"] = json(uint64_t{1} << 63);
  ExpectInvalid(SegmentFromJson(j), "int64");
}

TEST(CatalogJson, CollectionShapeErrors) {
  CollectionInfo info;
  info.id = 1;
  info.db_name = "default";
  info.schema = SampleSchema();
  const json good = ToJson(info);
  ASSERT_TRUE(CollectionFromJson(good).ok());

  json j = good;
  j["schema"]["fields"][1]["data_type"] = "FloatVectorX";
  auto r = CollectionFromJson(j);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("data_type"), std::string::npos) << r.status().message();

  j = good;
  j["consistency"] = "Sometimes";
  EXPECT_EQ(CollectionFromJson(j).status().code(), StatusCode::kInvalidArgument);
  j = good;
  j["num_shards"] = 0;
  EXPECT_FALSE(CollectionFromJson(j).ok());
  j = good;
  j["num_shards"] = int64_t{1} << 40;
  EXPECT_FALSE(CollectionFromJson(j).ok());
  j = good;
  j["partitions"] = {{{"id", 1}}};
  EXPECT_FALSE(CollectionFromJson(j).ok());
  j = good;
  j["indexes"] = {{{"id", 1}, {"name", "x"}, {"field_id", 2}, {"index_type", "HNSW"}, {"params", "M=4"}}};
  EXPECT_FALSE(CollectionFromJson(j).ok());
  j = good;
  j["properties"] = {{"k", 1}};
  EXPECT_FALSE(CollectionFromJson(j).ok());
  j = good;
  j.erase("schema");
  EXPECT_FALSE(CollectionFromJson(j).ok());
}

// Every member replaced by a value of every other JSON type: an error or a value, never a
// throw or a crash.
TEST(CatalogJson, WrongTypesNeverThrow) {
  CollectionInfo info;
  info.id = 1;
  info.db_name = "default";
  info.schema = SampleSchema();
  info.partitions = {{.id = 1, .name = "_default"}};
  info.indexes = {Index(3, "vec", 101, "HNSW")};
  SegmentInfo s;
  s.id = 1;
  s.collection_id = 1;
  s.channel = "c1_s0";
  s.binlogs = {{1, "k"}};
  s.index_files = {{1, "k"}};
  s.partition_rows = {{1, 1}};
  const std::vector<json> replacements = {json(nullptr), json(true), json(-5), json(1.5), json("s"),
                                          json::array({1, "x"}), json::object({{"1", nullptr}})};
  for (const json& base : {ToJson(info), ToJson(s), ToJson(info.schema)}) {
    for (const auto& [key, value] : base.items()) {
      for (const json& bad : replacements) {
        json j = base;
        j[key] = bad;
        EXPECT_NO_THROW({
          (void)CollectionFromJson(j);
          (void)SegmentFromJson(j);
          (void)SchemaFromJson(j);
        });
      }
    }
  }
  for (const json& bad : replacements) {
    EXPECT_NO_THROW({
      EXPECT_FALSE(CollectionFromJson(bad).ok());
      EXPECT_FALSE(SegmentFromJson(bad).ok());
      EXPECT_FALSE(SchemaFromJson(bad).ok());
    });
  }
}

}  // namespace
}  // namespace tessera::coord
