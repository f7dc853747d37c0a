#include "segment/bloom_filter.h"

#include <string>

#include <gtest/gtest.h>

namespace tessera::segment {
namespace {

TEST(BloomFilter, Sizing) {
  auto f = BloomFilter::ForCapacity(10000, 0.01);
  // m = ceil(10000 * ln(100) / ln(2)^2) = 95851 bits -> 1498 words; k = round(9.585 * ln 2) = 7.
  EXPECT_EQ(f.num_bits(), 1498u * 64);
  EXPECT_EQ(f.num_hashes(), 7u);
  EXPECT_EQ(BloomFilter::ForCapacity(0).num_bits(), 64u);
  EXPECT_GE(BloomFilter::ForCapacity(0).num_hashes(), 1u);
}

TEST(BloomFilter, IntKeysNoFalseNegativesAndRateNearTarget) {
  for (double target : {0.01, 0.001}) {
    constexpr int64_t kItems = 20000;
    auto f = BloomFilter::ForCapacity(kItems, target);
    for (int64_t i = 0; i < kItems; ++i) f.Add(i * 2);  // even keys
    for (int64_t i = 0; i < kItems; ++i) ASSERT_TRUE(f.MightContain(i * 2)) << i;
    int false_positives = 0;
    constexpr int kProbes = 200000;
    for (int64_t i = 0; i < kProbes; ++i) false_positives += f.MightContain(i * 2 + 1);  // odd keys
    const double rate = static_cast<double>(false_positives) / kProbes;
    EXPECT_GT(rate, target * 0.5) << target;
    EXPECT_LT(rate, target * 1.5) << target;
  }
}

TEST(BloomFilter, StringKeysNoFalseNegativesAndRateNearTarget) {
  constexpr int kItems = 10000;
  auto f = BloomFilter::ForCapacity(kItems);
  for (int i = 0; i < kItems; ++i) f.Add("key-" + std::to_string(i));
  for (int i = 0; i < kItems; ++i) ASSERT_TRUE(f.MightContain("key-" + std::to_string(i)));
  int false_positives = 0;
  constexpr int kProbes = 100000;
  for (int i = 0; i < kProbes; ++i) false_positives += f.MightContain("other-" + std::to_string(i));
  const double rate = static_cast<double>(false_positives) / kProbes;
  EXPECT_GT(rate, 0.005);
  EXPECT_LT(rate, 0.015);
}

TEST(BloomFilter, FromWordsValidates) {
  EXPECT_FALSE(BloomFilter::FromWords(0, {0}).ok());
  EXPECT_FALSE(BloomFilter::FromWords(31, {0}).ok());
  EXPECT_FALSE(BloomFilter::FromWords(3, {}).ok());
  auto f = BloomFilter::ForCapacity(100);
  f.Add(int64_t{42});
  auto copy = BloomFilter::FromWords(f.num_hashes(), f.words());
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(*copy, f);
  EXPECT_TRUE(copy->MightContain(int64_t{42}));
}

}  // namespace
}  // namespace tessera::segment
