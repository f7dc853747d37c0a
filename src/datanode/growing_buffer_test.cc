#include "datanode/growing_buffer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "datanode/test_util.h"

namespace tessera::datanode {
namespace {

using ::testing::HasSubstr;

msg::WalMessage Decode(const coord::CollectionInfo& info, const std::string& bytes) {
  auto m = msg::DecodeWalMessage(bytes, info.schema, "x");
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return std::move(m).value();
}

TEST(GrowingBufferTest, AppendsRowsDeletesAndTracksTheRange) {
  auto info = testing::MakeCollection();
  auto buffer = GrowingBuffer::Create(info.schema, 10).value();
  EXPECT_TRUE(buffer->empty());
  EXPECT_EQ(buffer->end_offset(), 10u);
  buffer->Append(Decode(info, testing::InsertRecord(info, {1, 2}, 100, /*partition=*/12)), 10);
  buffer->Append(Decode(info, testing::UpsertRecord(info, {2}, 200, 1)), 12);
  EXPECT_EQ(buffer->start_offset(), 10u);
  EXPECT_EQ(buffer->end_offset(), 13u);
  EXPECT_EQ(buffer->num_rows(), 3u);
  EXPECT_EQ(buffer->num_deletes(), 1u);
  EXPECT_EQ(buffer->Rows(12), 2u);
  EXPECT_EQ(buffer->Rows(testing::kDefaultPartition), 1u);  // the upsert's row
  EXPECT_EQ(buffer->Rows(99), 0u);
  EXPECT_EQ(buffer->Rows(std::nullopt), 3u);
  EXPECT_GT(buffer->MemoryUsage(), 3 * testing::kDim * sizeof(float));
  const SegmentData& data = buffer->data();
  EXPECT_EQ(static_cast<const core::Int64Column&>(*data.timestamps).Value(2), 200);
  EXPECT_EQ(data.deletes[0], (segment::DeleteEntry{int64_t{2}, 200}));
}

TEST(GrowingBufferTest, CheckMessageRejectsMismatches) {
  auto info = testing::MakeCollection();
  auto m = Decode(info, testing::InsertRecord(info, {1}, 100));
  EXPECT_TRUE(CheckMessage(m, info, "ch@0").ok());

  m.collection_id = 8;
  Status wrong_collection = CheckMessage(m, info, "ch@0");
  EXPECT_EQ(wrong_collection.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(wrong_collection.message(), HasSubstr("ch@0"));
  m.collection_id = info.id;

  m.partition_ids.push_back(3);
  EXPECT_EQ(CheckMessage(m, info, "ch@0").code(), StatusCode::kFailedPrecondition);
  m.partition_ids.pop_back();

  m.deleted_pks.emplace_back(std::string("text"));
  EXPECT_THAT(CheckMessage(m, info, "ch@0").message(), HasSubstr("VarChar"));
  m.deleted_pks.clear();

  m.timestamp = ~uint64_t{0};
  EXPECT_EQ(CheckMessage(m, info, "ch@0").code(), StatusCode::kFailedPrecondition);
}

TEST(SegmentWriterTest, EncodesKeysUnderTheSegment) {
  auto info = testing::MakeCollection();
  auto buffer = GrowingBuffer::Create(info.schema, 0).value();
  buffer->Append(Decode(info, testing::UpsertRecord(info, {4}, 100, 0)), 0);
  auto encoded = EncodeSegment(info, "c7_s0", 42, buffer->data());
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  EXPECT_EQ(encoded->files.size(), 8u);  // 6 binlogs, stats, deltalog
  EXPECT_EQ(encoded->info.binlogs.at(coord::kTimestampFieldId), "collections/7/c7_s0/42/binlog/1/4");
  EXPECT_EQ(encoded->info.binlogs.at(100), "collections/7/c7_s0/42/binlog/100/0");
  EXPECT_EQ(encoded->info.stats, "collections/7/c7_s0/42/stats/6");
  EXPECT_EQ(encoded->info.deltalogs, std::vector<std::string>{"collections/7/c7_s0/42/deltalog/7"});
  EXPECT_EQ(encoded->info.partition_rows, (std::map<int64_t, uint64_t>{{11, 1}}));
  std::set<std::string> keys;
  for (const auto& [key, bytes] : encoded->files) keys.insert(key);
  EXPECT_EQ(keys.size(), encoded->files.size());
  EXPECT_EQ(encoded->info.deleted_rows, 0u);  // the upsert's delete precedes its row
}

TEST(SegmentWriterTest, CountsTheRowsItsOwnDeletesHide) {
  auto info = testing::MakeCollection();
  auto buffer = GrowingBuffer::Create(info.schema, 0).value();
  buffer->Append(Decode(info, testing::InsertRecord(info, {1, 2, 3}, 100)), 0);
  buffer->Append(Decode(info, testing::UpsertRecord(info, {1, 2}, 200, 0)), 1);  // replaces two rows
  buffer->Append(Decode(info, testing::DeleteRecord(info, {2, 9}, 300)), 2);     // and one of the new ones
  auto encoded = EncodeSegment(info, "c7_s0", 42, buffer->data());
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  EXPECT_EQ(encoded->info.num_rows, 5u);
  EXPECT_EQ(encoded->info.deleted_rows, 3u);  // 1@100, 2@100, 2@200; 3@100 and 1@200 live
}

}  // namespace
}  // namespace tessera::datanode
