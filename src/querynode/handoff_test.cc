// Visibility under concurrency: upserts, handoff of growing rows to sealed segments,
// compaction and index swaps, each checked while searches run.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "querynode/test_util.h"

namespace tessera::querynode {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::MakeCollection;
using testing::Row;
using testing::SegmentSpec;

class HandoffTest : public testing::QueryNodeTest {
 protected:
  /// Runs `check` in `threads` threads until `stop` is set; returns how many checks ran.
  template <typename Check>
  std::vector<std::thread> Readers(int threads, std::atomic<bool>& stop, std::atomic<int>& runs, Check check) {
    std::vector<std::thread> out;
    for (int t = 0; t < threads; ++t) {
      out.emplace_back([&, check] {
        while (!stop.load()) {
          check();
          runs.fetch_add(1);
        }
      });
    }
    return out;
  }
};

TEST_F(HandoffTest, UpsertIsAtomicForConcurrentSearches) {
  auto info = MakeCollection();
  Insert(info, {Row(1, 1, "v0", 0), Row(2, 2)}, 100);
  Load(info);
  std::atomic<bool> stop{false};
  std::atomic<int> runs{0}, bad{0};
  auto readers = Readers(3, stop, runs, [&] {
    // Both the pk fast path and a full filter must see exactly one version of pk 1.
    auto res = node_->Search(Near(0, 10, "id == 1"));
    if (!res.ok() || res->hits[0].size() != 1) bad.fetch_add(1);
    auto all = node_->Search(Near(0, 10, "n >= 0"));
    if (!all.ok() || all->hits[0].size() != 2) bad.fetch_add(1);
    QueryRequest q = Q("id in [1]");
    q.count_only = true;
    auto count = node_->Query(q);
    if (!count.ok() || count->count != 1) bad.fetch_add(1);
  });
  for (int v = 1; v <= 60; ++v) {
    Upsert(info, {Row(1, static_cast<float>(v), std::to_string(v), v)}, 100 + v);
  }
  SearchRequest r = Near(0, 10, "id == 1");
  r.wait = CaughtUp();
  r.output_fields = {"color"};
  auto last = node_->Search(r);
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0) << "of " << runs.load() << " checks";
  EXPECT_GT(runs.load(), 0);
  ASSERT_TRUE(last.ok());
  ASSERT_EQ(last->hits[0].size(), 1u);
  EXPECT_EQ(last->hits[0][0].row["color"], "60");
}

TEST_F(HandoffTest, SealedSegmentReplacesGrowingRowsWithoutGapOrDuplicate) {
  auto info = MakeCollection();
  std::vector<nlohmann::json> rows;
  for (int i = 0; i < 30; ++i) {
    Insert(info, {Row(i, static_cast<float>(i))}, 100 + i);
    rows.push_back(Row(i, static_cast<float>(i)));
  }
  Load(info);
  ASSERT_EQ(node_->NumGrowingRows(info.id), 30u);

  std::atomic<bool> stop{false};
  std::atomic<int> runs{0}, bad{0};
  auto readers = Readers(3, stop, runs, [&] {
    QueryRequest q = Q();
    q.count_only = true;
    auto count = node_->Query(q);
    if (!count.ok() || count->count != 30) bad.fetch_add(1);
    auto res = node_->Search(Near(0, 50));
    if (!res.ok() || res->hits[0].size() != 30) bad.fetch_add(1);
  });
  // Flush records [0, 20) as segment 11, then [20, 30) as segment 12 (with an index).
  SegmentSpec first;
  first.id = 11;
  first.start_offset = 0;
  first.end_offset = 20;
  first.rows.assign(rows.begin(), rows.begin() + 20);
  for (int i = 0; i < 20; ++i) first.timestamps.push_back(100 + i);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(node_->AddSegment(WriteSegment(info, first)).ok());
  EXPECT_EQ(node_->NumGrowingRows(info.id), 10u);
  SegmentSpec second;
  second.id = 12;
  second.start_offset = 20;
  second.end_offset = 30;
  second.rows.assign(rows.begin() + 20, rows.end());
  second.index = index::IndexType::kHnsw;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(node_->AddSegment(WriteSegment(info, second)).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0) << "of " << runs.load() << " checks";
  EXPECT_EQ(node_->NumGrowingRows(info.id), 0u);
  EXPECT_EQ(node_->NumSealedSegments(info.id), 2u);
  EXPECT_EQ(Count(), 30u);
  // New records keep flowing into the growing segment.
  Insert(info, {Row(100, 0.5f)}, 500);
  SearchRequest r = Near(0, 3);
  r.wait = CaughtUp();
  EXPECT_THAT(SearchIds(r), ElementsAre(0, 100, 1));
}

TEST_F(HandoffTest, SegmentArrivingBeforeTheTailIsNotDuplicated) {
  auto info = MakeCollection();
  Load(info);
  // The flush of [0, 3) is announced before the node has necessarily applied those
  // records: whatever the interleaving, each row is visible once.
  std::vector<nlohmann::json> rows;
  for (int i = 0; i < 3; ++i) {
    Insert(info, {Row(i, static_cast<float>(i))}, 100 + i);
    rows.push_back(Row(i, static_cast<float>(i)));
  }
  SegmentSpec spec;
  spec.id = 11;
  spec.start_offset = 0;
  spec.end_offset = 3;
  spec.rows = rows;
  ASSERT_TRUE(node_->AddSegment(WriteSegment(info, spec)).ok());
  QueryRequest q = Q();
  q.wait = CaughtUp();
  q.count_only = true;
  auto count = node_->Query(q);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->count, 3u);
  EXPECT_EQ(node_->NumGrowingRows(info.id), 0u);
}

TEST_F(HandoffTest, CompactionReplacesItsInputsInOneStep) {
  auto info = MakeCollection();
  SegmentSpec a;
  a.id = 11;
  a.start_offset = 0;
  a.end_offset = 0;
  a.rows = {Row(1, 1), Row(2, 2), Row(3, 3)};
  a.deletes = {{int64_t{2}, 150}};
  SegmentSpec b;
  b.id = 12;
  b.rows = {Row(4, 4), Row(5, 5)};
  auto sa = WriteSegment(info, a);
  auto sb = WriteSegment(info, b);
  Load(info, {sa, sb});
  ASSERT_EQ(Count(), 4u);

  std::atomic<bool> stop{false};
  std::atomic<int> runs{0}, bad{0};
  auto readers = Readers(3, stop, runs, [&] {
    auto res = node_->Search(Near(0, 10));
    if (!res.ok() || res->hits[0].size() != 4) bad.fetch_add(1);
  });
  SegmentSpec c;
  c.id = 13;
  c.rows = {Row(1, 1), Row(3, 3), Row(4, 4), Row(5, 5)};  // deleted pk 2 purged
  c.deletes = a.deletes;                                   // deltalogs carried over
  c.compacted_from = {11, 12};
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(node_->AddSegment(WriteSegment(info, c)).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0) << "of " << runs.load() << " checks";
  auto segments = node_->SealedSegments(info.id);
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_EQ(segments[0].id, 13);
  EXPECT_THAT(QueryIds(Q()), ElementsAre(1, 3, 4, 5));
  // A late announcement of a compacted-away input is ignored.
  ASSERT_TRUE(node_->AddSegment(sa).ok());
  EXPECT_EQ(node_->NumSealedSegments(info.id), 1u);
  EXPECT_EQ(Count(), 4u);
  // A dropped segment stops being served.
  coord::SegmentInfo dropped;
  dropped.id = 13;
  dropped.collection_id = info.id;
  dropped.dropped = true;
  ASSERT_TRUE(node_->AddSegment(dropped).ok());
  EXPECT_EQ(Count(), 0u);
}

TEST_F(HandoffTest, IndexFileArrivingLaterIsSwappedIn) {
  auto info = MakeCollection(1, true, "HNSW");
  SegmentSpec spec;
  spec.id = 11;
  for (int i = 0; i < 200; ++i) spec.rows.push_back(Row(i, static_cast<float>(i) * 0.1f, "c", i));
  auto unindexed = WriteSegment(info, spec);
  Load(info, {unindexed});
  auto before = node_->SealedSegments(info.id);
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].indexes.at(testing::kVecField).first, "FLAT");
  EXPECT_EQ(before[0].indexes.at(testing::kVecField).second, -1);
  const auto exact = SearchIds(Near(5.04f, 5));

  std::atomic<bool> stop{false};
  std::atomic<int> runs{0}, bad{0};
  auto readers = Readers(2, stop, runs, [&] {
    auto res = node_->Search(Near(5.04f, 5));
    if (!res.ok() || res->hits[0].size() != 5) bad.fetch_add(1);
  });
  spec.index = index::IndexType::kHnsw;
  auto indexed = WriteSegment(info, spec);
  ASSERT_TRUE(node_->AddSegment(indexed).ok());
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  auto after = node_->SealedSegments(info.id);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].indexes.at(testing::kVecField).first, "HNSW");
  EXPECT_EQ(after[0].indexes.at(testing::kVecField).second, testing::kIndexId);
  EXPECT_EQ(SearchIds(Near(5.04f, 5)), exact);
  SearchRequest r = Near(5.04f, 5);
  r.params = {{"ef", 3}};
  EXPECT_THAT(node_->Search(r).status().message(), HasSubstr("ef"));
  r.params = {{"ef", 16}};
  EXPECT_EQ(SearchIds(r), exact);

  // Announcing it again does not reload anything; a missing index file is an error.
  ASSERT_TRUE(node_->AddSegment(indexed).ok());
  indexed.index_files[testing::kIndexId] += "-missing";
  EXPECT_EQ(node_->AddSegment(indexed).code(), StatusCode::kNotFound);
}

TEST_F(HandoffTest, SealedSegmentsLoadWithTheirIndexes) {
  auto info = MakeCollection(1, true, "IVF_FLAT");
  std::vector<coord::SegmentInfo> segments;
  for (int s = 0; s < 4; ++s) {
    SegmentSpec spec;
    spec.id = 20 + s;
    for (int i = 0; i < 50; ++i) spec.rows.push_back(Row(s * 50 + i, static_cast<float>(s * 50 + i)));
    spec.index = index::IndexType::kIvfFlat;
    spec.index_params = {{"nlist", 4}};
    segments.push_back(WriteSegment(info, spec));
  }
  Load(info, segments);
  for (const auto& s : node_->SealedSegments(info.id)) EXPECT_EQ(s.indexes.at(testing::kVecField).first, "IVF_FLAT");
  SearchRequest r = Near(101.2f, 3);
  r.params = {{"nprobe", 4}};
  EXPECT_THAT(SearchIds(r), ElementsAre(101, 102, 100));
  r.params = {{"nprobe", 5}};
  auto res = node_->Search(r);
  EXPECT_EQ(res.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(res.status().message(), HasSubstr("nprobe"));
}

}  // namespace
}  // namespace tessera::querynode
