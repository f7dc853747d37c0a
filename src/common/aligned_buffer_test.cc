#include "common/aligned_buffer.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace tessera {
namespace {

bool AlignedTo(const void* p, size_t alignment) { return reinterpret_cast<uintptr_t>(p) % alignment == 0; }

bool AllZero(const AlignedBuffer<uint32_t>& b, size_t from) {
  for (size_t i = from; i < b.size(); ++i) {
    if (b[i] != 0) return false;
  }
  return true;
}

TEST(AlignedBufferTest, SmallBuffersAreCacheLineAlignedAndZeroed) {
  AlignedBuffer<uint32_t> b(1000);
  EXPECT_TRUE(AlignedTo(b.data(), kVectorAlignment));
  EXPECT_EQ(b.size(), 1000u);
  EXPECT_TRUE(AllZero(b, 0));
}

TEST(AlignedBufferTest, LargeBuffersStartOnAHugePage) {
  AlignedBuffer<uint32_t> b(kHugePageMinBytes / sizeof(uint32_t) + 5);
  EXPECT_TRUE(AlignedTo(b.data(), kHugePageBytes));
  EXPECT_TRUE(AllZero(b, 0));
  b[b.size() - 1] = 7;  // the last element is inside the allocation (ASan checks)
  EXPECT_EQ(b.MemoryUsage(), b.size() * sizeof(uint32_t));
}

TEST(AlignedBufferTest, ResizeKeepsThePrefixAcrossTheHugePageThreshold) {
  AlignedBuffer<uint32_t> b(16);
  for (uint32_t i = 0; i < 16; ++i) b[i] = i + 1;
  b.Resize(kHugePageMinBytes / sizeof(uint32_t));  // small -> large
  ASSERT_TRUE(AlignedTo(b.data(), kHugePageBytes));
  for (uint32_t i = 0; i < 16; ++i) EXPECT_EQ(b[i], i + 1);
  EXPECT_TRUE(AllZero(b, 16));
  b.Resize(8);  // large -> small
  EXPECT_TRUE(AlignedTo(b.data(), kVectorAlignment));
  for (uint32_t i = 0; i < 8; ++i) EXPECT_EQ(b[i], i + 1);
  b.Resize(0);
  EXPECT_EQ(b.data(), nullptr);
}

}  // namespace
}  // namespace tessera
