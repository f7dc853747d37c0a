#include "index/flat/flat_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "common/thread_pool.h"
#include "index_test_util.h"

namespace tessera::index {
namespace {

std::unique_ptr<Index> MakeFlat(MetricType metric, size_t dim) {
  auto index = CreateIndex(IndexType::kFlat, metric, dim, {});
  EXPECT_TRUE(index.ok());
  return std::move(index).value();
}

TEST(FlatIndex, ExactOnSift5k) {
  auto ds = testing::LoadSift5k();
  auto index = MakeFlat(MetricType::kL2, ds.base.dim);
  ASSERT_TRUE(index->Build(ds.base.values.data(), ds.base.rows, nullptr).ok());
  // Few queries: the per-query SIMD path.
  SearchRequest one{.queries = ds.queries.values.data(), .num_queries = 1, .k = 10};
  auto r1 = index->Search(one);
  ASSERT_TRUE(r1.ok());
  for (size_t r = 0; r < 10; ++r) EXPECT_EQ(r1->id(0, r), ds.ground_truth.row(0)[r]);
  // All queries: the BLAS path. Exact ground truth was computed in float64; allow ties.
  SearchRequest all{.queries = ds.queries.values.data(), .num_queries = ds.queries.rows, .k = 10};
  auto r = index->Search(all);
  ASSERT_TRUE(r.ok());
  EXPECT_GE(testing::RecallAtK(*r, ds.ground_truth, 10), 0.999);
  EXPECT_EQ(r->stats.distances_computed, ds.queries.rows * ds.base.rows);
}

TEST(FlatIndex, BlasPathMatchesScanPath) {
  auto ds = testing::LoadSift5k();
  auto index = MakeFlat(MetricType::kL2, ds.base.dim);
  ASSERT_TRUE(index->Build(ds.base.values.data(), ds.base.rows, nullptr).ok());
  const size_t nq = kFlatBlasMinQueries + 3;
  SearchRequest batch{.queries = ds.queries.values.data(), .num_queries = nq, .k = 5};
  auto b = index->Search(batch);
  ASSERT_TRUE(b.ok());
  for (size_t q = 0; q < nq; ++q) {
    SearchRequest single{.queries = ds.queries.row(q), .num_queries = 1, .k = 5};
    auto s = index->Search(single);
    ASSERT_TRUE(s.ok());
    for (size_t r = 0; r < 5; ++r) {
      EXPECT_EQ(b->id(q, r), s->id(0, r)) << "query " << q << " rank " << r;
      EXPECT_NEAR(b->distance(q, r), s->distance(0, r), 1e-3 * s->distance(0, r) + 1e-2);
    }
  }
}

TEST(FlatIndex, SkipBitsetAndShortResults) {
  const size_t dim = 4;
  std::vector<float> rows;
  for (int i = 0; i < 10; ++i) rows.insert(rows.end(), {float(i), 0, 0, 0});
  auto index = MakeFlat(MetricType::kL2, dim);
  ASSERT_TRUE(index->Build(rows.data(), 10, nullptr).ok());
  core::Bitset skip(10, true);
  skip.Clear(7);
  skip.Clear(2);
  const float q[4] = {6, 0, 0, 0};
  SearchRequest req{.queries = q, .num_queries = 1, .k = 4, .skip = &skip};
  auto r = index->Search(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id(0, 0), 7);
  EXPECT_FLOAT_EQ(r->distance(0, 0), 1.0f);
  EXPECT_EQ(r->id(0, 1), 2);
  EXPECT_EQ(r->id(0, 2), -1);
  EXPECT_TRUE(std::isinf(r->distance(0, 3)));
}

// Dense filters go through the block scan, sparse ones (< 25% kept) visit passing rows only;
// both must give the exact filtered answer.
TEST(FlatIndex, FilteredMatchesBruteForce) {
  auto ds = testing::LoadSift5k();
  auto index = MakeFlat(MetricType::kL2, ds.base.dim);
  ASSERT_TRUE(index->Build(ds.base.values.data(), ds.base.rows, nullptr).ok());
  for (size_t keep_every : {2, 10}) {
    core::Bitset skip(ds.base.rows, true);
    for (size_t i = 0; i < ds.base.rows; i += keep_every) skip.Clear(i);
    for (size_t nq : {size_t{1}, kFlatBlasMinQueries}) {
      auto r = index->Search({.queries = ds.queries.values.data(), .num_queries = nq, .k = 10, .skip = &skip});
      ASSERT_TRUE(r.ok());
      for (size_t q = 0; q < nq; ++q) {
        std::vector<std::pair<float, int64_t>> all;
        for (size_t i = 0; i < ds.base.rows; i += keep_every) {
          float d = 0;
          for (size_t j = 0; j < ds.base.dim; ++j) {
            const float diff = ds.queries.row(q)[j] - ds.base.row(i)[j];
            d += diff * diff;
          }
          all.push_back({d, static_cast<int64_t>(i)});
        }
        std::sort(all.begin(), all.end());
        for (size_t rank = 0; rank < 10; ++rank) {
          EXPECT_NEAR(r->distance(q, rank), all[rank].first, 1e-3f * all[rank].first + 1e-2f)
              << "keep 1/" << keep_every << " query " << q << " rank " << rank;
        }
      }
    }
  }
}

TEST(FlatIndex, InnerProductAndCosine) {
  const float rows[] = {1, 0, 0, 2, 3, 3, -1, 0};
  auto ip = MakeFlat(MetricType::kIP, 2);
  ASSERT_TRUE(ip->Build(rows, 4, nullptr).ok());
  const float q[2] = {1, 1};
  auto r = ip->Search({.queries = q, .num_queries = 1, .k = 4});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id(0, 0), 2);  // ip 6
  EXPECT_FLOAT_EQ(r->distance(0, 0), 6.0f);
  EXPECT_EQ(r->id(0, 3), 3);  // ip -1
  auto cos = MakeFlat(MetricType::kCosine, 2);
  ASSERT_TRUE(cos->Build(rows, 4, nullptr).ok());
  auto c = cos->Search({.queries = q, .num_queries = 1, .k = 4});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->id(0, 0), 2);  // same direction
  EXPECT_NEAR(c->distance(0, 0), 1.0f, 1e-6);
  EXPECT_NEAR(c->distance(0, 1), std::sqrt(0.5f), 1e-6);  // ties 0 and 1 broken by id
  EXPECT_EQ(c->id(0, 1), 0);
  EXPECT_NEAR(c->distance(0, 3), -std::sqrt(0.5f), 1e-6);
}

TEST(FlatIndex, RequestErrors) {
  auto index = MakeFlat(MetricType::kL2, 2);
  const float rows[] = {0, 0, 1, 1};
  ASSERT_TRUE(index->Build(rows, 2, nullptr).ok());
  const float q[2] = {0, 0};
  EXPECT_EQ(index->Search({.queries = q, .num_queries = 1, .k = 0}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(index->Search({.queries = q, .num_queries = 1, .k = 16385}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(index->Search({.queries = nullptr, .num_queries = 1, .k = 1}).status().code(),
            StatusCode::kInvalidArgument);
  core::Bitset wrong(5);
  EXPECT_EQ(index->Search({.queries = q, .num_queries = 1, .k = 1, .skip = &wrong}).status().code(),
            StatusCode::kInvalidArgument);
  const float nan_query[2] = {NAN, 0};
  auto r = index->Search({.queries = nan_query, .num_queries = 1, .k = 1});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("NaN"), std::string::npos);
  EXPECT_EQ(index->Build(rows, 2, nullptr).code(), StatusCode::kFailedPrecondition);
}

TEST(FlatIndex, PooledSearchMatchesSerial) {
  auto ds = testing::LoadSift5k();
  auto index = MakeFlat(MetricType::kL2, ds.base.dim);
  ASSERT_TRUE(index->Build(ds.base.values.data(), ds.base.rows, nullptr).ok());
  ThreadPool pool(3);
  SearchRequest req{.queries = ds.queries.values.data(), .num_queries = 8, .k = 10};
  auto serial = index->Search(req);
  req.pool = &pool;
  auto pooled = index->Search(req);
  ASSERT_TRUE(serial.ok() && pooled.ok());
  EXPECT_EQ(serial->ids, pooled->ids);
}

}  // namespace
}  // namespace tessera::index
