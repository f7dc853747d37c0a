#include "core/column.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>

#include "common/check.h"
#include "common/utf8.h"

namespace tessera::core {
namespace {

using nlohmann::json;

// Integer value of a JSON number without fraction, or a decimal string ("123", "-4").
std::optional<int64_t> ToInt64(const json& v) {
  if (v.is_number_integer() && !v.is_number_unsigned()) return v.get<int64_t>();
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::trunc(d) && d >= -9.2233720368547758e18 && d < 9.2233720368547758e18) {
      return static_cast<int64_t>(d);
    }
    return std::nullopt;
  }
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    int64_t out = 0;
    const char* begin = s.data();
    const char* end = s.data() + s.size();
    if (begin != end && *begin == '+') ++begin;
    auto [ptr, ec] = std::from_chars(begin, end, out);
    if (ec == std::errc() && ptr == end && begin != end) return out;
  }
  return std::nullopt;
}

// Finite double from a JSON number or a numeric string.
std::optional<double> ToDouble(const json& v) {
  double d;
  if (v.is_number()) {
    d = v.get<double>();
  } else if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    d = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size()) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (!std::isfinite(d)) return std::nullopt;
  return d;
}

// Bool from a JSON bool, or what Go's strconv.ParseBool accepts of the value's text (Milvus
// formats the value and parses that): the strings below and the numbers 0 and 1.
std::optional<bool> ToBool(const json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) {
    const double d = v.get<double>();
    if (d == 0 || d == 1) return d == 1;
    return std::nullopt;
  }
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s == "1" || s == "t" || s == "T" || s == "true" || s == "TRUE" || s == "True") return true;
    if (s == "0" || s == "f" || s == "F" || s == "false" || s == "FALSE" || s == "False") return false;
  }
  return std::nullopt;
}

std::string Describe(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 64) s = s.substr(0, 61) + "...";
  return s;
}

// Converts `v` to the storage type T of a scalar of type `type`; nullopt plus `why` on failure.
template <typename T>
std::optional<T> ConvertScalar(const json& v, DataType type, std::string* why) {
  if constexpr (std::is_same_v<T, uint8_t>) {
    auto b = ToBool(v);
    if (!b) *why = "expected a bool, got " + Describe(v);
    return b ? std::optional<T>(*b ? 1 : 0) : std::nullopt;
  } else if constexpr (std::is_integral_v<T>) {
    auto i = ToInt64(v);
    if (!i || *i < std::numeric_limits<T>::min() || *i > std::numeric_limits<T>::max()) {
      *why = "expected an integer in [" + std::to_string(std::numeric_limits<T>::min()) + ", " +
             std::to_string(std::numeric_limits<T>::max()) + "] for " + std::string(DataTypeName(type)) +
             ", got " + Describe(v);
      return std::nullopt;
    }
    return static_cast<T>(*i);
  } else {
    auto d = ToDouble(v);
    if (!d || (std::is_same_v<T, float> && std::fabs(*d) > std::numeric_limits<float>::max())) {
      *why = "expected a finite number for " + std::string(DataTypeName(type)) + ", got " + Describe(v);
      return std::nullopt;
    }
    return static_cast<T>(*d);
  }
}

// VarChar text of `v` (a number is taken as its text); checks UTF-8 and max_length.
std::optional<std::string> ConvertString(const json& v, int64_t max_length, std::string* why) {
  std::string s;
  if (v.is_string()) {
    s = v.get<std::string>();
  } else if (v.is_number()) {
    s = v.dump();
  } else {
    *why = "expected a string, got " + Describe(v);
    return std::nullopt;
  }
  if (!IsValidUtf8(s)) {
    *why = "string is not valid UTF-8";
    return std::nullopt;
  }
  if (static_cast<int64_t>(s.size()) > max_length) {
    *why = "string length " + std::to_string(s.size()) + " exceeds max_length " + std::to_string(max_length);
    return std::nullopt;
  }
  return s;
}

}  // namespace

std::unique_ptr<Column> Column::Create(const FieldSchema& field) {
  switch (field.data_type) {
    case DataType::kBool: return std::make_unique<BoolColumn>(field);
    case DataType::kInt8: return std::make_unique<Int8Column>(field);
    case DataType::kInt16: return std::make_unique<Int16Column>(field);
    case DataType::kInt32: return std::make_unique<Int32Column>(field);
    case DataType::kInt64: return std::make_unique<Int64Column>(field);
    case DataType::kFloat: return std::make_unique<FloatColumn>(field);
    case DataType::kDouble: return std::make_unique<DoubleColumn>(field);
    case DataType::kVarChar: return std::make_unique<VarCharColumn>(field);
    case DataType::kJSON: return std::make_unique<JsonColumn>(field);
    case DataType::kArray: return std::make_unique<ArrayColumn>(field);
    case DataType::kFloatVector: return std::make_unique<FloatVectorColumn>(field);
    case DataType::kNone: break;
  }
  TESSERA_CHECK(false) << "Column::Create on field '" << field.name << "' without a data type";
  return nullptr;
}

Status Column::Error(std::string_view what) const {
  return Status::InvalidArgument("field '" + field_.name + "': " + std::string(what));
}

Status Column::Append(const json& value) {
  TESSERA_RETURN_IF_ERROR(AppendValue(value));
  if (field_.nullable) validity_.Resize(size_ + 1, true);
  ++size_;
  return Status::OK();
}

void Column::AppendNull() {
  TESSERA_CHECK(field_.nullable) << "AppendNull on non-nullable field '" << field_.name << "'";
  AppendPlaceholder();
  validity_.Resize(size_ + 1, false);
  ++size_;
}

void Column::AppendFrom(const Column& src, size_t row) {
  TESSERA_CHECK(src.field_.data_type == field_.data_type && src.field_.element_type == field_.element_type &&
                src.field_.dim == field_.dim)
      << "AppendFrom: field '" << src.field_.name << "' does not match '" << field_.name << "'";
  TESSERA_CHECK(row < src.size_) << "AppendFrom: row " << row << " of " << src.size_;
  if (src.IsNull(row)) {
    AppendNull();
    return;
  }
  CopyValue(src, row);
  if (field_.nullable) validity_.Resize(size_ + 1, true);
  ++size_;
}

void Column::Truncate(size_t rows) {
  if (rows >= size_) return;
  TruncateStorage(rows);
  if (field_.nullable) validity_.Resize(rows);
  size_ = rows;
}

template <typename T>
Status ScalarColumn<T>::AppendValue(const json& value) {
  std::string why;
  auto v = ConvertScalar<T>(value, field_.data_type, &why);
  if (!v) return Error(why);
  data_.push_back(*v);
  return Status::OK();
}

template <typename T>
json ScalarColumn<T>::Get(size_t row) const {
  if (IsNull(row)) return nullptr;
  if constexpr (std::is_same_v<T, uint8_t>) {
    return data_[row] != 0;
  } else {
    return data_[row];
  }
}

template <typename T>
size_t ScalarColumn<T>::MemoryUsage() const {
  return data_.capacity() * sizeof(T) + validity_.MemoryUsage();
}

template class ScalarColumn<uint8_t>;
template class ScalarColumn<int8_t>;
template class ScalarColumn<int16_t>;
template class ScalarColumn<int32_t>;
template class ScalarColumn<int64_t>;
template class ScalarColumn<float>;
template class ScalarColumn<double>;

Status VarCharColumn::AppendValue(const json& value) {
  std::string why;
  auto s = ConvertString(value, field_.max_length, &why);
  if (!s) return Error(why);
  bytes_.append(*s);
  offsets_.push_back(bytes_.size());
  return Status::OK();
}

void VarCharColumn::TruncateStorage(size_t rows) {
  offsets_.resize(rows + 1);
  bytes_.resize(offsets_.back());
}

void VarCharColumn::CopyValue(const Column& src, size_t row) {
  bytes_.append(static_cast<const VarCharColumn&>(src).View(row));
  offsets_.push_back(bytes_.size());
}

json VarCharColumn::Get(size_t row) const {
  if (IsNull(row)) return nullptr;
  return std::string(View(row));
}

size_t VarCharColumn::MemoryUsage() const {
  return offsets_.capacity() * sizeof(uint64_t) + bytes_.capacity() + validity_.MemoryUsage();
}

Status JsonColumn::AppendValue(const json& value) {
  if (value.is_string()) {
    json parsed = json::parse(value.get_ref<const std::string&>(), nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) return Error("string is not valid JSON text");
    values_.push_back(std::move(parsed));
  } else {
    values_.push_back(value);
  }
  return Status::OK();
}

void JsonColumn::AppendParsed(json value) {
  values_.push_back(std::move(value));
  if (field_.nullable) validity_.Resize(size_ + 1, true);
  ++size_;
}

json JsonColumn::Get(size_t row) const {
  if (IsNull(row)) return nullptr;
  return values_[row];
}

size_t JsonColumn::MemoryUsage() const {
  // Approximation: the serialized size stands in for the tree's heap footprint.
  size_t bytes = values_.capacity() * sizeof(json) + validity_.MemoryUsage();
  for (const json& v : values_) {
    if (v.is_structured() || v.is_string()) {
      bytes += v.dump(-1, ' ', false, json::error_handler_t::replace).size();
    }
  }
  return bytes;
}

size_t ArrayColumn::ElementCount() const { return offsets_.back(); }

Status ArrayColumn::AppendValue(const json& value) {
  if (!value.is_array()) return Error("expected a JSON array, got " + Describe(value));
  if (static_cast<int64_t>(value.size()) > field_.max_capacity) {
    return Error("array length " + std::to_string(value.size()) + " exceeds max_capacity " +
                 std::to_string(field_.max_capacity));
  }
  const DataType et = field_.element_type;
  std::string why;
  // Convert everything first so a bad element leaves the column unchanged.
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<std::string> strings;
  for (size_t i = 0; i < value.size(); ++i) {
    const json& e = value[i];
    bool ok = true;
    switch (et) {
      case DataType::kBool: {
        auto v = ConvertScalar<uint8_t>(e, et, &why);
        ok = v.has_value();
        if (ok) ints.push_back(*v);
        break;
      }
      case DataType::kInt8: {
        auto v = ConvertScalar<int8_t>(e, et, &why);
        ok = v.has_value();
        if (ok) ints.push_back(*v);
        break;
      }
      case DataType::kInt16: {
        auto v = ConvertScalar<int16_t>(e, et, &why);
        ok = v.has_value();
        if (ok) ints.push_back(*v);
        break;
      }
      case DataType::kInt32: {
        auto v = ConvertScalar<int32_t>(e, et, &why);
        ok = v.has_value();
        if (ok) ints.push_back(*v);
        break;
      }
      case DataType::kInt64: {
        auto v = ConvertScalar<int64_t>(e, et, &why);
        ok = v.has_value();
        if (ok) ints.push_back(*v);
        break;
      }
      case DataType::kFloat: {
        auto v = ConvertScalar<float>(e, et, &why);
        ok = v.has_value();
        if (ok) doubles.push_back(*v);
        break;
      }
      case DataType::kDouble: {
        auto v = ConvertScalar<double>(e, et, &why);
        ok = v.has_value();
        if (ok) doubles.push_back(*v);
        break;
      }
      case DataType::kVarChar: {
        auto v = ConvertString(e, field_.max_length, &why);
        ok = v.has_value();
        if (ok) strings.push_back(std::move(*v));
        break;
      }
      default:
        ok = false;
        why = "unsupported element type";
    }
    if (!ok) return Error("element " + std::to_string(i) + ": " + why);
  }
  ints_.insert(ints_.end(), ints.begin(), ints.end());
  doubles_.insert(doubles_.end(), doubles.begin(), doubles.end());
  for (auto& s : strings) strings_.push_back(std::move(s));
  offsets_.push_back(offsets_.back() + value.size());
  return Status::OK();
}

void ArrayColumn::TruncateStorage(size_t rows) {
  offsets_.resize(rows + 1);
  const size_t n = offsets_.back();
  if (ints_.size() > n) ints_.resize(n);
  if (doubles_.size() > n) doubles_.resize(n);
  if (strings_.size() > n) strings_.resize(n);
}

void ArrayColumn::CopyValue(const Column& src, size_t row) {
  const auto& other = static_cast<const ArrayColumn&>(src);
  const size_t begin = other.offsets_[row];
  const size_t end = other.offsets_[row + 1];
  auto copy = [&](auto& to, const auto& from) {
    if (from.size() >= end) to.insert(to.end(), from.begin() + begin, from.begin() + end);
  };
  copy(ints_, other.ints_);
  copy(doubles_, other.doubles_);
  copy(strings_, other.strings_);
  offsets_.push_back(offsets_.back() + (end - begin));
}

json ArrayColumn::Element(size_t row, size_t index) const {
  if (IsNull(row) || index >= Length(row)) return nullptr;
  const size_t i = offsets_[row] + index;
  switch (field_.element_type) {
    case DataType::kBool: return ints_[i] != 0;
    case DataType::kFloat:
    case DataType::kDouble: return doubles_[i];
    case DataType::kVarChar: return strings_[i];
    default: return ints_[i];
  }
}

json ArrayColumn::Get(size_t row) const {
  if (IsNull(row)) return nullptr;
  json out = json::array();
  for (size_t i = 0; i < Length(row); ++i) out.push_back(Element(row, i));
  return out;
}

size_t ArrayColumn::MemoryUsage() const {
  size_t bytes = offsets_.capacity() * sizeof(uint64_t) + ints_.capacity() * sizeof(int64_t) +
                 doubles_.capacity() * sizeof(double) + strings_.capacity() * sizeof(std::string) +
                 validity_.MemoryUsage();
  for (const auto& s : strings_) bytes += s.capacity() > 15 ? s.capacity() : 0;
  return bytes;
}

Status FloatVectorColumn::AppendValue(const json& value) {
  if (!value.is_array()) return Error("expected an array of numbers, got " + Describe(value));
  if (value.size() != dim()) {
    return Error("vector dimension " + std::to_string(value.size()) + " does not match dim " +
                 std::to_string(dim()));
  }
  for (size_t i = 0; i < value.size(); ++i) {
    const json& e = value[i];
    if (!e.is_number()) return Error("vector component " + std::to_string(i) + " is not a number");
    const double d = e.get<double>();
    if (!std::isfinite(d) || std::fabs(d) > std::numeric_limits<float>::max()) {
      return Error("vector component " + std::to_string(i) + " is NaN, infinite or out of float range");
    }
  }
  for (const json& e : value) data_.push_back(static_cast<float>(e.get<double>()));
  return Status::OK();
}

json FloatVectorColumn::Get(size_t row) const {
  json out = json::array();
  for (float f : Row(row)) out.push_back(f);
  return out;
}

size_t FloatVectorColumn::MemoryUsage() const { return data_.capacity() * sizeof(float); }

}  // namespace tessera::core
