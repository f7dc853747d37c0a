#include "segment/binlog.h"

#include <gtest/gtest.h>

#include "segment/test_util.h"

namespace tessera::segment {
namespace {

using core::DataType;
using nlohmann::json;
using testing::MakeArrayField;
using testing::MakeColumn;
using testing::MakeField;
using testing::Rows;

struct Layout {
  const char* name;
  Compression compression;
  uint32_t rows_per_block;
};

class BinlogRoundTrip : public ::testing::TestWithParam<Layout> {
 protected:
  // Writes `rows` of `field`, reads them back and checks every row and the header.
  void RoundTrip(const core::FieldSchema& field, const std::vector<json>& rows) {
    SCOPED_TRACE(std::string(core::DataTypeName(field.data_type)) + " nullable=" + std::to_string(field.nullable));
    auto column = MakeColumn(field, rows);
    ASSERT_EQ(column->size(), rows.size());
    BinlogOptions options{GetParam().compression, GetParam().rows_per_block};
    auto bytes = WriteBinlog(field, *column, options);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    auto read = ReadBinlog(field, *bytes, "k/binlog/1");
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_EQ(Rows(**read), Rows(*column));
    for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ((*read)->IsNull(i), column->IsNull(i)) << i;
    auto info = ReadBinlogInfo(*bytes, "k");
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->field_id, field.id);
    EXPECT_EQ(info->data_type, field.data_type);
    EXPECT_EQ(info->row_count, rows.size());
    EXPECT_EQ(info->nullable, field.nullable);
  }

  // Round trip of `rows`, empty, and (nullable) with nulls mixed in.
  void AllShapes(const core::FieldSchema& field, std::vector<json> rows) {
    RoundTrip(field, rows);
    RoundTrip(field, {});
    auto nullable = field;
    nullable.nullable = true;
    std::vector<json> with_nulls;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (i % 3 == 1) with_nulls.push_back(nullptr);
      with_nulls.push_back(rows[i]);
    }
    with_nulls.push_back(nullptr);
    RoundTrip(nullable, with_nulls);
    RoundTrip(nullable, {nullptr, nullptr, nullptr});
    RoundTrip(nullable, {});
  }
};

TEST_P(BinlogRoundTrip, Bool) { AllShapes(MakeField(1, "b", DataType::kBool), {true, false, false, true, true, false, true, true, true}); }
TEST_P(BinlogRoundTrip, Int8) { AllShapes(MakeField(2, "i8", DataType::kInt8), {0, 1, -1, 127, -128, 5, 6}); }
TEST_P(BinlogRoundTrip, Int16) { AllShapes(MakeField(3, "i16", DataType::kInt16), {0, 32767, -32768, 7, -9}); }
TEST_P(BinlogRoundTrip, Int32) { AllShapes(MakeField(4, "i32", DataType::kInt32), {0, 2147483647, -2147483647 - 1, 42}); }
TEST_P(BinlogRoundTrip, Int64) {
  AllShapes(MakeField(5, "i64", DataType::kInt64),
            {0, std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min(), 1, -1, 1LL << 40});
}
TEST_P(BinlogRoundTrip, Float) {
  AllShapes(MakeField(6, "f", DataType::kFloat),
            {0.0, -0.0, 1.5, 3.4028234663852886e38, -1.17549435e-38, 0.1f, 1e-45f});
}
TEST_P(BinlogRoundTrip, Double) {
  AllShapes(MakeField(7, "d", DataType::kDouble),
            {0.0, 0.1, -2.5e300, 4.9e-324, std::numeric_limits<double>::max(), 3.141592653589793});
}
TEST_P(BinlogRoundTrip, VarChar) {
  AllShapes(MakeField(8, "s", DataType::kVarChar),
            {"", "hello", "héllo wörld", "日本語テキスト", "emoji 🎉🚀", std::string(1000, 'x'), "a\nb\tc\"d"});
}
TEST_P(BinlogRoundTrip, Json) {
  AllShapes(MakeField(9, "j", DataType::kJSON),
            {json::parse(R"({"a": 1, "b": [1, 2.5, "x", null, true], "c": {"d": {"e": []}}})"), json("plain string"),
             json(42), json(-7), json(1.25), json::array(), json::object(), json(true), json("ünïcødé ✓"),
             json::parse(R"([{"k": [[[1]]]}, 18446744073709551615, -9223372036854775808])")});
}
TEST_P(BinlogRoundTrip, JsonNullValueInNonNullableColumn) {
  RoundTrip(MakeField(9, "j", DataType::kJSON), {json(nullptr), json(1)});
}
TEST_P(BinlogRoundTrip, ArrayOfEveryElementType) {
  AllShapes(MakeArrayField(10, DataType::kBool), {json::array({true, false}), json::array(), json::array({true})});
  AllShapes(MakeArrayField(11, DataType::kInt8), {json::array({1, -128, 127}), json::array(), json::array({0})});
  AllShapes(MakeArrayField(12, DataType::kInt16), {json::array({1, -32768}), json::array({32767}), json::array()});
  AllShapes(MakeArrayField(13, DataType::kInt32), {json::array({1, 2, 3}), json::array(), json::array({-5})});
  AllShapes(MakeArrayField(14, DataType::kInt64),
            {json::array({std::numeric_limits<int64_t>::min(), 0}), json::array(), json::array({9})});
  AllShapes(MakeArrayField(15, DataType::kFloat), {json::array({1.5, -0.25}), json::array(), json::array({0.1f})});
  AllShapes(MakeArrayField(16, DataType::kDouble), {json::array({0.1, 1e300}), json::array(), json::array({-2.0})});
  AllShapes(MakeArrayField(17, DataType::kVarChar),
            {json::array({"a", "", "日本"}), json::array(), json::array({"🎉"}), json::array({""})});
}
TEST_P(BinlogRoundTrip, FloatVector) {
  auto field = MakeField(18, "v", DataType::kFloatVector);
  RoundTrip(field, {json::array({1.0, 2.0, 3.0, 4.0}), json::array({-0.5, 0.1f, 1e-30, 3.4e38}),
                    json::array({0, 0, 0, 0})});
  RoundTrip(field, {});
  field.dim = 128;
  std::vector<json> rows;
  for (int r = 0; r < 50; ++r) {
    json v = json::array();
    for (int j = 0; j < 128; ++j) v.push_back(static_cast<float>(r * 128 + j) / 7.0f);
    rows.push_back(v);
  }
  RoundTrip(field, rows);
}
TEST_P(BinlogRoundTrip, ManyRows) {
  std::vector<json> ints, strings;
  for (int i = 0; i < 5000; ++i) {
    ints.push_back(i * 7919 % 1000);
    strings.push_back("row-" + std::to_string(i % 37));
  }
  RoundTrip(MakeField(19, "n", DataType::kInt64), ints);
  RoundTrip(MakeField(20, "s", DataType::kVarChar, true), strings);
}

INSTANTIATE_TEST_SUITE_P(Layouts, BinlogRoundTrip,
                         ::testing::Values(Layout{"OneBlock", Compression::None(), 8192},
                                           Layout{"SmallBlocks", Compression::None(), 2},
                                           Layout{"OneRowBlocks", Compression::None(), 1},
                                           Layout{"ZstdOneBlock", Compression::Zstd(), 8192},
                                           Layout{"ZstdSmallBlocks", Compression::Zstd(3), 3}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Binlog, ZstdShrinksCompressibleData) {
  auto field = MakeField(1, "s", DataType::kVarChar);
  std::vector<json> rows(2000, json("the same text over and over again"));
  auto column = MakeColumn(field, rows);
  auto plain = WriteBinlog(field, *column, {Compression::None(), 8192});
  auto packed = WriteBinlog(field, *column, {Compression::Zstd(), 8192});
  ASSERT_TRUE(plain.ok() && packed.ok());
  EXPECT_LT(packed->size() * 10, plain->size());
}

TEST(Binlog, SchemaMismatchIsFailedPreconditionNamingBothValues) {
  auto field = MakeField(7, "x", DataType::kInt64);
  auto bytes = WriteBinlog(field, *MakeColumn(field, {1, 2}));
  ASSERT_TRUE(bytes.ok());
  auto other_id = field;
  other_id.id = 8;
  auto r = ReadBinlog(other_id, *bytes, "seg/binlog/7/1");
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("field id 7"), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("has 8"), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("seg/binlog/7/1"), std::string::npos);
  auto other_type = field;
  other_type.data_type = DataType::kInt32;
  r = ReadBinlog(other_type, *bytes, "k");
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("Int64"), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("Int32"), std::string::npos);
  auto vec = MakeField(7, "v", DataType::kFloatVector);
  bytes = WriteBinlog(vec, *MakeColumn(vec, {json::array({1, 2, 3, 4})}));
  ASSERT_TRUE(bytes.ok());
  vec.dim = 8;
  EXPECT_EQ(ReadBinlog(vec, *bytes, "k").status().code(), StatusCode::kFailedPrecondition);
}

TEST(Binlog, WriterRejectsMismatchedColumnAndBadOptions) {
  auto field = MakeField(1, "x", DataType::kInt64);
  auto column = MakeColumn(MakeField(1, "y", DataType::kInt32), {1});
  EXPECT_EQ(WriteBinlog(field, *column).status().code(), StatusCode::kInvalidArgument);
  auto good = MakeColumn(field, {1});
  EXPECT_EQ(WriteBinlog(field, *good, {Compression::None(), 0}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::segment
