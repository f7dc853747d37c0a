#include "core/filter/lexer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tessera::core::filter {
namespace {

using ::testing::HasSubstr;

std::vector<Token> Lex(std::string_view s) {
  auto r = Tokenize(s);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : std::vector<Token>{};
}

TEST(LexerTest, IntegerBases) {
  auto t = Lex("42 0x1F 0b101 017 0");
  ASSERT_EQ(t.size(), 6u);
  EXPECT_EQ(t[0].int_value, 42);
  EXPECT_EQ(t[1].int_value, 31);
  EXPECT_EQ(t[2].int_value, 5);
  EXPECT_EQ(t[3].int_value, 15);
  EXPECT_EQ(t[4].int_value, 0);
  EXPECT_EQ(t[5].kind, TokenKind::kEnd);
  EXPECT_EQ(t[1].pos, 3u);
}

TEST(LexerTest, Floats) {
  auto t = Lex("1.5 .5 2. 1e3 2.5E-1 0x1.8p1");
  for (int i = 0; i < 6; ++i) EXPECT_EQ(t[i].kind, TokenKind::kFloat) << i;
  EXPECT_DOUBLE_EQ(t[0].float_value, 1.5);
  EXPECT_DOUBLE_EQ(t[1].float_value, 0.5);
  EXPECT_DOUBLE_EQ(t[2].float_value, 2.0);
  EXPECT_DOUBLE_EQ(t[3].float_value, 1000.0);
  EXPECT_DOUBLE_EQ(t[4].float_value, 0.25);
  EXPECT_DOUBLE_EQ(t[5].float_value, 3.0);
}

TEST(LexerTest, StringsAndEscapes) {
  auto t = Lex(R"("a\"b" 'c\'d' "\n\t\\" "\x41\u00e9" 'x%')");
  EXPECT_EQ(t[0].string_value, "a\"b");
  EXPECT_EQ(t[1].string_value, "c'd");
  EXPECT_EQ(t[2].string_value, "\n\t\\");
  EXPECT_EQ(t[3].string_value, "A\xC3\xA9");
  EXPECT_EQ(t[4].string_value, "x%");
  auto octal = Lex(R"("\150ello" "\0" "\101\1012")");
  EXPECT_EQ(octal[0].string_value, "hello");
  EXPECT_EQ(octal[1].string_value, std::string(1, '\0'));
  EXPECT_EQ(octal[2].string_value, "AA2") << "at most three digits";
  EXPECT_THAT(Tokenize(R"(a == "\400")").status().message(), HasSubstr("octal"));
}

TEST(LexerTest, OperatorsAndIdentifiers) {
  auto t = Lex("a_1<=$meta**2!=3&&!b||c>=d==e");
  std::vector<TokenKind> kinds;
  for (const auto& tok : t) kinds.push_back(tok.kind);
  EXPECT_EQ(kinds, (std::vector<TokenKind>{TokenKind::kIdentifier, TokenKind::kLe, TokenKind::kIdentifier,
                                           TokenKind::kPower, TokenKind::kInt, TokenKind::kNe, TokenKind::kInt,
                                           TokenKind::kAndAnd, TokenKind::kBang, TokenKind::kIdentifier,
                                           TokenKind::kOrOr, TokenKind::kIdentifier, TokenKind::kGe,
                                           TokenKind::kIdentifier, TokenKind::kEq, TokenKind::kIdentifier,
                                           TokenKind::kEnd}));
  EXPECT_EQ(t[2].text, "$meta");
}

TEST(LexerTest, Errors) {
  auto unterminated = Tokenize("a == \"abc");
  EXPECT_THAT(unterminated.status().message(), HasSubstr("position 5"));
  EXPECT_THAT(unterminated.status().message(), HasSubstr("unterminated string"));
  EXPECT_THAT(Tokenize("a == 'x\\q'").status().message(), HasSubstr("unknown escape"));
  EXPECT_THAT(Tokenize("a == 99999999999999999999").status().message(), HasSubstr("out of range"));
  EXPECT_THAT(Tokenize("a == 12ab").status().message(), HasSubstr("malformed number"));
  EXPECT_THAT(Tokenize("a # b").status().message(), HasSubstr("position 2 near '#'"));
  EXPECT_THAT(Tokenize("$foo > 1").status().message(), HasSubstr("$meta"));
  EXPECT_THAT(Tokenize("a == 0b").status().message(), HasSubstr("malformed"));
  EXPECT_EQ(Tokenize("'\\u12'").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::core::filter
