#include "core/topk.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace tessera::core {
namespace {

TEST(TopK, KeepsBestK) {
  TopK top(3);
  for (int i = 0; i < 10; ++i) top.Push(i, static_cast<float>(10 - i));
  auto out = top.TakeSorted();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].id, 9);
  EXPECT_EQ(out[1].id, 8);
  EXPECT_EQ(out[2].id, 7);
}

TEST(TopK, TiesBrokenBySmallerId) {
  TopK top(2);
  top.Push(5, 1.0f);
  top.Push(3, 1.0f);
  top.Push(4, 1.0f);
  auto out = top.TakeSorted();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].id, 3);
  EXPECT_EQ(out[1].id, 4);
}

TEST(TopK, FewerThanK) {
  TopK top(10);
  top.Push(1, 2.0f);
  EXPECT_FALSE(top.full());
  EXPECT_EQ(top.TakeSorted().size(), 1u);
  TopK zero(0);
  zero.Push(1, 1.0f);
  EXPECT_EQ(zero.TakeSorted().size(), 0u);
}

TEST(TopK, MatchesFullSortOnRandomInput) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> score(0, 50);  // many ties
  std::vector<Neighbor> all;
  TopK top(25);
  for (int i = 0; i < 1000; ++i) {
    Neighbor n{i, static_cast<float>(score(rng))};
    all.push_back(n);
    top.Push(n.id, n.score);
  }
  std::sort(all.begin(), all.end(), Better);
  auto out = top.TakeSorted();
  ASSERT_EQ(out.size(), 25u);
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].id, all[i].id);
    EXPECT_EQ(out[i].score, all[i].score);
  }
}

TEST(MergeTopK, MergesSortedLists) {
  std::vector<std::vector<Neighbor>> lists = {
      {{1, 0.1f}, {2, 0.5f}, {3, 0.9f}},
      {{10, 0.2f}, {11, 0.5f}},
      {},
      {{20, 0.05f}}};
  auto out = MergeTopK(lists, 4);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].id, 20);
  EXPECT_EQ(out[1].id, 1);
  EXPECT_EQ(out[2].id, 10);
  EXPECT_EQ(out[3].id, 2);  // tie at 0.5 with 11: smaller id first
}

TEST(MergeTopK, DedupKeepsBestScore) {
  std::vector<std::vector<Neighbor>> lists = {{{7, 0.3f}, {8, 0.4f}}, {{7, 0.1f}, {9, 0.2f}}};
  auto out = MergeTopK(lists, 10, /*dedup_ids=*/true);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].id, 7);
  EXPECT_FLOAT_EQ(out[0].score, 0.1f);
  EXPECT_EQ(out[1].id, 9);
  EXPECT_EQ(out[2].id, 8);
}

}  // namespace
}  // namespace tessera::core
