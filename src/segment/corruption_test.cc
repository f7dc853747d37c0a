// Damaged files: truncation at every byte, a flip of every bit, bad magic and version, and
// CRC-valid files with inconsistent contents. Every case must be DataLoss naming the object
// key and an offset, never a crash.

#include <functional>

#include <gtest/gtest.h>

#include "segment/binlog.h"
#include "segment/deltalog.h"
#include "segment/format.h"
#include "segment/stats.h"
#include "segment/test_util.h"

namespace tessera::segment {
namespace {

using core::DataType;
using nlohmann::json;
using testing::MakeArrayField;
using testing::MakeColumn;
using testing::MakeField;

constexpr std::string_view kKey = "coll/1/2/3/binlog/4/5";

using Reader = std::function<Status(std::string_view)>;

void ExpectDataLoss(const Status& s, const std::string& what) {
  ASSERT_EQ(s.code(), StatusCode::kDataLoss) << what << ": " << s.ToString();
  EXPECT_NE(s.message().find(kKey), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("offset"), std::string::npos) << s.message();
}

void ExpectEveryDamageDetected(const std::string& bytes, const Reader& read) {
  ASSERT_TRUE(read(bytes).ok()) << read(bytes).ToString();
  for (size_t size = 0; size < bytes.size(); ++size) {
    ExpectDataLoss(read(std::string_view(bytes).substr(0, size)), "truncated to " + std::to_string(size));
  }
  std::string damaged = bytes;
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      damaged[i] = static_cast<char>(bytes[i] ^ (1 << bit));
      ExpectDataLoss(read(damaged), "bit " + std::to_string(bit) + " of byte " + std::to_string(i));
    }
    damaged[i] = bytes[i];
  }
  ExpectDataLoss(read(bytes + "x"), "trailing byte");
}

Reader BinlogReader(const core::FieldSchema& field) {
  return [field](std::string_view b) { return ReadBinlog(field, b, kKey).status(); };
}

TEST(Corruption, NullableVarCharBinlogSeveralBlocks) {
  auto field = MakeField(3, "s", DataType::kVarChar, true);
  auto column = MakeColumn(field, {"a", nullptr, "héllo", "", "🎉", nullptr, "xyz"});
  auto bytes = WriteBinlog(field, *column, {Compression::None(), 3});
  ASSERT_TRUE(bytes.ok());
  ExpectEveryDamageDetected(*bytes, BinlogReader(field));
}

TEST(Corruption, ZstdBinlog) {
  auto field = MakeField(4, "n", DataType::kInt64);
  std::vector<json> rows(64, json(7));
  auto bytes = WriteBinlog(field, *MakeColumn(field, rows), {Compression::Zstd(), 32});
  ASSERT_TRUE(bytes.ok());
  ASSERT_LT(bytes->size(), 64u * 8);  // really compressed
  ExpectEveryDamageDetected(*bytes, BinlogReader(field));
}

TEST(Corruption, ArrayJsonVectorBinlogs) {
  auto arr = MakeArrayField(5, DataType::kVarChar, true);
  ExpectEveryDamageDetected(*WriteBinlog(arr, *MakeColumn(arr, {json::array({"a", "bc"}), nullptr, json::array()}),
                                         {Compression::None(), 2}),
                            BinlogReader(arr));
  auto js = MakeField(6, "j", DataType::kJSON);
  ExpectEveryDamageDetected(*WriteBinlog(js, *MakeColumn(js, {json::parse(R"({"a":[1,2]})"), json("s")})),
                            BinlogReader(js));
  auto vec = MakeField(7, "v", DataType::kFloatVector);
  ExpectEveryDamageDetected(*WriteBinlog(vec, *MakeColumn(vec, {json::array({1, 2, 3, 4})})), BinlogReader(vec));
  auto b = MakeField(8, "b", DataType::kBool, true);
  ExpectEveryDamageDetected(*WriteBinlog(b, *MakeColumn(b, {true, nullptr, false})), BinlogReader(b));
}

TEST(Corruption, Deltalog) {
  std::vector<DeleteEntry> entries = {{std::string("pk-1"), 10}, {std::string("日本"), 11}, {std::string(""), 12}};
  auto bytes = WriteDeltalog(DataType::kVarChar, entries, {Compression::None(), 2});
  ASSERT_TRUE(bytes.ok());
  ExpectEveryDamageDetected(*bytes, [](std::string_view b) { return ReadDeltalog(b, kKey).status(); });
}

TEST(Corruption, Stats) {
  auto field = MakeField(100, "id", DataType::kInt64);
  auto stats = ComputeStats(*MakeColumn(field, {3, 1, 2}));
  ASSERT_TRUE(stats.ok());
  auto bytes = WriteStats(*stats);
  ASSERT_TRUE(bytes.ok());
  ExpectEveryDamageDetected(*bytes, [](std::string_view b) { return ReadStats(b, kKey).status(); });
}

TEST(Corruption, WrongKindAndVersionAreNamed) {
  auto field = MakeField(1, "n", DataType::kInt64);
  auto bytes = *WriteBinlog(field, *MakeColumn(field, {1}));
  auto s = ReadDeltalog(bytes, kKey).status();
  ExpectDataLoss(s, "binlog read as deltalog");
  EXPECT_NE(s.message().find("bad magic"), std::string::npos) << s.message();
  std::string v2 = bytes;
  v2[4] = 2;
  s = ReadBinlog(field, v2, kKey).status();
  ExpectDataLoss(s, "version 2");
  EXPECT_NE(s.message().find("unsupported format version 2"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("offset 4"), std::string::npos) << s.message();
}

// Files whose checksums are right but whose contents are not (a writer bug, or a crafted
// file): built with the container directly.
class CraftedBinlog : public ::testing::Test {
 protected:
  static std::string Metadata(DataType type, uint64_t rows, bool nullable = false, uint32_t dim = 0) {
    internal::Encoder m;
    m.Put<int64_t>(1);
    m.Put<uint64_t>(rows);
    m.Put<uint32_t>(dim);
    m.Put<uint8_t>(static_cast<uint8_t>(type));
    m.Put<uint8_t>(0);
    m.Put<uint8_t>(nullable ? 1 : 0);
    m.Put<uint8_t>(0);
    return m.str();
  }
  static std::string File(const std::string& metadata, const std::vector<std::string>& payloads) {
    internal::FileBuilder builder(internal::kBinlogMagic, metadata);
    for (const auto& p : payloads) EXPECT_TRUE(builder.AddBlock(p, Compression::None()).ok());
    return builder.Finish();
  }
  static std::string Payload(uint32_t rows, std::string values) {
    internal::Encoder e;
    e.Put<uint32_t>(rows);
    return e.str() + values;
  }
};

TEST_F(CraftedBinlog, InconsistentContentsAreDataLoss) {
  auto i64 = MakeField(1, "n", DataType::kInt64);
  const std::string eight(8, '\0');
  // Header row count disagrees with the blocks.
  ExpectDataLoss(ReadBinlog(i64, File(Metadata(DataType::kInt64, 2), {Payload(1, eight)}), kKey).status(), "rows");
  // A huge row count in a tiny block.
  ExpectDataLoss(ReadBinlog(i64, File(Metadata(DataType::kInt64, 1), {Payload(0xFFFFFFFF, eight)}), kKey).status(),
                 "huge");
  // Trailing bytes after the values.
  ExpectDataLoss(ReadBinlog(i64, File(Metadata(DataType::kInt64, 1), {Payload(1, eight + "x")}), kKey).status(),
                 "trailing");
  // A bool byte that is not 0 or 1.
  auto b = MakeField(1, "b", DataType::kBool);
  ExpectDataLoss(ReadBinlog(b, File(Metadata(DataType::kBool, 1), {Payload(1, "\x02")}), kKey).status(), "bool");
  // Unknown data type.
  ExpectDataLoss(ReadBinlogInfo(File(Metadata(static_cast<DataType>(99), 0), {}), kKey).status(), "type");
  // VarChar offsets past the data, decreasing, and invalid UTF-8.
  auto s = MakeField(1, "s", DataType::kVarChar);
  internal::Encoder offs;
  offs.Put<uint32_t>(0);
  offs.Put<uint32_t>(1000);
  ExpectDataLoss(ReadBinlog(s, File(Metadata(DataType::kVarChar, 1), {Payload(1, offs.str() + "ab")}), kKey).status(),
                 "offsets past data");
  internal::Encoder utf;
  utf.Put<uint32_t>(0);
  utf.Put<uint32_t>(2);
  ExpectDataLoss(ReadBinlog(s, File(Metadata(DataType::kVarChar, 1), {Payload(1, utf.str() + "\xff\xfe")}), kKey)
                     .status(),
                 "utf8");
  // A NaN in a float vector.
  auto v = MakeField(1, "v", DataType::kFloatVector);
  internal::Encoder nan;
  for (int i = 0; i < 4; ++i) nan.Put<float>(std::numeric_limits<float>::quiet_NaN());
  ExpectDataLoss(
      ReadBinlog(v, File(Metadata(DataType::kFloatVector, 1, false, 4), {Payload(1, nan.str())}), kKey).status(),
      "nan");
  // A float vector file without a dim.
  ExpectDataLoss(ReadBinlogInfo(File(Metadata(DataType::kFloatVector, 0), {}), kKey).status(), "dim 0");
}

}  // namespace
}  // namespace tessera::segment
