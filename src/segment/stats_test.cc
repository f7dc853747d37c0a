#include "segment/stats.h"

#include <gtest/gtest.h>

#include "segment/test_util.h"

namespace tessera::segment {
namespace {

using core::DataType;
using nlohmann::json;
using testing::MakeColumn;
using testing::MakeField;

SegmentStats RoundTrip(const SegmentStats& stats, const Compression& compression = {}) {
  auto bytes = WriteStats(stats, compression);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto read = ReadStats(*bytes, "seg/stats/1");
  EXPECT_TRUE(read.ok()) << read.status().ToString();
  return *read;
}

TEST(Stats, Int64MinMaxAndBloom) {
  auto field = MakeField(100, "id", DataType::kInt64);
  field.is_primary_key = true;
  auto column = MakeColumn(field, {5, -3, 99, std::numeric_limits<int64_t>::min() + 1, 17});
  auto stats = ComputeStats(*column);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->row_count, 5u);
  EXPECT_EQ(stats->pk_type, DataType::kInt64);
  EXPECT_EQ(*stats->min_pk, PrimaryKey(std::numeric_limits<int64_t>::min() + 1));
  EXPECT_EQ(*stats->max_pk, PrimaryKey(int64_t{99}));
  for (int64_t pk : {5, -3, 99, 17}) EXPECT_TRUE(stats->bloom.MightContain(pk));
  for (const auto& compression : {Compression::None(), Compression::Zstd()}) {
    auto read = RoundTrip(*stats, compression);
    EXPECT_EQ(read, *stats);
    EXPECT_TRUE(read.bloom.MightContain(int64_t{17}));
  }
}

TEST(Stats, VarCharMinMaxIsBytewise) {
  auto field = MakeField(100, "pk", DataType::kVarChar);
  auto column = MakeColumn(field, {"banana", "Apple", "日本", "apple", "", "zebra"});
  auto stats = ComputeStats(*column);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(*stats->min_pk, PrimaryKey(std::string("")));
  EXPECT_EQ(*stats->max_pk, PrimaryKey(std::string("日本")));  // 0xE6 > 'z'
  EXPECT_TRUE(stats->bloom.MightContain(std::string_view("banana")));
  auto read = RoundTrip(*stats);
  EXPECT_EQ(read, *stats);
  EXPECT_TRUE(read.bloom.MightContain(std::string_view("日本")));
}

TEST(Stats, MayContainRulesOutByRangeTypeAndBloom) {
  auto field = MakeField(100, "id", DataType::kInt64);
  std::vector<json> ids;
  for (int64_t id = 1000; id < 3000; id += 2) ids.push_back(id);  // even keys only
  auto stats = ComputeStats(*MakeColumn(field, ids));
  ASSERT_TRUE(stats.ok());
  for (int64_t id = 1000; id < 3000; id += 2) ASSERT_TRUE(stats->MayContain(PrimaryKey(id))) << id;
  EXPECT_FALSE(stats->MayContain(PrimaryKey(int64_t{999})));   // below the range
  EXPECT_FALSE(stats->MayContain(PrimaryKey(int64_t{3000})));  // above it
  EXPECT_FALSE(stats->MayContain(PrimaryKey(std::string("1000"))));  // another key type
  int odd_maybe = 0;
  for (int64_t id = 1001; id < 3000; id += 2) odd_maybe += stats->MayContain(PrimaryKey(id)) ? 1 : 0;
  EXPECT_LT(odd_maybe, 60) << "a 1% Bloom filter lets few of 1000 absent keys through";
  auto empty = ComputeStats(*MakeColumn(field, {}));
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->MayContain(PrimaryKey(int64_t{1})));
}

TEST(Stats, EmptySegment) {
  auto field = MakeField(100, "id", DataType::kInt64);
  auto stats = ComputeStats(*MakeColumn(field, {}));
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->row_count, 0u);
  EXPECT_FALSE(stats->min_pk.has_value());
  EXPECT_EQ(RoundTrip(*stats), *stats);
}

TEST(Stats, RejectsBadInput) {
  EXPECT_EQ(ComputeStats(*MakeColumn(MakeField(1, "f", DataType::kFloat), {1.0})).status().code(),
            StatusCode::kInvalidArgument);
  SegmentStats stats;
  stats.pk_type = DataType::kInt64;
  stats.row_count = 1;
  stats.min_pk = int64_t{5};
  EXPECT_EQ(WriteStats(stats).status().code(), StatusCode::kInvalidArgument);  // max missing
  stats.max_pk = int64_t{4};
  EXPECT_EQ(WriteStats(stats).status().code(), StatusCode::kInvalidArgument);  // min > max
  stats.max_pk = std::string("x");
  EXPECT_EQ(WriteStats(stats).status().code(), StatusCode::kInvalidArgument);  // wrong alternative
}

}  // namespace
}  // namespace tessera::segment
