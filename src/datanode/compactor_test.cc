#include "datanode/compactor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "coord/hybrid_timestamp.h"
#include "datanode/data_node_impl.h"
#include "datanode/test_util.h"

namespace tessera::datanode {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

/// Segments are produced by a real data node from WAL records, then compacted.
class CompactorTest : public testing::StorageFixture {
 protected:
  void SetUp() override {
    testing::StorageFixture::SetUp();
    node_ = CreateDataNode({}, &coord_, log_.get(), store_.get());
    ASSERT_TRUE(node_->WatchCollection(collection_).ok());
  }
  void TearDown() override {
    node_.reset();
    testing::StorageFixture::TearDown();
  }
  /// Appends `records` and flushes them into one segment.
  coord::SegmentInfo Flushed(const std::vector<std::string>& records) {
    for (const auto& r : records) Append(r);
    Status status = node_->Flush(collection_.id);
    EXPECT_TRUE(status.ok()) << status.ToString();
    auto segments = coord_.Segments();
    return segments.empty() ? coord::SegmentInfo{} : segments.back();
  }
  static std::vector<std::string> AllDeltalogs(const std::vector<coord::SegmentInfo>& segments) {
    std::vector<std::string> keys;
    for (const auto& s : segments) keys.insert(keys.end(), s.deltalogs.begin(), s.deltalogs.end());
    return keys;
  }
  Result<coord::SegmentInfo> Compact(const std::vector<coord::SegmentInfo>& inputs,
                                     const std::vector<std::string>& deltalogs, int64_t id = 5000,
                                     const coord::DeleteRetirement& retire = {}) {
    return node_->Compact(collection_, inputs, deltalogs, id, retire);
  }
  /// Every delete entry of `segment`'s deltalogs.
  std::vector<segment::DeleteEntry> Deletes(const coord::SegmentInfo& segment) {
    std::vector<segment::DeleteEntry> out;
    for (const std::string& key : segment.deltalogs) {
      for (const auto& entry : ReadDeletes(key)) out.push_back(entry);
    }
    return out;
  }

  std::unique_ptr<DataNodeImpl> node_;
};

TEST_F(CompactorTest, DropsDeletedRowsAndKeepsTheNewestUpsert) {
  auto a = Flushed({testing::InsertRecord(collection_, {1, 2, 3, 4}, 100, 11),
                    testing::InsertRecord(collection_, {5}, 110, 12)});
  auto b = Flushed({testing::DeleteRecord(collection_, {2}, 200),
                    testing::UpsertRecord(collection_, {3}, 300, /*version=*/1),
                    // A delete older than the row it names hides nothing.
                    testing::DeleteRecord(collection_, {4}, 50)});
  // A later segment's delete (not an input) still applies.
  auto c = Flushed({testing::DeleteRecord(collection_, {5}, 400)});
  ASSERT_EQ(coord_.Segments().size(), 3u);

  auto out = Compact({a, b}, AllDeltalogs({a, b, c}));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->id, 5000);
  EXPECT_EQ(out->collection_id, collection_.id);
  EXPECT_EQ(out->channel, Channel());
  EXPECT_EQ(out->start_offset, a.start_offset);
  EXPECT_EQ(out->end_offset, b.end_offset);
  EXPECT_THAT(out->compacted_from, ElementsAre(a.id, b.id));
  EXPECT_EQ(out->deltalogs, b.deltalogs);  // a has none; c is not an input
  EXPECT_EQ(out->num_rows, 3u);
  EXPECT_GE(out->memory_size, 3 * (testing::kDim * sizeof(float) + 2 * sizeof(int64_t)));
  EXPECT_THAT(Ids(*out), ElementsAre(1, 4, 3));
  EXPECT_THAT(ReadInt64(*out, TimestampField()), ElementsAre(100, 100, 300));
  EXPECT_THAT(ReadInt64(*out, PartitionField()), ElementsAre(11, 11, 11));
  auto names = ReadColumn(*out, collection_.schema.fields[2]);
  ASSERT_NE(names, nullptr);
  EXPECT_EQ(names->Get(2), "n3v1");
  EXPECT_THAT(out->stats, HasSubstr("collections/7/" + Channel() + "/5000/stats/"));
  // Not registered: the coordinator does that after indexing it.
  EXPECT_EQ(coord_.Segments().size(), 3u);
}

TEST_F(CompactorTest, EverythingDeletedGivesAnEmptySegment) {
  auto a = Flushed({testing::InsertRecord(collection_, {1}, 100)});
  auto b = Flushed({testing::DeleteRecord(collection_, {1}, 200)});
  auto out = Compact({a, b}, AllDeltalogs({a, b}));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->num_rows, 0u);
  EXPECT_TRUE(out->binlogs.empty());
  EXPECT_TRUE(out->stats.empty());
  EXPECT_EQ(out->deltalogs, b.deltalogs);
}

TEST_F(CompactorTest, DropsRowsOfPartitionsTheCollectionNoLongerHas) {
  auto a = Flushed({testing::InsertRecord(collection_, {1, 2}, 100, 11),
                    testing::InsertRecord(collection_, {3}, 110, 12)});
  collection_.partitions = {{11, "_default", false}};  // partition 12 was dropped
  auto out = Compact({a}, AllDeltalogs({a}));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Ids(*out), ElementsAre(1, 2));
  EXPECT_EQ(out->partition_rows, (std::map<int64_t, uint64_t>{{11, 2}}));
}

TEST_F(CompactorTest, DropsRowsOlderThanTheCollectionsTtl) {
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const uint64_t fresh = coord::ComposeTimestamp(now_ms, 0);
  const uint64_t stale = coord::ComposeTimestamp(now_ms - 2 * 3600 * 1000, 0);
  auto a = Flushed({testing::InsertRecord(collection_, {1, 2}, stale), testing::InsertRecord(collection_, {3}, fresh)});
  EXPECT_EQ(a.max_timestamp, fresh);
  collection_.properties["collection.ttl.seconds"] = "3600";
  auto out = Compact({a}, AllDeltalogs({a}));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_THAT(Ids(*out), ElementsAre(3));
  EXPECT_EQ(out->max_timestamp, fresh);
}

TEST_F(CompactorTest, RetiresDeletesUpToTheTickThatNoOtherSegmentNeeds) {
  auto a = Flushed({testing::InsertRecord(collection_, {1, 2, 3}, 100)});
  auto b = Flushed({testing::DeleteRecord(collection_, {1}, 200), testing::DeleteRecord(collection_, {2}, 210),
                    testing::DeleteRecord(collection_, {9}, 220), testing::DeleteRecord(collection_, {4}, 400),
                    testing::TimeTickRecord(collection_, 300)});
  EXPECT_EQ(b.time_tick, 300u);
  auto c = Flushed({testing::InsertRecord(collection_, {2}, 50)});  // an older row of key 2, elsewhere
  ASSERT_EQ(Deletes(b).size(), 4u);

  coord::DeleteRetirement retire{.up_to_ts = 300, .other_stats = {c.stats}};
  auto out = Compact({a, b}, AllDeltalogs({a, b, c}), 5000, retire);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->time_tick, 300u);
  EXPECT_THAT(Ids(*out), ElementsAre(3)) << "rows hidden by every delete are gone";
  // Kept: key 2 (segment c may hold it) and key 4 (after the tick). Retired: 1 and 9.
  ASSERT_EQ(out->deltalogs.size(), 1u);
  EXPECT_NE(out->deltalogs[0], b.deltalogs[0]) << "a new deltalog, not the input's";
  EXPECT_THAT(out->deltalogs[0], HasSubstr("collections/7/" + Channel() + "/5000/deltalog/"));
  EXPECT_THAT(Deletes(*out), ElementsAre(segment::DeleteEntry{int64_t{2}, 210}, segment::DeleteEntry{int64_t{4}, 400}));

  // Without a tick nothing is retired, and the inputs' deltalogs are carried as they are.
  auto kept = Compact({a, b}, AllDeltalogs({a, b, c}), 5001, {.up_to_ts = 0, .other_stats = {}});
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->deltalogs, b.deltalogs);
  // Everything retired: no deltalog at all.
  auto none = Compact({a, b}, AllDeltalogs({a, b}), 5002, {.up_to_ts = 1000, .other_stats = {}});
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->deltalogs.empty());
  // A stats file that cannot be read fails the compaction instead of guessing.
  auto bad = Compact({a, b}, AllDeltalogs({a, b}), 5003, {.up_to_ts = 1000, .other_stats = {"collections/7/x/stats/1"}});
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss) << bad.status().ToString();
}

TEST_F(CompactorTest, RejectsBadInputs) {
  auto a = Flushed({testing::InsertRecord(collection_, {1}, 100)});
  EXPECT_EQ(Compact({}, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Compact({a}, {}, a.id).status().code(), StatusCode::kInvalidArgument);
  coord::SegmentInfo other = a;
  other.id = 99;
  other.channel = "c7_s1";
  EXPECT_EQ(Compact({a, other}, {}).status().code(), StatusCode::kInvalidArgument);
  other = a;
  other.collection_id = 8;
  EXPECT_EQ(Compact({other}, {}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(CompactorTest, MissingOrDamagedFilesAreDataLoss) {
  auto a = Flushed({testing::InsertRecord(collection_, {1, 2}, 100)});
  coord::SegmentInfo missing = a;
  missing.binlogs.erase(coord::kTimestampFieldId);
  auto out = Compact({missing}, {});
  EXPECT_EQ(out.status().code(), StatusCode::kDataLoss) << out.status().ToString();

  auto out2 = Compact({a}, {"collections/7/nowhere/deltalog/1"});
  EXPECT_EQ(out2.status().code(), StatusCode::kDataLoss) << out2.status().ToString();
  EXPECT_THAT(out2.status().message(), HasSubstr("nowhere"));

  const std::string& key = a.binlogs.at(100);
  std::string bytes = store_->Get(key).value();
  bytes[bytes.size() / 2] ^= 0x33;
  ASSERT_TRUE(store_->Put(key, bytes).ok());
  auto out3 = Compact({a}, {});
  EXPECT_EQ(out3.status().code(), StatusCode::kDataLoss) << out3.status().ToString();
  EXPECT_THAT(out3.status().message(), HasSubstr(key));
}

}  // namespace
}  // namespace tessera::datanode
