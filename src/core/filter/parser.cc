#include "core/filter/parser.h"

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/filter/lexer.h"
#include "core/filter/value_ops.h"

namespace tessera::core::filter {
namespace {

using nlohmann::json;
using ValuePtr = std::shared_ptr<const ValueExpr>;

constexpr int kMaxDepth = 128;       // nesting of parentheses / unary operators
constexpr size_t kMaxNodes = 10000;  // boolean nodes, bounds evaluator recursion

bool IsNumeric(ValueType t) { return t == ValueType::kInt || t == ValueType::kFloat; }

std::string_view TypeName(ValueType t) {
  switch (t) {
    case ValueType::kBool: return "Bool";
    case ValueType::kInt: return "integer";
    case ValueType::kFloat: return "float";
    case ValueType::kString: return "string";
    case ValueType::kJson: return "JSON";
    case ValueType::kArray: return "Array";
  }
  return "?";
}

ValueType TypeOfField(const FieldSchema& f) {
  switch (f.data_type) {
    case DataType::kBool: return ValueType::kBool;
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kInt32:
    case DataType::kInt64: return ValueType::kInt;
    case DataType::kFloat:
    case DataType::kDouble: return ValueType::kFloat;
    case DataType::kVarChar: return ValueType::kString;
    case DataType::kArray: return ValueType::kArray;
    default: return ValueType::kJson;
  }
}

ValueType TypeOfElement(DataType t) {
  FieldSchema f;
  f.data_type = t;
  return TypeOfField(f);
}

ValueType TypeOfLiteral(const json& v) {
  if (v.is_boolean()) return ValueType::kBool;
  if (v.is_number_integer()) return ValueType::kInt;
  if (v.is_number()) return ValueType::kFloat;
  if (v.is_string()) return ValueType::kString;
  return ValueType::kJson;
}

// Whether a literal of type `lit` may meet a value of type `t` in ==, in, contains.
bool Compatible(ValueType t, ValueType lit) {
  if (t == ValueType::kJson || lit == ValueType::kJson) return true;
  if (IsNumeric(t) && IsNumeric(lit)) return true;
  return t == lit;
}

ValuePtr MakeLiteral(json v) {
  auto e = std::make_shared<ValueExpr>();
  e->kind = ValueExpr::Kind::kLiteral;
  e->type = TypeOfLiteral(v);
  e->literal = std::move(v);
  return e;
}

// The field a value expression reads, for error messages ("" when none).
std::string FieldOf(const ValueExpr& v) {
  if (v.kind == ValueExpr::Kind::kField) return v.field_name;
  std::string s = v.lhs ? FieldOf(*v.lhs) : "";
  if (s.empty() && v.rhs) s = FieldOf(*v.rhs);
  return s;
}

std::string Describe(const ValueExpr& v) {
  switch (v.kind) {
    case ValueExpr::Kind::kLiteral: return std::string(TypeName(v.type)) + " literal " + v.literal.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    case ValueExpr::Kind::kField: return "field '" + v.field_name + "' (" + std::string(TypeName(v.type)) + ")";
    case ValueExpr::Kind::kArrayLength: return "array_length(" + FieldOf(v) + ")";
    default: {
      const std::string f = FieldOf(v);
      return "arithmetic on " + (f.empty() ? std::string("literals") : "field '" + f + "'");
    }
  }
}

CompareOp Mirror(CompareOp op) {
  switch (op) {
    case CompareOp::kLt: return CompareOp::kGt;
    case CompareOp::kLe: return CompareOp::kGe;
    case CompareOp::kGt: return CompareOp::kLt;
    case CompareOp::kGe: return CompareOp::kLe;
    default: return op;
  }
}

std::unique_ptr<Expr> MakeConstant(bool value) {
  auto e = std::make_unique<Expr>();
  e->kind = Expr::Kind::kConstant;
  e->constant_value = value;
  return e;
}

// A parsed operand: either a boolean expression or a value.
struct Operand {
  std::unique_ptr<Expr> pred;
  ValuePtr value;
  size_t pos = 0;  // where it starts
  std::string_view text;
};

class Parser {
 public:
  Parser(std::string_view input, std::vector<Token> tokens, const CollectionSchema& schema)
      : input_(input), tokens_(std::move(tokens)), schema_(schema) {}

  Result<std::unique_ptr<Expr>> Run() {
    if (Cur().kind == TokenKind::kEnd) return ParseError(0, "", "empty filter expression");
    TESSERA_ASSIGN_OR_RETURN(Operand top, ParseOr());
    if (Cur().kind != TokenKind::kEnd) return UnexpectedToken("expected end of expression");
    return ToPredicate(std::move(top));
  }

 private:
  const Token& Cur() const { return tokens_[idx_]; }
  const Token& Ahead(size_t n) const { return tokens_[std::min(idx_ + n, tokens_.size() - 1)]; }
  const Token& Advance() { return tokens_[idx_ < tokens_.size() - 1 ? idx_++ : idx_]; }

  static bool IsKeyword(const Token& t, std::string_view lower) {
    if (t.kind != TokenKind::kIdentifier || t.text.size() != lower.size()) return false;
    if (t.text == lower) return true;
    for (size_t i = 0; i < lower.size(); ++i) {
      if (t.text[i] != static_cast<char>(lower[i] - ('a' <= lower[i] && lower[i] <= 'z' ? 32 : 0))) return false;
    }
    return true;
  }
  bool IsReserved(const Token& t) const {
    for (std::string_view k : {"and", "or", "not", "in", "like", "is", "null", "exists", "true", "false"}) {
      if (IsKeyword(t, k)) return true;
    }
    return false;
  }
  // true|True|TRUE|false|False|FALSE.
  static bool IsBoolLiteral(const Token& t, bool* value) {
    if (t.kind != TokenKind::kIdentifier) return false;
    if (IsKeyword(t, "true") || t.text == "True") {
      *value = true;
      return true;
    }
    if (IsKeyword(t, "false") || t.text == "False") {
      *value = false;
      return true;
    }
    return false;
  }

  Status ErrorAt(const Token& t, std::string_view message) const {
    return ParseError(t.pos, t.kind == TokenKind::kEnd ? std::string_view() : t.text, message);
  }
  Status ErrorAt(const Operand& o, std::string_view message) const { return ParseError(o.pos, o.text, message); }
  Status UnexpectedToken(std::string_view expected) const {
    const Token& t = Cur();
    switch (t.kind) {
      case TokenKind::kTilde:
      case TokenKind::kAmp:
      case TokenKind::kPipe:
      case TokenKind::kCaret:
      case TokenKind::kShl:
      case TokenKind::kShr:
        return ErrorAt(t, "bitwise operators are not supported");
      case TokenKind::kLBrace: return ErrorAt(t, "template placeholders {name} are not supported");
      default: return ErrorAt(t, expected);
    }
  }
  Status Expect(TokenKind kind, std::string_view what) {
    if (Cur().kind != kind) return UnexpectedToken(std::string("expected ") + std::string(what));
    Advance();
    return Status::OK();
  }

  // Operand covering tokens [start_idx, idx_).
  Operand Span(size_t start_idx) const {
    Operand o;
    o.pos = tokens_[start_idx].pos;
    const size_t end_idx = idx_ > start_idx ? idx_ - 1 : start_idx;
    const Token& last = tokens_[end_idx];
    o.text = input_.substr(o.pos, last.pos + last.text.size() - o.pos);
    return o;
  }
  Operand ValueOperand(size_t start_idx, ValuePtr v) const {
    Operand o = Span(start_idx);
    o.value = std::move(v);
    return o;
  }
  Result<Operand> PredOperand(size_t start_idx, std::unique_ptr<Expr> e) {
    if (++nodes_ > kMaxNodes) return ErrorAt(tokens_[start_idx], "expression has too many terms");
    Operand o = Span(start_idx);
    o.pred = std::move(e);
    return o;
  }

  Result<ValuePtr> ToValue(Operand o) const {
    if (o.value) return o.value;
    return ErrorAt(o, "expected a value, got a boolean expression");
  }

  Result<std::unique_ptr<Expr>> ToPredicate(Operand o) const {
    if (o.pred) return std::move(o.pred);
    const ValueExpr& v = *o.value;
    if (v.kind == ValueExpr::Kind::kLiteral && v.literal.is_boolean()) return MakeConstant(v.literal.get<bool>());
    if (v.type == ValueType::kBool || (v.type == ValueType::kJson && v.kind == ValueExpr::Kind::kField)) {
      auto e = std::make_unique<Expr>();
      e->kind = Expr::Kind::kBoolValue;
      e->operand = o.value;
      return e;
    }
    return ErrorAt(o, "expected a boolean expression, got " + Describe(v));
  }

  // ---- boolean levels ----

  Result<Operand> ParseOr() {
    const size_t start = idx_;
    TESSERA_ASSIGN_OR_RETURN(Operand left, ParseAnd());
    while (Cur().kind == TokenKind::kOrOr || IsKeyword(Cur(), "or")) {
      Advance();
      TESSERA_ASSIGN_OR_RETURN(Operand right, ParseAnd());
      TESSERA_ASSIGN_OR_RETURN(left, Combine(Expr::Kind::kOr, start, std::move(left), std::move(right)));
    }
    return left;
  }

  Result<Operand> ParseAnd() {
    const size_t start = idx_;
    TESSERA_ASSIGN_OR_RETURN(Operand left, ParseNot());
    while (Cur().kind == TokenKind::kAndAnd || IsKeyword(Cur(), "and")) {
      Advance();
      TESSERA_ASSIGN_OR_RETURN(Operand right, ParseNot());
      TESSERA_ASSIGN_OR_RETURN(left, Combine(Expr::Kind::kAnd, start, std::move(left), std::move(right)));
    }
    return left;
  }

  Result<Operand> Combine(Expr::Kind kind, size_t start, Operand left, Operand right) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    TESSERA_ASSIGN_OR_RETURN(e->left, ToPredicate(std::move(left)));
    TESSERA_ASSIGN_OR_RETURN(e->right, ToPredicate(std::move(right)));
    return PredOperand(start, std::move(e));
  }

  Result<Operand> ParseNot() {
    if (Cur().kind == TokenKind::kBang || IsKeyword(Cur(), "not")) {
      const size_t start = idx_;
      Advance();
      if (++depth_ > kMaxDepth) return ErrorAt(tokens_[start], "expression nested too deeply");
      TESSERA_ASSIGN_OR_RETURN(Operand inner, ParseNot());
      --depth_;
      return Negation(start, std::move(inner));
    }
    return ParsePredicate();
  }

  Result<Operand> Negation(size_t start, Operand inner) {
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kNot;
    TESSERA_ASSIGN_OR_RETURN(e->left, ToPredicate(std::move(inner)));
    return PredOperand(start, std::move(e));
  }

  static bool CompareOpOf(const Token& t, CompareOp* op) {
    switch (t.kind) {
      case TokenKind::kEq: *op = CompareOp::kEq; return true;
      case TokenKind::kNe: *op = CompareOp::kNe; return true;
      case TokenKind::kLt: *op = CompareOp::kLt; return true;
      case TokenKind::kLe: *op = CompareOp::kLe; return true;
      case TokenKind::kGt: *op = CompareOp::kGt; return true;
      case TokenKind::kGe: *op = CompareOp::kGe; return true;
      default: return false;
    }
  }

  Result<Operand> ParsePredicate() {
    const size_t start = idx_;
    if (IsKeyword(Cur(), "exists")) {
      Advance();
      TESSERA_ASSIGN_OR_RETURN(Operand target, ParseAdditive());
      return MakeIsNull(start, std::move(target), /*negated=*/true);
    }
    TESSERA_ASSIGN_OR_RETURN(Operand lhs, ParseAdditive());
    CompareOp op1;
    if (CompareOpOf(Cur(), &op1)) {
      const Token& op1_token = Advance();
      TESSERA_ASSIGN_OR_RETURN(Operand mid, ParseAdditive());
      CompareOp op2;
      if (!CompareOpOf(Cur(), &op2)) return MakeCompare(start, std::move(lhs), op1, std::move(mid), op1_token);
      const Token& op2_token = Advance();
      const bool up = (op1 == CompareOp::kLt || op1 == CompareOp::kLe) && (op2 == CompareOp::kLt || op2 == CompareOp::kLe);
      const bool down = (op1 == CompareOp::kGt || op1 == CompareOp::kGe) && (op2 == CompareOp::kGt || op2 == CompareOp::kGe);
      if (!up && !down) return ErrorAt(op2_token, "chained comparison must use '<'/'<=' or '>'/'>=' on both sides");
      TESSERA_ASSIGN_OR_RETURN(Operand rhs, ParseAdditive());
      CompareOp extra;
      if (CompareOpOf(Cur(), &extra)) return ErrorAt(Cur(), "at most two comparisons can be chained");
      TESSERA_ASSIGN_OR_RETURN(ValuePtr middle, ToValue(std::move(mid)));
      Operand mid_copy = Span(start);
      mid_copy.value = middle;
      Operand mid_copy2 = Span(start);
      mid_copy2.value = middle;
      TESSERA_ASSIGN_OR_RETURN(Operand low, MakeCompare(start, std::move(lhs), op1, std::move(mid_copy), op1_token));
      TESSERA_ASSIGN_OR_RETURN(Operand high, MakeCompare(start, std::move(mid_copy2), op2, std::move(rhs), op2_token));
      return Combine(Expr::Kind::kAnd, start, std::move(low), std::move(high));
    }
    if (IsKeyword(Cur(), "in")) {
      Advance();
      return MakeIn(start, std::move(lhs), /*negated=*/false);
    }
    if (IsKeyword(Cur(), "not") && IsKeyword(Ahead(1), "in")) {
      Advance();
      Advance();
      return MakeIn(start, std::move(lhs), /*negated=*/true);
    }
    if (IsKeyword(Cur(), "like")) {
      Advance();
      return MakeLike(start, std::move(lhs));
    }
    if (IsKeyword(Cur(), "is")) {
      Advance();
      bool negated = false;
      if (IsKeyword(Cur(), "not")) {
        Advance();
        negated = true;
      }
      if (!IsKeyword(Cur(), "null")) return UnexpectedToken("expected 'null' after 'is'");
      Advance();
      return MakeIsNull(start, std::move(lhs), negated);
    }
    return lhs;
  }

  Result<Operand> MakeCompare(size_t start, Operand lhs_op, CompareOp op, Operand rhs_op, const Token& op_token) {
    TESSERA_ASSIGN_OR_RETURN(ValuePtr lhs, ToValue(std::move(lhs_op)));
    TESSERA_ASSIGN_OR_RETURN(ValuePtr rhs, ToValue(std::move(rhs_op)));
    const ValueType lt = lhs->type;
    const ValueType rt = rhs->type;
    auto mismatch = [&](std::string_view why) {
      return ErrorAt(op_token, "type mismatch: cannot compare " + Describe(*lhs) + " with " + Describe(*rhs) +
                                   (why.empty() ? "" : std::string(" (") + std::string(why) + ")"));
    };
    if (lt == ValueType::kArray || rt == ValueType::kArray) {
      return mismatch("use array_contains*, array_length or an index on Array fields");
    }
    const bool ordering = op != CompareOp::kEq && op != CompareOp::kNe;
    if (lt != ValueType::kJson && rt != ValueType::kJson) {
      if (IsNumeric(lt) != IsNumeric(rt) || (!IsNumeric(lt) && lt != rt)) return mismatch("");
      if (lt == ValueType::kBool && ordering) return mismatch("Bool supports only == and !=");
    }
    if (lhs->kind == ValueExpr::Kind::kLiteral && rhs->kind == ValueExpr::Kind::kLiteral) {
      return PredOperand(start, MakeConstant(CompareValues(lhs->literal, op, rhs->literal) == Truth::kTrue));
    }
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kCompare;
    if (lhs->kind == ValueExpr::Kind::kLiteral) {  // normalize to `value op literal`
      std::swap(lhs, rhs);
      op = Mirror(op);
    }
    e->compare_op = op;
    e->lhs = std::move(lhs);
    e->rhs = std::move(rhs);
    return PredOperand(start, std::move(e));
  }

  Result<Operand> MakeIn(size_t start, Operand lhs_op, bool negated) {
    TESSERA_ASSIGN_OR_RETURN(ValuePtr lhs, ToValue(std::move(lhs_op)));
    if (lhs->type == ValueType::kArray) {
      return ErrorAt(tokens_[start], "'in' cannot be applied to Array " + Describe(*lhs) + "; use array_contains_any");
    }
    const size_t list_idx = idx_;
    TESSERA_ASSIGN_OR_RETURN(std::vector<json> values, ParseLiteralList());
    TESSERA_RETURN_IF_ERROR(CheckElements(*lhs, values, tokens_[list_idx]));
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kIn;
    e->negated = negated;
    e->operand = std::move(lhs);
    e->values = std::move(values);
    return PredOperand(start, std::move(e));
  }

  Status CheckElements(const ValueExpr& target, const std::vector<json>& values, const Token& at) const {
    ValueType t = target.type;
    if (t == ValueType::kArray) t = TypeOfElement(schema_.fields[static_cast<size_t>(target.field_index)].element_type);
    for (const json& v : values) {
      if (!Compatible(t, TypeOfLiteral(v))) {
        return ErrorAt(at, "type mismatch: " + Describe(target) + " cannot match " +
                               std::string(TypeName(TypeOfLiteral(v))) + " value " + v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      }
    }
    return Status::OK();
  }

  // [lit, lit, ...] with an optional trailing comma; elements may be negated numbers.
  Result<std::vector<json>> ParseLiteralList() {
    if (Cur().kind != TokenKind::kLBracket) return UnexpectedToken("expected an array literal '[...]'");
    Advance();
    std::vector<json> values;
    while (Cur().kind != TokenKind::kRBracket) {
      TESSERA_ASSIGN_OR_RETURN(json v, ParseScalarLiteral());
      values.push_back(std::move(v));
      if (Cur().kind == TokenKind::kComma) {
        Advance();
      } else if (Cur().kind != TokenKind::kRBracket) {
        return UnexpectedToken("expected ',' or ']' in array literal");
      }
    }
    Advance();
    return values;
  }

  Result<json> ParseScalarLiteral() {
    const size_t start = idx_;
    TESSERA_ASSIGN_OR_RETURN(Operand o, ParseAdditive());
    if (o.value && o.value->kind == ValueExpr::Kind::kLiteral) return o.value->literal;
    return ErrorAt(tokens_[start], "expected a literal value");
  }

  Result<Operand> MakeLike(size_t start, Operand lhs_op) {
    TESSERA_ASSIGN_OR_RETURN(ValuePtr lhs, ToValue(std::move(lhs_op)));
    if (lhs->type != ValueType::kString && lhs->type != ValueType::kJson) {
      return ErrorAt(tokens_[start], "type mismatch: 'like' needs a VarChar or JSON operand, got " + Describe(*lhs));
    }
    if (Cur().kind != TokenKind::kString) return UnexpectedToken("expected a string pattern after 'like'");
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kLike;
    e->operand = std::move(lhs);
    e->pattern = Advance().string_value;
    return PredOperand(start, std::move(e));
  }

  Result<Operand> MakeIsNull(size_t start, Operand target, bool negated) {
    if (!target.value || !target.value->IsField()) {
      return ErrorAt(target, negated ? "'is not null'/'exists' needs a field" : "'is null' needs a field");
    }
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kIsNull;
    e->negated = negated;
    e->operand = std::move(target.value);
    return PredOperand(start, std::move(e));
  }

  // ---- value levels ----

  Result<Operand> ParseAdditive() {
    const size_t start = idx_;
    TESSERA_ASSIGN_OR_RETURN(Operand left, ParseMultiplicative());
    while (Cur().kind == TokenKind::kPlus || Cur().kind == TokenKind::kMinus) {
      const Token& op = Advance();
      TESSERA_ASSIGN_OR_RETURN(Operand right, ParseMultiplicative());
      TESSERA_ASSIGN_OR_RETURN(left, MakeArith(start, op.kind == TokenKind::kPlus ? ArithOp::kAdd : ArithOp::kSub,
                                               std::move(left), std::move(right), op));
    }
    return left;
  }

  Result<Operand> ParseMultiplicative() {
    const size_t start = idx_;
    TESSERA_ASSIGN_OR_RETURN(Operand left, ParseUnary());
    while (Cur().kind == TokenKind::kStar || Cur().kind == TokenKind::kSlash || Cur().kind == TokenKind::kPercent) {
      const Token& op = Advance();
      const ArithOp aop = op.kind == TokenKind::kStar ? ArithOp::kMul : (op.kind == TokenKind::kSlash ? ArithOp::kDiv : ArithOp::kMod);
      TESSERA_ASSIGN_OR_RETURN(Operand right, ParseUnary());
      TESSERA_ASSIGN_OR_RETURN(left, MakeArith(start, aop, std::move(left), std::move(right), op));
    }
    return left;
  }

  Status CheckNumeric(const ValueExpr& v, const Token& op) const {
    if (IsNumeric(v.type) || v.type == ValueType::kJson) return Status::OK();
    return ErrorAt(op, "type mismatch: operator '" + std::string(op.text) + "' needs numbers, got " + Describe(v));
  }

  Result<Operand> MakeArith(size_t start, ArithOp op, Operand left, Operand right, const Token& op_token) {
    TESSERA_ASSIGN_OR_RETURN(ValuePtr l, ToValue(std::move(left)));
    TESSERA_ASSIGN_OR_RETURN(ValuePtr r, ToValue(std::move(right)));
    TESSERA_RETURN_IF_ERROR(CheckNumeric(*l, op_token));
    TESSERA_RETURN_IF_ERROR(CheckNumeric(*r, op_token));
    if (l->kind == ValueExpr::Kind::kLiteral && r->kind == ValueExpr::Kind::kLiteral) {
      json folded = ApplyArith(op, l->literal, r->literal);
      if (folded.is_null()) return ErrorAt(op_token, "division by zero in constant expression");
      return ValueOperand(start, MakeLiteral(std::move(folded)));
    }
    auto e = std::make_shared<ValueExpr>();
    e->kind = ValueExpr::Kind::kArith;
    e->arith = op;
    e->type = (l->type == ValueType::kInt && r->type == ValueType::kInt && op != ArithOp::kPow) ? ValueType::kInt
                                                                                                : ValueType::kFloat;
    e->lhs = std::move(l);
    e->rhs = std::move(r);
    return ValueOperand(start, std::move(e));
  }

  Result<Operand> ParseUnary() {
    const size_t start = idx_;
    const Token& t = Cur();
    if (t.kind == TokenKind::kMinus || t.kind == TokenKind::kPlus) {
      Advance();
      if (++depth_ > kMaxDepth) return ErrorAt(t, "expression nested too deeply");
      TESSERA_ASSIGN_OR_RETURN(Operand inner, ParseUnary());
      --depth_;
      TESSERA_ASSIGN_OR_RETURN(ValuePtr v, ToValue(std::move(inner)));
      TESSERA_RETURN_IF_ERROR(CheckNumeric(*v, t));
      if (t.kind == TokenKind::kPlus) return ValueOperand(start, std::move(v));
      if (v->kind == ValueExpr::Kind::kLiteral) {
        // "-9223372036854775808": the lexer keeps 2^63 as a float; fold it back to INT64_MIN.
        const Token& lit = tokens_[start + 1];
        if (lit.kind == TokenKind::kFloat && lit.float_value == 9223372036854775808.0 &&
            lit.text.find_first_of(".eEpP") == std::string_view::npos && idx_ == start + 2) {
          return ValueOperand(start, MakeLiteral(json(std::numeric_limits<int64_t>::min())));
        }
        return ValueOperand(start, MakeLiteral(Negate(v->literal)));
      }
      auto e = std::make_shared<ValueExpr>();
      e->kind = ValueExpr::Kind::kNegate;
      e->type = v->type == ValueType::kInt ? ValueType::kInt : ValueType::kFloat;
      e->lhs = std::move(v);
      return ValueOperand(start, std::move(e));
    }
    if (t.kind == TokenKind::kBang || IsKeyword(t, "not")) {
      Advance();
      if (++depth_ > kMaxDepth) return ErrorAt(t, "expression nested too deeply");
      TESSERA_ASSIGN_OR_RETURN(Operand inner, ParseUnary());
      --depth_;
      return Negation(start, std::move(inner));
    }
    if (t.kind == TokenKind::kTilde) return UnexpectedToken("");
    return ParsePower();
  }

  Result<Operand> ParsePower() {
    const size_t start = idx_;
    TESSERA_ASSIGN_OR_RETURN(Operand base, ParsePrimary());
    if (Cur().kind != TokenKind::kPower) return base;
    const Token& op = Advance();
    if (++depth_ > kMaxDepth) return ErrorAt(op, "expression nested too deeply");
    TESSERA_ASSIGN_OR_RETURN(Operand exponent, ParseUnary());  // right-associative
    --depth_;
    return MakeArith(start, ArithOp::kPow, std::move(base), std::move(exponent), op);
  }

  Result<Operand> ParsePrimary() {
    const size_t start = idx_;
    const Token& t = Cur();
    bool bool_value = false;
    switch (t.kind) {
      case TokenKind::kInt: Advance(); return ValueOperand(start, MakeLiteral(json(t.int_value)));
      case TokenKind::kFloat: Advance(); return ValueOperand(start, MakeLiteral(json(t.float_value)));
      case TokenKind::kString: Advance(); return ValueOperand(start, MakeLiteral(json(t.string_value)));
      case TokenKind::kLParen: {
        Advance();
        if (++depth_ > kMaxDepth) return ErrorAt(t, "expression nested too deeply");
        TESSERA_ASSIGN_OR_RETURN(Operand inner, ParseOr());
        --depth_;
        TESSERA_RETURN_IF_ERROR(Expect(TokenKind::kRParen, "')'"));
        Operand o = Span(start);
        o.pred = std::move(inner.pred);
        o.value = std::move(inner.value);
        return o;
      }
      case TokenKind::kLBracket: return ErrorAt(t, "an array literal is only allowed after 'in' or as a function argument");
      case TokenKind::kIdentifier: break;
      case TokenKind::kEnd: return ErrorAt(t, "expected an expression");
      default: return UnexpectedToken("expected an expression");
    }
    if (IsBoolLiteral(t, &bool_value)) {
      Advance();
      return ValueOperand(start, MakeLiteral(json(bool_value)));
    }
    if (Ahead(1).kind == TokenKind::kLParen && t.text != "$meta") return ParseCall();
    if (IsReserved(t)) return ErrorAt(t, "expected an expression, got keyword '" + std::string(t.text) + "'");
    return ParseField();
  }

  Result<Operand> ParseField() {
    const size_t start = idx_;
    const Token& t = Advance();
    auto e = std::make_shared<ValueExpr>();
    e->kind = ValueExpr::Kind::kField;
    e->field_name = std::string(t.text);
    const FieldSchema* field = schema_.FindField(t.text);
    if (field != nullptr && !field->is_dynamic) {
      if (IsVectorType(field->data_type)) {
        return ErrorAt(t, "field '" + field->name + "' is a vector field and cannot be used in a filter");
      }
      e->field_index = schema_.FieldIndex(t.text);
      e->type = TypeOfField(*field);
    } else if (!schema_.enable_dynamic_field) {
      return ErrorAt(t, "field '" + std::string(t.text) + "' does not exist in the collection schema");
    } else {
      e->type = ValueType::kJson;  // $meta itself, or a dynamic key
      if (t.text != kDynamicFieldName) e->path.emplace_back(std::string(t.text));
    }
    while (Cur().kind == TokenKind::kLBracket) {
      const Token& open = Advance();
      const Token& key = Cur();
      if (key.kind != TokenKind::kString && key.kind != TokenKind::kInt) {
        return UnexpectedToken("expected a string key or an integer index inside '[]'");
      }
      Advance();
      TESSERA_RETURN_IF_ERROR(Expect(TokenKind::kRBracket, "']'"));
      if (e->type == ValueType::kJson) {
        if (key.kind == TokenKind::kString) {
          e->path.emplace_back(key.string_value);
        } else {
          e->path.emplace_back(key.int_value);
        }
      } else if (e->type == ValueType::kArray && key.kind == TokenKind::kInt) {
        e->path.emplace_back(key.int_value);
        e->type = TypeOfElement(field->element_type);
      } else {
        return ErrorAt(open, "field '" + e->field_name + "' of type " +
                                 std::string(DataTypeName(field->data_type)) +
                                 (e->type == ValueType::kArray || !e->path.empty() ? " takes only one integer index"
                                                                                   : " cannot be indexed"));
      }
    }
    return ValueOperand(start, std::move(e));
  }

  enum class Function { kContains, kContainsAll, kContainsAny, kLength };

  Result<Operand> ParseCall() {
    const size_t start = idx_;
    const Token& name = Advance();
    Function fn;
    if (IsKeyword(name, "array_contains") || IsKeyword(name, "json_contains")) {
      fn = Function::kContains;
    } else if (IsKeyword(name, "array_contains_all") || IsKeyword(name, "json_contains_all")) {
      fn = Function::kContainsAll;
    } else if (IsKeyword(name, "array_contains_any") || IsKeyword(name, "json_contains_any")) {
      fn = Function::kContainsAny;
    } else if (IsKeyword(name, "array_length")) {
      fn = Function::kLength;
    } else {
      return ErrorAt(name, "unsupported function '" + std::string(name.text) + "'");
    }
    Advance();  // '('
    const size_t arg_idx = idx_;
    TESSERA_ASSIGN_OR_RETURN(Operand target_op, ParseAdditive());
    if (!target_op.value || !target_op.value->IsField() ||
        (target_op.value->type != ValueType::kArray && target_op.value->type != ValueType::kJson)) {
      return ErrorAt(tokens_[arg_idx], "type mismatch: " + std::string(name.text) +
                                           "() needs an Array or JSON field" +
                                           (target_op.value ? ", got " + Describe(*target_op.value) : ""));
    }
    ValuePtr target = target_op.value;
    if (fn == Function::kLength) {
      TESSERA_RETURN_IF_ERROR(Expect(TokenKind::kRParen, "')'"));
      auto e = std::make_shared<ValueExpr>();
      e->kind = ValueExpr::Kind::kArrayLength;
      e->type = ValueType::kInt;
      e->lhs = std::move(target);
      return ValueOperand(start, std::move(e));
    }
    TESSERA_RETURN_IF_ERROR(Expect(TokenKind::kComma, "',' and a second argument"));
    const size_t value_idx = idx_;
    std::vector<json> values;
    if (fn == Function::kContains && Cur().kind == TokenKind::kLBracket) {
      // json_contains(j, [1, 2]): j holds the array [1, 2] as an element. An Array field's
      // elements are scalars, so it cannot.
      TESSERA_ASSIGN_OR_RETURN(std::vector<json> elements, ParseLiteralList());
      if (target->type == ValueType::kArray) {
        return ErrorAt(tokens_[value_idx], "type mismatch: " + Describe(*target) +
                                               " holds scalars and cannot contain an array; use " +
                                               "array_contains_all or array_contains_any to match several values");
      }
      values.push_back(json(std::move(elements)));
    } else if (fn == Function::kContains) {
      TESSERA_ASSIGN_OR_RETURN(json v, ParseScalarLiteral());
      values.push_back(std::move(v));
    } else {
      TESSERA_ASSIGN_OR_RETURN(values, ParseLiteralList());
    }
    TESSERA_RETURN_IF_ERROR(CheckElements(*target, values, tokens_[value_idx]));
    TESSERA_RETURN_IF_ERROR(Expect(TokenKind::kRParen, "')'"));
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kArrayContains;
    e->contains_mode = fn == Function::kContains ? Expr::ContainsMode::kOne
                       : fn == Function::kContainsAll ? Expr::ContainsMode::kAll
                                                      : Expr::ContainsMode::kAny;
    e->operand = std::move(target);
    e->values = std::move(values);
    return PredOperand(start, std::move(e));
  }

  std::string_view input_;
  std::vector<Token> tokens_;
  const CollectionSchema& schema_;
  size_t idx_ = 0;
  int depth_ = 0;
  size_t nodes_ = 0;
};

}  // namespace

Result<std::unique_ptr<Expr>> ParseFilter(std::string_view text, const CollectionSchema& schema) {
  TESSERA_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(text));
  return Parser(text, std::move(tokens), schema).Run();
}

}  // namespace tessera::core::filter
