#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace tessera::core::filter {

/// Static type of a value expression, decided at parse time.
enum class ValueType {
  kBool,
  kInt,     // any integer field or literal (compared as int64)
  kFloat,   // Float/Double fields, float literals, arithmetic involving them or JSON
  kString,  // VarChar fields and string literals
  kJson,    // JSON fields/paths and dynamic keys: the type is known only per row
  kArray,   // a whole Array field
};

enum class ArithOp { kAdd, kSub, kMul, kDiv, kMod, kPow };
enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe };

/// A step of a JSON path or an array index: field["key"] or field[3].
using PathStep = std::variant<std::string, int64_t>;

/// Per-row value expression. Immutable after parsing; shared between the two halves of a
/// desugared chained comparison, hence held by shared_ptr<const ValueExpr>.
struct ValueExpr {
  enum class Kind {
    kLiteral,      // literal (bool, integer, float or string JSON value)
    kField,        // a field, optionally with a path
    kArith,        // lhs op rhs
    kNegate,       // -lhs
    kArrayLength,  // array_length(lhs), lhs a kField
  };
  Kind kind = Kind::kLiteral;
  ValueType type = ValueType::kJson;
  nlohmann::json literal;  // kLiteral

  // kField. field_index indexes CollectionSchema::fields, or is -1 for the dynamic field
  // ($meta; a dynamic key `color` becomes $meta["color"]).
  int field_index = -1;
  std::string field_name;       // as written, for messages ("color" for a dynamic key)
  std::vector<PathStep> path;

  ArithOp arith = ArithOp::kAdd;  // kArith
  std::shared_ptr<const ValueExpr> lhs, rhs;

  bool IsField() const { return kind == Kind::kField; }
  bool IsPlainField() const { return kind == Kind::kField && path.empty() && field_index >= 0; }
  /// S-expression for tests and logs, e.g. (+ a 1), a["k"][0], 5.
  std::string DebugString() const;
};

/// Boolean expression node: evaluates to a set of rows.
struct Expr {
  enum class Kind {
    kConstant,       // constant_value
    kCompare,        // lhs compare_op rhs
    kIn,             // operand [not] in values
    kLike,           // operand like pattern
    kIsNull,         // operand is [not] null (also EXISTS = is not null)
    kArrayContains,  // array_contains / _all / _any (also json_contains*)
    kBoolValue,      // a Bool-typed value used as a predicate (true matches)
    kAnd,
    kOr,
    kNot,            // not left
  };
  enum class ContainsMode { kOne, kAll, kAny };

  Kind kind = Kind::kConstant;
  bool constant_value = false;
  CompareOp compare_op = CompareOp::kEq;
  std::shared_ptr<const ValueExpr> lhs, rhs;  // kCompare
  std::shared_ptr<const ValueExpr> operand;   // kIn, kLike, kIsNull, kArrayContains, kBoolValue
  std::vector<nlohmann::json> values;         // kIn list; kArrayContains values
  bool negated = false;                       // not in / is not null
  std::string pattern;                        // kLike, escapes kept
  ContainsMode contains_mode = ContainsMode::kOne;
  std::unique_ptr<Expr> left, right;          // kAnd / kOr; kNot uses left

  /// S-expression, e.g. (and (> a 1) (not (in b [1,2]))).
  std::string DebugString() const;
};

std::string_view CompareOpName(CompareOp op);
std::string_view ArithOpName(ArithOp op);

}  // namespace tessera::core::filter
