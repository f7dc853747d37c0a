#include "proxy/filter_util.h"

#include <cctype>
#include <cstdio>
#include <set>
#include <string>

namespace tessera::proxy {

using nlohmann::json;

std::string QuoteFilterString(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20 || u == 0x7f) {
      char buf[5];
      std::snprintf(buf, sizeof(buf), "\\x%02x", u);
      out.append(buf);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

std::string PkInFilter(std::string_view pk_name, const std::vector<segment::PrimaryKey>& pks) {
  std::string out(pk_name);
  out.append(" in [");
  for (size_t i = 0; i < pks.size(); ++i) {
    if (i > 0) out.append(", ");
    if (const int64_t* v = std::get_if<int64_t>(&pks[i])) {
      out.append(std::to_string(*v));
    } else {
      out.append(QuoteFilterString(std::get<std::string>(pks[i])));
    }
  }
  out.push_back(']');
  return out;
}

namespace {

ApiStatus AppendLiteral(const json& v, std::string_view name, int depth, std::string* out) {
  if (depth > 16) return InvalidParameterError("exprParams." + std::string(name) + " is nested too deeply");
  if (v.is_boolean()) {
    out->append(v.get<bool>() ? "true" : "false");
  } else if (v.is_number_integer()) {
    out->append(v.dump());
  } else if (v.is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.17g", v.get<double>());
    std::string text(buf);
    // Keep it a float literal even when the value is integral.
    if (text.find_first_of(".eEn") == std::string::npos) text.append(".0");
    out->append(text);
  } else if (v.is_string()) {
    out->append(QuoteFilterString(v.get_ref<const std::string&>()));
  } else if (v.is_array()) {
    out->push_back('[');
    for (size_t i = 0; i < v.size(); ++i) {
      if (i > 0) out->append(", ");
      TESSERA_API_RETURN_IF_ERROR(AppendLiteral(v[i], name, depth + 1, out));
    }
    out->push_back(']');
  } else {
    return InvalidParameterError("exprParams." + std::string(name) +
                                 " must be a bool, number, string or array");
  }
  return ApiStatus::OK();
}

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Appends a filter literal (int or string) as a key of `type`; false when it is not one.
bool AddKey(const json& literal, core::DataType type, std::vector<segment::PrimaryKey>* keys,
            std::set<segment::PrimaryKey>* seen) {
  segment::PrimaryKey key;
  if (type == core::DataType::kInt64 && literal.is_number_integer() && !literal.is_number_unsigned()) {
    key = literal.get<int64_t>();
  } else if (type == core::DataType::kVarChar && literal.is_string()) {
    key = literal.get<std::string>();
  } else {
    return false;
  }
  if (seen->insert(key).second) keys->push_back(std::move(key));
  return true;
}

}  // namespace

ApiResult<std::string> ApplyExprParams(std::string_view filter, const json* params) {
  if (params == nullptr || !params->is_object() || params->empty()) return std::string(filter);
  std::string out;
  out.reserve(filter.size());
  size_t i = 0;
  while (i < filter.size()) {
    const char c = filter[i];
    if (c == '"' || c == '\'') {  // copy a string literal untouched
      const size_t start = i++;
      while (i < filter.size() && filter[i] != c) i += filter[i] == '\\' ? 2 : 1;
      i = std::min(i + 1, filter.size());
      out.append(filter.substr(start, i - start));
      continue;
    }
    if (c == '{') {
      size_t j = i + 1;
      while (j < filter.size() && filter[j] == ' ') ++j;
      const size_t name_start = j;
      if (j < filter.size() && IsIdentStart(filter[j])) {
        while (j < filter.size() && IsIdentChar(filter[j])) ++j;
        const std::string_view name = filter.substr(name_start, j - name_start);
        while (j < filter.size() && filter[j] == ' ') ++j;
        if (j < filter.size() && filter[j] == '}') {
          auto it = params->find(name);
          if (it == params->end()) {
            return InvalidParameterError("the placeholder {" + std::string(name) + "} has no value in exprParams");
          }
          TESSERA_API_RETURN_IF_ERROR(AppendLiteral(*it, name, 0, &out));
          i = j + 1;
          continue;
        }
      }
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

std::optional<std::vector<segment::PrimaryKey>> PrimaryKeysOfFilter(const core::filter::Expr& expr,
                                                                    const core::CollectionSchema& schema) {
  using core::filter::Expr;
  using core::filter::ValueExpr;
  const int pk_index = [&] {
    for (size_t i = 0; i < schema.fields.size(); ++i) {
      if (schema.fields[i].is_primary_key) return static_cast<int>(i);
    }
    return -1;
  }();
  if (pk_index < 0) return std::nullopt;
  const core::DataType type = schema.fields[static_cast<size_t>(pk_index)].data_type;
  auto is_pk = [&](const std::shared_ptr<const ValueExpr>& v) {
    return v != nullptr && v->IsPlainField() && v->field_index == pk_index;
  };
  auto is_literal = [](const std::shared_ptr<const ValueExpr>& v) {
    return v != nullptr && v->kind == ValueExpr::Kind::kLiteral;
  };
  std::vector<segment::PrimaryKey> keys;
  std::set<segment::PrimaryKey> seen;
  if (expr.kind == Expr::Kind::kIn && !expr.negated && is_pk(expr.operand)) {
    for (const json& v : expr.values) {
      if (!AddKey(v, type, &keys, &seen)) return std::nullopt;
    }
    return keys;
  }
  if (expr.kind == Expr::Kind::kCompare && expr.compare_op == core::filter::CompareOp::kEq) {
    if (is_pk(expr.lhs) && is_literal(expr.rhs)) {
      if (!AddKey(expr.rhs->literal, type, &keys, &seen)) return std::nullopt;
      return keys;
    }
    if (is_pk(expr.rhs) && is_literal(expr.lhs)) {
      if (!AddKey(expr.lhs->literal, type, &keys, &seen)) return std::nullopt;
      return keys;
    }
  }
  return std::nullopt;
}

}  // namespace tessera::proxy
