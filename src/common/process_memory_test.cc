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
