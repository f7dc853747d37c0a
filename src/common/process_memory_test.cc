#include "common/process_memory.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <memory>

namespace tessera {
namespace {

TEST(ProcessMemoryTest, ResidentSizeGrowsWithTouchedMemory) {
  const uint64_t before = ResidentMemoryBytes();
  ASSERT_GT(before, 0u);
  constexpr size_t kBytes = 64 << 20;
  auto block = std::make_unique<char[]>(kBytes);
  std::memset(block.get(), 1, kBytes);
  const uint64_t after = ResidentMemoryBytes();
  EXPECT_GE(after, before + kBytes / 2) << "before " << before << ", after " << after;
  EXPECT_EQ(block[kBytes - 1], 1);
}

TEST(ProcessMemoryTest, AvailableMemoryIsAtMostThePhysicalMemory) {
  const uint64_t physical = static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t available = MemoryAvailableToProcess();
  EXPECT_GT(available, 0u);
  EXPECT_LE(available, physical);
  EXPECT_GT(available, ResidentMemoryBytes());
}

TEST(ProcessMemoryTest, WatermarkRefusesAboveTheLimit) {
  MemoryWatermark above(1, "querynode.memory_limit");
  Status refused = above.Check();
  EXPECT_EQ(refused.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(refused.message().find("memory quota exceeded"), std::string::npos) << refused.ToString();
  EXPECT_NE(refused.message().find("limit of 1 B (querynode.memory_limit)"), std::string::npos) << refused.ToString();
  EXPECT_TRUE(MemoryWatermark(uint64_t{1} << 50, "x").Check().ok());
  EXPECT_TRUE(MemoryWatermark(0, "x").Check().ok());
}

TEST(ProcessMemoryTest, WatermarkReadsAtMostOncePerInterval) {
  // A limit 32 MiB above the current size: under it now, above it once 64 MiB more is
  // touched. A watermark that read before that keeps its reading for its interval.
  const uint64_t limit = ResidentMemoryBytes() + (32 << 20);
  MemoryWatermark cached(limit, "x", std::chrono::hours(1));
  ASSERT_TRUE(cached.Check().ok());
  constexpr size_t kBytes = 64 << 20;
  auto block = std::make_unique<char[]>(kBytes);
  std::memset(block.get(), 1, kBytes);
  EXPECT_TRUE(cached.Check().ok()) << "read again before its interval passed";
  MemoryWatermark fresh(limit, "x", std::chrono::milliseconds(0));
  EXPECT_EQ(fresh.Check().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(block[kBytes / 2], 1);
}

TEST(ProcessMemoryTest, HumanBytes) {
  EXPECT_EQ(HumanBytes(0), "0 B");
  EXPECT_EQ(HumanBytes(1023), "1023 B");
  EXPECT_EQ(HumanBytes(1024), "1.0 KiB");
  EXPECT_EQ(HumanBytes(1536), "1.5 KiB");
  EXPECT_EQ(HumanBytes(uint64_t{310} << 20), "310.0 MiB");
  EXPECT_EQ(HumanBytes(uint64_t{3} << 30), "3.0 GiB");
  EXPECT_EQ(HumanBytes(uint64_t{5} << 50), "5.0 PiB");
}

}  // namespace
}  // namespace tessera
