#include "core/filter/parser.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/filter/test_schema.h"

namespace tessera::core::filter {
namespace {

using ::testing::HasSubstr;
using testing::TestSchema;

class ParserTest : public ::testing::Test {
 protected:
  std::string Tree(std::string_view text, bool dynamic = true) {
    auto r = ParseFilter(text, TestSchema(dynamic));
    EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
    return r.ok() ? (*r)->DebugString() : "";
  }
  std::string Error(std::string_view text, bool dynamic = true) {
    auto r = ParseFilter(text, TestSchema(dynamic));
    EXPECT_FALSE(r.ok()) << text << " parsed as " << (r.ok() ? (*r)->DebugString() : "");
    if (r.ok()) return "";
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    return r.status().message();
  }
};

TEST_F(ParserTest, Comparisons) {
  EXPECT_EQ(Tree("i64 == 5"), "(== i64 5)");
  EXPECT_EQ(Tree("i64 != 5"), "(!= i64 5)");
  EXPECT_EQ(Tree("i32 < 5"), "(< i32 5)");
  EXPECT_EQ(Tree("i16 <= 5"), "(<= i16 5)");
  EXPECT_EQ(Tree("f > 1.5"), "(> f 1.5)");
  EXPECT_EQ(Tree("d >= -2"), "(>= d -2)");
  EXPECT_EQ(Tree("s == \"x\""), "(== s \"x\")");
  EXPECT_EQ(Tree("s < 'b'"), "(< s \"b\")");
  EXPECT_EQ(Tree("b == true"), "(== b true)");
  EXPECT_EQ(Tree("5 < i8"), "(> i8 5)");  // literal moved to the right
  EXPECT_EQ(Tree("i8 < i16"), "(< i8 i16)");
}

TEST_F(ParserTest, ChainedRange) {
  EXPECT_EQ(Tree("1 < i64 < 5"), "(and (> i64 1) (< i64 5))");
  EXPECT_EQ(Tree("1 <= i64 < 5"), "(and (>= i64 1) (< i64 5))");
  EXPECT_EQ(Tree("10 > d >= 2.5"), "(and (< d 10) (>= d 2.5))");
  EXPECT_THAT(Error("1 < i64 > 5"), HasSubstr("chained comparison"));
  EXPECT_THAT(Error("1 < i64 < 5 < 7"), HasSubstr("at most two"));
  EXPECT_THAT(Error("1 == i64 == 1"), HasSubstr("chained comparison"));
}

TEST_F(ParserTest, LogicalSpellingsAndPrecedence) {
  for (const char* text : {"i8 > 1 and i16 > 2", "i8 > 1 AND i16 > 2", "i8 > 1 && i16 > 2"}) {
    EXPECT_EQ(Tree(text), "(and (> i8 1) (> i16 2))") << text;
  }
  for (const char* text : {"i8 > 1 or i16 > 2", "i8 > 1 OR i16 > 2", "i8 > 1 || i16 > 2"}) {
    EXPECT_EQ(Tree(text), "(or (> i8 1) (> i16 2))") << text;
  }
  for (const char* text : {"not i8 > 1", "NOT i8 > 1", "!(i8 > 1)", "not (i8 > 1)"}) {
    EXPECT_EQ(Tree(text), "(not (> i8 1))") << text;
  }
  EXPECT_EQ(Tree("i8 > 1 or i16 > 2 and i32 > 3"), "(or (> i8 1) (and (> i16 2) (> i32 3)))");
  EXPECT_EQ(Tree("(i8 > 1 or i16 > 2) and i32 > 3"), "(and (or (> i8 1) (> i16 2)) (> i32 3))");
  EXPECT_EQ(Tree("not i8 > 1 and b"), "(and (not (> i8 1)) b)");
  EXPECT_EQ(Tree("a > 1 or b or c"), "(or (or (> $meta[\"a\"] 1) b) $meta[\"c\"])");
  // Mixed-case keywords are not keywords (spec: lower or upper case only).
  EXPECT_THAT(Error("i8 > 1 And i16 > 2"), HasSubstr("near 'And'"));
}

TEST_F(ParserTest, Arithmetic) {
  EXPECT_EQ(Tree("i64 + 1 > 5"), "(> (+ i64 1) 5)");
  EXPECT_EQ(Tree("i64 + 2 * 3 > 5"), "(> (+ i64 6) 5)");  // constant folded
  EXPECT_EQ(Tree("i64 * 2 + 1 == 5"), "(== (+ (* i64 2) 1) 5)");
  EXPECT_EQ(Tree("(i64 + 2) * 3 == 9"), "(== (* (+ i64 2) 3) 9)");
  EXPECT_EQ(Tree("i64 % 3 == 1"), "(== (% i64 3) 1)");
  EXPECT_EQ(Tree("d / 2 < 1"), "(< (/ d 2) 1)");
  EXPECT_EQ(Tree("i64 - -3 == 1"), "(== (- i64 -3) 1)");
  EXPECT_EQ(Tree("2 ** 3 ** 2 == i64"), "(== i64 512.0)");  // right-associative; ** is double
  EXPECT_EQ(Tree("-2 ** 2 == i64"), "(== i64 -4.0)");       // unary minus below power
  EXPECT_EQ(Tree("-i64 > 1"), "(> (- i64) 1)");
  EXPECT_EQ(Tree("i64 > -9223372036854775808"), "(> i64 -9223372036854775808)");
  EXPECT_THAT(Error("s + 1 > 2"), HasSubstr("field 's'"));
  EXPECT_THAT(Error("i64 > 1 / 0"), HasSubstr("division by zero"));
  EXPECT_THAT(Error("i64 << 2 > 1"), HasSubstr("bitwise"));
  EXPECT_THAT(Error("i64 & 2"), HasSubstr("bitwise"));
}

TEST_F(ParserTest, InAndNotIn) {
  EXPECT_EQ(Tree("i64 in [1, 2, 3]"), "(in i64 [1,2,3])");
  EXPECT_EQ(Tree("i64 IN [1, -2,]"), "(in i64 [1,-2])");
  EXPECT_EQ(Tree("s not in ['a', \"b\"]"), "(not_in s [\"a\",\"b\"])");
  EXPECT_EQ(Tree("s NOT IN []"), "(not_in s [])");
  EXPECT_EQ(Tree("d in [1, 2.5]"), "(in d [1,2.5])");
  EXPECT_THAT(Error("s in [1, 2]"), HasSubstr("field 's'"));
  EXPECT_THAT(Error("i64 in ['a']"), HasSubstr("field 'i64'"));
  EXPECT_THAT(Error("i64 in 5"), HasSubstr("expected an array literal"));
  EXPECT_THAT(Error("i64 in [1 2]"), HasSubstr("expected ',' or ']'"));
  EXPECT_THAT(Error("i64 in [i32]"), HasSubstr("expected a literal"));
  EXPECT_THAT(Error("ai in [1]"), HasSubstr("array_contains_any"));
}

TEST_F(ParserTest, Like) {
  EXPECT_EQ(Tree("s like \"ab%\""), "(like s \"ab%\")");
  EXPECT_EQ(Tree("s LIKE '%ab'"), "(like s \"%ab\")");
  EXPECT_EQ(Tree("j['k'] like '%x%'"), "(like j[\"k\"] \"%x%\")");
  EXPECT_EQ(Tree("not s like 'a%'"), "(not (like s \"a%\"))");
  EXPECT_THAT(Error("i64 like 'a%'"), HasSubstr("field 'i64'"));
  EXPECT_THAT(Error("s like 5"), HasSubstr("expected a string pattern"));
}

TEST_F(ParserTest, JsonPathsAndArrays) {
  EXPECT_EQ(Tree("j[\"a\"][\"b\"] > 1"), "(> j[\"a\"][\"b\"] 1)");
  EXPECT_EQ(Tree("j['list'][0] == 'x'"), "(== j[\"list\"][0] \"x\")");
  EXPECT_EQ(Tree("ai[0] > 1"), "(> ai[0] 1)");
  EXPECT_EQ(Tree("as[1] == 'x'"), "(== as[1] \"x\")");
  EXPECT_EQ(Tree("$meta['x'] == 1"), "(== $meta[\"x\"] 1)");
  EXPECT_THAT(Error("as[1] == 1"), HasSubstr("as"));
  EXPECT_THAT(Error("ai['k'] == 1"), HasSubstr("field 'ai'"));
  EXPECT_THAT(Error("ai[0][1] == 1"), HasSubstr("field 'ai'"));
  EXPECT_THAT(Error("i64[0] == 1"), HasSubstr("cannot be indexed"));
  EXPECT_THAT(Error("ai == 1"), HasSubstr("field 'ai'"));
  EXPECT_THAT(Error("j[1.5] == 1"), HasSubstr("expected a string key or an integer index"));
}

TEST_F(ParserTest, Functions) {
  EXPECT_EQ(Tree("array_contains(ai, 3)"), "(array_contains ai [3])");
  EXPECT_EQ(Tree("ARRAY_CONTAINS_ALL(as, ['a', 'b'])"), "(array_contains_all as [\"a\",\"b\"])");
  EXPECT_EQ(Tree("array_contains_any(af, [1, 2.5])"), "(array_contains_any af [1,2.5])");
  EXPECT_EQ(Tree("json_contains(j['tags'], 'x')"), "(array_contains j[\"tags\"] [\"x\"])");
  EXPECT_EQ(Tree("JSON_CONTAINS_ANY(j['tags'], [1, 'x'])"), "(array_contains_any j[\"tags\"] [1,\"x\"])");
  EXPECT_EQ(Tree("array_length(ai) > 2"), "(> (array_length ai) 2)");
  EXPECT_EQ(Tree("ARRAY_LENGTH(j['l']) == 0"), "(== (array_length j[\"l\"]) 0)");
  EXPECT_THAT(Error("array_contains(ai, 'x')"), HasSubstr("field 'ai'"));
  EXPECT_THAT(Error("array_contains(i64, 1)"), HasSubstr("Array or JSON"));
  EXPECT_THAT(Error("array_contains_all(ai, 1)"), HasSubstr("expected an array literal"));
  EXPECT_THAT(Error("text_match(s, 'x')"), HasSubstr("unsupported function 'text_match'"));
  EXPECT_THAT(Error("Array_Contains(ai, 1)"), HasSubstr("unsupported function"));
  EXPECT_THAT(Error("array_contains(ai, [1, 2])"), HasSubstr("cannot contain an array"));
  EXPECT_EQ(Tree("json_contains(j['m'], [1, 2])"), "(array_contains j[\"m\"] [[1,2]])");
  EXPECT_THAT(Error("array_contains(ai 1)"), HasSubstr("expected ','"));
  EXPECT_THAT(Error("array_length(ai) == 's'"), HasSubstr("type mismatch"));
}

TEST_F(ParserTest, NullChecksAndExists) {
  EXPECT_EQ(Tree("ni is null"), "(is_null ni)");
  EXPECT_EQ(Tree("ni IS NOT NULL"), "(is_not_null ni)");
  EXPECT_EQ(Tree("j['a'] is null"), "(is_null j[\"a\"])");
  EXPECT_EQ(Tree("exists j['a']"), "(is_not_null j[\"a\"])");
  EXPECT_EQ(Tree("EXISTS color"), "(is_not_null $meta[\"color\"])");
  EXPECT_THAT(Error("ni is 5"), HasSubstr("expected 'null'"));
  EXPECT_THAT(Error("1 is null"), HasSubstr("needs a field"));
}

TEST_F(ParserTest, BoolLiteralsAndPredicates) {
  EXPECT_EQ(Tree("true"), "true");
  EXPECT_EQ(Tree("FALSE"), "false");
  EXPECT_EQ(Tree("b == True"), "(== b true)");
  EXPECT_EQ(Tree("b"), "b");
  EXPECT_EQ(Tree("not b"), "(not b)");
  EXPECT_EQ(Tree("1 < 2"), "true");
  EXPECT_THAT(Error("i64"), HasSubstr("expected a boolean expression"));
  EXPECT_THAT(Error("b > true"), HasSubstr("only == and !="));
  EXPECT_THAT(Error("(i64 > 1) + 1 > 2"), HasSubstr("expected a value"));
}

TEST_F(ParserTest, DynamicFields) {
  EXPECT_EQ(Tree("color == 'red'"), "(== $meta[\"color\"] \"red\")");
  EXPECT_EQ(Tree("info['size'] > 3"), "(> $meta[\"info\"][\"size\"] 3)");
  std::string msg = Error("color == 'red'", /*dynamic=*/false);
  EXPECT_THAT(msg, HasSubstr("field 'color' does not exist"));
  EXPECT_THAT(msg, HasSubstr("position 0 near 'color'"));
  EXPECT_THAT(Error("$meta['x'] == 1", /*dynamic=*/false), HasSubstr("'$meta'"));
}

TEST_F(ParserTest, ErrorFormat) {
  EXPECT_EQ(Error("i64 > 1 and"), "filter parse error at position 11 near end of input: expected an expression");
  EXPECT_EQ(Error("i64 > 1 and and i8 > 1"),
            "filter parse error at position 12 near 'and': expected an expression, got keyword 'and'");
  EXPECT_THAT(Error(""), HasSubstr("empty filter expression"));
  EXPECT_THAT(Error("   "), HasSubstr("empty filter expression"));
  EXPECT_THAT(Error("i64 > 1 i8"), HasSubstr("position 8 near 'i8': expected end of expression"));
  EXPECT_THAT(Error("i64 > 1)"), HasSubstr("near ')'"));
  EXPECT_THAT(Error("(i64 > 1"), HasSubstr("expected ')'"));
  EXPECT_THAT(Error("s == 'abc"), HasSubstr("position 5"));
  EXPECT_THAT(Error("s == 'abc"), HasSubstr("unterminated string"));
  EXPECT_THAT(Error("s > 5"), HasSubstr("field 's'"));
  EXPECT_THAT(Error("s > 5"), HasSubstr("type mismatch"));
  EXPECT_THAT(Error("i64 == 'x'"), HasSubstr("field 'i64'"));
  EXPECT_THAT(Error("vec > 1"), HasSubstr("vector field"));
  EXPECT_THAT(Error("i64 > {x}"), HasSubstr("template placeholders"));
  EXPECT_THAT(Error("i64 > [1]"), HasSubstr("array literal"));
  EXPECT_THAT(Error("i64 >"), HasSubstr("near end of input"));
}

TEST_F(ParserTest, NestingLimits) {
  std::string deep(1000, '(');
  deep += "b";
  deep += std::string(1000, ')');
  EXPECT_THAT(Error(deep), HasSubstr("nested too deeply"));
  std::string ok(100, '(');
  ok += "b" + std::string(100, ')');
  EXPECT_EQ(Tree(ok), "b");
  std::string nots;
  for (int i = 0; i < 1000; ++i) nots += "not ";
  EXPECT_THAT(Error(nots + "b"), HasSubstr("nested too deeply"));
}

}  // namespace
}  // namespace tessera::core::filter
