#include "core/filter/lexer.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <string>

#include "common/utf8.h"

namespace tessera::core::filter {
namespace {

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || std::isdigit(static_cast<unsigned char>(c)); }
bool IsDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class Lexer {
 public:
  explicit Lexer(std::string_view input) : in_(input) {}

  Result<std::vector<Token>> Run() {
    std::vector<Token> tokens;
    while (true) {
      while (pos_ < in_.size() && std::isspace(static_cast<unsigned char>(in_[pos_]))) ++pos_;
      Token t;
      t.pos = pos_;
      if (pos_ >= in_.size()) {
        tokens.push_back(std::move(t));
        return tokens;
      }
      TESSERA_RETURN_IF_ERROR(Next(&t));
      t.text = in_.substr(t.pos, pos_ - t.pos);
      tokens.push_back(std::move(t));
    }
  }

 private:
  char Peek(size_t ahead = 0) const { return pos_ + ahead < in_.size() ? in_[pos_ + ahead] : '\0'; }

  Status Next(Token* t) {
    const char c = Peek();
    if (IsIdentStart(c) || (c == '$' && IsIdentStart(Peek(1)))) {
      ++pos_;
      while (IsIdentChar(Peek())) ++pos_;
      t->kind = TokenKind::kIdentifier;
      if (c == '$' && in_.substr(t->pos, pos_ - t->pos) != "$meta") {
        return ParseError(t->pos, in_.substr(t->pos, pos_ - t->pos), "only '$meta' may start with '$'");
      }
      return Status::OK();
    }
    if (IsDigit(c) || (c == '.' && IsDigit(Peek(1)))) return Number(t);
    if (c == '"' || c == '\'') return String(t);
    struct Op {
      std::string_view text;
      TokenKind kind;
    };
    static constexpr Op kOps[] = {
        {"**", TokenKind::kPower}, {"==", TokenKind::kEq},  {"!=", TokenKind::kNe},    {"<=", TokenKind::kLe},
        {">=", TokenKind::kGe},    {"<<", TokenKind::kShl}, {">>", TokenKind::kShr},   {"&&", TokenKind::kAndAnd},
        {"||", TokenKind::kOrOr},  {"(", TokenKind::kLParen}, {")", TokenKind::kRParen}, {"[", TokenKind::kLBracket},
        {"]", TokenKind::kRBracket}, {"{", TokenKind::kLBrace}, {"}", TokenKind::kRBrace}, {",", TokenKind::kComma},
        {"+", TokenKind::kPlus},   {"-", TokenKind::kMinus}, {"*", TokenKind::kStar},  {"/", TokenKind::kSlash},
        {"%", TokenKind::kPercent}, {"<", TokenKind::kLt},  {">", TokenKind::kGt},     {"!", TokenKind::kBang},
        {"~", TokenKind::kTilde},  {"&", TokenKind::kAmp},  {"|", TokenKind::kPipe},   {"^", TokenKind::kCaret},
    };
    for (const Op& op : kOps) {
      if (in_.substr(pos_, op.text.size()) == op.text) {
        pos_ += op.text.size();
        t->kind = op.kind;
        return Status::OK();
      }
    }
    return ParseError(pos_, in_.substr(pos_, 1), "unexpected character");
  }

  Status Number(Token* t) {
    const size_t start = pos_;
    // Hex, binary and octal integers; hex floats go to strtod.
    if (Peek() == '0' && (Peek(1) == 'x' || Peek(1) == 'X')) {
      pos_ += 2;
      while (HexDigit(Peek()) >= 0) ++pos_;
      if (Peek() == '.' || Peek() == 'p' || Peek() == 'P') {
        if (Peek() == '.') {
          ++pos_;
          while (HexDigit(Peek()) >= 0) ++pos_;
        }
        if (Peek() != 'p' && Peek() != 'P') return ParseError(start, in_.substr(start, pos_ - start), "hex float needs an exponent 'p'");
        ++pos_;
        if (Peek() == '+' || Peek() == '-') ++pos_;
        if (!IsDigit(Peek())) return ParseError(start, in_.substr(start, pos_ - start), "malformed hex float");
        while (IsDigit(Peek())) ++pos_;
        return FinishFloat(t, start);
      }
      return FinishInt(t, start, start + 2, 16);
    }
    if (Peek() == '0' && (Peek(1) == 'b' || Peek(1) == 'B')) {
      pos_ += 2;
      while (Peek() == '0' || Peek() == '1') ++pos_;
      return FinishInt(t, start, start + 2, 2);
    }
    while (IsDigit(Peek())) ++pos_;
    bool is_float = false;
    if (Peek() == '.') {
      is_float = true;
      ++pos_;
      while (IsDigit(Peek())) ++pos_;
    }
    if (Peek() == 'e' || Peek() == 'E') {
      const size_t save = pos_;
      ++pos_;
      if (Peek() == '+' || Peek() == '-') ++pos_;
      if (IsDigit(Peek())) {
        is_float = true;
        while (IsDigit(Peek())) ++pos_;
      } else {
        pos_ = save;
      }
    }
    if (is_float) return FinishFloat(t, start);
    if (in_[start] == '0' && pos_ - start > 1) return FinishInt(t, start, start + 1, 8);
    return FinishInt(t, start, start, 10);
  }

  Status FinishInt(Token* t, size_t start, size_t digits, int base) {
    if (IsIdentChar(Peek())) {
      while (IsIdentChar(Peek())) ++pos_;
      return ParseError(start, in_.substr(start, pos_ - start), "malformed number");
    }
    if (digits == pos_) return ParseError(start, in_.substr(start, pos_ - start), "malformed number");
    uint64_t value = 0;
    for (size_t i = digits; i < pos_; ++i) {
      const int d = HexDigit(in_[i]);
      if (d < 0 || d >= base) return ParseError(start, in_.substr(start, pos_ - start), "malformed number");
      if (value > (std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base)) {
        return ParseError(start, in_.substr(start, pos_ - start), "integer literal out of range");
      }
      value = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
    }
    // 2^63 is allowed only so that "-9223372036854775808" can be negated by the parser; it is
    // kept as a float token otherwise out of int64 range.
    if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      if (value == static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1) {
        t->kind = TokenKind::kFloat;
        t->float_value = 9223372036854775808.0;
        return Status::OK();
      }
      return ParseError(start, in_.substr(start, pos_ - start), "integer literal out of range");
    }
    t->kind = TokenKind::kInt;
    t->int_value = static_cast<int64_t>(value);
    return Status::OK();
  }

  Status FinishFloat(Token* t, size_t start) {
    if (IsIdentChar(Peek())) {
      while (IsIdentChar(Peek())) ++pos_;
      return ParseError(start, in_.substr(start, pos_ - start), "malformed number");
    }
    const std::string text(in_.substr(start, pos_ - start));
    errno = 0;
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size() || errno == ERANGE) {
      return ParseError(start, text, "malformed or out-of-range float literal");
    }
    t->kind = TokenKind::kFloat;
    t->float_value = v;
    return Status::OK();
  }

  Status String(Token* t) {
    const size_t start = pos_;
    const char quote = in_[pos_++];
    std::string out;
    while (true) {
      if (pos_ >= in_.size()) return ParseError(start, in_.substr(start, 16), "unterminated string literal");
      const char c = in_[pos_++];
      if (c == quote) break;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= in_.size()) return ParseError(start, in_.substr(start, 16), "unterminated string literal");
      const size_t esc_pos = pos_ - 1;
      const char e = in_[pos_++];
      switch (e) {
        case 'n': out.push_back('\n'); break;
        case 't': out.push_back('\t'); break;
        case 'r': out.push_back('\r'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'v': out.push_back('\v'); break;
        case 'a': out.push_back('\a'); break;
        case '\\': out.push_back('\\'); break;
        case '\'': out.push_back('\''); break;
        case '"': out.push_back('"'); break;
        case '?': out.push_back('?'); break;
        // Like-pattern escapes pass through so LIKE can see them.
        case '%': out.append("\\%"); break;
        case '_': out.append("\\_"); break;
        case 'x':
        case 'u':
        case 'U': {
          const size_t digits = e == 'x' ? 2 : (e == 'u' ? 4 : 8);
          uint32_t cp = 0;
          for (size_t k = 0; k < digits; ++k) {
            const int d = pos_ < in_.size() ? HexDigit(in_[pos_]) : -1;
            if (d < 0) return ParseError(esc_pos, in_.substr(esc_pos, 2 + k), "malformed escape sequence");
            cp = cp * 16 + static_cast<uint32_t>(d);
            ++pos_;
          }
          if (e == 'x') {
            out.push_back(static_cast<char>(cp));
          } else if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return ParseError(esc_pos, in_.substr(esc_pos, 2 + digits), "invalid code point in escape");
          } else {
            AppendUtf8(cp, &out);
          }
          break;
        }
        case '0':
        case '1':
        case '2':
        case '3':
        case '4':
        case '5':
        case '6':
        case '7': {
          // Octal, as in C and Milvus's grammar: one to three digits, at most \377.
          uint32_t value = static_cast<uint32_t>(e - '0');
          for (int k = 0; k < 2 && pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '7'; ++k) {
            value = value * 8 + static_cast<uint32_t>(in_[pos_++] - '0');
          }
          if (value > 0377) return ParseError(esc_pos, in_.substr(esc_pos, pos_ - esc_pos), "octal escape above \\377");
          out.push_back(static_cast<char>(value));
          break;
        }
        default:
          return ParseError(esc_pos, in_.substr(esc_pos, 2), "unknown escape sequence");
      }
    }
    if (!IsValidUtf8(out)) return ParseError(start, in_.substr(start, 16), "string literal is not valid UTF-8");
    t->kind = TokenKind::kString;
    t->string_value = std::move(out);
    return Status::OK();
  }

  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::vector<Token>> Tokenize(std::string_view input) { return Lexer(input).Run(); }

Status ParseError(size_t pos, std::string_view near, std::string_view message) {
  std::string msg = "filter parse error at position " + std::to_string(pos);
  if (near.empty()) {
    msg += " near end of input";
  } else {
    // Quote the token with control and non-ASCII bytes escaped, so the message is printable
    // and valid UTF-8 whatever the input was.
    msg += " near '";
    static constexpr char kHex[] = "0123456789abcdef";
    for (char c : near.substr(0, 32)) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u >= 0x7F) {
        msg += "\\x";
        msg += kHex[u >> 4];
        msg += kHex[u & 15];
      } else {
        msg += c;
      }
    }
    msg += "'";
  }
  msg += ": ";
  msg += message;
  return Status::InvalidArgument(msg);
}

}  // namespace tessera::core::filter
