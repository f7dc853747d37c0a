#include "core/filter/evaluator.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/filter/parser.h"
#include "core/filter/test_schema.h"

namespace tessera::core::filter {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

// Five hand-written rows covering every type, nulls, JSON shapes and dynamic keys.
constexpr const char* kRows[] = {
    R"({"id": 0, "vec": [0, 0], "b": true, "i8": -5, "i16": 100, "i32": -100000, "i64": 1, "f": 1.5, "d": -2.25,
        "s": "apple", "j": {"a": 1, "b": {"c": "x"}, "tags": ["x", "y"], "l": [1, 2, 3]}, "ai": [1, 2, 3],
        "as": ["a", "b"], "af": [1.5], "ab": [true], "ni": 1, "ns": "p", "nd": 1.0, "nj": {"k": 1},
        "color": "red", "size": 10})",
    R"({"id": 1, "vec": [0, 0], "b": false, "i8": 0, "i16": -1, "i32": 0, "i64": -7, "f": -0.5, "d": 3.0,
        "s": "banana", "j": {"a": 2.5, "tags": ["z"]}, "ai": [], "as": ["c"], "af": [], "ab": [false],
        "ni": null, "ns": null, "nd": null, "nj": null, "color": "blue"})",
    R"({"id": 2, "vec": [0, 0], "b": true, "i8": 127, "i16": 32767, "i32": 2147483647, "i64": 9223372036854775807,
        "f": 100.0, "d": 1e10, "s": "pineapple", "j": {"a": "str", "m": [[1, 2], [3]]}, "ai": [5], "as": [], "af": [2.0, 3.0],
        "ab": [], "ni": 5, "ns": "apple pie", "nd": 2.5, "nj": {"k": "v"}, "size": 3.5})",
    R"({"id": 3, "vec": [0, 0], "b": false, "i8": -128, "i16": 0, "i32": 5, "i64": 3, "f": 3.0, "d": 3.0,
        "s": "", "j": 5, "ai": [3, 4], "as": ["a"], "af": [3.0], "ab": [true, false], "ni": -3, "ns": "",
        "nd": -1.0, "nj": {"k": null}, "color": "red"})",
    R"({"id": 4, "vec": [0, 0], "b": true, "i8": 1, "i16": 1, "i32": 1, "i64": 4, "f": 2.5, "d": 0.1,
        "s": "Apple", "j": {}, "ai": [1], "as": ["b", "a"], "af": [0.5], "ab": [false], "ni": 0, "ns": "x%y",
        "nd": 0.0, "color": 5})",
};

class EvaluatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = ColumnSet::Create(testing::TestSchema(/*dynamic=*/true));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    set_ = std::move(r).value();
    for (const char* row : kRows) ASSERT_TRUE(set_->AppendRow(json::parse(row)).ok()) << row;
  }

  // Row numbers matching `text`.
  std::vector<int> Match(std::string_view text) {
    auto expr = ParseFilter(text, set_->schema());
    EXPECT_TRUE(expr.ok()) << text << ": " << expr.status().ToString();
    if (!expr.ok()) return {-1};
    auto bits = EvaluateFilter(**expr, *set_);
    EXPECT_TRUE(bits.ok()) << bits.status().ToString();
    EXPECT_EQ(bits->size(), set_->num_rows());
    std::vector<int> rows;
    for (size_t i = 0; i < bits->size(); ++i) {
      if (bits->Test(i)) rows.push_back(static_cast<int>(i));
    }
    return rows;
  }

  std::unique_ptr<ColumnSet> set_;
};

using Rows = std::vector<int>;

TEST_F(EvaluatorTest, EveryComparisonOnEveryNumericType) {
  EXPECT_EQ(Match("i8 == 0"), Rows({1}));
  EXPECT_EQ(Match("i8 != 0"), Rows({0, 2, 3, 4}));
  EXPECT_EQ(Match("i8 < 0"), Rows({0, 3}));
  EXPECT_EQ(Match("i8 <= 0"), Rows({0, 1, 3}));
  EXPECT_EQ(Match("i8 > 1"), Rows({2}));
  EXPECT_EQ(Match("i8 >= 1"), Rows({2, 4}));
  EXPECT_EQ(Match("i8 > 1000"), Rows({}));
  EXPECT_EQ(Match("i8 > -1000"), Rows({0, 1, 2, 3, 4}));
  EXPECT_EQ(Match("i16 == 32767"), Rows({2}));
  EXPECT_EQ(Match("i16 < 0"), Rows({1}));
  EXPECT_EQ(Match("i16 >= 1"), Rows({0, 2, 4}));
  EXPECT_EQ(Match("i32 <= 0"), Rows({0, 1}));
  EXPECT_EQ(Match("i32 > 2147483646"), Rows({2}));
  EXPECT_EQ(Match("i32 != 5"), Rows({0, 1, 2, 4}));
  EXPECT_EQ(Match("i64 == 9223372036854775807"), Rows({2}));
  EXPECT_EQ(Match("i64 > 3"), Rows({2, 4}));
  EXPECT_EQ(Match("i64 < 0"), Rows({1}));
  EXPECT_EQ(Match("i64 >= -7"), Rows({0, 1, 2, 3, 4}));
  EXPECT_EQ(Match("f == 1.5"), Rows({0}));
  EXPECT_EQ(Match("f < 0"), Rows({1}));
  EXPECT_EQ(Match("f >= 2.5"), Rows({2, 3, 4}));
  EXPECT_EQ(Match("f != 3"), Rows({0, 1, 2, 4}));
  EXPECT_EQ(Match("d > 1e9"), Rows({2}));
  EXPECT_EQ(Match("d <= 0.1"), Rows({0, 4}));
  EXPECT_EQ(Match("d == 3"), Rows({1, 3}));
}

TEST_F(EvaluatorTest, IntFloatMixing) {
  EXPECT_EQ(Match("i64 > 2.5"), Rows({2, 3, 4}));
  EXPECT_EQ(Match("i64 == 3.0"), Rows({3}));
  EXPECT_EQ(Match("i64 == 3.5"), Rows({}));
  EXPECT_EQ(Match("i64 != 3.5"), Rows({0, 1, 2, 3, 4}));
  EXPECT_EQ(Match("i8 < -4.5"), Rows({0, 3}));
  EXPECT_EQ(Match("i64 < 9.3e18"), Rows({0, 1, 2, 3, 4}));
  // 2^63 - 1 is not representable as a double; exact comparison still sees it below 2^63.
  EXPECT_EQ(Match("i64 < 9223372036854775808.0"), Rows({0, 1, 2, 3, 4}));
  EXPECT_EQ(Match("i64 >= 9223372036854775807.0"), Rows({}));
  EXPECT_EQ(Match("f > 2"), Rows({2, 3, 4}));
  EXPECT_EQ(Match("i32 < f"), Rows({0, 4}));
  EXPECT_EQ(Match("d == i64"), Rows({3}));
  EXPECT_EQ(Match("j['a'] == 1.0"), Rows({0}));
  EXPECT_EQ(Match("j['a'] > 1"), Rows({1}));
}

TEST_F(EvaluatorTest, VarCharComparisons) {
  EXPECT_EQ(Match("s == 'apple'"), Rows({0}));
  EXPECT_EQ(Match("s != 'apple'"), Rows({1, 2, 3, 4}));
  EXPECT_EQ(Match("s < 'b'"), Rows({0, 3, 4}));
  EXPECT_EQ(Match("s <= 'banana'"), Rows({0, 1, 3, 4}));
  EXPECT_EQ(Match("s > 'b'"), Rows({1, 2}));
  EXPECT_EQ(Match("s >= 'pineapple'"), Rows({2}));
  EXPECT_EQ(Match("s == ''"), Rows({3}));
  EXPECT_EQ(Match("'a' < s < 'c'"), Rows({0, 1}));
}

TEST_F(EvaluatorTest, BoolFields) {
  EXPECT_EQ(Match("b"), Rows({0, 2, 4}));
  EXPECT_EQ(Match("b == true"), Rows({0, 2, 4}));
  EXPECT_EQ(Match("b != true"), Rows({1, 3}));
  EXPECT_EQ(Match("not b"), Rows({1, 3}));
  EXPECT_EQ(Match("b == false"), Rows({1, 3}));
  EXPECT_EQ(Match("true"), Rows({0, 1, 2, 3, 4}));
  EXPECT_EQ(Match("false"), Rows({}));
}

TEST_F(EvaluatorTest, InAndNotIn) {
  EXPECT_EQ(Match("i64 in [1, 3, 100]"), Rows({0, 3}));
  EXPECT_EQ(Match("i64 not in [1, 3, 100]"), Rows({1, 2, 4}));
  EXPECT_EQ(Match("i8 in [127, -128]"), Rows({2, 3}));
  EXPECT_EQ(Match("f in [1.5, 3]"), Rows({0, 3}));
  EXPECT_EQ(Match("i64 in [3.0, 4.5]"), Rows({3}));
  EXPECT_EQ(Match("s in ['apple', 'Apple', 'kiwi']"), Rows({0, 4}));
  EXPECT_EQ(Match("s not in ['apple', '']"), Rows({1, 2, 4}));
  EXPECT_EQ(Match("i64 in []"), Rows({}));
  EXPECT_EQ(Match("i64 not in []"), Rows({0, 1, 2, 3, 4}));
  EXPECT_EQ(Match("j['a'] in [1, 'str']"), Rows({0, 2}));
  EXPECT_EQ(Match("color in ['red']"), Rows({0, 3}));
  EXPECT_EQ(Match("color not in ['red']"), Rows({1, 4}));  // row 2 has no color: null
}

TEST_F(EvaluatorTest, LogicalOperatorsAndPrecedence) {
  EXPECT_EQ(Match("i64 > 0 and b"), Rows({0, 2, 4}));
  EXPECT_EQ(Match("i64 > 0 && b"), Rows({0, 2, 4}));
  EXPECT_EQ(Match("i64 < 0 or s == 'apple'"), Rows({0, 1}));
  EXPECT_EQ(Match("i64 < 0 || s == 'apple'"), Rows({0, 1}));
  EXPECT_EQ(Match("!(i64 > 0)"), Rows({1}));
  EXPECT_EQ(Match("NOT i64 > 0"), Rows({1}));
  EXPECT_EQ(Match("i64 < 0 or i8 > 0 and b"), Rows({1, 2, 4}));
  EXPECT_EQ(Match("(i64 < 0 or i8 > 0) and b"), Rows({2, 4}));
  EXPECT_EQ(Match("not (i64 < 0 or i8 > 0) and not b"), Rows({3}));
}

TEST_F(EvaluatorTest, Arithmetic) {
  EXPECT_EQ(Match("i64 + 1 == 5"), Rows({4}));
  EXPECT_EQ(Match("i64 - 1 < 0"), Rows({1}));
  EXPECT_EQ(Match("i64 * 2 == 6"), Rows({3}));
  EXPECT_EQ(Match("i64 / 2 == 2"), Rows({4}));        // integer division truncates
  EXPECT_EQ(Match("i64 % 2 == 1"), Rows({0, 2, 3}));
  EXPECT_EQ(Match("i64 % 2 == -1"), Rows({1}));       // sign of the dividend
  EXPECT_EQ(Match("i64 / 0 == 1"), Rows({}));
  EXPECT_EQ(Match("not (i64 / 0 == 1)"), Rows({}));   // null stays null under not
  EXPECT_EQ(Match("i64 + 1 < 0"), Rows({1, 2}));      // 2^63 - 1 + 1 wraps
  EXPECT_EQ(Match("f * 2 == 3"), Rows({0}));
  EXPECT_EQ(Match("d / 2 > 1"), Rows({1, 2, 3}));
  EXPECT_EQ(Match("i32 + 0.5 > 1"), Rows({2, 3, 4}));
  EXPECT_EQ(Match("i8 ** 2 == 25"), Rows({0}));
  EXPECT_EQ(Match("f % 1 == 0.5"), Rows({0, 4}));  // fmod keeps the sign: -0.5 % 1 = -0.5
  EXPECT_EQ(Match("i64 + i8 == -4"), Rows({0}));      // row-by-row path
  EXPECT_EQ(Match("-i64 == 7"), Rows({1}));
  EXPECT_EQ(Match("j['a'] * 2 == 5"), Rows({1}));
  EXPECT_EQ(Match("size + 1 > 5"), Rows({0}));
  EXPECT_EQ(Match("ni + 1 > 1"), Rows({0, 2}));
  EXPECT_EQ(Match("not (ni + 1 > 1)"), Rows({3, 4}));
}

TEST_F(EvaluatorTest, Like) {
  EXPECT_EQ(Match("s like 'apple'"), Rows({0}));
  EXPECT_EQ(Match("s like 'app%'"), Rows({0}));
  EXPECT_EQ(Match("s like '%apple'"), Rows({0, 2}));
  EXPECT_EQ(Match("s like '%an%'"), Rows({1}));
  EXPECT_EQ(Match("s like '%'"), Rows({0, 1, 2, 3, 4}));
  EXPECT_EQ(Match("s like '_pple'"), Rows({0, 4}));
  EXPECT_EQ(Match("ns like '%\\%%'"), Rows({4}));
  EXPECT_EQ(Match("not ns like 'p%'"), Rows({2, 3, 4}));  // row 1 is null
  EXPECT_EQ(Match("j['b']['c'] like 'x'"), Rows({0}));
  EXPECT_EQ(Match("color like 'r%'"), Rows({0, 3}));
  EXPECT_EQ(Match("not color like 'r%'"), Rows({1, 4}));  // 5 is not a string: false
}

TEST_F(EvaluatorTest, JsonPaths) {
  EXPECT_EQ(Match("j['a'] == 1"), Rows({0}));
  EXPECT_EQ(Match("j['a'] == 'str'"), Rows({2}));
  EXPECT_EQ(Match("j['a'] != 1"), Rows({1, 2}));          // rows 3, 4: missing key is null
  EXPECT_EQ(Match("j['a'] > 'a'"), Rows({2}));
  EXPECT_EQ(Match("j['b']['c'] == 'x'"), Rows({0}));
  EXPECT_EQ(Match("j['b']['missing'] == 'x'"), Rows({}));
  EXPECT_EQ(Match("j['tags'][1] == 'y'"), Rows({0}));
  EXPECT_EQ(Match("j['tags'][5] == 'y'"), Rows({}));
  EXPECT_EQ(Match("j['l'][0] + 1 == 2"), Rows({0}));
  EXPECT_EQ(Match("j['a'] is null"), Rows({3, 4}));
  EXPECT_EQ(Match("j['a'] is not null"), Rows({0, 1, 2}));
  EXPECT_EQ(Match("exists j['tags']"), Rows({0, 1}));
  EXPECT_EQ(Match("j == 5"), Rows({3}));
  EXPECT_EQ(Match("not (j['a'] == 1)"), Rows({1, 2}));
  EXPECT_EQ(Match("j['a'] == 1 or j['a'] == 'str'"), Rows({0, 2}));
  EXPECT_EQ(Match("j[\"a\"] < 3"), Rows({0, 1}));
}

TEST_F(EvaluatorTest, Arrays) {
  EXPECT_EQ(Match("array_contains(ai, 3)"), Rows({0, 3}));
  EXPECT_EQ(Match("array_contains(ai, 3.0)"), Rows({0, 3}));
  EXPECT_EQ(Match("array_contains_all(ai, [1, 2])"), Rows({0}));
  EXPECT_EQ(Match("array_contains_all(ai, [])"), Rows({0, 1, 2, 3, 4}));
  EXPECT_EQ(Match("array_contains_any(ai, [4, 5])"), Rows({2, 3}));
  EXPECT_EQ(Match("array_contains_any(ai, [])"), Rows({}));
  EXPECT_EQ(Match("array_contains(as, 'a')"), Rows({0, 3, 4}));
  EXPECT_EQ(Match("array_contains_all(as, ['a', 'b'])"), Rows({0, 4}));
  EXPECT_EQ(Match("array_contains(af, 3)"), Rows({2, 3}));
  EXPECT_EQ(Match("array_contains(ab, true)"), Rows({0, 3}));
  EXPECT_EQ(Match("array_length(ai) == 0"), Rows({1}));
  EXPECT_EQ(Match("array_length(ai) >= 2"), Rows({0, 3}));
  EXPECT_EQ(Match("ai[0] == 1"), Rows({0, 4}));
  EXPECT_EQ(Match("ai[1] > 2"), Rows({3}));
  EXPECT_EQ(Match("as[0] == 'b'"), Rows({4}));
  EXPECT_EQ(Match("af[1] == 3"), Rows({2}));
  EXPECT_EQ(Match("ai[0] is null"), Rows({1}));  // out of range behaves like null
  EXPECT_EQ(Match("json_contains(j['tags'], 'x')"), Rows({0}));
  EXPECT_EQ(Match("json_contains_any(j['tags'], ['z', 'y'])"), Rows({0, 1}));
  EXPECT_EQ(Match("json_contains_all(j['l'], [1, 3])"), Rows({0}));
  EXPECT_EQ(Match("array_length(j['l']) == 3"), Rows({0}));
  EXPECT_EQ(Match("not json_contains(j['tags'], 'x')"), Rows({1}));  // rows 2-4: null
  // An array literal as the one value: the JSON array holds that array as an element.
  EXPECT_EQ(Match("json_contains(j['m'], [1, 2])"), Rows({2}));
  EXPECT_EQ(Match("json_contains(j['m'], [1.0, 2])"), Rows({2}));
  EXPECT_EQ(Match("json_contains(j['m'], [2, 1])"), Rows({}));
  EXPECT_EQ(Match("json_contains(j['l'], [1, 2])"), Rows({}));
}

TEST_F(EvaluatorTest, NullableFields) {
  EXPECT_EQ(Match("ni is null"), Rows({1}));
  EXPECT_EQ(Match("ni IS NOT NULL"), Rows({0, 2, 3, 4}));
  EXPECT_EQ(Match("ni > 0"), Rows({0, 2}));
  EXPECT_EQ(Match("not ni > 0"), Rows({3, 4}));
  EXPECT_EQ(Match("ni != 1"), Rows({2, 3, 4}));
  EXPECT_EQ(Match("ni in [1, 5]"), Rows({0, 2}));
  EXPECT_EQ(Match("ni not in [1, 5]"), Rows({3, 4}));
  EXPECT_EQ(Match("ns == ''"), Rows({3}));  // empty string is not null
  EXPECT_EQ(Match("ns is null"), Rows({1}));
  EXPECT_EQ(Match("nd <= 1"), Rows({0, 3, 4}));
  EXPECT_EQ(Match("nj is null"), Rows({1, 4}));
  EXPECT_EQ(Match("nj['k'] is null"), Rows({1, 3, 4}));
  EXPECT_EQ(Match("i64 is null"), Rows({}));
  EXPECT_EQ(Match("i64 is not null"), Rows({0, 1, 2, 3, 4}));
  // Kleene logic: null or true is true; null and false is false; not null is null.
  EXPECT_EQ(Match("ni > 0 or b"), Rows({0, 2, 4}));
  EXPECT_EQ(Match("not (ni > 0 or i64 < 0)"), Rows({3, 4}));
  EXPECT_EQ(Match("not (ni > 0 and i64 > 100)"), Rows({0, 1, 3, 4}));  // row 1: null and false = false
  EXPECT_EQ(Match("not (ni > 0 and i64 < 0)"), Rows({0, 2, 3, 4}));       // row 1: null and true = null
}

TEST_F(EvaluatorTest, DynamicFields) {
  EXPECT_EQ(Match("color == 'red'"), Rows({0, 3}));
  EXPECT_EQ(Match("color != 'red'"), Rows({1, 4}));  // 5 != 'red' (different kinds); row 2 missing
  EXPECT_EQ(Match("size > 5"), Rows({0}));
  EXPECT_EQ(Match("size < 5"), Rows({2}));
  EXPECT_EQ(Match("$meta['size'] >= 3.5"), Rows({0, 2}));
  EXPECT_EQ(Match("color is null"), Rows({2}));
  EXPECT_EQ(Match("unknown_key == 1"), Rows({}));
  EXPECT_EQ(Match("color == 5"), Rows({4}));
}

TEST_F(EvaluatorTest, SchemaMismatchIsAnError) {
  auto expr = ParseFilter("i64 > 1", set_->schema());
  ASSERT_TRUE(expr.ok());
  CollectionSchema other = testing::TestSchema(false);
  std::swap(other.fields[5], other.fields[6]);
  auto other_set = ColumnSet::Create(other);
  ASSERT_TRUE(other_set.ok());
  auto r = EvaluateFilter(**expr, **other_set);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  auto dyn = ParseFilter("color == 'x'", set_->schema());
  ASSERT_TRUE(dyn.ok());
  EXPECT_THAT(EvaluateFilter(**dyn, **other_set).status().message(), HasSubstr("dynamic field"));
}

TEST_F(EvaluatorTest, EmptyColumnSetAndWordBoundaries) {
  auto empty = ColumnSet::Create(testing::TestSchema(true));
  ASSERT_TRUE(empty.ok());
  auto expr = ParseFilter("i64 > 1 or color == 'x'", (*empty)->schema());
  ASSERT_TRUE(expr.ok());
  auto bits = EvaluateFilter(**expr, **empty);
  ASSERT_TRUE(bits.ok());
  EXPECT_EQ(bits->size(), 0u);
  // 130 rows: exercises full words and a partial tail word.
  for (int i = 5; i < 130; ++i) {
    json row = json::parse(kRows[i % 5]);
    row["id"] = i;
    row["i64"] = i;
    ASSERT_TRUE(set_->AppendRow(row).ok());
  }
  auto many = Match("i64 >= 64 and i64 < 129");
  EXPECT_EQ(many.size(), 65u);
  EXPECT_EQ(many.front(), 64);
  EXPECT_EQ(Match("not (i64 >= 0)").size(), 1u);  // row 1 has i64 = -7
}

}  // namespace
}  // namespace tessera::core::filter
