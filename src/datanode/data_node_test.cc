#include "datanode/data_node_impl.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/metrics.h"
#include "datanode/test_util.h"
#include "segment/stats.h"
#include "storage/object/fault_injecting_object_store.h"

namespace tessera::datanode {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;
using testing::WaitUntil;

class DataNodeTest : public testing::StorageFixture {
 protected:
  void TearDown() override {
    node_.reset();
    testing::StorageFixture::TearDown();
  }

  void StartNode(DataNodeOptions options = {}, storage::ObjectStore* store = nullptr) {
    node_ = CreateDataNode(options, &coord_, log_.get(), store ? store : store_.get());
    Status status = node_->WatchCollection(collection_);
    ASSERT_TRUE(status.ok()) << status.ToString();
  }
  /// Waits until the node has consumed `rows` growing rows.
  void WaitGrowing(uint64_t rows) {
    ASSERT_TRUE(WaitUntil([&] { return node_->GrowingRows(collection_.id, std::nullopt) == rows; }))
        << "growing rows " << node_->GrowingRows(collection_.id, std::nullopt) << ", expected " << rows;
  }
  void FlushOk() {
    Status status = node_->Flush(collection_.id);
    ASSERT_TRUE(status.ok()) << status.ToString();
  }

  std::unique_ptr<DataNodeImpl> node_;
};

TEST_F(DataNodeTest, FlushWritesEveryColumnAndReportsTheSegment) {
  StartNode();
  Append(testing::InsertRecord(collection_, {1, 2}, 100, 11));
  Append(testing::InsertRecord(collection_, {3}, 200, 12));
  WaitGrowing(3);
  EXPECT_EQ(node_->GrowingRows(collection_.id, 11), 2u);
  EXPECT_EQ(node_->GrowingRows(collection_.id, 12), 1u);
  EXPECT_EQ(node_->GrowingRows(collection_.id, 99), 0u);
  FlushOk();

  auto segments = coord_.Segments();
  ASSERT_EQ(segments.size(), 1u);
  const coord::SegmentInfo& s = segments[0];
  EXPECT_EQ(s.collection_id, collection_.id);
  EXPECT_EQ(s.channel, Channel());
  EXPECT_EQ(s.start_offset, 0u);
  EXPECT_EQ(s.end_offset, 2u);
  EXPECT_EQ(s.num_rows, 3u);
  // At least the vectors and the two system columns of 3 rows.
  EXPECT_GE(s.memory_size, 3 * (testing::kDim * sizeof(float) + 2 * sizeof(int64_t)));
  EXPECT_TRUE(s.deltalogs.empty());
  EXPECT_TRUE(s.compacted_from.empty());
  EXPECT_EQ(s.binlogs.size(), 6u);  // 4 schema fields + 2 system columns
  const std::string prefix = "collections/7/" + Channel() + "/" + std::to_string(s.id) + "/";
  for (const auto& [field_id, key] : s.binlogs) {
    EXPECT_THAT(key, ::testing::StartsWith(prefix + "binlog/" + std::to_string(field_id) + "/"));
  }
  EXPECT_THAT(s.stats, ::testing::StartsWith(prefix + "stats/"));
  EXPECT_EQ(coord_.ChannelCheckpoint(Channel()).value(), 2u);
  EXPECT_EQ(node_->GrowingRows(collection_.id, std::nullopt), 0u);

  EXPECT_THAT(Ids(s), ElementsAre(1, 2, 3));
  EXPECT_THAT(ReadInt64(s, TimestampField()), ElementsAre(100, 100, 200));
  EXPECT_THAT(ReadInt64(s, PartitionField()), ElementsAre(11, 11, 12));
  // Every schema column reads back with the values inserted.
  std::vector<std::unique_ptr<core::Column>> columns;
  for (const auto& field : collection_.schema.fields) columns.push_back(ReadColumn(s, field));
  auto rows = core::ColumnSet::FromColumns(collection_.schema, std::move(columns), nullptr);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  for (size_t row = 0; row < 3; ++row) {
    nlohmann::json expected = testing::RowJson(static_cast<int64_t>(row + 1));
    expected["vec"] = nlohmann::json(testing::VectorOf(static_cast<int64_t>(row + 1)));
    EXPECT_EQ((*rows)->GetRow(row).value(), expected);
  }
  auto stats_bytes = store_->Get(s.stats);
  ASSERT_TRUE(stats_bytes.ok());
  auto stats = segment::ReadStats(*stats_bytes, s.stats);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->row_count, 3u);
  EXPECT_EQ(stats->min_pk, segment::PrimaryKey(int64_t{1}));
  EXPECT_EQ(stats->max_pk, segment::PrimaryKey(int64_t{3}));

  // Nothing new: a second flush records nothing.
  FlushOk();
  EXPECT_EQ(coord_.Segments().size(), 1u);
}

TEST_F(DataNodeTest, FlushWithNothingAppendedIsANoOp) {
  StartNode();
  FlushOk();
  EXPECT_TRUE(coord_.Segments().empty());
}

TEST_F(DataNodeTest, DeletesOnlyRangeIsFlushedAsADeltalog) {
  StartNode();
  Append(testing::DeleteRecord(collection_, {5, 6}, 300));
  FlushOk();
  auto segments = coord_.Segments();
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_EQ(segments[0].num_rows, 0u);
  EXPECT_TRUE(segments[0].binlogs.empty());
  EXPECT_TRUE(segments[0].stats.empty());
  EXPECT_EQ(segments[0].end_offset, 1u);
  ASSERT_EQ(segments[0].deltalogs.size(), 1u);
  EXPECT_THAT(segments[0].deltalogs[0], HasSubstr("/deltalog/"));
  EXPECT_THAT(ReadDeletes(segments[0].deltalogs[0]),
              ElementsAre(segment::DeleteEntry{int64_t{5}, 300}, segment::DeleteEntry{int64_t{6}, 300}));
}

TEST_F(DataNodeTest, UpsertWritesRowsAndDeletesAtOneTimestamp) {
  StartNode();
  Append(testing::InsertRecord(collection_, {1, 2}, 100));
  Append(testing::UpsertRecord(collection_, {2}, 200, /*version=*/1));
  WaitGrowing(3);
  FlushOk();
  auto segments = coord_.Segments();
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_THAT(Ids(segments[0]), ElementsAre(1, 2, 2));
  EXPECT_THAT(ReadInt64(segments[0], TimestampField()), ElementsAre(100, 100, 200));
  ASSERT_EQ(segments[0].deltalogs.size(), 1u);
  EXPECT_THAT(ReadDeletes(segments[0].deltalogs[0]), ElementsAre(segment::DeleteEntry{int64_t{2}, 200}));
}

TEST_F(DataNodeTest, SealsWhenTheBufferReachesSegmentSize) {
  DataNodeOptions options;
  options.segment_size = 1;  // every record seals
  StartNode(options);
  for (int64_t i = 0; i < 4; ++i) Append(testing::InsertRecord(collection_, {i}, 100 + i));
  ASSERT_TRUE(coord_.WaitSegments(4, 5s));
  auto segments = coord_.Segments();
  ASSERT_EQ(segments.size(), 4u);
  for (size_t i = 0; i < segments.size(); ++i) {
    EXPECT_EQ(segments[i].start_offset, i);
    EXPECT_EQ(segments[i].end_offset, i + 1);
    EXPECT_THAT(Ids(segments[i]), ElementsAre(static_cast<int64_t>(i)));
  }
  EXPECT_EQ(coord_.ChannelCheckpoint(Channel()).value(), 4u);
}

TEST_F(DataNodeTest, SizeSealKeepsRecordsTogetherUpToTheLimit) {
  // Measure one decoded record's footprint, then allow three per segment.
  auto one = msg::DecodeWalMessage(testing::InsertRecord(collection_, {1}, 1), collection_.schema, "x");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  DataNodeOptions options;
  options.segment_size = 3 * (one->rows->MemoryUsage() + 16) - 1;
  StartNode(options);
  for (int64_t i = 0; i < 7; ++i) Append(testing::InsertRecord(collection_, {i}, 100 + i));
  ASSERT_TRUE(coord_.WaitSegments(2, 5s));
  FlushOk();
  auto segments = coord_.Segments();
  ASSERT_EQ(segments.size(), 3u);
  EXPECT_EQ(segments[0].num_rows, 3u);
  EXPECT_EQ(segments[1].num_rows, 3u);
  EXPECT_EQ(segments[2].num_rows, 1u);
  EXPECT_EQ(segments[1].start_offset, segments[0].end_offset);
  EXPECT_EQ(segments[2].start_offset, segments[1].end_offset);
  EXPECT_EQ(segments[2].end_offset, 7u);
}

TEST_F(DataNodeTest, SealsWhenIdle) {
  DataNodeOptions options;
  options.seal_idle_time = 100ms;
  StartNode(options);
  Append(testing::InsertRecord(collection_, {1}, 100));
  Append(testing::DeleteRecord(collection_, {9}, 101));
  ASSERT_TRUE(coord_.WaitSegments(1, 5s));
  auto segments = coord_.Segments();
  EXPECT_EQ(segments[0].num_rows, 1u);
  EXPECT_EQ(segments[0].deltalogs.size(), 1u);
  EXPECT_EQ(segments[0].end_offset, 2u);
  // An empty buffer is never sealed.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(coord_.Segments().size(), 1u);
}

TEST_F(DataNodeTest, SegmentsKeepTheirLargestTimeTickAndTicksDoNotDelayIdleSeals) {
  DataNodeOptions options;
  options.seal_idle_time = 300ms;
  StartNode(options);
  Append(testing::InsertRecord(collection_, {1}, 100));
  Append(testing::TimeTickRecord(collection_, 90));
  Append(testing::TimeTickRecord(collection_, 120));
  Append(testing::TimeTickRecord(collection_, 110));  // the largest one counts
  // Ticks keep arriving, faster than the idle time; the rows are sealed anyway.
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t ts = 130; coord_.Segments().empty() && std::chrono::steady_clock::now() - start < 5s; ts += 10) {
    std::this_thread::sleep_for(50ms);
    Append(testing::TimeTickRecord(collection_, ts));
  }
  auto segments = coord_.Segments();
  ASSERT_EQ(segments.size(), 1u) << "ticks kept the buffer from going idle";
  EXPECT_EQ(segments[0].num_rows, 1u);
  EXPECT_GE(segments[0].time_tick, 120u);
  EXPECT_EQ(segments[0].time_tick % 10, 0u);
  // A range of ticks alone is never sealed.
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(coord_.Segments().size(), 1u);
  // The next segment has the ticks of its own range.
  Append(testing::TimeTickRecord(collection_, 5000));
  Append(testing::InsertRecord(collection_, {2}, 5001));
  FlushOk();
  segments = coord_.Segments();
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_EQ(segments[1].num_rows, 1u);
  EXPECT_EQ(segments[1].time_tick, 5000u);
}

TEST_F(DataNodeTest, DefaultIdleTimeDoesNotSealEarly) {
  StartNode();  // 10 s idle
  Append(testing::InsertRecord(collection_, {1}, 100));
  WaitGrowing(1);
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(coord_.Segments().empty());
}

TEST_F(DataNodeTest, RestartReplaysFromTheCheckpointWithoutLossOrDuplicates) {
  StartNode();
  Append(testing::InsertRecord(collection_, {1, 2}, 100));
  FlushOk();
  Append(testing::InsertRecord(collection_, {3}, 200));
  Append(testing::DeleteRecord(collection_, {1}, 210));
  WaitGrowing(1);
  node_.reset();  // crash: the growing rows are lost from memory, not from the WAL
  OpenLog();

  StartNode();
  Append(testing::InsertRecord(collection_, {4}, 300));
  WaitGrowing(2);
  FlushOk();
  auto segments = coord_.Segments();
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_THAT(Ids(segments[0]), ElementsAre(1, 2));
  EXPECT_EQ(segments[1].start_offset, segments[0].end_offset);
  EXPECT_EQ(segments[1].end_offset, 4u);
  EXPECT_THAT(Ids(segments[1]), ElementsAre(3, 4));
  ASSERT_EQ(segments[1].deltalogs.size(), 1u);
  EXPECT_THAT(ReadDeletes(segments[1].deltalogs[0]), ElementsAre(segment::DeleteEntry{int64_t{1}, 210}));
}

TEST_F(DataNodeTest, UnreportedFlushIsReplayed) {
  // SegmentFlushed fails for good: the data node stops the channel, and a restarted node
  // replays the same range (the checkpoint never moved).
  coord_.FailSegmentFlushed(1, Status::FailedPrecondition("rejected"));
  StartNode();
  Append(testing::InsertRecord(collection_, {1}, 100));
  Status status = node_->Flush(collection_.id);
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status.ToString();
  EXPECT_EQ(node_->CollectionStatus(collection_.id).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(coord_.Segments().empty());
  // Watch reports the stopped channel; Unwatch + Watch restarts it from the checkpoint.
  EXPECT_EQ(node_->WatchCollection(collection_).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(node_->UnwatchCollection(collection_.id).ok());
  ASSERT_TRUE(node_->WatchCollection(collection_).ok());
  FlushOk();
  auto segments = coord_.Segments();
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_EQ(segments[0].start_offset, 0u);
  EXPECT_THAT(Ids(segments[0]), ElementsAre(1));
}

TEST_F(DataNodeTest, CorruptRecordStopsTheChannelWithDataLoss) {
  StartNode();
  Append(testing::InsertRecord(collection_, {1}, 100));
  std::string bad = testing::InsertRecord(collection_, {2}, 200);
  bad[bad.size() / 2] ^= 0x5a;
  Append(bad);
  Append(testing::InsertRecord(collection_, {3}, 300));
  ASSERT_TRUE(WaitUntil([&] { return !node_->CollectionStatus(collection_.id).ok(); }));
  Status status = node_->CollectionStatus(collection_.id);
  EXPECT_EQ(status.code(), StatusCode::kDataLoss) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr(Channel() + "@1"));
  // The record before it was consumed; nothing after it was.
  EXPECT_EQ(node_->GrowingRows(collection_.id, std::nullopt), 1u);
  Status flush = node_->Flush(collection_.id);
  EXPECT_EQ(flush.code(), StatusCode::kDataLoss) << flush.ToString();
  EXPECT_TRUE(coord_.Segments().empty());
}

TEST_F(DataNodeTest, RecordOfAnotherCollectionStopsTheChannel) {
  StartNode();
  coord::CollectionInfo other = collection_;
  other.id = 8;
  Append(testing::InsertRecord(other, {1}, 100));
  ASSERT_TRUE(WaitUntil([&] { return !node_->CollectionStatus(collection_.id).ok(); }));
  EXPECT_EQ(node_->CollectionStatus(collection_.id).code(), StatusCode::kFailedPrecondition);
}

TEST_F(DataNodeTest, TransientFailuresAreRetried) {
  storage::FaultInjectingObjectStore faulty(*store_);
  storage::FaultRule rule;
  rule.op = storage::ObjectOp::kPut;
  rule.times = 3;
  faulty.AddRule(rule);
  coord_.FailSegmentFlushed(2);
  StartNode({}, &faulty);
  Append(testing::InsertRecord(collection_, {1, 2}, 100));
  FlushOk();
  EXPECT_EQ(faulty.faults_injected(), 3u);
  EXPECT_EQ(coord_.flushed_calls(), 3);
  auto segments = coord_.Segments();
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_THAT(Ids(segments[0]), ElementsAre(1, 2));
}

TEST_F(DataNodeTest, FlushTimesOutWhileTheStoreIsDown) {
  storage::FaultInjectingObjectStore faulty(*store_);
  storage::FaultRule rule;
  rule.op = storage::ObjectOp::kPut;
  faulty.AddRule(rule);  // forever
  DataNodeOptions options;
  options.flush_timeout = 300ms;
  StartNode(options, &faulty);
  Append(testing::InsertRecord(collection_, {1}, 100));
  Status status = node_->Flush(collection_.id);
  EXPECT_EQ(status.code(), StatusCode::kDeadlineExceeded) << status.ToString();
  // The store comes back: the flush in progress completes.
  faulty.ClearRules();
  ASSERT_TRUE(coord_.WaitSegments(1, 10s));
  FlushOk();
  EXPECT_EQ(coord_.Segments().size(), 1u);
}

TEST_F(DataNodeTest, ConsumingPausesWhileFlushesPileUp) {
  storage::FaultInjectingObjectStore faulty(*store_);
  storage::FaultRule rule;
  rule.op = storage::ObjectOp::kPut;
  faulty.AddRule(rule);  // the store is down
  DataNodeOptions options;
  options.segment_size = 1;  // every record seals
  StartNode(options, &faulty);
  for (int64_t i = 0; i < 12; ++i) Append(testing::InsertRecord(collection_, {i}, 100 + i));
  WaitGrowing(4);  // four sealed buffers wait for the store; the consumer waits for them
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(node_->GrowingRows(collection_.id, std::nullopt), 4u);
  faulty.ClearRules();
  FlushOk();
  auto segments = coord_.Segments();
  ASSERT_EQ(segments.size(), 12u);
  EXPECT_EQ(segments.back().end_offset, 12u);
}

TEST_F(DataNodeTest, ConsumesFromTheCheckpoint) {
  // Records before the checkpoint are in flushed segments already and are not consumed.
  Append(testing::InsertRecord(collection_, {1}, 100));
  Append(testing::InsertRecord(collection_, {2}, 200));
  coord::SegmentInfo flushed;
  flushed.id = 1;
  flushed.collection_id = collection_.id;
  flushed.channel = Channel();
  flushed.end_offset = 1;
  ASSERT_TRUE(coord_.SegmentFlushed(flushed).ok());
  StartNode();
  WaitGrowing(1);
  FlushOk();
  auto segments = coord_.Segments();
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_EQ(segments[1].start_offset, 1u);
  EXPECT_THAT(Ids(segments[1]), ElementsAre(2));
}

TEST_F(DataNodeTest, FlushesEveryShard) {
  collection_ = testing::MakeCollection(/*shards=*/2);
  coord_.AddCollection(collection_);
  StartNode();
  Append(testing::InsertRecord(collection_, {1}, 100), 0);
  Append(testing::InsertRecord(collection_, {2, 3}, 100), 1);
  Append(testing::DeleteRecord(collection_, {4}, 110), 1);
  FlushOk();
  auto segments = coord_.Segments();
  ASSERT_EQ(segments.size(), 2u);
  std::map<std::string, coord::SegmentInfo> by_channel;
  for (const auto& s : segments) by_channel[s.channel] = s;
  EXPECT_THAT(Ids(by_channel[Channel(0)]), ElementsAre(1));
  EXPECT_THAT(Ids(by_channel[Channel(1)]), ElementsAre(2, 3));
  EXPECT_EQ(by_channel[Channel(1)].end_offset, 2u);
  EXPECT_EQ(coord_.ChannelCheckpoint(Channel(1)).value(), 2u);
}

TEST_F(DataNodeTest, UnwatchDropsGrowingData) {
  StartNode();
  Append(testing::InsertRecord(collection_, {1}, 100));
  WaitGrowing(1);
  ASSERT_TRUE(node_->UnwatchCollection(collection_.id).ok());
  EXPECT_EQ(node_->GrowingRows(collection_.id, std::nullopt), 0u);
  EXPECT_EQ(node_->Flush(collection_.id).code(), StatusCode::kNotFound);
  EXPECT_TRUE(node_->UnwatchCollection(collection_.id).ok());
  EXPECT_TRUE(coord_.Segments().empty());
}

TEST_F(DataNodeTest, WatchIsIdempotentAndStopEndsEverything) {
  StartNode();
  EXPECT_TRUE(node_->WatchCollection(collection_).ok());
  Append(testing::InsertRecord(collection_, {1}, 100));
  WaitGrowing(1);
  node_->Stop();
  node_->Stop();
  EXPECT_EQ(node_->WatchCollection(collection_).code(), StatusCode::kUnavailable);
  EXPECT_EQ(node_->GrowingRows(collection_.id, std::nullopt), 0u);
}

TEST_F(DataNodeTest, RejectsSchemasItCannotStore) {
  node_ = CreateDataNode({}, &coord_, log_.get(), store_.get());
  coord::CollectionInfo implicit = collection_;
  implicit.schema.fields.pop_back();  // dynamic field enabled but "$meta" not declared
  EXPECT_EQ(node_->WatchCollection(implicit).code(), StatusCode::kFailedPrecondition);
  coord::CollectionInfo invalid = collection_;
  invalid.schema.fields[0].is_primary_key = false;
  EXPECT_EQ(node_->WatchCollection(invalid).code(), StatusCode::kFailedPrecondition);
}

TEST_F(DataNodeTest, ExportsMetrics) {
  StartNode();
  Append(testing::InsertRecord(collection_, {1, 2}, 100));
  FlushOk();
  const std::string text = metrics::Registry::Default().Render();
  EXPECT_THAT(text, HasSubstr("tessera_datanode_flushes_total{result=\"ok\"}"));
  EXPECT_THAT(text, HasSubstr("tessera_datanode_flush_duration_seconds_count"));
  EXPECT_THAT(text, HasSubstr("tessera_datanode_flushed_rows_total"));
  EXPECT_THAT(text, HasSubstr("tessera_datanode_growing_rows 0"));
}

}  // namespace
}  // namespace tessera::datanode
