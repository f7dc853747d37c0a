#include "segment/deltalog.h"

#include <gtest/gtest.h>

namespace tessera::segment {
namespace {

using core::DataType;

void ExpectRoundTrip(DataType type, const std::vector<DeleteEntry>& entries, const DeltalogOptions& options) {
  auto bytes = WriteDeltalog(type, entries, options);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto log = ReadDeltalog(*bytes, "seg/deltalog/1");
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(log->pk_type, type);
  EXPECT_EQ(log->entries, entries);
}

TEST(Deltalog, RoundTripInt64) {
  std::vector<DeleteEntry> entries;
  for (int64_t i = 0; i < 1000; ++i) entries.push_back({i * 31 - 500, (uint64_t{1} << 50) + static_cast<uint64_t>(i)});
  entries.push_back({std::numeric_limits<int64_t>::min(), 0});
  entries.push_back({std::numeric_limits<int64_t>::max(), UINT64_MAX});
  for (uint32_t per_block : {1u, 7u, 65536u}) {
    ExpectRoundTrip(DataType::kInt64, entries, {Compression::None(), per_block});
    ExpectRoundTrip(DataType::kInt64, entries, {Compression::Zstd(), per_block});
  }
}

TEST(Deltalog, RoundTripVarChar) {
  std::vector<DeleteEntry> entries = {{std::string("a"), 1}, {std::string(""), 2}, {std::string("日本語"), 3},
                                      {std::string("emoji 🎉"), 4}, {std::string(300, 'z'), 5}};
  for (uint32_t per_block : {1u, 2u, 65536u}) {
    ExpectRoundTrip(DataType::kVarChar, entries, {Compression::None(), per_block});
    ExpectRoundTrip(DataType::kVarChar, entries, {Compression::Zstd(), per_block});
  }
}

TEST(Deltalog, Empty) {
  ExpectRoundTrip(DataType::kInt64, {}, {});
  ExpectRoundTrip(DataType::kVarChar, {}, {});
}

TEST(Deltalog, WriterRejectsBadInput) {
  std::vector<DeleteEntry> mixed = {{int64_t{1}, 1}, {std::string("x"), 2}};
  EXPECT_EQ(WriteDeltalog(DataType::kInt64, mixed).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(WriteDeltalog(DataType::kVarChar, mixed).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(WriteDeltalog(DataType::kFloat, {}).status().code(), StatusCode::kInvalidArgument);
  std::vector<DeleteEntry> bad_utf8 = {{std::string("\xff\xfe"), 1}};
  EXPECT_EQ(WriteDeltalog(DataType::kVarChar, bad_utf8).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::segment
