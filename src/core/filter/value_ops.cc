#include "core/filter/value_ops.h"

#include <cmath>
#include <cstdint>
#include <limits>

namespace tessera::core::filter {

using nlohmann::json;

namespace {

long double AsLongDouble(const json& v) {
  if (v.is_number_unsigned()) return static_cast<long double>(v.get<uint64_t>());
  if (v.is_number_integer()) return static_cast<long double>(v.get<int64_t>());
  return static_cast<long double>(v.get<double>());
}

bool IsInt64(const json& v) {
  return v.is_number_integer() &&
         (!v.is_number_unsigned() || v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
}

}  // namespace

std::optional<int> CompareNumbers(const json& a, const json& b) {
  if (!a.is_number() || !b.is_number()) return std::nullopt;
  const long double x = AsLongDouble(a);
  const long double y = AsLongDouble(b);
  if (std::isnan(x) || std::isnan(y)) return std::nullopt;
  return x < y ? -1 : (x > y ? 1 : 0);
}

Truth CompareValues(const json& a, CompareOp op, const json& b) {
  if (a.is_null() || b.is_null()) return Truth::kNull;
  auto result = [](bool v) { return v ? Truth::kTrue : Truth::kFalse; };
  if (a.is_number() && b.is_number()) {
    auto c = CompareNumbers(a, b);
    if (!c) return result(op == CompareOp::kNe);
    return result(CompareResult(*c, op));
  }
  if (a.is_string() && b.is_string()) {
    const int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
    return result(CompareResult(c < 0 ? -1 : (c > 0 ? 1 : 0), op));
  }
  if (op == CompareOp::kEq) return result(a == b);
  if (op == CompareOp::kNe) return result(a != b);
  return Truth::kFalse;
}

bool ValuesEqual(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) {
    auto c = CompareNumbers(a, b);
    return c && *c == 0;
  }
  return a == b;
}

bool IntArith(ArithOp op, int64_t a, int64_t b, int64_t* out) {
  const auto ua = static_cast<uint64_t>(a);
  const auto ub = static_cast<uint64_t>(b);
  switch (op) {
    case ArithOp::kAdd: *out = static_cast<int64_t>(ua + ub); return true;
    case ArithOp::kSub: *out = static_cast<int64_t>(ua - ub); return true;
    case ArithOp::kMul: *out = static_cast<int64_t>(ua * ub); return true;
    case ArithOp::kDiv:
      if (b == 0) return false;
      *out = (b == -1) ? static_cast<int64_t>(0 - ua) : a / b;
      return true;
    case ArithOp::kMod:
      if (b == 0) return false;
      *out = (b == -1) ? 0 : a % b;
      return true;
    case ArithOp::kPow: return false;
  }
  return false;
}

json ApplyArith(ArithOp op, const json& a, const json& b) {
  if (!a.is_number() || !b.is_number()) return nullptr;
  if (op != ArithOp::kPow && IsInt64(a) && IsInt64(b)) {
    int64_t out;
    if (!IntArith(op, a.get<int64_t>(), b.get<int64_t>(), &out)) return nullptr;
    return out;
  }
  const double x = a.get<double>();
  const double y = b.get<double>();
  switch (op) {
    case ArithOp::kAdd: return x + y;
    case ArithOp::kSub: return x - y;
    case ArithOp::kMul: return x * y;
    case ArithOp::kDiv: return x / y;
    case ArithOp::kMod: return std::fmod(x, y);
    case ArithOp::kPow: return std::pow(x, y);
  }
  return nullptr;
}

json Negate(const json& a) {
  if (IsInt64(a)) return static_cast<int64_t>(0 - static_cast<uint64_t>(a.get<int64_t>()));
  if (a.is_number()) return -a.get<double>();
  return nullptr;
}

}  // namespace tessera::core::filter
