#include "core/filter/evaluator.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/filter/like.h"
#include "core/filter/value_ops.h"

namespace tessera::core::filter {
namespace {

using nlohmann::json;

// Rows where the expression is true, and rows where it is unknown (null involved).
// `unknown` may be empty (size 0), meaning no unknown rows.
struct TriSet {
  Bitset truth;
  Bitset unknown;
};

// Writes words[w] bit j = pred(w * 64 + j) for rows [0, n). Written so the compiler can
// vectorize it when pred is a simple load-and-compare.
template <typename Pred>
void FillWords(size_t n, uint64_t* words, Pred pred) {
  const size_t full = n / 64;
  for (size_t w = 0; w < full; ++w) {
    const size_t base = w * 64;
    uint64_t bits = 0;
    for (size_t j = 0; j < 64; ++j) bits |= static_cast<uint64_t>(pred(base + j)) << j;
    words[w] = bits;
  }
  if (n % 64 != 0) {
    const size_t base = full * 64;
    uint64_t bits = 0;
    for (size_t j = 0; j < n % 64; ++j) bits |= static_cast<uint64_t>(pred(base + j)) << j;
    words[full] = bits;
  }
}

template <typename V, typename C>
void FillCompare(size_t n, uint64_t* words, CompareOp op, const V* data, C c) {
  switch (op) {
    case CompareOp::kEq: FillWords(n, words, [&](size_t i) { return static_cast<C>(data[i]) == c; }); break;
    case CompareOp::kNe: FillWords(n, words, [&](size_t i) { return static_cast<C>(data[i]) != c; }); break;
    case CompareOp::kLt: FillWords(n, words, [&](size_t i) { return static_cast<C>(data[i]) < c; }); break;
    case CompareOp::kLe: FillWords(n, words, [&](size_t i) { return static_cast<C>(data[i]) <= c; }); break;
    case CompareOp::kGt: FillWords(n, words, [&](size_t i) { return static_cast<C>(data[i]) > c; }); break;
    case CompareOp::kGe: FillWords(n, words, [&](size_t i) { return static_cast<C>(data[i]) >= c; }); break;
  }
}

// Same as FillCompare but on f(i) values.
template <typename F, typename C>
void FillCompareFn(size_t n, uint64_t* words, CompareOp op, F f, C c) {
  switch (op) {
    case CompareOp::kEq: FillWords(n, words, [&](size_t i) { return f(i) == c; }); break;
    case CompareOp::kNe: FillWords(n, words, [&](size_t i) { return f(i) != c; }); break;
    case CompareOp::kLt: FillWords(n, words, [&](size_t i) { return f(i) < c; }); break;
    case CompareOp::kLe: FillWords(n, words, [&](size_t i) { return f(i) <= c; }); break;
    case CompareOp::kGt: FillWords(n, words, [&](size_t i) { return f(i) > c; }); break;
    case CompareOp::kGe: FillWords(n, words, [&](size_t i) { return f(i) >= c; }); break;
  }
}

// A double that holds the JSON number exactly, when there is one.
bool ExactDouble(const json& v, double* out) {
  if (v.is_number_float()) {
    *out = v.get<double>();
    return true;
  }
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    *out = static_cast<double>(u);
    return u <= (uint64_t{1} << 53);
  }
  if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    *out = static_cast<double>(i);
    return i <= (int64_t{1} << 53) && i >= -(int64_t{1} << 53);
  }
  return false;
}

bool ExactInt64(const json& v, int64_t* out) {
  if (v.is_number_integer() &&
      (!v.is_number_unsigned() || v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
    *out = v.get<int64_t>();
    return true;
  }
  return false;
}

double DoubleArith(ArithOp op, double x, double y) {
  switch (op) {
    case ArithOp::kAdd: return x + y;
    case ArithOp::kSub: return x - y;
    case ArithOp::kMul: return x * y;
    case ArithOp::kDiv: return x / y;
    case ArithOp::kMod: return std::fmod(x, y);
    case ArithOp::kPow: return std::pow(x, y);
  }
  return 0;
}

// Navigates a JSON path; nullptr when a step is missing or of the wrong kind.
const json* Navigate(const json* v, const std::vector<PathStep>& path, size_t from) {
  for (size_t i = from; i < path.size() && v != nullptr; ++i) {
    if (const auto* key = std::get_if<std::string>(&path[i])) {
      if (!v->is_object()) return nullptr;
      auto it = v->find(*key);
      v = it == v->end() ? nullptr : &*it;
    } else {
      const int64_t idx = std::get<int64_t>(path[i]);
      if (!v->is_array() || idx < 0 || static_cast<uint64_t>(idx) >= v->size()) return nullptr;
      v = &(*v)[static_cast<size_t>(idx)];
    }
  }
  return v;
}

class Evaluator {
 public:
  explicit Evaluator(const ColumnSet& cs) : cs_(cs), n_(cs.num_rows()) {}

  Status Check(const Expr& e) const {
    for (const ValueExpr* v : {e.lhs.get(), e.rhs.get(), e.operand.get()}) {
      if (v != nullptr) TESSERA_RETURN_IF_ERROR(CheckValue(*v));
    }
    if (e.left) TESSERA_RETURN_IF_ERROR(Check(*e.left));
    if (e.right) TESSERA_RETURN_IF_ERROR(Check(*e.right));
    return Status::OK();
  }

  void Eval(const Expr& e, TriSet* out) const {
    switch (e.kind) {
      case Expr::Kind::kConstant:
        out->truth = Bitset(n_, e.constant_value);
        return;
      case Expr::Kind::kAnd:
      case Expr::Kind::kOr: {
        TriSet l, r;
        Eval(*e.left, &l);
        Eval(*e.right, &r);
        Combine(e.kind == Expr::Kind::kAnd, l, r, out);
        return;
      }
      case Expr::Kind::kNot: {
        Eval(*e.left, out);
        out->truth.Flip();
        if (!out->unknown.empty()) out->truth.AndNot(out->unknown);
        return;
      }
      default:
        break;
    }
    out->truth = Bitset(n_);
    if (!FastLeaf(e, out)) GenericLeaf(e, out);
  }

 private:
  Status CheckValue(const ValueExpr& v) const {
    if (v.kind == ValueExpr::Kind::kField) {
      if (v.field_index < 0) {
        if (cs_.dynamic_column() == nullptr) {
          return Status::InvalidArgument("filter uses the dynamic field but the collection has none");
        }
      } else if (static_cast<size_t>(v.field_index) >= cs_.schema().fields.size() ||
                 cs_.schema().fields[static_cast<size_t>(v.field_index)].name != v.field_name) {
        return Status::InvalidArgument("filter field '" + v.field_name + "' does not match the collection schema");
      }
    }
    if (v.lhs) TESSERA_RETURN_IF_ERROR(CheckValue(*v.lhs));
    if (v.rhs) TESSERA_RETURN_IF_ERROR(CheckValue(*v.rhs));
    return Status::OK();
  }

  // Kleene and/or on word level. F = ~T & ~U.
  void Combine(bool is_and, TriSet& l, TriSet& r, TriSet* out) const {
    const size_t words = l.truth.num_words();
    const bool lu = !l.unknown.empty();
    const bool ru = !r.unknown.empty();
    if (lu || ru) {
      if (!lu) l.unknown = Bitset(n_);
      if (!ru) r.unknown = Bitset(n_);
      uint64_t* lt = l.truth.words();
      uint64_t* luw = l.unknown.words();
      const uint64_t* rt = r.truth.words();
      const uint64_t* ruw = r.unknown.words();
      for (size_t w = 0; w < words; ++w) {
        if (is_and) {
          // unknown if neither side is false and at least one is unknown.
          const uint64_t u = (luw[w] & (rt[w] | ruw[w])) | (ruw[w] & (lt[w] | luw[w]));
          lt[w] &= rt[w];
          luw[w] = u;
        } else {
          lt[w] |= rt[w];
          luw[w] = (luw[w] | ruw[w]) & ~lt[w];
        }
      }
    } else if (is_and) {
      l.truth &= r.truth;
    } else {
      l.truth |= r.truth;
    }
    *out = std::move(l);
  }

  // Marks null rows of a plain nullable column as unknown and clears their truth bits.
  void ApplyValidity(const Column& column, TriSet* out) const {
    const Bitset* valid = column.validity();
    if (valid == nullptr) return;
    out->truth &= *valid;
    out->unknown = *valid;
    out->unknown.Flip();
  }

  const Column* PlainColumn(const ValueExpr& v) const {
    return v.IsPlainField() ? &cs_.column(static_cast<size_t>(v.field_index)) : nullptr;
  }

  // ---- fast paths: return false when the shape does not fit ----

  bool FastLeaf(const Expr& e, TriSet* out) const {
    switch (e.kind) {
      case Expr::Kind::kCompare: return FastCompare(e, out);
      case Expr::Kind::kIn: return FastIn(e, out);
      case Expr::Kind::kLike: return FastLike(e, out);
      case Expr::Kind::kIsNull: return FastIsNull(e, out);
      case Expr::Kind::kBoolValue: {
        const Column* c = PlainColumn(*e.operand);
        if (c == nullptr || c->field().data_type != DataType::kBool) return false;
        const uint8_t* d = static_cast<const BoolColumn*>(c)->data().data();
        FillWords(n_, out->truth.words(), [&](size_t i) { return d[i] != 0; });
        ApplyValidity(*c, out);
        return true;
      }
      case Expr::Kind::kArrayContains: return FastContains(e, out);
      default: return false;
    }
  }

  template <typename Fn>
  static bool VisitScalar(const Column& c, Fn&& fn) {
    switch (c.field().data_type) {
      case DataType::kBool: fn(static_cast<const BoolColumn&>(c).data().data()); return true;
      case DataType::kInt8: fn(static_cast<const Int8Column&>(c).data().data()); return true;
      case DataType::kInt16: fn(static_cast<const Int16Column&>(c).data().data()); return true;
      case DataType::kInt32: fn(static_cast<const Int32Column&>(c).data().data()); return true;
      case DataType::kInt64: fn(static_cast<const Int64Column&>(c).data().data()); return true;
      case DataType::kFloat: fn(static_cast<const FloatColumn&>(c).data().data()); return true;
      case DataType::kDouble: fn(static_cast<const DoubleColumn&>(c).data().data()); return true;
      default: return false;
    }
  }

  bool FastCompare(const Expr& e, TriSet* out) const {
    if (e.rhs->kind != ValueExpr::Kind::kLiteral) return false;
    const json& c = e.rhs->literal;
    uint64_t* words = out->truth.words();
    if (const Column* col = PlainColumn(*e.lhs)) {
      const DataType t = col->field().data_type;
      if (t == DataType::kVarChar) {
        if (!c.is_string()) return false;
        const auto& vc = static_cast<const VarCharColumn&>(*col);
        const std::string_view s = c.get_ref<const std::string&>();
        FillCompareFn(
            n_, words, e.compare_op,
            [&](size_t i) {
              const int r = vc.View(i).compare(s);
              return r < 0 ? -1 : (r > 0 ? 1 : 0);
            },
            0);
        ApplyValidity(*col, out);
        return true;
      }
      json cv = c;
      if (t == DataType::kBool) {
        if (!c.is_boolean()) return false;
        cv = c.get<bool>() ? 1 : 0;
      } else if (!c.is_number()) {
        return false;
      }
      int64_t ci;
      double cd;
      bool handled = false;
      VisitScalar(*col, [&](const auto* data) {
        using T = std::remove_cv_t<std::remove_pointer_t<decltype(data)>>;
        if constexpr (std::is_integral_v<T>) {
          if (ExactInt64(cv, &ci)) {
            FillCompare(n_, words, e.compare_op, data, ci);
            handled = true;
          } else if (cv.is_number_float() && !std::isnan(cv.get<double>())) {
            FillCompare(n_, words, e.compare_op, data, static_cast<long double>(cv.get<double>()));
            handled = true;
          }
        } else if (ExactDouble(cv, &cd)) {
          FillCompare(n_, words, e.compare_op, data, cd);
          handled = true;
        }
      });
      if (!handled) return false;
      ApplyValidity(*col, out);
      return true;
    }
    // (field aop literal) cmp literal.
    const ValueExpr& a = *e.lhs;
    if (a.kind != ValueExpr::Kind::kArith || a.rhs->kind != ValueExpr::Kind::kLiteral || !c.is_number()) return false;
    const Column* col = PlainColumn(*a.lhs);
    if (col == nullptr || !IsNumericType(col->field().data_type)) return false;
    const json& k = a.rhs->literal;
    int64_t ki, ci;
    double kd, cd;
    bool handled = false;
    VisitScalar(*col, [&](const auto* data) {
      using T = std::remove_cv_t<std::remove_pointer_t<decltype(data)>>;
      if (std::is_integral_v<T> && a.arith != ArithOp::kPow && ExactInt64(k, &ki) && ExactInt64(c, &ci)) {
        if ((a.arith == ArithOp::kDiv || a.arith == ArithOp::kMod) && ki == 0) {
          out->unknown = Bitset(n_, true);  // x / 0 is null for every row
          handled = true;
          return;
        }
        const ArithOp op = a.arith;
        FillCompareFn(
            n_, words, e.compare_op,
            [&](size_t i) {
              int64_t r = 0;
              IntArith(op, static_cast<int64_t>(data[i]), ki, &r);
              return r;
            },
            ci);
        handled = true;
      } else if ((std::is_floating_point_v<T> || k.is_number_float() || a.arith == ArithOp::kPow) &&
                 ExactDouble(k, &kd) && ExactDouble(c, &cd)) {
        const ArithOp op = a.arith;
        FillCompareFn(n_, words, e.compare_op, [&](size_t i) { return DoubleArith(op, static_cast<double>(data[i]), kd); },
                      cd);
        handled = true;
      }
    });
    if (!handled) return false;
    if (out->unknown.empty()) ApplyValidity(*col, out);
    return true;
  }

  bool FastIn(const Expr& e, TriSet* out) const {
    const Column* col = PlainColumn(*e.operand);
    if (col == nullptr) return false;
    uint64_t* words = out->truth.words();
    if (col->field().data_type == DataType::kVarChar) {
      std::vector<std::string_view> keys;
      for (const json& v : e.values) {
        if (v.is_string()) keys.push_back(v.get_ref<const std::string&>());
      }
      std::sort(keys.begin(), keys.end());
      const auto& vc = static_cast<const VarCharColumn&>(*col);
      FillWords(n_, words, [&](size_t i) { return std::binary_search(keys.begin(), keys.end(), vc.View(i)) != e.negated; });
      ApplyValidity(*col, out);
      return true;
    }
    if (!IsNumericType(col->field().data_type)) return false;
    // Numbers as long double: exact for int64 and double alike.
    std::vector<long double> keys;
    for (const json& v : e.values) {
      if (v.is_number()) keys.push_back(v.is_number_float() ? static_cast<long double>(v.get<double>())
                                        : v.is_number_unsigned() ? static_cast<long double>(v.get<uint64_t>())
                                                                 : static_cast<long double>(v.get<int64_t>()));
    }
    std::sort(keys.begin(), keys.end());
    VisitScalar(*col, [&](const auto* data) {
      FillWords(n_, words, [&](size_t i) {
        return std::binary_search(keys.begin(), keys.end(), static_cast<long double>(data[i])) != e.negated;
      });
    });
    ApplyValidity(*col, out);
    return true;
  }

  bool FastLike(const Expr& e, TriSet* out) const {
    const Column* col = PlainColumn(*e.operand);
    if (col == nullptr || col->field().data_type != DataType::kVarChar) return false;
    const LikePattern pattern(e.pattern);
    const auto& vc = static_cast<const VarCharColumn&>(*col);
    FillWords(n_, out->truth.words(), [&](size_t i) { return pattern.Match(vc.View(i)); });
    ApplyValidity(*col, out);
    return true;
  }

  bool FastIsNull(const Expr& e, TriSet* out) const {
    const Column* col = PlainColumn(*e.operand);
    if (col == nullptr || col->field().data_type == DataType::kJSON) return false;
    const Bitset* valid = col->validity();
    if (valid == nullptr) {
      out->truth = Bitset(n_, e.negated);  // never null
      return true;
    }
    out->truth = *valid;
    if (!e.negated) out->truth.Flip();
    return true;
  }

  bool FastContains(const Expr& e, TriSet* out) const {
    const Column* col = PlainColumn(*e.operand);
    if (col == nullptr || col->field().data_type != DataType::kArray) return false;
    const auto& ac = static_cast<const ArrayColumn&>(*col);
    const DataType et = ac.element_type();
    // Match flags per requested value; row matches per mode.
    auto row_match = [&](size_t row, auto&& elements, auto&& equal) {
      const size_t begin = ac.Begin(row);
      const size_t len = ac.Length(row);
      size_t found = 0;
      for (const json& v : e.values) {
        bool hit = false;
        for (size_t k = 0; k < len && !hit; ++k) hit = equal(elements[begin + k], v);
        if (hit && e.contains_mode != Expr::ContainsMode::kAll) return true;
        found += hit ? 1 : 0;
      }
      return e.contains_mode == Expr::ContainsMode::kAll && found == e.values.size();
    };
    uint64_t* words = out->truth.words();
    if (et == DataType::kVarChar) {
      auto eq = [](const std::string& a, const json& v) { return v.is_string() && a == v.get_ref<const std::string&>(); };
      FillWords(n_, words, [&](size_t i) { return row_match(i, ac.strings(), eq); });
    } else if (IsFloatingType(et)) {
      auto eq = [](double a, const json& v) { return ValuesEqual(json(a), v); };
      FillWords(n_, words, [&](size_t i) { return row_match(i, ac.doubles(), eq); });
    } else if (et == DataType::kBool) {
      auto eq = [](int64_t a, const json& v) { return v.is_boolean() && (a != 0) == v.get<bool>(); };
      FillWords(n_, words, [&](size_t i) { return row_match(i, ac.ints(), eq); });
    } else {
      auto eq = [](int64_t a, const json& v) { return ValuesEqual(json(a), v); };
      FillWords(n_, words, [&](size_t i) { return row_match(i, ac.ints(), eq); });
    }
    ApplyValidity(*col, out);
    return true;
  }

  // ---- generic row-by-row path ----

  void GenericLeaf(const Expr& e, TriSet* out) const {
    for (size_t row = 0; row < n_; ++row) {
      const Truth t = RowTruth(e, row);
      if (t == Truth::kTrue) {
        out->truth.Set(row);
      } else if (t == Truth::kNull) {
        if (out->unknown.empty()) out->unknown = Bitset(n_);
        out->unknown.Set(row);
      }
    }
  }

  static Truth FromBool(bool b) { return b ? Truth::kTrue : Truth::kFalse; }

  Truth RowTruth(const Expr& e, size_t row) const {
    switch (e.kind) {
      case Expr::Kind::kCompare: return CompareValues(Value(*e.lhs, row), e.compare_op, Value(*e.rhs, row));
      case Expr::Kind::kIn: {
        const json v = Value(*e.operand, row);
        if (v.is_null()) return Truth::kNull;
        bool found = false;
        for (const json& x : e.values) found = found || ValuesEqual(v, x);
        return FromBool(found != e.negated);
      }
      case Expr::Kind::kLike: {
        const json v = Value(*e.operand, row);
        if (v.is_null()) return Truth::kNull;
        if (!v.is_string()) return Truth::kFalse;
        return FromBool(LikePattern(e.pattern).Match(v.get_ref<const std::string&>()));
      }
      case Expr::Kind::kIsNull: return FromBool(Value(*e.operand, row).is_null() != e.negated);
      case Expr::Kind::kBoolValue: {
        const json v = Value(*e.operand, row);
        if (v.is_null()) return Truth::kNull;
        return FromBool(v.is_boolean() && v.get<bool>());
      }
      case Expr::Kind::kArrayContains: {
        const json v = Value(*e.operand, row);
        if (v.is_null()) return Truth::kNull;
        if (!v.is_array()) return Truth::kFalse;
        size_t found = 0;
        for (const json& x : e.values) {
          bool hit = false;
          for (const json& el : v) hit = hit || ValuesEqual(el, x);
          if (hit && e.contains_mode != Expr::ContainsMode::kAll) return Truth::kTrue;
          found += hit ? 1 : 0;
        }
        return FromBool(e.contains_mode == Expr::ContainsMode::kAll && found == e.values.size());
      }
      default: return Truth::kFalse;  // boolean nodes never reach here
    }
  }

  json Value(const ValueExpr& v, size_t row) const {
    switch (v.kind) {
      case ValueExpr::Kind::kLiteral: return v.literal;
      case ValueExpr::Kind::kField: return FieldValue(v, row);
      case ValueExpr::Kind::kArith: return ApplyArith(v.arith, Value(*v.lhs, row), Value(*v.rhs, row));
      case ValueExpr::Kind::kNegate: return Negate(Value(*v.lhs, row));
      case ValueExpr::Kind::kArrayLength: {
        const ValueExpr& target = *v.lhs;
        if (const Column* c = PlainColumn(target); c != nullptr && c->field().data_type == DataType::kArray) {
          if (c->IsNull(row)) return nullptr;
          return static_cast<int64_t>(static_cast<const ArrayColumn*>(c)->Length(row));
        }
        const json a = FieldValue(target, row);
        if (!a.is_array()) return nullptr;
        return static_cast<int64_t>(a.size());
      }
    }
    return nullptr;
  }

  json FieldValue(const ValueExpr& v, size_t row) const {
    if (v.field_index < 0) {
      const json* p = Navigate(&cs_.dynamic_column()->Value(row), v.path, 0);
      return p == nullptr ? json() : *p;
    }
    const Column& c = cs_.column(static_cast<size_t>(v.field_index));
    if (v.path.empty()) return c.Get(row);
    if (c.IsNull(row)) return nullptr;
    if (c.field().data_type == DataType::kJSON) {
      const json* p = Navigate(&static_cast<const JsonColumn&>(c).Value(row), v.path, 0);
      return p == nullptr ? json() : *p;
    }
    if (c.field().data_type == DataType::kArray) {
      const int64_t idx = std::get<int64_t>(v.path[0]);
      if (idx < 0) return nullptr;
      return static_cast<const ArrayColumn&>(c).Element(row, static_cast<size_t>(idx));
    }
    return nullptr;
  }

  const ColumnSet& cs_;
  const size_t n_;
};

}  // namespace

Result<Bitset> EvaluateFilter(const Expr& expr, const ColumnSet& columns) {
  Evaluator evaluator(columns);
  TESSERA_RETURN_IF_ERROR(evaluator.Check(expr));
  TriSet result;
  evaluator.Eval(expr, &result);
  return std::move(result.truth);
}

}  // namespace tessera::core::filter
