#include "index/hnsw/hnsw_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <set>

#include "common/thread_pool.h"
#include "index_test_util.h"

namespace tessera::index {
namespace {

std::unique_ptr<Index> MakeHnsw(MetricType metric, size_t dim, nlohmann::json params = {}) {
  auto index = CreateIndex(IndexType::kHnsw, metric, dim, params);
  EXPECT_TRUE(index.ok()) << index.status().ToString();
  return std::move(index).value();
}

// Exact filtered ground truth by brute force, for the filtered-recall tests.
std::vector<std::vector<int64_t>> FilteredTruth(const bench::Dataset& ds, const core::Bitset& skip,
                                                size_t k) {
  auto flat = CreateIndex(IndexType::kFlat, MetricType::kL2, ds.base.dim, {});
  EXPECT_TRUE((*flat)->Build(ds.base.values.data(), ds.base.rows, nullptr).ok());
  auto r = (*flat)->Search({.queries = ds.queries.values.data(), .num_queries = ds.queries.rows,
                            .k = k, .skip = &skip});
  std::vector<std::vector<int64_t>> out(ds.queries.rows);
  for (size_t q = 0; q < ds.queries.rows; ++q) {
    for (size_t i = 0; i < k; ++i) out[q].push_back(r->id(q, i));
  }
  return out;
}

double FilteredRecall(const SearchResult& r, const std::vector<std::vector<int64_t>>& truth, size_t k) {
  size_t hits = 0, total = 0;
  for (size_t q = 0; q < r.num_queries; ++q) {
    for (size_t i = 0; i < k; ++i) {
      if (truth[q][i] < 0) continue;
      ++total;
      for (size_t j = 0; j < k; ++j) hits += r.id(q, j) == truth[q][i];
    }
  }
  return static_cast<double>(hits) / static_cast<double>(total);
}

// A tiny exact case: points on a line. With ef >= n the walk reaches every node, so the
// result must be the exact order.
TEST(HnswIndex, TinyLineIsExact) {
  std::vector<float> rows;
  for (int i = 0; i < 20; ++i) rows.insert(rows.end(), {float(i), 0.0f});
  auto index = MakeHnsw(MetricType::kL2, 2, {{"M", 2}, {"efConstruction", 20}});
  ASSERT_TRUE(index->Build(rows.data(), 20, nullptr).ok());
  const float q[2] = {7.2f, 0};
  auto r = index->Search({.queries = q, .num_queries = 1, .k = 5, .params = {{"ef", 20}}});
  ASSERT_TRUE(r.ok());
  const int64_t expected[] = {7, 8, 6, 9, 5};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(r->id(0, i), expected[i]);
  EXPECT_NEAR(r->distance(0, 0), 0.04f, 1e-5);
}

// Reads the layer-0 neighbour lists out of a serialized HNSW blob (docs/format/index.md).
std::vector<std::vector<uint32_t>> Layer0Lists(const Index& index) {
  const std::vector<uint8_t> blob = *index.Serialize();
  size_t pos = 24;
  auto read_u64 = [&] {
    uint64_t v;
    std::memcpy(&v, blob.data() + pos, 8);
    pos += 8;
    return v;
  };
  pos += read_u64();            // build params JSON
  const uint64_t m = read_u64();
  pos += 4 + 4;                 // entry point, max level
  const uint64_t n = read_u64();
  pos += n;                     // levels
  EXPECT_EQ(read_u64(), n * (1 + 2 * m));
  std::vector<std::vector<uint32_t>> lists(n);
  for (size_t node = 0; node < n; ++node) {
    // The blob is not 4-byte aligned here: copy instead of casting.
    std::vector<uint32_t> list(1 + 2 * m);
    std::memcpy(list.data(), blob.data() + pos + node * (1 + 2 * m) * 4, list.size() * 4);
    lists[node].assign(list.begin() + 1, list.begin() + 1 + list[0]);
  }
  return lists;
}

// Three points on a line, 0 - 1 ---------- 10: node 2 sees candidates {1, 0}; the heuristic
// drops 0 because 0 is closer to 1 than to 2. So the exact layer-0 graph is 0:{1} 1:{0,2} 2:{1}.
TEST(HnswIndex, ExactTinyGraph) {
  const float rows[] = {0, 0, 1, 0, 10, 0};
  auto index = MakeHnsw(MetricType::kL2, 2, {{"M", 2}, {"efConstruction", 10}});
  ASSERT_TRUE(index->Build(rows, 3, nullptr).ok());
  auto lists = Layer0Lists(*index);
  ASSERT_EQ(lists.size(), 3u);
  EXPECT_EQ(lists[0], (std::vector<uint32_t>{1}));
  EXPECT_EQ(lists[1], (std::vector<uint32_t>{0, 2}));
  EXPECT_EQ(lists[2], (std::vector<uint32_t>{1}));
}

// Structural invariants on a real graph built in parallel: bounded degree, no self links,
// no duplicate links, every id in range. Pruning can leave a node with no in-links on layer 0
// (a known HNSW property); it must stay rare.
TEST(HnswIndex, GraphInvariants) {
  auto ds = testing::LoadSift5k();
  ThreadPool pool(4);
  const size_t m = 8;
  auto index = MakeHnsw(MetricType::kL2, ds.base.dim, {{"M", m}, {"efConstruction", 64}});
  ASSERT_TRUE(index->Build(ds.base.values.data(), 2000, &pool).ok());
  auto lists = Layer0Lists(*index);
  std::vector<bool> linked(lists.size(), false);
  for (size_t node = 0; node < lists.size(); ++node) {
    ASSERT_LE(lists[node].size(), 2 * m);
    ASSERT_FALSE(lists[node].empty()) << "node " << node << " has no links";
    std::set<uint32_t> unique(lists[node].begin(), lists[node].end());
    ASSERT_EQ(unique.size(), lists[node].size()) << "duplicate link at node " << node;
    for (uint32_t nb : lists[node]) {
      ASSERT_LT(nb, lists.size());
      ASSERT_NE(nb, node);
      linked[nb] = true;
    }
  }
  EXPECT_LT(std::count(linked.begin(), linked.end(), false), static_cast<long>(lists.size() / 25));
}

// Many small Adds grow layer 0 geometrically (room for more nodes than it holds): the
// blob must hold exactly the nodes added, load back to the same blob, and search alike.
TEST(HnswIndex, SmallAddsSerializeExactlyTheNodesAdded) {
  auto ds = testing::LoadSift5k();
  const size_t rows = 1500;
  auto index = MakeHnsw(MetricType::kL2, ds.base.dim, {{"M", 8}, {"efConstruction", 64}});
  ASSERT_TRUE(index->Build(ds.base.values.data(), 100, nullptr).ok());
  for (size_t row = 100; row < rows;) {
    const size_t n = std::min<size_t>(7, rows - row);
    ASSERT_TRUE(index->Add(ds.base.row(row), n, nullptr).ok());
    row += n;
  }
  EXPECT_EQ(index->size(), rows);
  EXPECT_EQ(Layer0Lists(*index).size(), rows);
  const std::vector<uint8_t> blob = *index->Serialize();
  auto loaded = LoadIndex(blob);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*(*loaded)->Serialize(), blob);
  const SearchRequest request{.queries = ds.queries.values.data(), .num_queries = 20, .k = 10,
                              .params = {{"ef", 64}}};
  auto a = index->Search(request);
  auto b = (*loaded)->Search(request);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->ids, b->ids);
}

TEST(HnswIndex, SingleAndTwoPoints) {
  auto index = MakeHnsw(MetricType::kL2, 3);
  const float one[3] = {1, 2, 3};
  ASSERT_TRUE(index->Build(one, 1, nullptr).ok());
  auto r = index->Search({.queries = one, .num_queries = 1, .k = 3});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id(0, 0), 0);
  EXPECT_EQ(r->id(0, 1), -1);
  const float two[3] = {1, 2, 4};
  ASSERT_TRUE(index->Add(two, 1, nullptr).ok());
  r = index->Search({.queries = two, .num_queries = 1, .k = 2});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id(0, 0), 1);
  EXPECT_EQ(r->id(0, 1), 0);
}

TEST(HnswIndex, RecallOnSift5k) {
  auto ds = testing::LoadSift5k();
  auto index = MakeHnsw(MetricType::kL2, ds.base.dim, {{"M", 16}, {"efConstruction", 200}});
  ASSERT_TRUE(index->Build(ds.base.values.data(), ds.base.rows, nullptr).ok());
  auto r = index->Search({.queries = ds.queries.values.data(), .num_queries = ds.queries.rows,
                          .k = 10, .params = {{"ef", 200}}});
  ASSERT_TRUE(r.ok());
  const double recall = testing::RecallAtK(*r, ds.ground_truth, 10);
  EXPECT_GE(recall, 0.95);
  EXPECT_GT(r->stats.distances_computed, 0u);
  EXPECT_LT(r->stats.distances_computed, ds.queries.rows * ds.base.rows / 2);  // not a scan
}

// sq8: the graph is built and walked on uint8 codes, results re-ranked with exact floats.
TEST(HnswIndex, Sq8RecallOnSift5k) {
  auto ds = testing::LoadSift5k();
  for (MetricType metric : {MetricType::kL2, MetricType::kIP}) {
    auto exact = MakeHnsw(metric, ds.base.dim);
    auto sq8 = MakeHnsw(metric, ds.base.dim, {{"sq8", 1}});
    ASSERT_TRUE(exact->Build(ds.base.values.data(), ds.base.rows, nullptr).ok());
    ASSERT_TRUE(sq8->Build(ds.base.values.data(), ds.base.rows, nullptr).ok());
    SearchRequest req{.queries = ds.queries.values.data(), .num_queries = ds.queries.rows, .k = 10,
                      .params = {{"ef", 200}}};
    auto a = exact->Search(req);
    auto b = sq8->Search(req);
    ASSERT_TRUE(a.ok() && b.ok());
    if (metric == MetricType::kL2) {
      EXPECT_GE(testing::RecallAtK(*b, ds.ground_truth, 10), 0.95);
    }
    // Re-ranked distances are exact: the best hit of each query agrees with the float index.
    size_t same_best = 0;
    for (size_t q = 0; q < ds.queries.rows; ++q) {
      same_best += a->id(q, 0) == b->id(q, 0);
      if (a->id(q, 0) == b->id(q, 0)) {
        EXPECT_FLOAT_EQ(a->distance(q, 0), b->distance(q, 0));
      }
    }
    EXPECT_GE(same_best, ds.queries.rows * 95 / 100) << MetricTypeName(metric);
    // Round trip: codes are re-derived on load and give identical results.
    auto loaded = LoadIndex(*sq8->Serialize());
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    auto c = (*loaded)->Search(req);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(b->ids, c->ids);
  }
}

TEST(HnswIndex, ParallelBuildKeepsRecall) {
  auto ds = testing::LoadSift5k();
  ThreadPool pool(4);
  auto index = MakeHnsw(MetricType::kL2, ds.base.dim);
  ASSERT_TRUE(index->Build(ds.base.values.data(), ds.base.rows, &pool).ok());
  auto r = index->Search({.queries = ds.queries.values.data(), .num_queries = ds.queries.rows,
                          .k = 10, .params = {{"ef", 200}}, .pool = &pool});
  ASSERT_TRUE(r.ok());
  EXPECT_GE(testing::RecallAtK(*r, ds.ground_truth, 10), 0.95);
}

TEST(HnswIndex, SameSeedSameGraph) {
  auto ds = testing::LoadSift5k();
  auto a = MakeHnsw(MetricType::kL2, ds.base.dim, {{"seed", 7}});
  auto b = MakeHnsw(MetricType::kL2, ds.base.dim, {{"seed", 7}});
  auto c = MakeHnsw(MetricType::kL2, ds.base.dim, {{"seed", 8}});
  const size_t n = 1000;
  ASSERT_TRUE(a->Build(ds.base.values.data(), n, nullptr).ok());
  ASSERT_TRUE(b->Build(ds.base.values.data(), n, nullptr).ok());
  ASSERT_TRUE(c->Build(ds.base.values.data(), n, nullptr).ok());
  EXPECT_EQ(*a->Serialize(), *b->Serialize());
  EXPECT_NE(*a->Serialize(), *c->Serialize());
}

// A filter keeping 10% / 1% of rows: every result passes, and recall against the exact
// filtered answer stays high (the walk goes through rejected nodes; tiny sets are scanned).
TEST(HnswIndex, FilteredSearchKeepsRecall) {
  auto ds = testing::LoadSift5k();
  auto index = MakeHnsw(MetricType::kL2, ds.base.dim);
  ASSERT_TRUE(index->Build(ds.base.values.data(), ds.base.rows, nullptr).ok());
  for (size_t keep_every : {2, 10, 100}) {
    core::Bitset skip(ds.base.rows, true);
    for (size_t i = 0; i < ds.base.rows; i += keep_every) skip.Clear(i);
    auto truth = FilteredTruth(ds, skip, 10);
    auto r = index->Search({.queries = ds.queries.values.data(), .num_queries = ds.queries.rows,
                            .k = 10, .params = {{"ef", 200}}, .skip = &skip});
    ASSERT_TRUE(r.ok());
    for (int64_t id : r->ids) ASSERT_TRUE(id < 0 || !skip.Test(static_cast<size_t>(id)));
    EXPECT_GE(FilteredRecall(*r, truth, 10), 0.95) << "keep 1/" << keep_every;
  }
}

TEST(HnswIndex, FewerPassingRowsThanK) {
  auto ds = testing::LoadSift5k();
  auto index = MakeHnsw(MetricType::kL2, ds.base.dim);
  ASSERT_TRUE(index->Build(ds.base.values.data(), 500, nullptr).ok());
  core::Bitset skip(500, true);
  skip.Clear(3);
  skip.Clear(400);
  auto r = index->Search({.queries = ds.queries.values.data(), .num_queries = 1, .k = 5, .skip = &skip});
  ASSERT_TRUE(r.ok());
  std::vector<int64_t> got = {r->id(0, 0), r->id(0, 1)};
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<int64_t>{3, 400}));
  EXPECT_EQ(r->id(0, 2), -1);
  core::Bitset all(500, true);
  r = index->Search({.queries = ds.queries.values.data(), .num_queries = 1, .k = 5, .skip = &all});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id(0, 0), -1);
}

TEST(HnswIndex, SearchParamErrors) {
  auto index = MakeHnsw(MetricType::kL2, 2);
  const float rows[] = {0, 0, 1, 1};
  ASSERT_TRUE(index->Build(rows, 2, nullptr).ok());
  auto r = index->Search({.queries = rows, .num_queries = 1, .k = 10, .params = {{"ef", 5}}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'ef' = 5 must be >= limit k = 10"), std::string::npos);
  r = index->Search({.queries = rows, .num_queries = 1, .k = 1, .params = {{"nprobe", 5}}});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  const float bad[2] = {INFINITY, 0};
  EXPECT_EQ(index->Add(bad, 1, nullptr).code(), StatusCode::kInvalidArgument);
}

TEST(HnswIndex, CosineFindsSameDirection) {
  auto ds = testing::LoadSift5k();
  auto index = MakeHnsw(MetricType::kCosine, ds.base.dim);
  ASSERT_TRUE(index->Build(ds.base.values.data(), 2000, nullptr).ok());
  std::vector<float> scaled(ds.base.row(42), ds.base.row(42) + ds.base.dim);
  for (auto& x : scaled) x *= 3.5f;
  auto r = index->Search({.queries = scaled.data(), .num_queries = 1, .k = 3});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id(0, 0), 42);
  EXPECT_NEAR(r->distance(0, 0), 1.0f, 1e-5);
  EXPECT_GE(r->distance(0, 0), r->distance(0, 1));
}

}  // namespace
}  // namespace tessera::index
