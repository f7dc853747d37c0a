// Tests of the index factory, parameter schema and blob envelope, run against every index
// type that needs no training.
#include "index/index.h"

#include <gtest/gtest.h>

#include <random>

#include "index/params.h"

namespace tessera::index {
namespace {

std::vector<float> RandomRows(size_t n, size_t dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist;
  std::vector<float> v(n * dim);
  for (auto& x : v) x = dist(rng);
  return v;
}

TEST(IndexNames, ParseAndPrint) {
  EXPECT_EQ(*ParseIndexType("hnsw"), IndexType::kHnsw);
  EXPECT_EQ(*ParseIndexType("AUTOINDEX"), IndexType::kHnsw);
  EXPECT_EQ(*ParseIndexType("IVF_PQ"), IndexType::kIvfPq);
  auto bad = ParseIndexType("DISKANN2");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("DISKANN2"), std::string::npos);
  EXPECT_EQ(*ParseMetricType("cosine"), MetricType::kCosine);
  EXPECT_EQ(ParseMetricType("HAMMING").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MetricTypeName(MetricType::kIP), "IP");
}

TEST(Params, DefaultsFilledIn) {
  auto p = ValidateParams(IndexType::kHnsw, ParamPhase::kBuild, nlohmann::json::object());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)["M"], 16);
  EXPECT_EQ((*p)["efConstruction"], 200);
  auto s = ValidateParams(IndexType::kHnsw, ParamPhase::kSearch, nullptr);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)["ef"], 64);
  EXPECT_FALSE(s->contains("M"));
}

TEST(Params, AcceptsIntegerStringsAndWholeFloats) {
  auto p = ValidateParams(IndexType::kHnsw, ParamPhase::kBuild, {{"M", "32"}, {"efConstruction", 100.0}});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)["M"], 32);
  EXPECT_EQ((*p)["efConstruction"], 100);
}

struct ParamError {
  IndexType type;
  ParamPhase phase;
  nlohmann::json params;
  std::string must_mention;
};

TEST(Params, EveryErrorNamesTheParameter) {
  const std::vector<ParamError> cases = {
      {IndexType::kHnsw, ParamPhase::kBuild, {{"M", 1}}, "'M' = 1 is out of range [2, 2048]"},
      {IndexType::kHnsw, ParamPhase::kBuild, {{"M", 4096}}, "'M'"},
      {IndexType::kHnsw, ParamPhase::kBuild, {{"efConstruction", 0}}, "'efConstruction'"},
      {IndexType::kHnsw, ParamPhase::kBuild, {{"sq8", 2}}, "'sq8' = 2 is out of range [0, 1]"},
      {IndexType::kHnsw, ParamPhase::kBuild, {{"M", "sixteen"}}, "'M' must be an integer"},
      {IndexType::kHnsw, ParamPhase::kBuild, {{"M", 16.5}}, "'M' must be an integer"},
      {IndexType::kHnsw, ParamPhase::kBuild, {{"M", true}}, "'M' must be an integer"},
      {IndexType::kHnsw, ParamPhase::kBuild, {{"nlist", 8}}, "unknown build parameter 'nlist'"},
      {IndexType::kHnsw, ParamPhase::kBuild, {{"ef", 8}}, "unknown build parameter 'ef'"},
      {IndexType::kHnsw, ParamPhase::kSearch, {{"ef", 0}}, "'ef'"},
      {IndexType::kHnsw, ParamPhase::kSearch, {{"nprobe", 4}}, "unknown search parameter 'nprobe'"},
      {IndexType::kHnsw, ParamPhase::kSearch, nlohmann::json::array(), "must be a JSON object"},
      {IndexType::kFlat, ParamPhase::kBuild, {{"M", 8}}, "known: none"},
      {IndexType::kIvfFlat, ParamPhase::kBuild, {{"nlist", 0}}, "'nlist'"},
      {IndexType::kIvfFlat, ParamPhase::kBuild, {{"nlist", 70000}}, "'nlist'"},
      {IndexType::kIvfFlat, ParamPhase::kSearch, {{"nprobe", 0}}, "'nprobe'"},
      {IndexType::kIvfPq, ParamPhase::kBuild, {{"nbits", 17}}, "'nbits'"},
      {IndexType::kIvfPq, ParamPhase::kBuild, {{"nbits", 0}}, "'nbits'"},
  };
  for (const auto& c : cases) {
    auto r = ValidateParams(c.type, c.phase, c.params);
    ASSERT_FALSE(r.ok()) << c.params.dump();
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.must_mention), std::string::npos)
        << r.status().message() << " should mention " << c.must_mention;
  }
}

TEST(CreateIndex, RejectsBadDimension) {
  EXPECT_EQ(CreateIndex(IndexType::kFlat, MetricType::kL2, 0, {}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateIndex(IndexType::kHnsw, MetricType::kL2, 40000, {}).status().code(),
            StatusCode::kInvalidArgument);
}

class BlobTest : public ::testing::TestWithParam<IndexType> {
 protected:
  std::vector<uint8_t> BuildBlob() {
    auto index = CreateIndex(GetParam(), MetricType::kL2, 8, {});
    EXPECT_TRUE(index.ok());
    auto rows = RandomRows(60, 8, 3);
    EXPECT_TRUE((*index)->Build(rows.data(), 60, nullptr).ok());
    auto blob = (*index)->Serialize();
    EXPECT_TRUE(blob.ok());
    return *blob;
  }
};

TEST_P(BlobTest, EveryTruncationIsDataLoss) {
  const auto blob = BuildBlob();
  ASSERT_TRUE(LoadIndex(blob).ok());
  for (size_t len = 0; len < blob.size(); ++len) {
    auto r = LoadIndex(std::span<const uint8_t>(blob.data(), len));
    ASSERT_FALSE(r.ok()) << "length " << len;
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();
  }
}

TEST_P(BlobTest, EveryBitFlipIsDataLoss) {
  auto blob = BuildBlob();
  // Flip one bit in each byte (a different bit each time); a CRC32C catches every one.
  for (size_t i = 0; i < blob.size(); ++i) {
    blob[i] ^= static_cast<uint8_t>(1u << (i % 8));
    auto r = LoadIndex(blob);
    ASSERT_FALSE(r.ok()) << "flip at byte " << i;
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
    blob[i] ^= static_cast<uint8_t>(1u << (i % 8));
  }
  EXPECT_TRUE(LoadIndex(blob).ok());
}

TEST_P(BlobTest, RoundTripKeepsResults) {
  auto index = CreateIndex(GetParam(), MetricType::kIP, 16, {});
  ASSERT_TRUE(index.ok());
  auto rows = RandomRows(300, 16, 5);
  ASSERT_TRUE((*index)->Build(rows.data(), 300, nullptr).ok());
  auto blob = (*index)->Serialize();
  ASSERT_TRUE(blob.ok());
  auto loaded = LoadIndex(*blob);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->size(), 300u);
  EXPECT_EQ((*loaded)->metric(), MetricType::kIP);
  EXPECT_EQ((*loaded)->build_params(), (*index)->build_params());
  auto queries = RandomRows(5, 16, 9);
  SearchRequest req{.queries = queries.data(), .num_queries = 5, .k = 7};
  auto a = (*index)->Search(req);
  auto b = (*loaded)->Search(req);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->ids, b->ids);
  EXPECT_EQ(a->distances, b->distances);
  // Serializing the loaded index reproduces the blob byte for byte.
  EXPECT_EQ(*(*loaded)->Serialize(), *blob);
}

INSTANTIATE_TEST_SUITE_P(Untrained, BlobTest, ::testing::Values(IndexType::kFlat, IndexType::kHnsw),
                         [](const auto& info) { return std::string(IndexTypeName(info.param)); });

}  // namespace
}  // namespace tessera::index
