#include "common/config_parse.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace tessera::config {
namespace {

using std::chrono::milliseconds;

TEST(ParseByteSizeTest, UnitsAndSpellings) {
  EXPECT_EQ(*ParseByteSize("0"), 0u);
  EXPECT_EQ(*ParseByteSize("4096"), 4096u);
  EXPECT_EQ(*ParseByteSize("10B"), 10u);
  EXPECT_EQ(*ParseByteSize("100KB"), 100'000u);
  EXPECT_EQ(*ParseByteSize("100kb"), 100'000u);
  EXPECT_EQ(*ParseByteSize("2MB"), 2'000'000u);
  EXPECT_EQ(*ParseByteSize("512MiB"), 512ull << 20);
  EXPECT_EQ(*ParseByteSize("10GiB"), 10ull << 30);
  EXPECT_EQ(*ParseByteSize("10 GiB"), 10ull << 30);
  EXPECT_EQ(*ParseByteSize(" 10gib "), 10ull << 30);
  EXPECT_EQ(*ParseByteSize("3TiB"), 3ull << 40);
  EXPECT_EQ(*ParseByteSize("1.5KiB"), 1536u);
  EXPECT_EQ(*ParseByteSize("0.5GB"), 500'000'000u);
  EXPECT_EQ(*ParseByteSize("9223372036854775807"), 9223372036854775807ull);
}

TEST(ParseByteSizeTest, Rejects) {
  for (const char* bad : {"", "ten", "GiB", "-1", "-1GiB", "10 G", "10K", "10GiBs", "1.5.2KB",
                          "0.3B", "1e3", "9223372036854775808", "99999999999999999999",
                          "8192PiB", "10 Gi B"}) {
    auto r = ParseByteSize(bad);
    EXPECT_FALSE(r.ok()) << "'" << bad << "' parsed as " << (r.ok() ? *r : 0);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(r.status().message().find("as a size"), std::string::npos) << r.status().message();
    }
  }
  EXPECT_NE(ParseByteSize("ten").status().message().find("cannot parse 'ten' as a size (expected e.g. 10GiB"),
            std::string::npos);
}

TEST(ParseDurationTest, UnitsAndCompounds) {
  EXPECT_EQ(*ParseDuration("0"), milliseconds(0));
  EXPECT_EQ(*ParseDuration("500ms"), milliseconds(500));
  EXPECT_EQ(*ParseDuration("10s"), milliseconds(10'000));
  EXPECT_EQ(*ParseDuration("5m"), milliseconds(300'000));
  EXPECT_EQ(*ParseDuration("2h"), milliseconds(7'200'000));
  EXPECT_EQ(*ParseDuration("1d"), milliseconds(86'400'000));
  EXPECT_EQ(*ParseDuration("1h30m"), milliseconds(5'400'000));
  EXPECT_EQ(*ParseDuration("1m500ms"), milliseconds(60'500));
  EXPECT_EQ(*ParseDuration(" 10S "), milliseconds(10'000));
}

TEST(ParseDurationTest, Rejects) {
  for (const char* bad : {"", "10", "s", "ten", "-5s", "1.5s", "10us", "10 s", "5mm", "1h 30m",
                          "99999999999999999999ms", "9999999999999999d"}) {
    auto r = ParseDuration(bad);
    EXPECT_FALSE(r.ok()) << "'" << bad << "' parsed";
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("as a duration"), std::string::npos);
    }
  }
}

TEST(ParseScalarTest, IntBoolDouble) {
  EXPECT_EQ(*ParseInt("19530"), 19530);
  EXPECT_EQ(*ParseInt("-7"), -7);
  EXPECT_EQ(*ParseInt("+7"), 7);
  EXPECT_FALSE(ParseInt("7.0").ok());
  EXPECT_FALSE(ParseInt("").ok());
  EXPECT_FALSE(ParseInt("0x10").ok());
  EXPECT_FALSE(ParseInt("99999999999999999999").ok());
  for (const char* t : {"true", "TRUE", "yes", "On", "1"}) EXPECT_TRUE(*ParseBool(t)) << t;
  for (const char* f : {"false", "No", "off", "0"}) EXPECT_FALSE(*ParseBool(f)) << f;
  EXPECT_FALSE(ParseBool("maybe").ok());
  EXPECT_DOUBLE_EQ(*ParseDouble("0.9"), 0.9);
  EXPECT_DOUBLE_EQ(*ParseDouble("1e3"), 1000.0);
  EXPECT_FALSE(ParseDouble("nan").ok());
  EXPECT_FALSE(ParseDouble("inf").ok());
  EXPECT_FALSE(ParseDouble("1,5").ok());
}

TEST(ParseStringListTest, CommaSeparated) {
  EXPECT_TRUE(ParseStringList("").empty());
  EXPECT_EQ(ParseStringList("a, b,,c "), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(FormatTest, RoundTrips) {
  EXPECT_EQ(FormatByteSize(10ull << 30), "10GiB");
  EXPECT_EQ(FormatByteSize(1000), "1000B");
  EXPECT_EQ(FormatByteSize(0), "0B");
  EXPECT_EQ(FormatDuration(milliseconds(30'000)), "30s");
  EXPECT_EQ(FormatDuration(milliseconds(1'500)), "1500ms");
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0s");
  for (uint64_t v : {0ull, 1ull, 1536ull, 10ull << 30, 123456789ull}) {
    EXPECT_EQ(*ParseByteSize(FormatByteSize(v)), v);
  }
}

}  // namespace
}  // namespace tessera::config
