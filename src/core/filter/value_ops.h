#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "core/filter/ast.h"

namespace tessera::core::filter {

/// Three-valued truth: a comparison involving a null (or missing JSON key) is kNull.
enum class Truth { kFalse, kTrue, kNull };

/// -1/0/+1 comparing two JSON numbers exactly (int64, uint64 and double mixed, compared
/// through long double, which holds all of them exactly on x86-64); nullopt when either is
/// not a number or is NaN.
std::optional<int> CompareNumbers(const nlohmann::json& a, const nlohmann::json& b);

/// Row semantics of `a op b`: null when either side is null; numbers compare numerically
/// (ints and floats mixed); strings byte-wise; bools, arrays and objects only by == / !=.
/// Values of different kinds are unequal: == is false, != is true, ordering is false.
Truth CompareValues(const nlohmann::json& a, CompareOp op, const nlohmann::json& b);

/// Equality used by `in` and the contains functions: numbers numerically, others by value.
bool ValuesEqual(const nlohmann::json& a, const nlohmann::json& b);

/// `a op b` on numbers. Two integers use int64 arithmetic (wrapping on overflow, / truncates,
/// % takes the sign of a); otherwise double (% is fmod). ** is always double. Null when an
/// operand is not a number, or for integer division/modulo by zero.
nlohmann::json ApplyArith(ArithOp op, const nlohmann::json& a, const nlohmann::json& b);

/// -a for a number (wrapping for INT64_MIN), else null.
nlohmann::json Negate(const nlohmann::json& a);

/// int64 arithmetic with the semantics above; false for division/modulo by zero.
bool IntArith(ArithOp op, int64_t a, int64_t b, int64_t* out);

/// True when `cmp` (-1/0/+1) satisfies `op`.
inline bool CompareResult(int cmp, CompareOp op) {
  switch (op) {
    case CompareOp::kEq: return cmp == 0;
    case CompareOp::kNe: return cmp != 0;
    case CompareOp::kLt: return cmp < 0;
    case CompareOp::kLe: return cmp <= 0;
    case CompareOp::kGt: return cmp > 0;
    case CompareOp::kGe: return cmp >= 0;
  }
  return false;
}

}  // namespace tessera::core::filter
