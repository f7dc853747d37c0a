#include "common/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace tessera {
namespace {

TEST(Crc32c, StandardCheckValue) {
  const std::string input = "123456789";
  EXPECT_EQ(crc32c::Value(input.data(), input.size()), 0xE3069283u);
}

TEST(Crc32c, KnownVectorsFromRfc3720) {
  std::string zeros(32, '\0');
  EXPECT_EQ(crc32c::Value(zeros.data(), zeros.size()), 0x8A9136AAu);
  std::string ones(32, '\xff');
  EXPECT_EQ(crc32c::Value(ones.data(), ones.size()), 0x62A8AB43u);
}

TEST(Crc32c, ExtendEqualsWhole) {
  const std::string a = "hello, ", b = "world";
  const std::string ab = a + b;
  EXPECT_EQ(crc32c::Extend(crc32c::Value(a.data(), a.size()), b.data(), b.size()),
            crc32c::Value(ab.data(), ab.size()));
  EXPECT_EQ(crc32c::Value(nullptr, 0), 0u);
}

TEST(Crc32c, DetectsSingleBitFlip) {
  std::string data(1000, 'x');
  const uint32_t before = crc32c::Value(data.data(), data.size());
  data[500] ^= 0x10;
  EXPECT_NE(before, crc32c::Value(data.data(), data.size()));
}

}  // namespace
}  // namespace tessera
