#include "proxy/rerank.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tessera::proxy {
namespace {

querynode::Hit H(int64_t pk, float distance) {
  querynode::Hit h;
  h.pk = pk;
  h.distance = distance;
  h.row = {{"pk", pk}};
  return h;
}

std::vector<int64_t> Keys(const std::vector<querynode::Hit>& hits) {
  std::vector<int64_t> out;
  for (const auto& h : hits) out.push_back(std::get<int64_t>(h.pk));
  return out;
}

TEST(Rerank, RrfSumsReciprocalRanks) {
  querynode::SearchResponse a{{{H(1, 0.9f), H(2, 0.8f), H(3, 0.1f)}}};
  querynode::SearchResponse b{{{H(3, 0.1f), H(2, 0.2f)}}};
  RerankSpec rrf;
  rrf.k = 10;
  auto fused = FuseHits({a, b}, {"IP", "L2"}, rrf, 10, 0);
  ASSERT_EQ(fused.size(), 1u);
  // 3: 1/13 + 1/11 = 0.1678; 2: 1/12 + 1/12 = 0.1667; 1: 1/11.
  EXPECT_EQ(Keys(fused[0]), (std::vector<int64_t>{3, 2, 1}));
  EXPECT_NEAR(fused[0][0].distance, 1.0 / 13 + 1.0 / 11, 1e-6);
  EXPECT_NEAR(fused[0][1].distance, 2.0 / 12, 1e-6);
  EXPECT_NEAR(fused[0][2].distance, 1.0 / 11, 1e-6);
  EXPECT_EQ(Keys(FuseHits({a, b}, {"IP", "L2"}, rrf, 1, 1)[0]), std::vector<int64_t>{2}) << "offset then limit";
}

TEST(Rerank, WeightedWithAndWithoutNormalisation) {
  querynode::SearchResponse cos{{{H(1, 0.9f), H(2, 0.5f)}}};
  querynode::SearchResponse l2{{{H(2, 0.0f), H(1, 4.0f)}}};
  RerankSpec w;
  w.strategy = RerankSpec::Strategy::kWeighted;
  w.weights = {0.5, 0.5};
  w.norm_score = true;
  auto fused = FuseHits({cos, l2}, {"COSINE", "L2"}, w, 10, 0);
  // 1: 0.5*0.95 + 0.5*(1 - 2 atan(4)/pi); 2: 0.5*0.75 + 0.5*1.
  const double one = 0.5 * 0.95 + 0.5 * (1 - 2 * std::atan(4.0) / M_PI);
  EXPECT_EQ(Keys(fused[0]), (std::vector<int64_t>{2, 1}));
  EXPECT_NEAR(fused[0][1].distance, one, 1e-5);
  EXPECT_NEAR(fused[0][0].distance, 0.875, 1e-5);
  w.norm_score = false;
  w.weights = {1, 0};
  EXPECT_EQ(Keys(FuseHits({cos, l2}, {"COSINE", "L2"}, w, 10, 0)[0]), (std::vector<int64_t>{1, 2}));
  w.weights = {0, 1};
  EXPECT_EQ(Keys(FuseHits({cos, l2}, {"COSINE", "L2"}, w, 10, 0)[0]), (std::vector<int64_t>{2, 1}))
      << "raw L2 distances: smaller is better";
  EXPECT_NEAR(NormalizeScore(0, "IP"), 0.5, 1e-9);
}

TEST(Rerank, PerQueryAndRowsOfTheFirstRoute) {
  querynode::SearchResponse a{{{H(1, 1)}, {H(5, 1)}}};
  querynode::SearchResponse b{{{H(1, 1)}, {}}};
  b.hits[0][0].row = {{"pk", 1}, {"from", "b"}};
  RerankSpec rrf;
  auto fused = FuseHits({a, b}, {"IP", "IP"}, rrf, 10, 0);
  ASSERT_EQ(fused.size(), 2u);
  EXPECT_EQ(Keys(fused[0]), std::vector<int64_t>{1});
  EXPECT_FALSE(fused[0][0].row.contains("from"));
  EXPECT_EQ(Keys(fused[1]), std::vector<int64_t>{5});
}

}  // namespace
}  // namespace tessera::proxy
