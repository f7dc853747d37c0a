#include "core/bitset.h"

#include <gtest/gtest.h>

namespace tessera::core {
namespace {

TEST(Bitset, SetTestCount) {
  Bitset b(130);
  EXPECT_EQ(b.Count(), 0u);
  b.Set(0);
  b.Set(64);
  b.Set(129);
  EXPECT_TRUE(b.Test(64));
  EXPECT_FALSE(b.Test(65));
  EXPECT_EQ(b.Count(), 3u);
  b.Clear(64);
  EXPECT_EQ(b.Count(), 2u);
}

TEST(Bitset, FlipKeepsPaddingClear) {
  Bitset b(70);
  b.Flip();
  EXPECT_EQ(b.Count(), 70u);
  b.SetAll();
  EXPECT_EQ(b.Count(), 70u);
}

TEST(Bitset, ResizeWithValue) {
  Bitset b(10);
  b.Resize(100, true);
  EXPECT_EQ(b.Count(), 90u);
  EXPECT_FALSE(b.Test(9));
  EXPECT_TRUE(b.Test(10));
  b.Resize(5);
  EXPECT_EQ(b.Count(), 0u);
}

TEST(Bitset, WordOperations) {
  Bitset a(200), b(200);
  for (size_t i = 0; i < 200; i += 2) a.Set(i);
  for (size_t i = 0; i < 200; i += 3) b.Set(i);
  Bitset both = a;
  both &= b;
  EXPECT_EQ(both.Count(), 34u);  // multiples of 6 in [0, 200)
  Bitset either = a;
  either |= b;
  EXPECT_EQ(either.Count(), 100u + 67u - 34u);
  Bitset only_a = a;
  only_a.AndNot(b);
  EXPECT_EQ(only_a.Count(), 100u - 34u);
}

}  // namespace
}  // namespace tessera::core
