#include "index/ivf/faiss_ivf_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/crc32c.h"
#include "common/thread_pool.h"
#include "core/bitset.h"
#include "bench/dataset.h"
#include "index_test_util.h"
#include "index/index.h"

namespace tessera::index {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using nlohmann::json;

const std::string kSiftDir = tessera::testing::DatasetDir("sift5k-128-euclidean");

// sift5k: 5000 base rows, 100 queries, 100 true L2 neighbours per query; loaded once.
class IvfTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto base = bench::ReadFvecs(kSiftDir + "/sift5k_base.fvecs");
    auto queries = bench::ReadFvecs(kSiftDir + "/sift5k_query.fvecs");
    auto truth = bench::ReadIvecs(kSiftDir + "/sift5k_groundtruth_l2_top100.ivecs");
    for (const Status& s : {base.status(), queries.status(), truth.status()}) {
      if (!s.ok()) {
        load_error_ = s.ToString();  // reported by SetUp, so every test fails
        return;
      }
    }
    base_ = new bench::Matrix<float>(std::move(base).value());
    queries_ = new bench::Matrix<float>(std::move(queries).value());
    truth_ = new bench::Matrix<int32_t>(std::move(truth).value());
  }
  // A missing dataset must fail every test, not skip it (gtest reports tests of a suite
  // whose SetUpTestSuite failed as skipped).
  void SetUp() override {
    ASSERT_NE(base_, nullptr) << "sift5k dataset not loaded: " << load_error_;
  }
  static void TearDownTestSuite() {
    delete base_;
    delete queries_;
    delete truth_;
  }

  static std::unique_ptr<Index> MustBuild(IndexType type, MetricType metric, json params,
                                          size_t rows = 0, ThreadPool* pool = nullptr) {
    auto created = CreateIndex(type, metric, base_->dim, params);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    if (!created.ok()) return nullptr;
    std::unique_ptr<Index> index = std::move(created).value();
    const Status built = index->Build(base_->values.data(), rows == 0 ? base_->rows : rows, pool);
    EXPECT_TRUE(built.ok()) << built.ToString();
    return index;
  }

  static Result<SearchResult> Search(const Index& index, json params, size_t k = 10,
                                     const core::Bitset* skip = nullptr,
                                     ThreadPool* pool = nullptr) {
    SearchRequest request;
    request.queries = queries_->values.data();
    request.num_queries = queries_->rows;
    request.k = k;
    request.params = std::move(params);
    request.skip = skip;
    request.pool = pool;
    return index.Search(request);
  }

  static SearchResult MustSearch(const Index& index, json params, size_t k = 10,
                                 const core::Bitset* skip = nullptr, ThreadPool* pool = nullptr) {
    auto result = Search(index, std::move(params), k, skip, pool);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? std::move(result).value() : SearchResult{};
  }

  // Recall@k of `result` against the dataset's ground truth.
  static double RecallVsTruth(const SearchResult& result, size_t k) {
    size_t hits = 0;
    for (size_t q = 0; q < result.num_queries; ++q) {
      const std::set<int64_t> truth(truth_->row(q), truth_->row(q) + k);
      for (size_t r = 0; r < k; ++r) hits += truth.count(result.id(q, r));
    }
    return static_cast<double>(hits) / static_cast<double>(result.num_queries * k);
  }

  // Recall@k of `result` against an exact result (FLAT), ignoring empty slots of the truth.
  static double RecallVsExact(const SearchResult& result, const SearchResult& exact) {
    size_t hits = 0, total = 0;
    for (size_t q = 0; q < exact.num_queries; ++q) {
      std::set<int64_t> truth;
      for (size_t r = 0; r < exact.k; ++r) {
        if (exact.id(q, r) >= 0) truth.insert(exact.id(q, r));
      }
      total += truth.size();
      for (size_t r = 0; r < result.k; ++r) hits += truth.count(result.id(q, r));
    }
    return total == 0 ? 1.0 : static_cast<double>(hits) / static_cast<double>(total);
  }

  static SearchResult Exact(MetricType metric, const core::Bitset* skip = nullptr, size_t k = 10) {
    auto flat = MustBuild(IndexType::kFlat, metric, json::object());
    return MustSearch(*flat, json::object(), k, skip);
  }

  // Results are sorted best first for the metric.
  static void ExpectSorted(const SearchResult& result, MetricType metric) {
    for (size_t q = 0; q < result.num_queries; ++q) {
      for (size_t r = 1; r < result.k; ++r) {
        if (result.id(q, r) < 0) continue;
        if (metric == MetricType::kL2) {
          EXPECT_LE(result.distance(q, r - 1), result.distance(q, r));
        } else {
          EXPECT_GE(result.distance(q, r - 1), result.distance(q, r));
        }
      }
    }
  }

  static Status CreateError(IndexType type, json params) {
    auto created = CreateIndex(type, MetricType::kL2, 128, params);
    return created.ok() ? Status::OK() : created.status();
  }

  static std::string load_error_;
  static bench::Matrix<float>* base_;
  static bench::Matrix<float>* queries_;
  static bench::Matrix<int32_t>* truth_;
};

std::string IvfTest::load_error_;
bench::Matrix<float>* IvfTest::base_ = nullptr;
bench::Matrix<float>* IvfTest::queries_ = nullptr;
bench::Matrix<int32_t>* IvfTest::truth_ = nullptr;

TEST_F(IvfTest, IvfFlatRecallAndExactDistances) {
  auto index = MustBuild(IndexType::kIvfFlat, MetricType::kL2, {{"nlist", 64}});
  EXPECT_EQ(index->size(), 5000u);
  const SearchResult result = MustSearch(*index, {{"nprobe", 32}});
  EXPECT_GE(RecallVsTruth(result, 10), 0.95);
  ExpectSorted(result, MetricType::kL2);
  // IVF_FLAT stores raw vectors: distances are exact squared L2.
  auto truth_dist = bench::ReadFvecs(kSiftDir + "/sift5k_groundtruth_l2_top100_sqdist.fvecs");
  ASSERT_TRUE(truth_dist.ok());
  for (size_t q = 0; q < result.num_queries; ++q) {
    if (result.id(q, 0) == truth_->row(q)[0]) {
      EXPECT_NEAR(result.distance(q, 0), truth_dist->row(q)[0], 1e-3 * (1 + truth_dist->row(q)[0]));
    }
  }
  EXPECT_GT(result.stats.distances_computed, 100u * 64);
  EXPECT_GT(result.stats.nodes_visited, 0u);
  EXPECT_GT(index->MemoryUsage(), 5000u * 128 * sizeof(float));
}

TEST_F(IvfTest, BuildIsDeterministicAndPoolSearchMatches) {
  auto a = MustBuild(IndexType::kIvfFlat, MetricType::kL2, {{"nlist", 64}});
  auto b = MustBuild(IndexType::kIvfFlat, MetricType::kL2, {{"nlist", 64}});
  const SearchResult ra = MustSearch(*a, {{"nprobe", 4}});
  const SearchResult rb = MustSearch(*b, {{"nprobe", 4}});
  EXPECT_EQ(ra.ids, rb.ids);
  EXPECT_EQ(ra.distances, rb.distances);
  ThreadPool pool(2);
  const SearchResult rp = MustSearch(*a, {{"nprobe", 4}}, 10, nullptr, &pool);
  EXPECT_EQ(ra.ids, rp.ids);
  EXPECT_EQ(ra.distances, rp.distances);
  EXPECT_EQ(ra.stats.distances_computed, rp.stats.distances_computed);
}

TEST_F(IvfTest, ConcurrentSearchesAgree) {
  auto index = MustBuild(IndexType::kIvfSq8, MetricType::kL2, {{"nlist", 32}});
  const SearchResult expected = MustSearch(*index, {{"nprobe", 8}});
  std::vector<SearchResult> results(4);
  std::vector<std::thread> threads;
  for (auto& r : results) {
    threads.emplace_back([&] { r = MustSearch(*index, {{"nprobe", 8}}); });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) EXPECT_EQ(r.ids, expected.ids);
}

TEST_F(IvfTest, IvfSq8Recall) {
  auto index = MustBuild(IndexType::kIvfSq8, MetricType::kL2, {{"nlist", 64}});
  const SearchResult result = MustSearch(*index, {{"nprobe", 32}});
  EXPECT_GE(RecallVsTruth(result, 10), 0.9);
  ExpectSorted(result, MetricType::kL2);
  EXPECT_LT(index->MemoryUsage(), 5000u * 128 * sizeof(float));  // codes are 1 byte per dim
}

TEST_F(IvfTest, IvfPqRecallAndDefaultM) {
  auto index = MustBuild(IndexType::kIvfPq, MetricType::kL2, {{"nlist", 64}, {"m", 16}, {"nbits", 8}});
  const SearchResult result = MustSearch(*index, {{"nprobe", 32}});
  EXPECT_GT(RecallVsTruth(result, 10), 0.5);
  ExpectSorted(result, MetricType::kL2);

  auto created = CreateIndex(IndexType::kIvfPq, MetricType::kL2, 128, json::object());
  ASSERT_TRUE(created.ok());
  EXPECT_EQ((*created)->build_params().at("m"), 32);  // m 0 resolved by DefaultPqM
  EXPECT_TRUE(CreateIndex(IndexType::kIvfPq, MetricType::kL2, 128, {{"m", 0}}).ok());
}

TEST(DefaultPqMTest, PicksADivisorWithShortSubvectors) {
  EXPECT_EQ(DefaultPqM(128), 32u);
  EXPECT_EQ(DefaultPqM(960), 240u);
  EXPECT_EQ(DefaultPqM(100), 25u);
  EXPECT_EQ(DefaultPqM(127), 127u);  // prime: sub-vectors of 1 dimension
  EXPECT_EQ(DefaultPqM(134), 67u);   // 2 * 67: 2 dims each rather than 67
  EXPECT_EQ(DefaultPqM(2), 1u);
  EXPECT_EQ(DefaultPqM(1), 1u);
  for (size_t dim = 1; dim <= 2048; ++dim) {
    const size_t m = DefaultPqM(dim);
    ASSERT_EQ(dim % m, 0u) << dim;
    ASSERT_LE(dim / m, 16u) << dim;
  }
}

TEST_F(IvfTest, SkipBitsetIsHonoured) {
  core::Bitset skip(base_->rows);
  for (size_t i = 0; i < base_->rows; i += 2) skip.Set(i);  // skip every even row
  const SearchResult exact = Exact(MetricType::kL2, &skip);
  for (IndexType type : {IndexType::kIvfFlat, IndexType::kIvfSq8, IndexType::kIvfPq}) {
    SCOPED_TRACE(std::string(IndexTypeName(type)));
    json params = {{"nlist", 64}};
    if (type == IndexType::kIvfPq) params["m"] = 16;
    auto index = MustBuild(type, MetricType::kL2, params);
    const SearchResult result = MustSearch(*index, {{"nprobe", 48}}, 10, &skip);
    for (int64_t id : result.ids) {
      ASSERT_GE(id, 0);
      ASSERT_FALSE(skip.Test(static_cast<size_t>(id))) << "skipped row " << id << " returned";
    }
    EXPECT_GE(RecallVsExact(result, exact), type == IndexType::kIvfPq ? 0.5 : 0.9);

    core::Bitset all(base_->rows, true);
    const SearchResult none = MustSearch(*index, {{"nprobe", 64}}, 10, &all);
    for (size_t i = 0; i < none.ids.size(); ++i) {
      EXPECT_EQ(none.ids[i], -1);
      EXPECT_EQ(none.distances[i], std::numeric_limits<float>::infinity());
    }
  }
}

TEST_F(IvfTest, InnerProductAndCosine) {
  for (MetricType metric : {MetricType::kIP, MetricType::kCosine}) {
    SCOPED_TRACE(std::string(MetricTypeName(metric)));
    auto index = MustBuild(IndexType::kIvfFlat, metric, {{"nlist", 64}});
    const SearchResult result = MustSearch(*index, {{"nprobe", 32}});
    ExpectSorted(result, metric);
    EXPECT_GE(RecallVsExact(result, Exact(metric)), 0.9);
    if (metric == MetricType::kCosine) {
      for (float d : result.distances) {
        EXPECT_GE(d, -1.0f);
        EXPECT_LE(d, 1.0f);
      }
      EXPECT_GT(result.distance(0, 0), 0.5f);  // SIFT vectors are non-negative
    }
  }
  auto sq = MustBuild(IndexType::kIvfSq8, MetricType::kCosine, {{"nlist", 64}});
  for (float d : MustSearch(*sq, {{"nprobe", 32}}).distances) {
    EXPECT_GE(d, -1.0f);
    EXPECT_LE(d, 1.0f);
  }
}

TEST_F(IvfTest, SerializeRoundTripGivesIdenticalResults) {
  for (IndexType type : {IndexType::kIvfFlat, IndexType::kIvfSq8, IndexType::kIvfPq}) {
    SCOPED_TRACE(std::string(IndexTypeName(type)));
    json params = {{"nlist", 32}};
    if (type == IndexType::kIvfPq) params["m"] = 16;
    auto index = MustBuild(type, MetricType::kCosine, params);
    auto blob = index->Serialize();
    ASSERT_TRUE(blob.ok()) << blob.status().ToString();
    auto loaded = LoadIndex(*blob);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ((*loaded)->type(), type);
    EXPECT_EQ((*loaded)->metric(), MetricType::kCosine);
    EXPECT_EQ((*loaded)->size(), index->size());
    EXPECT_EQ((*loaded)->build_params(), index->build_params());
    EXPECT_EQ((*loaded)->MemoryUsage(), index->MemoryUsage());
    const SearchResult before = MustSearch(*index, {{"nprobe", 8}});
    const SearchResult after = MustSearch(**loaded, {{"nprobe", 8}});
    EXPECT_EQ(before.ids, after.ids);
    EXPECT_EQ(before.distances, after.distances);
  }
  // An index that was never built round-trips too.
  auto empty = CreateIndex(IndexType::kIvfFlat, MetricType::kL2, 8, json::object());
  ASSERT_TRUE(empty.ok());
  auto blob = (*empty)->Serialize();
  ASSERT_TRUE(blob.ok());
  auto loaded = LoadIndex(*blob);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->size(), 0u);
}

TEST_F(IvfTest, DamagedBlobsAreDataLoss) {
  auto index = MustBuild(IndexType::kIvfPq, MetricType::kL2, {{"nlist", 16}, {"m", 8}}, 1000);
  auto blob_or = index->Serialize();
  ASSERT_TRUE(blob_or.ok());
  const std::vector<uint8_t> blob = std::move(blob_or).value();

  for (size_t len : {size_t{0}, size_t{10}, size_t{27}, size_t{60}, blob.size() / 2, blob.size() - 5,
                     blob.size() - 1}) {
    auto loaded = LoadIndex(std::span<const uint8_t>(blob.data(), len));
    EXPECT_EQ(loaded.status().code(), StatusCode::kDataLoss) << "length " << len;
  }
  for (size_t pos : {size_t{0}, size_t{30}, blob.size() / 3, blob.size() - 2}) {
    std::vector<uint8_t> flipped = blob;
    flipped[pos] ^= 0x10;
    EXPECT_EQ(LoadIndex(flipped).status().code(), StatusCode::kDataLoss) << "flip at " << pos;
  }

  // Damage inside the FAISS bytes behind a valid checksum (a bug, or a forged blob): FAISS
  // must not crash us, and whatever it reads is checked. Each case re-seals the CRC.
  auto reseal = [](std::vector<uint8_t> b) {
    const uint32_t crc = crc32c::Value(b.data(), b.size() - 4);
    std::memcpy(b.data() + b.size() - 4, &crc, 4);
    return b;
  };
  // Locate the FAISS bytes: header (24) + params string + u64 length.
  uint64_t params_len = 0;
  std::memcpy(&params_len, blob.data() + 24, 8);
  const size_t faiss_begin = 24 + 8 + params_len + 8;
  const size_t faiss_end = blob.size() - 4;
  ASSERT_LT(faiss_begin, faiss_end);
  {
    std::vector<uint8_t> bad = blob;
    bad[faiss_begin] ^= 0xFF;  // the FAISS fourcc
    auto loaded = LoadIndex(reseal(bad));
    EXPECT_EQ(loaded.status().code(), StatusCode::kDataLoss);
    EXPECT_THAT(loaded.status().message(), HasSubstr("FAISS"));
  }
  size_t rejected = 0, tried = 0;
  // Every byte of the headers at the front (IVF header, quantizer header and the length of
  // its centroid table), then a sample of the centroids.
  for (size_t pos = faiss_begin; pos < std::min(faiss_end, faiss_begin + 8192);
       pos += (pos < faiss_begin + 160 ? 1 : 37)) {
    std::vector<uint8_t> bad = blob;
    bad[pos] ^= 0xFF;
    auto loaded = LoadIndex(reseal(bad));
    ++tried;
    if (!loaded.ok()) {
      EXPECT_EQ(loaded.status().code(), StatusCode::kDataLoss) << "flip at " << pos;
      ++rejected;
    } else {
      // Damage FAISS cannot detect (a centroid or code byte) still searches safely.
      auto result = Search(**loaded, {{"nprobe", 16}}, 5);
      EXPECT_TRUE(result.ok()) << result.status().ToString();
    }
  }
  EXPECT_GT(rejected, 0u) << "of " << tried;
  // Shortened FAISS bytes with a consistent length prefix.
  {
    std::vector<uint8_t> cut(blob.begin(), blob.begin() + static_cast<std::ptrdiff_t>(faiss_begin));
    const uint64_t new_len = (faiss_end - faiss_begin) / 2;
    std::memcpy(cut.data() + faiss_begin - 8, &new_len, 8);
    cut.insert(cut.end(), blob.begin() + static_cast<std::ptrdiff_t>(faiss_begin),
               blob.begin() + static_cast<std::ptrdiff_t>(faiss_begin + new_len));
    cut.resize(cut.size() + 4);
    EXPECT_EQ(LoadIndex(reseal(cut)).status().code(), StatusCode::kDataLoss);
  }
}

TEST_F(IvfTest, ParameterErrorsNameTheParameter) {
  auto expect_invalid = [](const Status& s, std::vector<std::string> words) {
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    for (const auto& w : words) EXPECT_THAT(s.message(), HasSubstr(w));
  };
  expect_invalid(CreateError(IndexType::kIvfFlat, {{"nlist", 0}}), {"'nlist'", "[1, 65536]"});
  expect_invalid(CreateError(IndexType::kIvfSq8, {{"nlist", 65537}}), {"'nlist'"});
  expect_invalid(CreateError(IndexType::kIvfFlat, {{"nlist", "many"}}), {"'nlist'", "integer"});
  expect_invalid(CreateError(IndexType::kIvfFlat, {{"nlist", 1.5}}), {"'nlist'", "integer"});
  expect_invalid(CreateError(IndexType::kIvfFlat, {{"nlsit", 8}}), {"'nlsit'", "nlist"});
  expect_invalid(CreateError(IndexType::kIvfFlat, {{"m", 8}}), {"'m'"});  // not an IVF_FLAT param
  expect_invalid(CreateError(IndexType::kIvfPq, {{"m", 7}}), {"'m'", "7", "128"});
  expect_invalid(CreateError(IndexType::kIvfPq, {{"m", 256}}), {"'m'", "128"});
  expect_invalid(CreateError(IndexType::kIvfPq, {{"nbits", 0}}), {"'nbits'"});
  expect_invalid(CreateError(IndexType::kIvfPq, {{"nbits", 17}}), {"'nbits'"});

  auto index = MustBuild(IndexType::kIvfFlat, MetricType::kL2, {{"nlist", 16}}, 1000);
  expect_invalid(Search(*index, {{"nprobe", 17}}).status(), {"'nprobe'", "17", "nlist = 16"});
  expect_invalid(Search(*index, {{"nprobe", 0}}).status(), {"'nprobe'"});
  expect_invalid(Search(*index, {{"nprobe", "x"}}).status(), {"'nprobe'", "integer"});
  expect_invalid(Search(*index, {{"ef", 10}}).status(), {"'ef'", "nprobe"});
  EXPECT_TRUE(Search(*index, {{"nprobe", "16"}}).ok());
  // The default nprobe (8) is clamped to a smaller nlist: no parameter, no error.
  auto small = MustBuild(IndexType::kIvfFlat, MetricType::kL2, {{"nlist", 4}}, 1000);
  EXPECT_TRUE(Search(*small, nlohmann::json::object()).ok());
  expect_invalid(Search(*small, {{"nprobe", 8}}).status(), {"'nprobe'", "nlist = 4"});
}

TEST_F(IvfTest, RowCountEdgeCases) {
  // IVF_PQ cannot train 2^nbits codewords from fewer rows.
  auto pq = CreateIndex(IndexType::kIvfPq, MetricType::kL2, 128, {{"nlist", 4}, {"m", 16}});
  ASSERT_TRUE(pq.ok());
  const Status few = (*pq)->Build(base_->values.data(), 100, nullptr);
  EXPECT_EQ(few.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(few.message(), AllOf(HasSubstr("256 rows"), HasSubstr("got 100"), HasSubstr("nbits")));
  EXPECT_EQ((*pq)->size(), 0u);

  auto flat = CreateIndex(IndexType::kIvfFlat, MetricType::kL2, 128, {{"nlist", 64}});
  ASSERT_TRUE(flat.ok());
  EXPECT_EQ((*flat)->Build(base_->values.data(), 0, nullptr).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*flat)->Add(base_->values.data(), 10, nullptr).code(), StatusCode::kFailedPrecondition);
  // Searching an index that was never built finds nothing.
  EXPECT_EQ(MustSearch(**flat, {{"nprobe", 8}}).id(0, 0), -1);

  // Fewer rows than nlist: nlist is clamped to the rows; nprobe is still checked against
  // the requested nlist and every list is visited, so the search is exact.
  ASSERT_TRUE((*flat)->Build(base_->values.data(), 20, nullptr).ok());
  EXPECT_EQ((*flat)->build_params().at("nlist"), 64);
  SearchRequest request;
  request.queries = base_->values.data();
  request.num_queries = 20;
  request.k = 1;
  request.params = {{"nprobe", 64}};
  auto self = (*flat)->Search(request);
  ASSERT_TRUE(self.ok()) << self.status().ToString();
  for (size_t i = 0; i < 20; ++i) EXPECT_EQ(self->id(i, 0), static_cast<int64_t>(i));
  EXPECT_EQ((*flat)->Build(base_->values.data(), 20, nullptr).code(), StatusCode::kFailedPrecondition);

  // Add appends rows with the next numbers.
  ASSERT_TRUE((*flat)->Add(base_->row(100), 5, nullptr).ok());
  EXPECT_EQ((*flat)->size(), 25u);
  request.queries = base_->row(100);
  request.num_queries = 5;
  self = (*flat)->Search(request);
  ASSERT_TRUE(self.ok());
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(self->id(i, 0), static_cast<int64_t>(20 + i));

  // Non-finite input is rejected before FAISS sees it.
  std::vector<float> nan_rows(base_->row(0), base_->row(0) + 2 * 128);
  nan_rows[130] = std::numeric_limits<float>::quiet_NaN();
  auto other = CreateIndex(IndexType::kIvfFlat, MetricType::kL2, 128, {{"nlist", 1}});
  ASSERT_TRUE(other.ok());
  EXPECT_THAT((*other)->Build(nan_rows.data(), 2, nullptr).message(), HasSubstr("row 1 has a NaN"));
}

}  // namespace
}  // namespace tessera::index
