#include "msg/wal_message.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tessera::msg {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

core::CollectionSchema Schema() {
  core::CollectionSchema s;
  s.name = "c";
  core::FieldSchema id;
  id.id = 100;
  id.name = "id";
  id.data_type = core::DataType::kInt64;
  id.is_primary_key = true;
  core::FieldSchema vec;
  vec.id = 101;
  vec.name = "vec";
  vec.data_type = core::DataType::kFloatVector;
  vec.dim = 3;
  core::FieldSchema meta;
  meta.id = 102;
  meta.name = "$meta";
  meta.data_type = core::DataType::kJSON;
  meta.is_dynamic = true;
  s.enable_dynamic_field = true;
  s.fields = {id, vec, meta};
  return s;
}

WalMessage Upsert() {
  WalMessage m;
  m.type = MessageType::kUpsert;
  m.collection_id = 7;
  m.timestamp = 123456789;
  m.rows = core::ColumnSet::Create(Schema()).value();
  EXPECT_TRUE(m.rows->AppendRow(json::parse(R"({"id":1,"vec":[1,2,3],"color":"red"})")).ok());
  EXPECT_TRUE(m.rows->AppendRow(json::parse(R"({"id":2,"vec":[4,5,6]})")).ok());
  m.partition_ids = {10, 11};
  m.deleted_pks = {int64_t{1}, int64_t{2}};
  return m;
}

TEST(WalMessageTest, RoundTripsUpsert) {
  auto bytes = EncodeWalMessage(Upsert());
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto back = DecodeWalMessage(*bytes, Schema(), "c7_s0@0");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->type, MessageType::kUpsert);
  EXPECT_EQ(back->collection_id, 7);
  EXPECT_EQ(back->timestamp, 123456789u);
  EXPECT_EQ(back->partition_ids, (std::vector<int64_t>{10, 11}));
  EXPECT_EQ(back->deleted_pks, (std::vector<segment::PrimaryKey>{int64_t{1}, int64_t{2}}));
  ASSERT_EQ(back->rows->num_rows(), 2u);
  EXPECT_EQ(back->rows->GetRow(0).value(), json::parse(R"({"id":1,"vec":[1.0,2.0,3.0],"color":"red"})"));
  auto header = DecodeWalHeader(*bytes, "x");
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->timestamp, 123456789u);
  EXPECT_EQ(header->rows, nullptr);
}

TEST(WalMessageTest, RoundTripsVarCharDeletes) {
  WalMessage m;
  m.type = MessageType::kDelete;
  m.collection_id = 1;
  m.deleted_pks = {std::string("a"), std::string("")};
  auto bytes = EncodeWalMessage(m);
  ASSERT_TRUE(bytes.ok());
  auto back = DecodeWalMessage(*bytes, Schema(), "x");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->deleted_pks, m.deleted_pks);
  EXPECT_EQ(back->rows, nullptr);
}

TEST(WalMessageTest, RoundTripsTimeTick) {
  WalMessage m;
  m.type = MessageType::kTimeTick;
  m.collection_id = 3;
  m.timestamp = 987654321;
  auto bytes = EncodeWalMessage(m);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto back = DecodeWalMessage(*bytes, Schema(), "x");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->type, MessageType::kTimeTick);
  EXPECT_EQ(back->collection_id, 3);
  EXPECT_EQ(back->timestamp, 987654321u);
  EXPECT_EQ(back->rows, nullptr);
  EXPECT_TRUE(back->deleted_pks.empty());
  // A tick carries nothing else.
  m.deleted_pks = {int64_t{1}};
  EXPECT_THAT(EncodeWalMessage(m).status().message(), HasSubstr("time tick message with deletes"));
  m.deleted_pks.clear();
  m.rows = core::ColumnSet::Create(Schema()).value();
  EXPECT_THAT(EncodeWalMessage(m).status().message(), HasSubstr("time tick message with rows"));
}

TEST(WalMessageTest, RejectsInconsistentMessages) {
  WalMessage m = Upsert();
  m.partition_ids.pop_back();
  EXPECT_THAT(EncodeWalMessage(m).status().message(), HasSubstr("partition ids"));
  WalMessage mixed;
  mixed.type = MessageType::kDelete;
  mixed.deleted_pks = {int64_t{1}, std::string("a")};
  EXPECT_THAT(EncodeWalMessage(mixed).status().message(), HasSubstr("mixed"));
}

TEST(WalMessageTest, EveryTruncationAndBitFlipIsDataLoss) {
  const std::string bytes = EncodeWalMessage(Upsert()).value();
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = DecodeWalMessage(std::string_view(bytes).substr(0, n), Schema(), "x");
    ASSERT_EQ(r.status().code(), StatusCode::kDataLoss) << "truncated to " << n;
  }
  for (size_t i = 0; i < bytes.size(); i += 7) {
    std::string damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x10);
    auto r = DecodeWalMessage(damaged, Schema(), "c1_s0@5");
    ASSERT_EQ(r.status().code(), StatusCode::kDataLoss) << "flip at " << i;
    EXPECT_THAT(r.status().message(), HasSubstr("c1_s0@5"));
  }
}

TEST(WalMessageTest, SchemaMismatchIsFailedPrecondition) {
  const std::string bytes = EncodeWalMessage(Upsert()).value();
  core::CollectionSchema other = Schema();
  other.fields.pop_back();
  other.enable_dynamic_field = false;
  EXPECT_EQ(DecodeWalMessage(bytes, other, "x").status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace tessera::msg
