#include "core/filter/like.h"

#include <gtest/gtest.h>

namespace tessera::core::filter {
namespace {

bool Like(std::string_view text, std::string_view pattern) { return LikePattern(pattern).Match(text); }

TEST(LikeTest, FastShapes) {
  EXPECT_TRUE(Like("apple", "apple"));
  EXPECT_FALSE(Like("apples", "apple"));
  EXPECT_TRUE(Like("apple", "app%"));
  EXPECT_FALSE(Like("xapple", "app%"));
  EXPECT_TRUE(Like("pineapple", "%apple"));
  EXPECT_FALSE(Like("apple pie", "%apple"));
  EXPECT_TRUE(Like("a pineapple pie", "%apple%"));
  EXPECT_TRUE(Like("", "%"));
  EXPECT_TRUE(Like("anything", "%%"));
  EXPECT_TRUE(Like("", ""));
  EXPECT_FALSE(Like("a", ""));
}

TEST(LikeTest, GeneralPatterns) {
  EXPECT_TRUE(Like("abc", "a_c"));
  EXPECT_FALSE(Like("abbc", "a_c"));
  EXPECT_TRUE(Like("a\xC3\xA9" "c", "a_c"));  // '_' is one UTF-8 character
  EXPECT_TRUE(Like("abcXdefY", "a%d%Y"));
  EXPECT_FALSE(Like("abcXdefZ", "a%d%Y"));
  EXPECT_TRUE(Like("aaa", "%a%a%a%"));
  EXPECT_FALSE(Like("aa", "%a%a%a%"));
  EXPECT_TRUE(Like("mississippi", "m%iss%ppi"));
}

TEST(LikeTest, Escapes) {
  EXPECT_TRUE(Like("100%", "100\\%"));
  EXPECT_FALSE(Like("1000", "100\\%"));
  EXPECT_TRUE(Like("a_b", "a\\_b"));
  EXPECT_FALSE(Like("axb", "a\\_b"));
  EXPECT_TRUE(Like("50% off", "%\\%%"));
}

}  // namespace
}  // namespace tessera::core::filter
