#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace tessera::core::filter {

enum class TokenKind {
  kEnd,         // end of input
  kInt,         // int_value
  kFloat,       // float_value
  kString,      // string_value (escapes resolved)
  kIdentifier,  // text; also keywords (and, or, not, in, like, is, null, true, ...) and "$meta"
  kLParen, kRParen, kLBracket, kRBracket, kLBrace, kRBrace, kComma,
  kPlus, kMinus, kStar, kSlash, kPercent, kPower,
  kEq, kNe, kLt, kLe, kGt, kGe,
  kAndAnd, kOrOr, kBang,
  kTilde, kAmp, kPipe, kCaret, kShl, kShr,  // lexed only to be reported as unsupported
};

/// One token. `text` views the input given to Tokenize() and must not outlive it.
struct Token {
  TokenKind kind = TokenKind::kEnd;
  size_t pos = 0;  // 0-based byte offset in the input
  std::string_view text;
  int64_t int_value = 0;
  double float_value = 0;
  std::string string_value;
};

/// Splits a filter expression into tokens, ending with one kEnd token. Literals follow
/// spec §6: integers in decimal, octal (leading 0), hex (0x) and binary (0b); floats with
/// fraction and/or exponent and hex floats; strings in '...' or "..." with C escapes
/// (\n \t \r \b \f \v \0 \\ \' \" \xHH \uXXXX \UXXXXXXXX). Errors are InvalidArgument in
/// the format of ParseError().
Result<std::vector<Token>> Tokenize(std::string_view input);

/// "filter parse error at position <pos> near '<near>': <message>", or "... near end of
/// input: ..." when `near` is empty.
Status ParseError(size_t pos, std::string_view near, std::string_view message);

}  // namespace tessera::core::filter
