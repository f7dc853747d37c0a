#include "core/simd/distance.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <random>
#include <vector>

namespace tessera::simd {
namespace {

// Every compiled level must match the scalar source of truth on odd dimensions.
class DistanceLevels : public ::testing::TestWithParam<Level> {};

std::vector<float> RandomVector(size_t dim, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(dim);
  for (auto& x : v) x = dist(rng);
  return v;
}

void ExpectClose(float expected, float actual, size_t dim) {
  EXPECT_NEAR(expected, actual, 1e-4f * (1.0f + std::fabs(expected))) << "dim=" << dim;
}

TEST_P(DistanceLevels, MatchesScalarOnOddDimensions) {
  const DistanceFns* fns = ForLevel(GetParam());
  if (fns == nullptr) GTEST_SKIP() << "CPU lacks " << LevelName(GetParam());
  const DistanceFns& ref = internal::kScalarFns;
  std::mt19937 rng(42);
  for (size_t dim : {1, 3, 17, 127, 784, 1536}) {
    auto a = RandomVector(dim, rng), b = RandomVector(dim, rng);
    ExpectClose(ref.l2_sqr(a.data(), b.data(), dim), fns->l2_sqr(a.data(), b.data(), dim), dim);
    ExpectClose(ref.inner_product(a.data(), b.data(), dim),
                fns->inner_product(a.data(), b.data(), dim), dim);
    ExpectClose(ref.cosine(a.data(), b.data(), dim), fns->cosine(a.data(), b.data(), dim), dim);
    // Unaligned start: offset by one float.
    auto c = RandomVector(dim + 1, rng);
    ExpectClose(ref.l2_sqr(a.data(), c.data() + 1, dim), fns->l2_sqr(a.data(), c.data() + 1, dim), dim);
  }
}

TEST_P(DistanceLevels, BatchMatchesSingle) {
  const DistanceFns* fns = ForLevel(GetParam());
  if (fns == nullptr) GTEST_SKIP() << "CPU lacks " << LevelName(GetParam());
  std::mt19937 rng(1);
  for (size_t dim : {3, 17, 784}) {
    const size_t n = 37;
    auto q = RandomVector(dim, rng);
    auto base = RandomVector(n * dim, rng);
    std::vector<float> l2(n), ip(n);
    fns->l2_sqr_batch(q.data(), base.data(), n, dim, l2.data());
    fns->inner_product_batch(q.data(), base.data(), n, dim, ip.data());
    for (size_t i = 0; i < n; ++i) {
      ExpectClose(internal::kScalarFns.l2_sqr(q.data(), base.data() + i * dim, dim), l2[i], dim);
      ExpectClose(internal::kScalarFns.inner_product(q.data(), base.data() + i * dim, dim), ip[i], dim);
    }
  }
}

TEST_P(DistanceLevels, Uint8KernelsMatchScalar) {
  const DistanceFns* fns = ForLevel(GetParam());
  if (fns == nullptr) GTEST_SKIP() << "CPU lacks " << LevelName(GetParam());
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> byte(0, 255);
  for (size_t dim : {1, 3, 17, 63, 64, 65, 127, 784, 1536}) {
    std::vector<uint8_t> a(dim + 1), b(dim);
    for (auto& x : a) x = static_cast<uint8_t>(byte(rng));
    for (auto& x : b) x = static_cast<uint8_t>(byte(rng));
    EXPECT_EQ(internal::kScalarFns.l2_sqr_u8(a.data(), b.data(), dim), fns->l2_sqr_u8(a.data(), b.data(), dim)) << dim;
    EXPECT_EQ(internal::kScalarFns.dot_u8(a.data(), b.data(), dim), fns->dot_u8(a.data(), b.data(), dim)) << dim;
    EXPECT_EQ(internal::kScalarFns.l2_sqr_u8(a.data() + 1, b.data(), dim), fns->l2_sqr_u8(a.data() + 1, b.data(), dim)) << dim;
  }
  // Extremes: every lane at its maximum must not overflow.
  std::vector<uint8_t> zeros(1536, 0), full(1536, 255);
  EXPECT_EQ(fns->l2_sqr_u8(zeros.data(), full.data(), 1536), 1536u * 255u * 255u);
  EXPECT_EQ(fns->dot_u8(full.data(), full.data(), 1536), 1536u * 255u * 255u);
}

TEST_P(DistanceLevels, KnownValues) {
  const DistanceFns* fns = ForLevel(GetParam());
  if (fns == nullptr) GTEST_SKIP();
  const float a[3] = {1, 2, 3}, b[3] = {4, 6, 3}, zero[3] = {0, 0, 0};
  EXPECT_FLOAT_EQ(fns->l2_sqr(a, b, 3), 25.0f);
  EXPECT_FLOAT_EQ(fns->inner_product(a, b, 3), 4 + 12 + 9);
  EXPECT_FLOAT_EQ(fns->cosine(a, a, 3), 1.0f);
  EXPECT_FLOAT_EQ(fns->cosine(a, zero, 3), 0.0f);
}

INSTANTIATE_TEST_SUITE_P(AllLevels, DistanceLevels,
                         ::testing::Values(Level::kScalar, Level::kAvx2, Level::kAvx512, Level::kAvx512Vnni),
                         [](const auto& info) { return std::string(LevelName(info.param)); });

// Run by ctest once without the variable and once with TESSERA_SIMD_LEVEL=scalar and =avx2
// (see CMakeLists.txt), so the override is exercised for real.
TEST(Dispatch, EnvironmentVariableCapsLevel) {
  const char* env = std::getenv("TESSERA_SIMD_LEVEL");
  const std::string want = env != nullptr ? env : "";
  if (want == "scalar") {
    EXPECT_EQ(ActiveLevel(), Level::kScalar);
    EXPECT_EQ(&Active(), &internal::kScalarFns);
  } else if (want == "avx2") {
    EXPECT_EQ(ActiveLevel(), std::min(Level::kAvx2, DetectCpuLevel()));
  } else if (want == "avx512") {
    EXPECT_EQ(ActiveLevel(), std::min(Level::kAvx512, DetectCpuLevel()));
  } else {
    EXPECT_EQ(ActiveLevel(), DetectCpuLevel());
  }
}

TEST(Dispatch, ActiveIsNoHigherThanCpu) {
  EXPECT_LE(ActiveLevel(), DetectCpuLevel());
  EXPECT_NE(ForLevel(Level::kScalar), nullptr);
}

}  // namespace
}  // namespace tessera::simd
