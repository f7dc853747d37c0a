#include "proxy/fast_json.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace tessera::proxy {
namespace {

using nlohmann::json;

// Same value and the same type at every level (json's operator== equates 1u with 1).
::testing::AssertionResult Same(const json& a, const json& b, const std::string& path = "$") {
  if (a.type() != b.type()) {
    return ::testing::AssertionFailure() << path << ": type " << a.type_name() << " vs " << b.type_name() << " ("
                                         << a.dump() << " vs " << b.dump() << ")";
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return ::testing::AssertionFailure() << path << ": object sizes differ";
    for (auto it = a.begin(); it != a.end(); ++it) {
      if (!b.contains(it.key())) return ::testing::AssertionFailure() << path << ": no key " << it.key();
      auto r = Same(it.value(), b.at(it.key()), path + "." + it.key());
      if (!r) return r;
    }
    return ::testing::AssertionSuccess();
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return ::testing::AssertionFailure() << path << ": array sizes differ";
    for (size_t i = 0; i < a.size(); ++i) {
      auto r = Same(a[i], b[i], path + "[" + std::to_string(i) + "]");
      if (!r) return r;
    }
    return ::testing::AssertionSuccess();
  }
  if (a != b) return ::testing::AssertionFailure() << path << ": " << a.dump() << " vs " << b.dump();
  return ::testing::AssertionSuccess();
}

// The fast parse either declines or agrees exactly with nlohmann's.
void ExpectAgrees(const std::string& text) {
  SCOPED_TRACE(text.substr(0, 200));
  std::optional<json> fast = ParseJsonFast(text);
  json slow;
  bool slow_ok = true;
  try {
    slow = json::parse(text);
  } catch (const json::exception&) {
    slow_ok = false;
  }
  if (!fast) return;  // declined: the caller falls back to nlohmann
  ASSERT_TRUE(slow_ok) << "simdjson accepted what nlohmann rejects";
  EXPECT_TRUE(Same(*fast, slow));
}

TEST(ParseJsonFast, AgreesWithNlohmannOnValuesAndTypes) {
  const std::vector<std::string> cases = {
      R"({"a":1,"b":-1,"c":1.5,"d":-0.25,"e":1e3,"f":true,"g":false,"h":null,"i":"x\u00e9\n"})",
      R"({"big":18446744073709551615,"min":-9223372036854775808,"max":9223372036854775807})",
      R"({"dup":1,"dup":2})",
      R"({"data":[[0.1,2,3e-7,-4],[255,0,0,1]],"nested":{"k":[{"x":[]},{}]}})",
      R"([1,2,3])",
      R"("just a string")",
      R"(  {"spaces" :  [ 1 , 2 ]  }  )",
      R"({"huge":123456789012345678901234567890})",  // beyond 64 bits: simdjson declines
      R"({"bad":)",
      R"({"a":1} trailing)",
      "{\"bad utf8\":\"\xff\"}",
      R"({"num":01})",
  };
  for (const std::string& text : cases) ExpectAgrees(text);
}

TEST(ParseJsonFast, AgreesOnTheRequestCorpus) {
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(TESSERA_TEST_DATA_DIR "/proxy_request_corpus")) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    ExpectAgrees(buf.str());
    ++files;
  }
  EXPECT_GT(files, 0u);
}

TEST(ParseJsonFast, DeclinesMalformedText) {
  EXPECT_FALSE(ParseJsonFast("").has_value());
  EXPECT_FALSE(ParseJsonFast("{").has_value());
  EXPECT_FALSE(ParseJsonFast(R"({"a":[1,2,]})").has_value());
  EXPECT_TRUE(ParseJsonFast(R"({"a":[1,2]})").has_value());
}

TEST(ParseJsonFast, LargeBodiesUseTheirOwnParser) {
  std::string text = "{\"data\":[";
  for (int i = 0; i < 300000; ++i) {
    if (i > 0) text.push_back(',');
    text += std::to_string(i);
  }
  text += "]}";
  ASSERT_GT(text.size(), size_t{1} << 20);
  std::optional<json> parsed = ParseJsonFast(text);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ((*parsed)["data"].size(), 300000u);
  EXPECT_EQ((*parsed)["data"][299999], 299999u);
}

}  // namespace
}  // namespace tessera::proxy
