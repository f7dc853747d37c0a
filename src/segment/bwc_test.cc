// Backward compatibility: the version-1 files in tests/data/segment_v1 were written by this
// code when the format was introduced and must keep reading back to exactly these contents.
// Regenerate them (only for a deliberate, versioned format change) with
//   ./segment_test --gtest_also_run_disabled_tests --gtest_filter=SegmentV1Golden.DISABLED_Generate
// A format change that breaks old files must add a new version (and segment_v2 files),
// not rewrite these.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "segment/binlog.h"
#include "segment/deltalog.h"
#include "segment/stats.h"
#include "segment/test_util.h"

namespace tessera::segment {
namespace {

using core::DataType;
using nlohmann::json;
using testing::MakeArrayField;
using testing::MakeColumn;
using testing::MakeField;
using testing::Rows;

const std::filesystem::path kDir = std::filesystem::path(TESSERA_TEST_DATA_DIR) / "segment_v1";

struct GoldenBinlog {
  std::string file;
  core::FieldSchema field;
  std::vector<json> rows;
  BinlogOptions options;
};

std::vector<GoldenBinlog> GoldenBinlogs() {
  auto vec = MakeField(102, "embedding", DataType::kFloatVector);
  std::vector<json> doubles;
  for (int i = 0; i < 100; ++i) doubles.push_back(i % 4 * 0.5);
  return {
      {"binlog_100_int64.bin", MakeField(100, "id", DataType::kInt64),
       {1, -2, 300, std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()}, {Compression::None(), 3}},
      {"binlog_101_varchar_nullable.bin", MakeField(101, "title", DataType::kVarChar, true),
       {"hello", nullptr, "", "日本語 🎉", "x"}, {Compression::None(), 8192}},
      {"binlog_102_floatvector.bin", vec,
       {json::array({0.5, -1.0, 2.25, 0.0}), json::array({1e-3f, 3.0e38f, -4.0, 7.5})}, {Compression::None(), 8192}},
      {"binlog_103_json.bin", MakeField(103, "meta", DataType::kJSON, true),
       {json::parse(R"({"a":{"b":[1,2.5,"c",null,true]}})"), json("text"), nullptr, json(-9), json::array()},
       {Compression::None(), 2}},
      {"binlog_104_array_int32.bin", MakeArrayField(104, DataType::kInt32),
       {json::array({1, 2, 3}), json::array(), json::array({-2147483648, 2147483647})}, {Compression::None(), 8192}},
      {"binlog_105_bool.bin", MakeField(105, "flag", DataType::kBool), {true, false, true}, {Compression::None(), 8192}},
      {"binlog_106_double_zstd.bin", MakeField(106, "score", DataType::kDouble), doubles, {Compression::Zstd(), 8192}},
      {"binlog_107_array_varchar_nullable.bin", MakeArrayField(107, DataType::kVarChar, true),
       {json::array({"a", "ü"}), nullptr, json::array({""})}, {Compression::None(), 8192}},
      {"binlog_108_float.bin", MakeField(108, "f", DataType::kFloat), {1.5, -0.25, 3.4028234663852886e38},
       {Compression::None(), 8192}},
      {"binlog_109_int8.bin", MakeField(109, "i8", DataType::kInt8), {-128, 0, 127}, {Compression::None(), 8192}},
      {"binlog_110_int16.bin", MakeField(110, "i16", DataType::kInt16, true), {-32768, nullptr, 32767},
       {Compression::None(), 8192}},
      {"binlog_111_int32.bin", MakeField(111, "i32", DataType::kInt32), {7, -7}, {Compression::None(), 8192}},
      {"binlog_112_array_double.bin", MakeArrayField(112, DataType::kDouble), {json::array({0.1, -1e300})},
       {Compression::None(), 8192}},
      {"binlog_113_array_bool.bin", MakeArrayField(113, DataType::kBool), {json::array({true, false})},
       {Compression::None(), 8192}},
  };
}

std::vector<DeleteEntry> GoldenInt64Deletes() {
  return {{int64_t{1}, 449884537749225473ull}, {int64_t{300}, 449884537749225474ull}, {int64_t{-2}, 1}};
}
std::vector<DeleteEntry> GoldenVarCharDeletes() {
  std::vector<DeleteEntry> entries = {{std::string("hello"), 100}, {std::string("日本語 🎉"), 101}};
  for (int i = 0; i < 40; ++i) entries.push_back({"user-" + std::to_string(1000 + i), 200});  // compressible
  return entries;
}

std::unique_ptr<core::Column> GoldenPkColumn() {
  const GoldenBinlog pk = GoldenBinlogs()[0];
  return MakeColumn(pk.field, pk.rows);
}

std::string ReadGolden(const std::string& name) {
  std::ifstream in(kDir / name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing golden file " << (kDir / name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteGolden(const std::string& name, const std::string& bytes) {
  std::filesystem::create_directories(kDir);
  std::ofstream out(kDir / name, std::ios::binary | std::ios::trunc);
  out << bytes;
  ASSERT_TRUE(out.good());
}

// Disabled, so ctest never runs it: a generator, not a test.
TEST(SegmentV1Golden, DISABLED_Generate) {
  for (const auto& g : GoldenBinlogs()) {
    auto bytes = WriteBinlog(g.field, *MakeColumn(g.field, g.rows), g.options);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    WriteGolden(g.file, *bytes);
  }
  WriteGolden("deltalog_int64.bin", *WriteDeltalog(DataType::kInt64, GoldenInt64Deletes(), {Compression::None(), 2}));
  WriteGolden("deltalog_varchar_zstd.bin", *WriteDeltalog(DataType::kVarChar, GoldenVarCharDeletes(), {Compression::Zstd(), 65536}));
  WriteGolden("stats_int64.bin", *WriteStats(*ComputeStats(*GoldenPkColumn())));
  auto varchar_pk = MakeField(101, "title", DataType::kVarChar);
  WriteGolden("stats_varchar.bin", *WriteStats(*ComputeStats(*MakeColumn(varchar_pk, {"b", "a", "日本"}))));
}

TEST(SegmentV1Golden, BinlogsReadBackExactly) {
  for (const auto& g : GoldenBinlogs()) {
    SCOPED_TRACE(g.file);
    const std::string bytes = ReadGolden(g.file);
    auto column = ReadBinlog(g.field, bytes, g.file);
    ASSERT_TRUE(column.ok()) << column.status().ToString();
    EXPECT_EQ(Rows(**column), Rows(*MakeColumn(g.field, g.rows)));
    if (g.options.compression.codec == Compression::Codec::kNone) {
      // Tripwire: today's writer still produces the v1 bytes. If this fails on purpose,
      // bump the format version and keep reading these files.
      EXPECT_EQ(*WriteBinlog(g.field, **column, g.options), bytes);
    }
  }
}

TEST(SegmentV1Golden, DeltalogsReadBackExactly) {
  const std::string ints = ReadGolden("deltalog_int64.bin");
  auto log = ReadDeltalog(ints, "deltalog_int64.bin");
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(log->pk_type, DataType::kInt64);
  EXPECT_EQ(log->entries, GoldenInt64Deletes());
  EXPECT_EQ(*WriteDeltalog(DataType::kInt64, log->entries, {Compression::None(), 2}), ints);
  log = ReadDeltalog(ReadGolden("deltalog_varchar_zstd.bin"), "deltalog_varchar_zstd.bin");
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(log->pk_type, DataType::kVarChar);
  EXPECT_EQ(log->entries, GoldenVarCharDeletes());
}

TEST(SegmentV1Golden, StatsReadBackExactly) {
  const std::string bytes = ReadGolden("stats_int64.bin");
  auto stats = ReadStats(bytes, "stats_int64.bin");
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->row_count, 5u);
  EXPECT_EQ(*stats->min_pk, PrimaryKey(std::numeric_limits<int64_t>::min()));
  EXPECT_EQ(*stats->max_pk, PrimaryKey(std::numeric_limits<int64_t>::max()));
  for (int64_t pk : {int64_t{1}, int64_t{-2}, int64_t{300}}) EXPECT_TRUE(stats->bloom.MightContain(pk));
  // The Bloom hashing scheme is part of the format: today's filter has the same bits.
  EXPECT_EQ(*stats, *ComputeStats(*GoldenPkColumn()));
  EXPECT_EQ(*WriteStats(*stats), bytes);

  auto strings = ReadStats(ReadGolden("stats_varchar.bin"), "stats_varchar.bin");
  ASSERT_TRUE(strings.ok()) << strings.status().ToString();
  EXPECT_EQ(strings->row_count, 3u);
  EXPECT_EQ(*strings->min_pk, PrimaryKey(std::string("a")));
  EXPECT_EQ(*strings->max_pk, PrimaryKey(std::string("日本")));
  EXPECT_TRUE(strings->bloom.MightContain(std::string_view("日本")));
  EXPECT_EQ(*strings, *ComputeStats(*MakeColumn(MakeField(101, "title", DataType::kVarChar), {"b", "a", "日本"})));
}

}  // namespace
}  // namespace tessera::segment
