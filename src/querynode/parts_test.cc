// Unit tests of the query node's building blocks.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <shared_mutex>
#include <thread>

#include "querynode/delete_index.h"
#include "querynode/fair_shared_mutex.h"
#include "querynode/loaded_collection.h"
#include "querynode/result_merge.h"
#include "querynode/segment.h"
#include "querynode/test_util.h"

namespace tessera::querynode {
namespace {

using ::testing::ElementsAre;

TEST(OffsetRangesTest, MergesAndContains) {
  OffsetRanges r;
  EXPECT_FALSE(r.Contains(0));
  r.Add(10, 20);
  r.Add(30, 40);
  r.Add(5, 5);  // empty
  EXPECT_FALSE(r.Contains(5));
  EXPECT_TRUE(r.Contains(10));
  EXPECT_TRUE(r.Contains(19));
  EXPECT_FALSE(r.Contains(20));
  EXPECT_FALSE(r.Contains(29));
  r.Add(20, 30);  // touches both: one range [10, 40)
  for (uint64_t o = 10; o < 40; ++o) EXPECT_TRUE(r.Contains(o)) << o;
  EXPECT_FALSE(r.Contains(40));
  r.Add(0, 50);
  EXPECT_TRUE(r.Contains(0));
  EXPECT_TRUE(r.Contains(49));
}



TEST(DeleteMapTest, KeepsTheNewestTimestamp) {
  DeleteMap m;
  EXPECT_TRUE(m.Update(int64_t{1}, 10));
  EXPECT_FALSE(m.Update(int64_t{1}, 5));
  EXPECT_FALSE(m.Update(int64_t{1}, 10));
  EXPECT_TRUE(m.Update(int64_t{1}, 11));
  EXPECT_TRUE(m.Update(std::string("a"), 3));
  EXPECT_EQ(m.Get(int64_t{1}), 11u);
  EXPECT_EQ(m.Get(std::string("a")), 3u);
  EXPECT_EQ(m.Get(int64_t{2}), 0u);
  EXPECT_EQ(m.size(), 2u);
}

TEST(PkSelectorTest, KeepsSmallestKeysNewestCopy) {
  PkSelector s(3);
  s.Offer(int64_t{5}, RowRef{0, 5}, 1);
  s.Offer(int64_t{1}, RowRef{0, 1}, 1);
  s.Offer(int64_t{9}, RowRef{0, 9}, 1);
  s.Offer(int64_t{3}, RowRef{0, 3}, 1);   // evicts 9
  s.Offer(int64_t{7}, RowRef{0, 7}, 1);   // cannot enter
  s.Offer(int64_t{3}, RowRef{1, 30}, 2);  // newer copy of 3
  s.Offer(int64_t{1}, RowRef{1, 10}, 0);  // older copy of 1
  auto out = s.TakeSorted();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(std::get<int64_t>(out[0].first), 1);
  EXPECT_EQ(out[0].second.row, 1u);
  EXPECT_EQ(std::get<int64_t>(out[1].first), 3);
  EXPECT_EQ(out[1].second.row, 30u);
  EXPECT_EQ(std::get<int64_t>(out[2].first), 5);
}

TEST(MergeSearchHitsTest, DedupsByKeyAppliesOffsetAndLimit) {
  // Segment 0 rows 0..2 hold keys 10, 11, 12; segment 1 rows 0..1 hold keys 11, 13.
  auto pk = [](RowRef r) -> PrimaryKey {
    return r.segment == 0 ? int64_t{10 + r.row} : (r.row == 0 ? int64_t{11} : int64_t{13});
  };
  std::vector<std::vector<core::Neighbor>> lists = {
      {{PackRowRef({0, 0}), 1.0f}, {PackRowRef({0, 1}), 3.0f}, {PackRowRef({0, 2}), 5.0f}},
      {{PackRowRef({1, 0}), 2.0f}, {PackRowRef({1, 1}), 4.0f}},
  };
  auto hits = MergeSearchHits(lists, 0, 10, pk);
  std::vector<int64_t> keys;
  for (const auto& h : hits) keys.push_back(std::get<int64_t>(h.pk));
  EXPECT_THAT(keys, ElementsAre(10, 11, 13, 12));
  EXPECT_FLOAT_EQ(hits[1].score, 2.0f);  // the better copy of 11
  EXPECT_EQ(hits[1].ref.segment, 1u);
  hits = MergeSearchHits(lists, 1, 2, pk);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(std::get<int64_t>(hits[0].pk), 11);
  EXPECT_EQ(std::get<int64_t>(hits[1].pk), 13);
  // A window past 64 keys dedups through a hash set instead of a scan: same answer.
  hits = MergeSearchHits(lists, 0, 100, pk);
  keys.clear();
  for (const auto& h : hits) keys.push_back(std::get<int64_t>(h.pk));
  EXPECT_THAT(keys, ElementsAre(10, 11, 13, 12));
}

TEST(FairSharedMutexTest, WriterIsNotStarvedByOverlappingReaders) {
  FairSharedMutex mu;
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        std::shared_lock<FairSharedMutex> l(mu);
        std::this_thread::sleep_for(std::chrono::microseconds(500));
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    std::unique_lock<FairSharedMutex> l(mu);
  }
  const auto took = std::chrono::steady_clock::now() - start;
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_LT(took, std::chrono::seconds(2));
}

TEST(FairSharedMutexTest, ReadersGetInBetweenWriters) {
  FairSharedMutex mu;
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0};
  std::vector<std::thread> writers;
  for (int i = 0; i < 3; ++i) {
    writers.emplace_back([&] {
      while (!stop.load()) {
        std::unique_lock<FairSharedMutex> l(mu);
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
  }
  std::thread reader([&] {
    for (int i = 0; i < 20; ++i) {
      std::shared_lock<FairSharedMutex> l(mu);
      reads.fetch_add(1);
    }
  });
  reader.join();
  stop = true;
  for (auto& t : writers) t.join();
  EXPECT_EQ(reads.load(), 20);
}

TEST(FairSharedMutexTest, ExcludesWritersFromReaders) {
  FairSharedMutex mu;
  int value = 0;
  std::atomic<int> torn{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        if (t == 0) {
          std::unique_lock<FairSharedMutex> l(mu);
          ++value;
          ++value;
        } else {
          std::shared_lock<FairSharedMutex> l(mu);
          if (value % 2 != 0) torn.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(value, 4000);
}

class SegmentTest : public testing::QueryNodeTest {};

TEST_F(SegmentTest, GrowingSegmentAppliesDeletesAndDropsRanges) {
  auto info = testing::MakeCollection();
  auto growing = Segment::CreateGrowing("c7_s0", info.schema, {});
  ASSERT_TRUE(growing.ok());
  Segment& g = **growing;
  DeleteMap deletes;
  deletes.Update(int64_t{2}, 150);
  ASSERT_TRUE(g.AppendRows(*Rows(info, {testing::Row(1, 1), testing::Row(2, 2)}), std::vector<int64_t>{1, 1}, 100, 0,
                           deletes)
                  .ok());
  ASSERT_TRUE(g.AppendRows(*Rows(info, {testing::Row(3, 3)}), std::vector<int64_t>{2}, 200, 1, deletes).ok());
  ASSERT_TRUE(g.AppendRows(*Rows(info, {testing::Row(2, 4)}), std::vector<int64_t>{1}, 300, 2, deletes).ok());
  EXPECT_EQ(g.num_rows(), 4u);
  EXPECT_TRUE(g.deleted().Test(1));  // pk 2 @100 < delete @150
  EXPECT_FALSE(g.deleted().Test(3));  // pk 2 @300 is newer
  EXPECT_EQ(g.ApplyDelete(int64_t{3}, 200), 0u);  // not older than the delete
  EXPECT_EQ(g.ApplyDelete(int64_t{3}, 201), 1u);
  EXPECT_EQ(g.CountRowsInRange(0, 2), 3u);
  EXPECT_THAT(g.partition_set(), ElementsAre(1, 2));

  auto trimmed = g.WithoutRange(1, 2);  // drops pk 3's record
  ASSERT_TRUE(trimmed.ok());
  const Segment& t = **trimmed;
  ASSERT_EQ(t.num_rows(), 3u);
  EXPECT_EQ(std::get<int64_t>(t.pk(2)), 2);
  EXPECT_EQ(t.timestamp(2), 300u);
  EXPECT_TRUE(t.deleted().Test(1));
  EXPECT_EQ(t.num_deleted(), 1u);
  EXPECT_THAT(t.wal_offsets(), ElementsAre(0, 0, 2));
  EXPECT_EQ(t.VectorIndex(testing::kVecField)->index->size(), 3u);
  EXPECT_THAT(t.partition_set(), ElementsAre(1));
}

TEST_F(SegmentTest, SealedSegmentAppliesTheDeleteMapEitherWay) {
  auto info = testing::MakeCollection();
  for (int map_size : {0, 50}) {  // 2 keys (walk the map) or 52 (walk the rows)
    auto columns = Rows(info, {testing::Row(1, 1), testing::Row(2, 2), testing::Row(3, 3)});
    auto sealed = Segment::CreateSealed(5, "c7_s0", std::move(columns), {100, 100, 300}, {1, 1, 1}, {}, {});
    ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
    DeleteMap deletes;
    deletes.Update(int64_t{3}, 200);  // older than row 3
    deletes.Update(int64_t{1}, 200);
    for (int i = 100; i < 100 + map_size; ++i) deletes.Update(int64_t{i}, 1);
    EXPECT_EQ((*sealed)->ApplyDeleteMap(deletes), 1u) << map_size;
    EXPECT_TRUE((*sealed)->deleted().Test(0));
    EXPECT_FALSE((*sealed)->deleted().Test(2));
  }
}

TEST_F(SegmentTest, RejectsAnIndexThatDoesNotFit) {
  auto info = testing::MakeCollection();
  auto sealed = Segment::CreateSealed(5, "c7_s0", Rows(info, {testing::Row(1, 1)}), {100}, {1}, {}, {});
  ASSERT_TRUE(sealed.ok());
  auto idx = index::CreateIndex(index::IndexType::kFlat, index::MetricType::kL2, 4, nlohmann::json::object());
  ASSERT_TRUE(idx.ok());
  Status s = (*sealed)->SetIndex(testing::kVecField, SegmentIndex{std::move(idx).value(), 9, "k"});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*sealed)->SetIndex(103, SegmentIndex{}).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::querynode
