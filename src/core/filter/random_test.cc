// Cross-checks EvaluateFilter (fast column loops, Kleene logic) against a naive row-by-row
// reference over a few thousand random rows and random expressions.

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/filter/evaluator.h"
#include "core/filter/parser.h"
#include "core/filter/test_schema.h"

namespace tessera::core::filter {
namespace {

using nlohmann::json;

enum class Tri { kFalse, kTrue, kNull };

Tri Not(Tri a) { return a == Tri::kNull ? Tri::kNull : (a == Tri::kTrue ? Tri::kFalse : Tri::kTrue); }
Tri And(Tri a, Tri b) {
  if (a == Tri::kFalse || b == Tri::kFalse) return Tri::kFalse;
  if (a == Tri::kNull || b == Tri::kNull) return Tri::kNull;
  return Tri::kTrue;
}
Tri Or(Tri a, Tri b) { return Not(And(Not(a), Not(b))); }
Tri Of(bool b) { return b ? Tri::kTrue : Tri::kFalse; }

struct Row {
  int64_t i8, i32, i64;
  double f, d;
  std::string s;
  bool b;
  std::optional<int64_t> ni;
  json ja;      // j["a"]: null when missing
  json color;   // dynamic key: null when missing
};

bool Cmp(long double x, const std::string& op, long double y) {
  if (op == "==") return x == y;
  if (op == "!=") return x != y;
  if (op == "<") return x < y;
  if (op == "<=") return x <= y;
  if (op == ">") return x > y;
  return x >= y;
}

bool CmpStr(const std::string& x, const std::string& op, const std::string& y) {
  const int c = x.compare(y);
  return Cmp(c < 0 ? -1 : (c > 0 ? 1 : 0), op, 0);
}

struct Gen {
  std::string text;
  std::function<Tri(const Row&)> ref;
};

class RandomFilterTest : public ::testing::Test {
 protected:
  std::mt19937_64 rng_{20240601};
  const std::vector<std::string> ops_ = {"==", "!=", "<", "<=", ">", ">="};
  const std::vector<std::string> words_ = {"apple", "banana", "cherry", "app", "", "Apple"};

  int64_t Int(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng_); }
  const std::string& Op() { return ops_[static_cast<size_t>(Int(0, 5))]; }

  Row RandomRow() {
    Row r;
    r.i8 = Int(-10, 10);
    r.i32 = Int(-100, 100);
    r.i64 = Int(-1000, 1000);
    r.f = static_cast<double>(Int(-20, 20)) * 0.5;
    r.d = static_cast<double>(Int(-40, 40)) * 0.25;
    r.s = words_[static_cast<size_t>(Int(0, 5))];
    r.b = Int(0, 1) == 1;
    if (Int(0, 9) >= 3) r.ni = Int(-5, 5);
    switch (Int(0, 3)) {
      case 0: r.ja = nullptr; break;
      case 1: r.ja = Int(-5, 5); break;
      case 2: r.ja = static_cast<double>(Int(-10, 10)) * 0.5; break;
      default: r.ja = words_[static_cast<size_t>(Int(0, 2))];
    }
    if (Int(0, 2) > 0) r.color = Int(0, 1) ? json("red") : json("blue");
    return r;
  }

  json ToJson(const Row& r, int64_t id) {
    json row = {{"id", id}, {"vec", {0.0, 0.0}}, {"b", r.b}, {"i8", r.i8}, {"i16", 0}, {"i32", r.i32},
                {"i64", r.i64}, {"f", r.f}, {"d", r.d}, {"s", r.s}, {"j", json::object()},
                {"ai", json::array()}, {"as", json::array()}, {"af", json::array()}, {"ab", json::array()}};
    if (r.ni) row["ni"] = *r.ni;
    if (!r.ja.is_null()) row["j"]["a"] = r.ja;
    if (!r.color.is_null()) row["color"] = r.color;
    return row;
  }

  // A numeric constant: an integer, or a half-integer float.
  std::pair<std::string, long double> Constant() {
    if (Int(0, 1)) {
      const int64_t v = Int(-12, 12);
      return {std::to_string(v), static_cast<long double>(v)};
    }
    const double v = static_cast<double>(Int(-24, 24)) * 0.5;
    return {json(v).dump(), static_cast<long double>(v)};
  }

  Gen Atom() {
    switch (Int(0, 9)) {
      case 0: {  // numeric column vs constant
        static const char* kFields[] = {"i8", "i32", "i64", "f", "d"};
        const int which = static_cast<int>(Int(0, 4));
        const std::string op = Op();
        auto [text, c] = Constant();
        return {std::string(kFields[which]) + " " + op + " " + text, [=](const Row& r) {
                  const long double v = which == 0   ? r.i8
                                        : which == 1 ? r.i32
                                        : which == 2 ? r.i64
                                        : which == 3 ? static_cast<long double>(r.f)
                                                     : static_cast<long double>(r.d);
                  return Of(Cmp(v, op, c));
                }};
      }
      case 1: {  // arithmetic on an integer column
        const int64_t k = Int(1, 5);
        const bool mul = Int(0, 1);
        const std::string op = Op();
        const int64_t c = Int(-50, 50);
        return {"i32 " + std::string(mul ? "*" : "+") + " " + std::to_string(k) + " " + op + " " + std::to_string(c),
                [=](const Row& r) { return Of(Cmp(mul ? r.i32 * k : r.i32 + k, op, c)); }};
      }
      case 2: {  // arithmetic on a float column with a float constant
        const std::string op = Op();
        auto [text, c] = Constant();
        return {"d + 0.5 " + op + " " + text, [=](const Row& r) { return Of(Cmp(r.d + 0.5, op, c)); }};
      }
      case 3: {  // VarChar comparison
        const std::string op = Op();
        const std::string w = words_[static_cast<size_t>(Int(0, 5))];
        return {"s " + op + " '" + w + "'", [=](const Row& r) { return Of(CmpStr(r.s, op, w)); }};
      }
      case 4: {  // like prefix / in
        if (Int(0, 1)) return {"s like 'app%'", [](const Row& r) { return Of(r.s.rfind("app", 0) == 0); }};
        const int64_t a = Int(-5, 5), b = Int(-5, 5);
        const bool neg = Int(0, 1);
        return {"i8 " + std::string(neg ? "not in" : "in") + " [" + std::to_string(a) + ", " + std::to_string(b) + "]",
                [=](const Row& r) { return Of((r.i8 == a || r.i8 == b) != neg); }};
      }
      case 5:
        return {"b", [](const Row& r) { return Of(r.b); }};
      case 6: {  // nullable column
        if (Int(0, 2) == 0) {
          const bool neg = Int(0, 1);
          return {neg ? "ni is not null" : "ni is null", [=](const Row& r) { return Of(r.ni.has_value() == neg); }};
        }
        const std::string op = Op();
        const int64_t c = Int(-3, 3);
        return {"ni " + op + " " + std::to_string(c), [=](const Row& r) {
                  return r.ni ? Of(Cmp(static_cast<long double>(*r.ni), op, static_cast<long double>(c))) : Tri::kNull;
                }};
      }
      case 7: {  // JSON path with mixed value types
        const std::string op = Op();
        auto [text, c] = Constant();
        return {"j['a'] " + op + " " + text, [=](const Row& r) {
                  if (r.ja.is_null()) return Tri::kNull;
                  if (r.ja.is_string()) return Of(op == "!=");
                  return Of(Cmp(r.ja.get<double>(), op, c));
                }};
      }
      case 8: {  // dynamic field
        const bool neg = Int(0, 1);
        return {std::string("color ") + (neg ? "!=" : "==") + " 'red'", [=](const Row& r) {
                  if (r.color.is_null()) return Tri::kNull;
                  return Of((r.color == "red") != neg);
                }};
      }
      default: {  // chained range on a float column
        const int64_t lo = Int(-10, 0), hi = Int(0, 10);
        return {std::to_string(lo) + " <= f < " + std::to_string(hi),
                [=](const Row& r) { return Of(r.f >= lo && r.f < hi); }};
      }
    }
  }

  Gen Expression(int depth) {
    if (depth == 0 || Int(0, 2) == 0) return Atom();
    switch (Int(0, 2)) {
      case 0: {
        Gen a = Expression(depth - 1);
        return {"not (" + a.text + ")", [a](const Row& r) { return Not(a.ref(r)); }};
      }
      case 1: {
        Gen a = Expression(depth - 1), b = Expression(depth - 1);
        return {"(" + a.text + ") and (" + b.text + ")", [a, b](const Row& r) { return And(a.ref(r), b.ref(r)); }};
      }
      default: {
        Gen a = Expression(depth - 1), b = Expression(depth - 1);
        return {"(" + a.text + ") || (" + b.text + ")", [a, b](const Row& r) { return Or(a.ref(r), b.ref(r)); }};
      }
    }
  }
};

TEST_F(RandomFilterTest, MatchesRowByRowReference) {
  auto created = ColumnSet::Create(testing::TestSchema(/*dynamic=*/true));
  ASSERT_TRUE(created.ok());
  ColumnSet& set = **created;
  std::vector<Row> rows;
  for (int64_t i = 0; i < 3000; ++i) {
    rows.push_back(RandomRow());
    ASSERT_TRUE(set.AppendRow(ToJson(rows.back(), i)).ok());
  }
  size_t total_matches = 0;
  for (int iter = 0; iter < 300; ++iter) {
    Gen g = Expression(3);
    auto expr = ParseFilter(g.text, set.schema());
    ASSERT_TRUE(expr.ok()) << g.text << ": " << expr.status().ToString();
    auto bits = EvaluateFilter(**expr, set);
    ASSERT_TRUE(bits.ok());
    for (size_t row = 0; row < rows.size(); ++row) {
      const bool expected = g.ref(rows[row]) == Tri::kTrue;
      ASSERT_EQ(bits->Test(row), expected) << g.text << " at row " << row << " tree " << (*expr)->DebugString();
    }
    total_matches += bits->Count();
  }
  EXPECT_GT(total_matches, 0u);
}

}  // namespace
}  // namespace tessera::core::filter
