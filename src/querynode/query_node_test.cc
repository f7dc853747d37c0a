#include "querynode/query_node_impl.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/metrics.h"
#include "coord/hybrid_timestamp.h"
#include "querynode/test_util.h"

namespace tessera::querynode {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::MakeCollection;
using testing::Row;
using testing::SegmentSpec;

class QueryNodeBasicTest : public testing::QueryNodeTest {};

TEST_F(QueryNodeBasicTest, NotLoadedCollectionIsFailedPrecondition) {
  EXPECT_FALSE(node_->IsLoaded(testing::kCollectionId));
  auto search = node_->Search(Near(0));
  ASSERT_FALSE(search.ok());
  EXPECT_EQ(search.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(search.status().message(), HasSubstr("collection not loaded"));
  auto query = node_->Query(Q());
  ASSERT_FALSE(query.ok());
  EXPECT_EQ(query.status().code(), StatusCode::kFailedPrecondition);
  // AddSegment for a collection that is not loaded is ignored.
  coord::SegmentInfo seg;
  seg.id = 1;
  seg.collection_id = testing::kCollectionId;
  EXPECT_TRUE(node_->AddSegment(seg).ok());
}

TEST_F(QueryNodeBasicTest, SearchesSealedAndGrowingRows) {
  auto info = MakeCollection();
  SegmentSpec spec;
  spec.id = 11;
  spec.start_offset = 0;
  spec.end_offset = 0;
  for (int i = 1; i <= 5; ++i) spec.rows.push_back(Row(i, static_cast<float>(i), "red", i));
  auto seg = WriteSegment(info, spec);
  Insert(info, {Row(6, 6), Row(7, 7)}, 200);
  Insert(info, {Row(8, 0.5f, "blue")}, 201);
  Load(info, {seg});
  EXPECT_EQ(node_->NumSealedSegments(info.id), 1u);
  EXPECT_EQ(node_->NumGrowingRows(info.id), 3u);

  SearchRequest r = Near(0, 4);
  r.output_fields = {"color"};
  auto res = node_->Search(r);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  ASSERT_EQ(res->hits.size(), 1u);
  const auto& hits = res->hits[0];
  ASSERT_EQ(hits.size(), 4u);
  EXPECT_EQ(std::get<int64_t>(hits[0].pk), 8);
  EXPECT_FLOAT_EQ(hits[0].distance, 0.25f);
  EXPECT_EQ(hits[0].row, (nlohmann::json{{"id", 8}, {"color", "blue"}}));
  EXPECT_EQ(std::get<int64_t>(hits[1].pk), 1);
  EXPECT_FLOAT_EQ(hits[1].distance, 1.0f);
  EXPECT_EQ(std::get<int64_t>(hits[3].pk), 3);
  EXPECT_FLOAT_EQ(hits[3].distance, 9.0f);

  // Offset skips the best hits; a limit above the row count returns every row.
  r.offset = 2;
  r.limit = 100;
  EXPECT_THAT(SearchIds(r), ElementsAre(2, 3, 4, 5, 6, 7));
  // Several queries in one request.
  SearchRequest two = Near(6.9f, 1);
  two.vectors.insert(two.vectors.end(), {1.1f, 0, 0, 0});
  two.num_queries = 2;
  auto both = node_->Search(two);
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(std::get<int64_t>(both->hits[0][0].pk), 7);
  EXPECT_EQ(std::get<int64_t>(both->hits[1][0].pk), 1);
}

TEST_F(QueryNodeBasicTest, RejectsBadSearchRequests) {
  auto info = MakeCollection(1, true, "HNSW");
  Load(info);
  SearchRequest r = Near(0);
  r.field_id = 103;
  EXPECT_EQ(node_->Search(r).status().code(), StatusCode::kInvalidArgument);
  r = Near(0);
  r.vectors.pop_back();
  EXPECT_THAT(node_->Search(r).status().message(), HasSubstr("dim 4"));
  r = Near(0);
  r.filter = "n >";
  auto bad = node_->Search(r);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("filter parse error"));
  r = Near(0);
  r.filter = "nope == 1 and";
  EXPECT_EQ(node_->Search(r).status().code(), StatusCode::kInvalidArgument);
  r = Near(0);
  r.params = {{"ef", 0}};
  auto ef = node_->Search(r);
  EXPECT_EQ(ef.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(ef.status().message(), HasSubstr("ef"));
  r = Near(0, 20);
  r.params = {{"ef", 10}};
  EXPECT_THAT(node_->Search(r).status().message(), HasSubstr("'ef' = 10"));
  r = Near(0);
  r.params = {{"nprobe", 8}};  // an IVF parameter: ignored on HNSW, as Milvus does
  EXPECT_TRUE(node_->Search(r).ok());
  r.params = {{"nprobee", 8}};  // a parameter of no index type: a typo
  EXPECT_THAT(node_->Search(r).status().message(), HasSubstr("nprobee"));
  r.params = {{"ignore_growing", "yes"}};
  EXPECT_THAT(node_->Search(r).status().message(), HasSubstr("ignoreGrowing"));
  r.params = {{"range_filter", 1}};
  EXPECT_THAT(node_->Search(r).status().message(), HasSubstr("radius"));
  r.params = {{"radius", 1}, {"range_filter", 2}};  // L2: range_filter must be below radius
  EXPECT_THAT(node_->Search(r).status().message(), HasSubstr("less than 'radius'"));
  r = Near(0, 16384);
  r.offset = 1;
  EXPECT_EQ(node_->Search(r).status().code(), StatusCode::kInvalidArgument);
  r = Near(0, 0);
  EXPECT_EQ(node_->Search(r).status().code(), StatusCode::kInvalidArgument);
}

// ignoreGrowing leaves the WAL-tail rows out; radius / range_filter keep hits whose L2
// distance d has range_filter <= d < radius (IP/COSINE: radius < s <= range_filter), searching
// wider when the nearest k are all too close.
TEST_F(QueryNodeBasicTest, IgnoreGrowingAndRangeSearch) {
  for (const std::string metric : {"L2", "IP"}) {
    SCOPED_TRACE(metric);
    auto info = MakeCollection(1, true, "HNSW", metric);
    SegmentSpec spec;
    spec.id = 11;
    for (int i = 1; i <= 6; ++i) spec.rows.push_back(Row(i, static_cast<float>(i)));
    auto seg = WriteSegment(info, spec);
    Insert(info, {Row(7, 7), Row(8, 8)}, 200);
    Load(info, {seg});
    SearchRequest r = Near(metric == "L2" ? 9.0f : 1.0f, 3);
    EXPECT_THAT(SearchIds(r), ElementsAre(8, 7, 6));
    r.params = {{"ignore_growing", true}};
    EXPECT_THAT(SearchIds(r), ElementsAre(6, 5, 4));

    if (metric == "L2") {
      // From 0 the distances are 1, 4, 9, ..., 64.
      r = Near(0, 10);
      r.params = {{"radius", 20}, {"range_filter", 2}};
      EXPECT_THAT(SearchIds(r), ElementsAre(2, 3, 4));
      r = Near(0, 2);
      r.params = {{"radius", 40}, {"range_filter", 10}};  // the 2 nearest (1, 4) are too close
      EXPECT_THAT(SearchIds(r), ElementsAre(4, 5));
      r.params = {{"radius", 40}};
      EXPECT_THAT(SearchIds(r), ElementsAre(1, 2));
    } else {
      // Similarity to (1, 0, 0, 0) is the id.
      r = Near(1, 10);
      r.params = {{"radius", 2}, {"range_filter", 5}};
      EXPECT_THAT(SearchIds(r), ElementsAre(5, 4, 3));
      r = Near(1, 2);
      r.params = {{"radius", 0}, {"range_filter", 3}};
      EXPECT_THAT(SearchIds(r), ElementsAre(3, 2));
    }
    ASSERT_TRUE(node_->ReleaseCollection(info.id).ok());
  }
}

// The request's timeout bounds the search itself, not only the wait for data.
TEST_F(QueryNodeBasicTest, TimeoutBoundsTheWork) {
  auto info = MakeCollection();
  Insert(info, {Row(1, 1), Row(2, 2)}, 200);
  Load(info);
  SearchRequest r = Near(0);
  r.timeout = std::chrono::milliseconds(-1);  // already past when the work starts
  auto search = node_->Search(r);
  EXPECT_EQ(search.status().code(), StatusCode::kDeadlineExceeded) << search.status().ToString();
  EXPECT_THAT(search.status().message(), HasSubstr("ran past its timeout"));
  QueryRequest q = Q();
  q.timeout = std::chrono::milliseconds(-1);
  EXPECT_EQ(node_->Query(q).status().code(), StatusCode::kDeadlineExceeded);
  r.timeout = std::chrono::seconds(30);
  EXPECT_TRUE(node_->Search(r).ok());
}

TEST_F(QueryNodeBasicTest, FiltersOnScalarsAndDynamicKeys) {
  auto info = MakeCollection();
  SegmentSpec spec;
  spec.id = 11;
  for (int i = 1; i <= 6; ++i) {
    spec.rows.push_back(Row(i, static_cast<float>(i), i % 2 == 0 ? "even" : "odd", i, {{"tag", i * 10}}));
  }
  auto seg = WriteSegment(info, spec);
  Insert(info, {Row(7, 7, "odd", 7, {{"tag", 70}}), Row(8, 8, "even", 8)}, 200);
  Load(info, {seg});
  EXPECT_THAT(SearchIds(Near(0, 10, "color == \"even\"")), ElementsAre(2, 4, 6, 8));
  EXPECT_THAT(SearchIds(Near(0, 10, "n > 3 and n <= 7")), ElementsAre(4, 5, 6, 7));
  EXPECT_THAT(SearchIds(Near(0, 10, "tag >= 50")), ElementsAre(5, 6, 7));
  EXPECT_THAT(SearchIds(Near(0, 10, "id in [8, 2, 99]")), ElementsAre(2, 8));
  EXPECT_THAT(SearchIds(Near(0, 10, "id == 7")), ElementsAre(7));
  EXPECT_THAT(QueryIds(Q("id in [8, 1, 99]")), ElementsAre(1, 8));
  EXPECT_EQ(Count("color like \"ev%\""), 4u);
  EXPECT_EQ(Count("n < 0"), 0u);
}

TEST_F(QueryNodeBasicTest, OutputFieldsIncludeDynamicKeys) {
  auto info = MakeCollection();
  Insert(info, {Row(1, 1, "red", 5, {{"tag", "x"}, {"score", 1.5}})}, 200);
  Load(info);
  SearchRequest r = Near(0);
  r.output_fields = {"tag", "n"};
  auto res = node_->Search(r);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->hits[0][0].row, (nlohmann::json{{"id", 1}, {"tag", "x"}, {"n", 5}}));
  r.output_fields = {"*"};
  res = node_->Search(r);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->hits[0][0].row,
            (nlohmann::json{{"id", 1}, {"vec", {1.0, 0.0, 0.0, 0.0}}, {"color", "red"}, {"n", 5}, {"tag", "x"},
                            {"score", 1.5}}));
  QueryRequest q = Q();
  auto all = node_->Query(q);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->rows.size(), 1u);
  EXPECT_EQ(all->rows[0]["score"], 1.5);
  EXPECT_EQ(all->rows[0]["vec"].size(), 4u);
  q.output_fields = {"$meta"};
  all = node_->Query(q);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->rows[0], (nlohmann::json{{"id", 1}, {"tag", "x"}, {"score", 1.5}}));
}

TEST_F(QueryNodeBasicTest, UnknownOutputFieldWithoutDynamicFieldIsInvalid) {
  auto info = MakeCollection(1, /*dynamic=*/false);
  Insert(info, {Row(1, 1)}, 200);
  Load(info);
  SearchRequest r = Near(0);
  r.output_fields = {"tag"};
  auto res = node_->Search(r);
  EXPECT_EQ(res.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(res.status().message(), HasSubstr("'tag'"));
  QueryRequest q = Q();
  q.output_fields = {"tag"};
  EXPECT_EQ(node_->Query(q).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(QueryNodeBasicTest, QueryOrdersByPrimaryKeyWithOffsetAndLimit) {
  auto info = MakeCollection();
  SegmentSpec a;
  a.id = 11;
  for (int i : {9, 3, 15, 1}) a.rows.push_back(Row(i, static_cast<float>(i)));
  SegmentSpec b;
  b.id = 12;
  for (int i : {4, 12, 2, 20}) b.rows.push_back(Row(i, static_cast<float>(i)));
  auto sa = WriteSegment(info, a);
  auto sb = WriteSegment(info, b);
  Insert(info, {Row(7, 7), Row(5, 5), Row(18, 18)}, 200);
  Load(info, {sa, sb});
  EXPECT_THAT(QueryIds(Q("", 100)), ElementsAre(1, 2, 3, 4, 5, 7, 9, 12, 15, 18, 20));
  EXPECT_THAT(QueryIds(Q("", 4, 3)), ElementsAre(4, 5, 7, 9));
  EXPECT_THAT(QueryIds(Q("id > 4", 3, 1)), ElementsAre(7, 9, 12));
  EXPECT_THAT(QueryIds(Q("", 5, 10)), ElementsAre(20));
  EXPECT_THAT(QueryIds(Q("", 0, 8)), ElementsAre(15, 18, 20));  // limit 0 = no limit
  EXPECT_EQ(Count(), 11u);
  EXPECT_EQ(Count("id >= 10"), 4u);
}

TEST_F(QueryNodeBasicTest, VarCharPrimaryKeys) {
  coord::CollectionInfo info = MakeCollection();
  info.schema.fields[0].data_type = core::DataType::kVarChar;
  info.schema.fields[0].max_length = 16;
  auto row = [](std::string id, float x) {
    return nlohmann::json{{"id", id}, {"vec", {x, 0, 0, 0}}, {"color", "c"}, {"n", 1}};
  };
  Insert(info, {row("b", 2), row("a", 1), row("c", 3)}, 200);
  msg::WalMessage del;
  del.type = msg::MessageType::kDelete;
  del.collection_id = info.id;
  del.timestamp = 300;
  del.deleted_pks = {std::string("c")};
  Append(Channel(), del);
  Load(info);
  QueryRequest q = Q();
  q.output_fields = {"id"};
  auto res = node_->Query(q);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  ASSERT_EQ(res->rows.size(), 2u);
  EXPECT_EQ(res->rows[0]["id"], "a");
  EXPECT_EQ(res->rows[1]["id"], "b");
  auto hits = node_->Search(Near(0, 10, "id in [\"b\", \"c\"]"));
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_EQ(hits->hits[0].size(), 1u);
  EXPECT_EQ(std::get<std::string>(hits->hits[0][0].pk), "b");
}

TEST_F(QueryNodeBasicTest, PartitionsRestrictResults) {
  auto info = MakeCollection();
  SegmentSpec spec;
  spec.id = 11;
  spec.rows = {Row(1, 1), Row(2, 2), Row(3, 3)};
  spec.partitions = {testing::kDefaultPartition, testing::kOtherPartition, testing::kDefaultPartition};
  auto seg = WriteSegment(info, spec);
  Insert(info, {Row(4, 4)}, 200, testing::kOtherPartition);
  Insert(info, {Row(5, 5)}, 201, testing::kDefaultPartition);
  Load(info, {seg});
  EXPECT_THAT(SearchIds(Near(0)), ElementsAre(1, 2, 3, 4, 5));
  SearchRequest r = Near(0);
  r.partition_ids = {testing::kOtherPartition};
  EXPECT_THAT(SearchIds(r), ElementsAre(2, 4));
  QueryRequest q = Q();
  q.partition_ids = {testing::kDefaultPartition};
  EXPECT_THAT(QueryIds(q), ElementsAre(1, 3, 5));
  r.partition_ids = {42};
  EXPECT_EQ(node_->Search(r).status().code(), StatusCode::kInvalidArgument);

  // Reloading with p2 released only updates the info: its rows disappear.
  info.partitions[1].loaded = false;
  ASSERT_TRUE(node_->LoadCollection(info, {}, {}).ok());
  EXPECT_THAT(SearchIds(Near(0)), ElementsAre(1, 3, 5));
  EXPECT_EQ(Count(), 3u);
  r.partition_ids = {testing::kOtherPartition};
  auto res = node_->Search(r);
  EXPECT_EQ(res.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(res.status().message(), HasSubstr("p2"));
}

TEST_F(QueryNodeBasicTest, DeletesFollowTimestamps) {
  auto info = MakeCollection();
  SegmentSpec spec;
  spec.id = 11;
  spec.rows = {Row(1, 1), Row(2, 2), Row(3, 3), Row(4, 4)};
  spec.timestamps = {100, 100, 100, 500};
  // Deltalog: pk 2 deleted after its insert (hidden); pk 4 "deleted" before its row's
  // timestamp (stays); pk 6 deleted before the growing row of ts 300 (stays).
  spec.deletes = {{int64_t{2}, 150}, {int64_t{4}, 400}, {int64_t{6}, 250}};
  auto seg = WriteSegment(info, spec);
  Insert(info, {Row(5, 5), Row(6, 6)}, 300);
  Delete(info, {int64_t{5}, int64_t{1}}, 350);  // hides growing 5 and sealed 1
  Insert(info, {Row(1, 1.5f)}, 360);             // pk 1 again, newer than its delete
  Load(info, {seg});
  EXPECT_THAT(QueryIds(Q()), ElementsAre(1, 3, 4, 6));
  auto res = node_->Search(Near(0));
  ASSERT_TRUE(res.ok());
  ASSERT_EQ(res->hits[0].size(), 4u);
  EXPECT_EQ(std::get<int64_t>(res->hits[0][0].pk), 1);
  EXPECT_FLOAT_EQ(res->hits[0][0].distance, 2.25f);  // the re-inserted copy

  // A delete after load reaches sealed and growing rows.
  Delete(info, {int64_t{3}, int64_t{6}}, 400);
  SearchRequest r = Near(0);
  r.wait = CaughtUp();
  EXPECT_THAT(SearchIds(r), ElementsAre(1, 4));
  EXPECT_EQ(node_->SealedSegments(info.id).at(0).num_deleted, 3u);
}

TEST_F(QueryNodeBasicTest, DeletesOnlySegmentHidesRowsEverywhere) {
  auto info = MakeCollection();
  SegmentSpec rows;
  rows.id = 11;
  rows.rows = {Row(1, 1), Row(2, 2)};
  auto seg = WriteSegment(info, rows);
  Insert(info, {Row(3, 3), Row(4, 4)}, 300);
  Load(info, {seg});
  ASSERT_EQ(Count(), 4u);
  // A flushed range that held only deletes: no rows, one deltalog.
  SegmentSpec deletes;
  deletes.id = 12;
  deletes.deletes = {{int64_t{1}, 400}, {int64_t{4}, 400}, {int64_t{3}, 250}};
  ASSERT_TRUE(node_->AddSegment(WriteSegment(info, deletes)).ok());
  EXPECT_THAT(QueryIds(Q()), ElementsAre(2, 3));
  EXPECT_EQ(node_->NumSealedSegments(info.id), 2u);
}

TEST_F(QueryNodeBasicTest, DuplicateKeysAreMergedKeepingTheBest) {
  auto info = MakeCollection();
  SegmentSpec spec;
  spec.id = 11;
  spec.rows = {Row(1, 3), Row(2, 2)};
  auto seg = WriteSegment(info, spec);
  Insert(info, {Row(1, 1)}, 200);  // a plain insert of an existing key (no delete)
  Load(info, {seg});
  auto res = node_->Search(Near(0));
  ASSERT_TRUE(res.ok());
  ASSERT_EQ(res->hits[0].size(), 2u);
  EXPECT_EQ(std::get<int64_t>(res->hits[0][0].pk), 1);
  EXPECT_FLOAT_EQ(res->hits[0][0].distance, 1.0f);
  EXPECT_EQ(std::get<int64_t>(res->hits[0][1].pk), 2);
  // Query returns the newest copy once.
  QueryRequest q = Q();
  q.output_fields = {"vec"};
  auto rows = node_->Query(q);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->rows.size(), 2u);
  EXPECT_EQ(rows->rows[0]["vec"][0], 1.0);
}

TEST_F(QueryNodeBasicTest, CosineAndInnerProductDistances) {
  auto info = MakeCollection(1, true, "FLAT", "COSINE");
  nlohmann::json a = Row(1, 1);
  a["vec"] = {1, 1, 0, 0};
  nlohmann::json b = Row(2, 1);
  b["vec"] = {0, 3, 0, 0};
  SegmentSpec spec;
  spec.id = 11;
  spec.rows = {a};
  auto seg = WriteSegment(info, spec);
  Insert(info, {b}, 200);
  Load(info, {seg});
  SearchRequest r = Near(0);
  r.vectors = {0, 1, 0, 0};
  auto res = node_->Search(r);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  ASSERT_EQ(res->hits[0].size(), 2u);
  EXPECT_EQ(std::get<int64_t>(res->hits[0][0].pk), 2);
  EXPECT_NEAR(res->hits[0][0].distance, 1.0f, 1e-5);
  EXPECT_NEAR(res->hits[0][1].distance, 0.70710678f, 1e-5);
}

TEST_F(QueryNodeBasicTest, WaitOffsetsBlockUntilApplied) {
  auto info = MakeCollection();
  Load(info);
  EXPECT_EQ(Count(), 0u);
  const uint64_t off = Insert(info, {Row(1, 1)}, 200);
  SearchRequest r = Near(0);
  r.wait = {{Channel(), off + 1}};
  EXPECT_THAT(SearchIds(r), ElementsAre(1));

  r.wait = {{Channel(), off + 5}};
  r.timeout = std::chrono::milliseconds(100);
  const auto start = std::chrono::steady_clock::now();
  auto res = node_->Search(r);
  EXPECT_EQ(res.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_THAT(res.status().message(), HasSubstr(Channel()));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(90));

  QueryRequest q = Q();
  q.wait = {{"c999_s0", 1}};
  EXPECT_EQ(node_->Query(q).status().code(), StatusCode::kInvalidArgument);

  // A wait that is reached while the search waits.
  r.timeout = std::chrono::seconds(10);
  r.wait = {{Channel(), off + 2}};
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    Insert(info, {Row(2, 2)}, 201);
  });
  EXPECT_THAT(SearchIds(r), ElementsAre(1, 2));
  writer.join();
}

TEST_F(QueryNodeBasicTest, LoadWaitsForTheTailToCatchUp) {
  auto info = MakeCollection(2);
  for (int i = 0; i < 40; ++i) Insert(info, {Row(i, static_cast<float>(i))}, 200 + i, testing::kDefaultPartition, i % 2);
  Load(info);
  // No wait offsets: everything appended before LoadCollection is visible at once.
  EXPECT_EQ(Count(), 40u);
  EXPECT_EQ(node_->NumGrowingRows(info.id), 40u);
}

TEST_F(QueryNodeBasicTest, CheckpointAndSealedRangesAvoidDuplicates) {
  auto info = MakeCollection();
  // Records 0..4 are flushed into segment 11; the checkpoint given lags at 2, so the tail
  // re-reads records 2..4 whose rows the segment already holds.
  std::vector<nlohmann::json> rows;
  for (int i = 0; i < 5; ++i) {
    Insert(info, {Row(i, static_cast<float>(i))}, 200 + i);
    rows.push_back(Row(i, static_cast<float>(i)));
  }
  Insert(info, {Row(5, 5)}, 210);
  SegmentSpec spec;
  spec.id = 11;
  spec.start_offset = 0;
  spec.end_offset = 5;
  spec.rows = rows;
  auto seg = WriteSegment(info, spec);
  Load(info, {seg}, {{Channel(), 2}});
  EXPECT_EQ(Count(), 6u);
  EXPECT_EQ(node_->NumGrowingRows(info.id), 1u);
}

TEST_F(QueryNodeBasicTest, ReleaseStopsServing) {
  auto info = MakeCollection();
  Insert(info, {Row(1, 1)}, 200);
  Load(info);
  ASSERT_TRUE(node_->ReleaseCollection(info.id).ok());
  EXPECT_FALSE(node_->IsLoaded(info.id));
  EXPECT_EQ(node_->Search(Near(0)).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(node_->ReleaseCollection(info.id).ok());
  // Loading again replays the WAL from the checkpoint.
  Load(info);
  EXPECT_EQ(Count(), 1u);
}

TEST_F(QueryNodeBasicTest, DamagedRecordStopsTheChannelLoudly) {
  auto info = MakeCollection();
  Insert(info, {Row(1, 1)}, 200);
  Load(info);
  std::vector<std::string> garbage{"not a wal record"};
  auto off = log_->Append(Channel(), garbage);
  ASSERT_TRUE(off.ok());
  Insert(info, {Row(2, 2)}, 300);
  SearchRequest r = Near(0);
  r.wait = {{Channel(), (*off)[0] + 2}};
  r.timeout = std::chrono::seconds(10);
  auto res = node_->Search(r);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(res.status().message(), HasSubstr(Channel() + "@" + std::to_string((*off)[0])));
  // Later searches without a wait fail too: the node never answers from a channel with a
  // hole in it.
  auto later = node_->Search(Near(0));
  EXPECT_EQ(later.status().code(), StatusCode::kDataLoss);
  // The records from the damaged one on are not applied: the lag metric shows them.
  EXPECT_EQ(node_->WalLagRecords(), 2u);
  Insert(info, {Row(3, 3)}, 400);
  EXPECT_EQ(node_->WalLagRecords(), 3u);
}

// collection.ttl.seconds: rows older than the TTL are hidden from searches, queries and
// counts, in sealed and growing segments alike.
TEST_F(QueryNodeBasicTest, RowsOlderThanTheTtlAreHidden) {
  auto info = MakeCollection();
  info.properties["collection.ttl.seconds"] = "3600";
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const uint64_t fresh = coord::ComposeTimestamp(now_ms, 0);
  const uint64_t stale = coord::ComposeTimestamp(now_ms - 2 * 3600 * 1000, 0);
  SegmentSpec spec;
  spec.id = 11;
  for (int i = 1; i <= 4; ++i) spec.rows.push_back(Row(i, static_cast<float>(i)));
  spec.timestamps = {stale, fresh, stale, fresh};
  auto seg = WriteSegment(info, spec);
  Insert(info, {Row(5, 5)}, stale);
  Insert(info, {Row(6, 6)}, fresh);
  Load(info, {seg});
  EXPECT_EQ(Count(), 3u);
  EXPECT_EQ(QueryIds(Q()), (std::vector<int64_t>{2, 4, 6}));
  EXPECT_EQ(SearchIds(Near(0)), (std::vector<int64_t>{2, 4, 6}));
  EXPECT_EQ(SearchIds(Near(0, 10, "id > 3")), (std::vector<int64_t>{4, 6}));

  // Without the property (a reload with new info), every row is back.
  info.properties.erase("collection.ttl.seconds");
  Load(info, {seg});
  EXPECT_EQ(Count(), 6u);
}

TEST_F(QueryNodeBasicTest, WalLagIsZeroOnceTheTailCaughtUp) {
  auto info = MakeCollection();
  EXPECT_EQ(node_->WalLagRecords(), 0u);  // nothing loaded
  Insert(info, {Row(1, 1)}, 200);
  Insert(info, {Row(2, 2)}, 300);
  Load(info);  // returns once the tail reached the end
  EXPECT_EQ(node_->WalLagRecords(), 0u);
}

TEST_F(QueryNodeBasicTest, DamagedSegmentFailsTheLoad) {
  auto info = MakeCollection();
  SegmentSpec spec;
  spec.id = 11;
  spec.rows = {Row(1, 1)};
  auto seg = WriteSegment(info, spec);
  ASSERT_TRUE(store_->Put(seg.binlogs.at(testing::kVecField), "garbage").ok());
  Status s = node_->LoadCollection(info, {seg}, {});
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("segment 11"));
  EXPECT_FALSE(node_->IsLoaded(info.id));
  seg.binlogs.erase(testing::kVecField);
  s = node_->LoadCollection(info, {seg}, {});
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("'vec'"));
}

TEST_F(QueryNodeBasicTest, MetricsAndQueueDepth) {
  auto info = MakeCollection();
  Insert(info, {Row(1, 1)}, 200);
  Load(info);
  ASSERT_TRUE(node_->Search(Near(0)).ok());
  EXPECT_EQ(node_->QueueDepth(), 0u);
  const std::string text = metrics::Registry::Default().Render();
  EXPECT_THAT(text, HasSubstr("tessera_querynode_search_total"));
  EXPECT_THAT(text, HasSubstr("tessera_querynode_search_latency_seconds_bucket"));
  EXPECT_THAT(text, HasSubstr("tessera_querynode_growing_rows"));
  EXPECT_THAT(text, HasSubstr("tessera_querynode_search_queue_depth"));
  EXPECT_THAT(text, HasSubstr("tessera_querynode_loaded_segments"));
}

}  // namespace
}  // namespace tessera::querynode
