// Insert/upsert row conversion and routing (pure functions).

#include "proxy/insert_batch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "proxy/sharding.h"

namespace tessera::proxy {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

std::string Num(std::string prefix, int i) {
  prefix.append(std::to_string(i));
  return prefix;
}

coord::CollectionInfo Collection(bool auto_id, int32_t shards, bool partition_key = false,
                                 core::DataType pk_type = core::DataType::kInt64) {
  coord::CollectionInfo info;
  info.id = 7;
  info.num_shards = shards;
  core::CollectionSchema& s = info.schema;
  s.name = "c";
  s.enable_dynamic_field = true;
  core::FieldSchema pk;
  pk.id = 100;
  pk.name = "id";
  pk.data_type = pk_type;
  pk.max_length = 32;
  pk.is_primary_key = true;
  pk.auto_id = auto_id;
  core::FieldSchema vec;
  vec.id = 101;
  vec.name = "v";
  vec.data_type = core::DataType::kFloatVector;
  vec.dim = 2;
  core::FieldSchema key;
  key.id = 102;
  key.name = "tenant";
  key.data_type = core::DataType::kVarChar;
  key.max_length = 16;
  key.is_partition_key = partition_key;
  key.nullable = !partition_key;
  core::FieldSchema meta;
  meta.id = 103;
  meta.name = "$meta";
  meta.data_type = core::DataType::kJSON;
  meta.is_dynamic = true;
  s.fields = {pk, vec, key, meta};
  EXPECT_TRUE(s.Validate().ok()) << s.Validate().ToString();
  if (partition_key) {
    for (int i = 0; i < 4; ++i) info.partitions.push_back({50 + i, Num("_default_", i), false});
  } else {
    info.partitions = {{50, "_default", false}, {51, "p1", false}};
  }
  return info;
}

json Rows(int n, bool with_ids) {
  json rows = json::array();
  for (int i = 0; i < n; ++i) {
    json row = {{"v", {i, i}}, {"tenant", Num("t", i % 5)}, {"extra", i}};
    if (with_ids) row["id"] = i + 1;
    rows.push_back(row);
  }
  return rows;
}

TEST(BuildInsertBatch, AutoIdsAreInjectedInOrder) {
  const coord::CollectionInfo info = Collection(/*auto_id=*/true, 1);
  InsertOptions options;
  options.first_auto_id = 1000;
  auto batch = BuildInsertBatch(Rows(3, false), info.schema, options);
  ASSERT_TRUE(batch.ok()) << batch.status().message();
  EXPECT_EQ(batch->pks, (std::vector<segment::PrimaryKey>{int64_t{1000}, int64_t{1001}, int64_t{1002}}));
  EXPECT_TRUE(batch->rows->schema().fields[0].auto_id) << "rows keep the collection's schema";
  EXPECT_EQ(batch->rows->column(0).Get(2), json(1002));
  EXPECT_EQ(batch->rows->GetRow(1)->at("extra"), json(1)) << "dynamic keys kept";
}

TEST(BuildInsertBatch, Errors) {
  const coord::CollectionInfo auto_info = Collection(true, 1);
  const coord::CollectionInfo info = Collection(false, 1);
  InsertOptions insert;
  ApiStatus given = BuildInsertBatch(Rows(1, true), auto_info.schema, insert).status();
  EXPECT_EQ(given.code(), 1804);
  EXPECT_EQ(given.message(), "fail to deal the insert data, error: no need to pass pk field(id) when autoid==true in insert");
  EXPECT_EQ(BuildInsertBatch(json::array(), info.schema, insert).status().message(),
            "fail to deal the insert data, error: missing required parameters");
  EXPECT_EQ(BuildInsertBatch(json::object(), info.schema, insert).status().code(), 1801);
  EXPECT_EQ(BuildInsertBatch(json::parse("[1]"), info.schema, insert).status().code(), 1804);
  ApiStatus missing = BuildInsertBatch(Rows(2, false), info.schema, insert).status();
  EXPECT_EQ(missing.code(), 1804);
  EXPECT_THAT(missing.message(), HasSubstr("row 0"));
  EXPECT_THAT(missing.message(), HasSubstr("id"));
  ApiStatus bad_vec = BuildInsertBatch(json::parse(R"([{"id":1,"v":[1,2]},{"id":2,"v":"x"}])"), info.schema, insert)
                          .status();
  EXPECT_EQ(bad_vec.code(), 1804);
  EXPECT_THAT(bad_vec.message(), HasSubstr("row 1"));
  EXPECT_THAT(bad_vec.message(), HasSubstr("'v'"));
  EXPECT_EQ(BuildInsertBatch(json::parse(R"([{"id":"abc","v":[1,2]}])"), info.schema, insert).status().code(), 1804);
  EXPECT_EQ(BuildInsertBatch(json::parse(R"([{"id":1,"v":[1,2],"$meta":{}}])"), info.schema, insert).status().code(),
            1804);
  // Int64 keys may be decimal strings.
  auto strings = BuildInsertBatch(json::parse(R"([{"id":"9007199254740993","v":[1,2]}])"), info.schema, insert);
  ASSERT_TRUE(strings.ok()) << strings.status().message();
  EXPECT_EQ(strings->pks[0], segment::PrimaryKey(int64_t{9007199254740993}));
}

TEST(BuildInsertBatch, UpsertNeedsKeysAndNoDuplicates) {
  const coord::CollectionInfo info = Collection(true, 1);
  InsertOptions upsert;
  upsert.upsert = true;
  EXPECT_EQ(BuildInsertBatch(Rows(1, false), info.schema, upsert).status().code(), 1804);
  auto ok = BuildInsertBatch(Rows(3, true), info.schema, upsert);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->pks[2], segment::PrimaryKey(int64_t{3}));
  ApiStatus dup = BuildInsertBatch(json::parse(R"([{"id":1,"v":[1,2]},{"id":1,"v":[1,2]}])"), info.schema, upsert)
                      .status();
  EXPECT_EQ(dup.code(), 1100);
  EXPECT_THAT(dup.message(), HasSubstr("duplicate primary keys"));
}

TEST(RouteRows, ShardsByStableHashAndKeepsRows) {
  const coord::CollectionInfo info = Collection(false, 4);
  auto batch = BuildInsertBatch(Rows(200, true), info.schema, {});
  ASSERT_TRUE(batch.ok());
  auto shards = RouteRows(std::move(batch).value(), info, std::nullopt);
  ASSERT_TRUE(shards.ok());
  ASSERT_EQ(shards->size(), 4u) << "200 keys reach every shard";
  size_t total = 0;
  std::set<int64_t> seen;
  int32_t previous = -1;
  for (const ShardBatch& shard : *shards) {
    EXPECT_GT(shard.shard, previous) << "ordered by shard";
    previous = shard.shard;
    ASSERT_EQ(shard.rows->num_rows(), shard.pks.size());
    ASSERT_EQ(shard.partition_ids.size(), shard.pks.size());
    for (size_t r = 0; r < shard.pks.size(); ++r) {
      EXPECT_EQ(ShardOf(shard.pks[r], 4), shard.shard);
      EXPECT_EQ(shard.partition_ids[r], 50) << "the _default partition";
      const int64_t id = shard.rows->column(0).Get(r).get<int64_t>();
      EXPECT_EQ(segment::PrimaryKey(id), shard.pks[r]);
      EXPECT_EQ(shard.rows->GetRow(r)->at("extra"), json(id - 1));
      seen.insert(id);
    }
    total += shard.pks.size();
  }
  EXPECT_EQ(total, 200u);
  EXPECT_EQ(seen.size(), 200u);
}

TEST(RouteRows, ExplicitPartitionAndPartitionKey) {
  const coord::CollectionInfo info = Collection(false, 1);
  auto batch = BuildInsertBatch(Rows(3, true), info.schema, {});
  auto routed = RouteRows(std::move(batch).value(), info, int64_t{51});
  ASSERT_TRUE(routed.ok());
  EXPECT_EQ(routed->at(0).partition_ids, (std::vector<int64_t>{51, 51, 51}));

  const coord::CollectionInfo keyed = Collection(false, 2, /*partition_key=*/true);
  auto keyed_batch = BuildInsertBatch(Rows(50, true), keyed.schema, {});
  ASSERT_TRUE(keyed_batch.ok()) << keyed_batch.status().message();
  auto keyed_routed = RouteRows(std::move(keyed_batch).value(), keyed, std::nullopt);
  ASSERT_TRUE(keyed_routed.ok());
  std::map<std::string, std::set<int64_t>> partitions_of_tenant;
  for (const ShardBatch& shard : *keyed_routed) {
    for (size_t r = 0; r < shard.pks.size(); ++r) {
      const std::string tenant = shard.rows->column(2).Get(r).get<std::string>();
      partitions_of_tenant[tenant].insert(shard.partition_ids[r]);
      const size_t expected = HashKey(segment::PrimaryKey(tenant)) % 4;
      EXPECT_EQ(shard.partition_ids[r], keyed.partitions[expected].id);
    }
  }
  EXPECT_EQ(partitions_of_tenant.size(), 5u);
  for (const auto& [tenant, ids] : partitions_of_tenant) EXPECT_EQ(ids.size(), 1u) << tenant;
}

TEST(Sharding, StableValues) {
  // Part of the data format: a change here reroutes existing keys (see sharding.h).
  EXPECT_EQ(HashKey(segment::PrimaryKey(std::string("123456789"))), 0xE3069283u);
  EXPECT_EQ(HashKey(segment::PrimaryKey(int64_t{1})), HashKey(segment::PrimaryKey(int64_t{1})));
  EXPECT_NE(HashKey(segment::PrimaryKey(int64_t{1})), HashKey(segment::PrimaryKey(int64_t{2})));
  EXPECT_EQ(ShardOf(segment::PrimaryKey(int64_t{42}), 1), 0);
}

}  // namespace
}  // namespace tessera::proxy
