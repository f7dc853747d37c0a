#include "core/filter/ast.h"

#include <initializer_list>
#include <string_view>

namespace tessera::core::filter {
namespace {

// Concatenation by append: GCC 12 at -O3 reports a false -Wrestrict on `"lit" + std::string`.
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

}  // namespace

std::string_view CompareOpName(CompareOp op) {
  switch (op) {
    case CompareOp::kEq: return "==";
    case CompareOp::kNe: return "!=";
    case CompareOp::kLt: return "<";
    case CompareOp::kLe: return "<=";
    case CompareOp::kGt: return ">";
    case CompareOp::kGe: return ">=";
  }
  return "?";
}

std::string_view ArithOpName(ArithOp op) {
  switch (op) {
    case ArithOp::kAdd: return "+";
    case ArithOp::kSub: return "-";
    case ArithOp::kMul: return "*";
    case ArithOp::kDiv: return "/";
    case ArithOp::kMod: return "%";
    case ArithOp::kPow: return "**";
  }
  return "?";
}

std::string ValueExpr::DebugString() const {
  switch (kind) {
    case Kind::kLiteral: return literal.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    case Kind::kField: {
      // A dynamic key is stored as $meta with the key as path[0].
      std::string s = field_index < 0 ? std::string("$meta") : field_name;
      for (size_t i = 0; i < path.size(); ++i) {
        if (const auto* key = std::get_if<std::string>(&path[i])) {
          s.append("[").append(nlohmann::json(*key).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)).append("]");
        } else {
          s.append("[").append(std::to_string(std::get<int64_t>(path[i]))).append("]");
        }
      }
      return s;
    }
    case Kind::kArith:
      return Cat({"(", ArithOpName(arith), " ", lhs->DebugString(), " ", rhs->DebugString(), ")"});
    case Kind::kNegate: return Cat({"(- ", lhs->DebugString(), ")"});
    case Kind::kArrayLength: return Cat({"(array_length ", lhs->DebugString(), ")"});
  }
  return "?";
}

std::string Expr::DebugString() const {
  auto list = [](const std::vector<nlohmann::json>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s.append(i ? "," : "").append(v[i].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return s.append("]");
  };
  switch (kind) {
    case Kind::kConstant: return constant_value ? "true" : "false";
    case Kind::kCompare:
      return Cat({"(", CompareOpName(compare_op), " ", lhs->DebugString(), " ", rhs->DebugString(), ")"});
    case Kind::kIn: return Cat({negated ? "(not_in " : "(in ", operand->DebugString(), " ", list(values), ")"});
    case Kind::kLike: return Cat({"(like ", operand->DebugString(), " ", nlohmann::json(pattern).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), ")"});
    case Kind::kIsNull: return Cat({negated ? "(is_not_null " : "(is_null ", operand->DebugString(), ")"});
    case Kind::kArrayContains: {
      const char* name = contains_mode == ContainsMode::kOne   ? "(array_contains "
                         : contains_mode == ContainsMode::kAll ? "(array_contains_all "
                                                               : "(array_contains_any ";
      return Cat({name, operand->DebugString(), " ", list(values), ")"});
    }
    case Kind::kBoolValue: return operand->DebugString();
    case Kind::kAnd: return Cat({"(and ", left->DebugString(), " ", right->DebugString(), ")"});
    case Kind::kOr: return Cat({"(or ", left->DebugString(), " ", right->DebugString(), ")"});
    case Kind::kNot: return Cat({"(not ", left->DebugString(), ")"});
  }
  return "?";
}

}  // namespace tessera::core::filter
