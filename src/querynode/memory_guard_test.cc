// Admission control: the guard's arithmetic, the size estimate, and what the query node
// does when a load, a handoff or an index does not fit.

#include "querynode/memory_guard.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

#include "querynode/test_util.h"

namespace tessera::querynode {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::MakeCollection;
using testing::Row;
using testing::SegmentSpec;

TEST(MemoryGuardTest, ReservationsCountUntilTheyEnd) {
  MemoryGuard guard(1000, [] { return uint64_t{100}; });
  auto first = guard.Reserve(500, "segment 1");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto refused = guard.Reserve(401, "segment 2 of collection 7");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(),
              AllOf(HasSubstr("not enough memory to load segment 2 of collection 7"), HasSubstr("needs about 401 B"),
                    HasSubstr("uses 100 B"), HasSubstr("loads in progress 500 B"), HasSubstr("limit of 1000 B"),
                    HasSubstr("querynode.memory_limit")));
  auto second = guard.Reserve(400, "segment 3");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  {
    MemoryGuard::Reservation moved = std::move(first).value();  // still held
    EXPECT_FALSE(guard.Reserve(1, "segment 4").ok());
  }
  // The first reservation ended with `moved`; the second still holds 400.
  EXPECT_TRUE(guard.Reserve(500, "segment 5").ok());
  EXPECT_FALSE(guard.Reserve(501, "segment 6").ok());
}

TEST(MemoryGuardTest, NoLimitAdmitsEverything) {
  MemoryGuard guard(0, [] { return ~uint64_t{0} / 2; });
  EXPECT_TRUE(guard.Reserve(uint64_t{1} << 50, "a huge segment").ok());
}

TEST(MemoryGuardTest, MeasuresTheResidentSizeByDefault) {
  MemoryGuard guard(1, {});
  auto refused = guard.Reserve(0, "nothing");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("MiB"));  // a real process uses megabytes
}

/// A query node whose memory in use is `in_use_` and whose limit is `kLimit`.
class MemoryLimitTest : public testing::QueryNodeTest {
 protected:
  static constexpr uint64_t kLimit = uint64_t{1} << 30;

  void SetUp() override {
    QueryNodeTest::SetUp();
    QueryNodeOptions options;
    options.search_threads = 2;
    options.memory_limit = kLimit;
    options.memory_in_use = [this] { return in_use_.load(); };
    node_ = CreateQueryNode(options, log_.get(), store_.get());
  }

  /// Leaves exactly `free` bytes under the limit.
  void SetFree(uint64_t free) { in_use_ = kLimit - free; }

  coord::SegmentInfo Segment(int64_t id, int first_row, int rows, uint64_t start, uint64_t end,
                             bool with_index = false) {
    const auto info = MakeCollection();
    SegmentSpec spec;
    spec.id = id;
    spec.start_offset = start;
    spec.end_offset = end;
    for (int i = first_row; i < first_row + rows; ++i) spec.rows.push_back(Row(i, static_cast<float>(i)));
    if (with_index) spec.index = index::IndexType::kHnsw;
    return WriteSegment(info, spec);
  }

  std::atomic<uint64_t> in_use_{0};
};

TEST_F(MemoryLimitTest, EstimateCountsRowsAndIndexFiles) {
  coord::SegmentInfo plain = Segment(11, 1, 50, 0, 0);
  const uint64_t rows_only = EstimateLoadedSize(plain, *store_);
  uint64_t binlogs = 0;
  for (const auto& [field, key] : plain.binlogs) binlogs += store_->Head(key)->size;
  EXPECT_EQ(rows_only, binlogs + 50 * 64);  // no memory_size recorded: the binlogs' sizes
  plain.memory_size = 100000;
  EXPECT_EQ(EstimateLoadedSize(plain, *store_), 100000u + 50 * 64);

  coord::SegmentInfo indexed = Segment(12, 1, 50, 0, 0, /*with_index=*/true);
  const uint64_t index_file = store_->Head(indexed.index_files.begin()->second)->size;
  ASSERT_GT(index_file, 0u);
  EXPECT_EQ(EstimateLoadedSize(indexed, *store_), binlogs + 50 * 64 + index_file);
  // For a segment already served, only index files it does not serve yet count.
  const ServedIndexes none;
  EXPECT_EQ(EstimateLoadedSize(indexed, *store_, &none), index_file);
  const ServedIndexes all{{indexed.index_files.begin()->first, indexed.index_files.begin()->second}};
  EXPECT_EQ(EstimateLoadedSize(indexed, *store_, &all), 0u);
}

TEST_F(MemoryLimitTest, ALoadThatDoesNotFitIsRefusedAndSaysWhy) {
  const auto info = MakeCollection();
  const coord::SegmentInfo a = Segment(11, 1, 40, 0, 0);
  const coord::SegmentInfo b = Segment(12, 41, 40, 0, 0);
  const uint64_t needed = EstimateLoadedSize(a, *store_) + EstimateLoadedSize(b, *store_);
  SetFree(needed - 1);
  Status refused = node_->LoadCollection(info, {a, b}, {});
  ASSERT_EQ(refused.code(), StatusCode::kResourceExhausted) << refused.ToString();
  EXPECT_THAT(refused.message(), AllOf(HasSubstr("2 sealed segments of collection " + std::to_string(info.id)),
                                       HasSubstr("querynode.memory_limit")));
  EXPECT_FALSE(node_->IsLoaded(info.id));
  EXPECT_EQ(node_->NumSealedSegments(info.id), 0u);
  // Searches say the collection is not loaded, and why.
  auto search = node_->Search(Near(0));
  ASSERT_EQ(search.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(search.status().message(),
              AllOf(HasSubstr("collection not loaded"), HasSubstr("its last load failed"), HasSubstr("not enough memory")));

  SetFree(needed);
  Load(info, {a, b});
  EXPECT_EQ(node_->NumSealedSegments(info.id), 2u);
  EXPECT_EQ(SearchIds(Near(0, 3)), (std::vector<int64_t>{1, 2, 3}));
  // A release forgets the failure too.
  ASSERT_TRUE(node_->ReleaseCollection(info.id).ok());
  EXPECT_THAT(node_->Search(Near(0)).status().message(), ::testing::Not(HasSubstr("last load failed")));
}

TEST_F(MemoryLimitTest, ARefusedHandoffKeepsServingTheGrowingRows) {
  const auto info = MakeCollection();
  const uint64_t first = Insert(info, {Row(1, 1), Row(2, 2)}, 100);
  const uint64_t last = Insert(info, {Row(3, 3)}, 101);
  SetFree(kLimit);
  Load(info);
  ASSERT_EQ(node_->NumGrowingRows(info.id), 3u);

  const coord::SegmentInfo sealed = Segment(21, 1, 3, first, last + 1);
  SetFree(EstimateLoadedSize(sealed, *store_) - 1);
  Status refused = node_->AddSegment(sealed);
  EXPECT_EQ(refused.code(), StatusCode::kResourceExhausted) << refused.ToString();
  EXPECT_THAT(refused.message(), HasSubstr("segment 21 of collection"));
  EXPECT_EQ(node_->NumSealedSegments(info.id), 0u);
  EXPECT_EQ(node_->NumGrowingRows(info.id), 3u);
  EXPECT_THAT(SearchIds(Near(0)), ElementsAre(1, 2, 3));

  SetFree(EstimateLoadedSize(sealed, *store_));
  ASSERT_TRUE(node_->AddSegment(sealed).ok());
  EXPECT_EQ(node_->NumSealedSegments(info.id), 1u);
  EXPECT_EQ(node_->NumGrowingRows(info.id), 0u);
  EXPECT_THAT(SearchIds(Near(0)), ElementsAre(1, 2, 3));
}

TEST_F(MemoryLimitTest, ARefusedIndexLeavesTheSegmentSearchedExactly) {
  const auto info = MakeCollection(1, true, "HNSW");
  const coord::SegmentInfo plain = Segment(31, 1, 30, 0, 0);
  SetFree(kLimit);
  Load(info, {plain});

  coord::SegmentInfo indexed = Segment(31, 1, 30, 0, 0, /*with_index=*/true);  // same rows, plus an index file
  const ServedIndexes served;
  const uint64_t index_size = EstimateLoadedSize(indexed, *store_, &served);
  SetFree(index_size - 1);
  Status refused = node_->AddSegment(indexed);
  EXPECT_EQ(refused.code(), StatusCode::kResourceExhausted) << refused.ToString();
  EXPECT_THAT(refused.message(), HasSubstr("the index of segment 31"));
  EXPECT_TRUE(node_->SealedSegments(info.id).at(0).indexes.empty() ||
              node_->SealedSegments(info.id).at(0).indexes.begin()->second.first == "FLAT");
  EXPECT_EQ(SearchIds(Near(0, 2)), (std::vector<int64_t>{1, 2}));

  SetFree(index_size);
  ASSERT_TRUE(node_->AddSegment(indexed).ok());
  EXPECT_EQ(node_->SealedSegments(info.id).at(0).indexes.begin()->second.first, "HNSW");
  EXPECT_EQ(SearchIds(Near(0, 2)), (std::vector<int64_t>{1, 2}));
}

}  // namespace
}  // namespace tessera::querynode
