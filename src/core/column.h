#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "core/bitset.h"
#include "core/schema.h"

namespace tessera::core {

/// Append-only storage of one field's values, one entry per row.
///
/// Values arrive in the REST insert encodings (spec §3.2) and are checked and converted by
/// Append(); a rejected value leaves the column unchanged and returns InvalidArgument naming
/// the field. Nullable columns keep a validity bitset (bit set = value present); a null row
/// still occupies a placeholder slot in the typed storage so row i is always at index i.
/// Thread-compatible: concurrent readers are fine; Append/Truncate need exclusion.
class Column {
 public:
  virtual ~Column() = default;
  Column(const Column&) = delete;
  Column& operator=(const Column&) = delete;

  /// Creates the column type that matches field.data_type (the field must be valid).
  static std::unique_ptr<Column> Create(const FieldSchema& field);

  const FieldSchema& field() const { return field_; }
  size_t size() const { return size_; }

  /// True when row `row` holds no value (only possible for nullable columns).
  bool IsNull(size_t row) const { return field_.nullable && !validity_.Test(row); }
  /// Validity bitset (bit set = not null) for nullable columns, nullptr otherwise.
  const Bitset* validity() const { return field_.nullable ? &validity_ : nullptr; }

  /// Appends a non-null value; `value` must not be JSON null (callers decide about nulls).
  Status Append(const nlohmann::json& value);
  /// Appends a null row. The column must be nullable (checked).
  void AppendNull();
  /// Drops rows [rows, size()); used to roll back a partially appended row.
  void Truncate(size_t rows);

  /// Appends row `row` of `src`, a column of the same data type, element type and dim
  /// (checked), without a round trip through JSON. A null source row appends null, which
  /// requires this column to be nullable (checked).
  void AppendFrom(const Column& src, size_t row);

  /// The value of `row` in the response encoding (null for a null row; JSON fields as
  /// native JSON values, Arrays as plain JSON arrays). Requires row < size().
  virtual nlohmann::json Get(size_t row) const = 0;
  /// Bytes held, including the validity bitset.
  virtual size_t MemoryUsage() const = 0;

 protected:
  explicit Column(const FieldSchema& field) : field_(field) {}
  Status Error(std::string_view what) const;

  virtual Status AppendValue(const nlohmann::json& value) = 0;
  virtual void AppendPlaceholder() = 0;
  virtual void TruncateStorage(size_t rows) = 0;
  /// Appends src's value at `row`; src has this column's concrete type (checked by caller).
  virtual void CopyValue(const Column& src, size_t row) = 0;

  FieldSchema field_;
  Bitset validity_;
  size_t size_ = 0;
};

/// Bool, integer and floating fields as one contiguous vector. T is uint8_t for Bool
/// (0/1), int8_t..int64_t, float or double.
template <typename T>
class ScalarColumn final : public Column {
 public:
  explicit ScalarColumn(const FieldSchema& field) : Column(field) {}
  /// Contiguous values; null rows hold 0.
  std::span<const T> data() const { return data_; }
  T Value(size_t row) const { return data_[row]; }
  nlohmann::json Get(size_t row) const override;
  size_t MemoryUsage() const override;

 private:
  Status AppendValue(const nlohmann::json& value) override;
  void AppendPlaceholder() override { data_.push_back(T{}); }
  void TruncateStorage(size_t rows) override { data_.resize(rows); }
  void CopyValue(const Column& src, size_t row) override {
    data_.push_back(static_cast<const ScalarColumn&>(src).data_[row]);
  }

  std::vector<T> data_;
};

/// VarChar as an offsets array plus one byte buffer. Values are valid UTF-8 of at most
/// max_length bytes.
class VarCharColumn final : public Column {
 public:
  explicit VarCharColumn(const FieldSchema& field) : Column(field), offsets_{0} {}
  /// The bytes of `row` (empty for a null row); valid until the next Append.
  std::string_view View(size_t row) const {
    return std::string_view(bytes_).substr(offsets_[row], offsets_[row + 1] - offsets_[row]);
  }
  nlohmann::json Get(size_t row) const override;
  size_t MemoryUsage() const override;

 private:
  Status AppendValue(const nlohmann::json& value) override;
  void AppendPlaceholder() override { offsets_.push_back(bytes_.size()); }
  void TruncateStorage(size_t rows) override;
  void CopyValue(const Column& src, size_t row) override;

  std::vector<uint64_t> offsets_;  // size() + 1 entries
  std::string bytes_;
};

/// JSON fields (and the dynamic field) as parsed values. A JSON string given on insert is
/// taken as serialized JSON text and parsed. A JSON null value counts as null.
class JsonColumn final : public Column {
 public:
  explicit JsonColumn(const FieldSchema& field) : Column(field) {}
  /// The parsed value of `row` (JSON null for a null row).
  const nlohmann::json& Value(size_t row) const { return values_[row]; }
  nlohmann::json Get(size_t row) const override;
  size_t MemoryUsage() const override;
  /// Appends an already-parsed value as is (the dynamic field's object of extra keys).
  void AppendParsed(nlohmann::json value);

 private:
  Status AppendValue(const nlohmann::json& value) override;
  void AppendPlaceholder() override { values_.emplace_back(nullptr); }
  void TruncateStorage(size_t rows) override { values_.resize(rows); }
  void CopyValue(const Column& src, size_t row) override {
    values_.push_back(static_cast<const JsonColumn&>(src).values_[row]);
  }

  std::vector<nlohmann::json> values_;
};

/// Array fields: per-row element lists stored flat with offsets. Integer and Bool elements
/// live in ints_ (Bool as 0/1), Float/Double in doubles_, VarChar in strings_; only the
/// vector that matches field().element_type is used.
class ArrayColumn final : public Column {
 public:
  explicit ArrayColumn(const FieldSchema& field) : Column(field), offsets_{0} {}
  DataType element_type() const { return field_.element_type; }
  size_t Length(size_t row) const { return offsets_[row + 1] - offsets_[row]; }
  /// Index of the first element of `row` in the flat element vectors.
  size_t Begin(size_t row) const { return offsets_[row]; }
  std::span<const int64_t> ints() const { return ints_; }
  std::span<const double> doubles() const { return doubles_; }
  std::span<const std::string> strings() const { return strings_; }
  /// Element `index` of `row` as JSON (null when out of range).
  nlohmann::json Element(size_t row, size_t index) const;
  nlohmann::json Get(size_t row) const override;
  size_t MemoryUsage() const override;

 private:
  Status AppendValue(const nlohmann::json& value) override;
  void AppendPlaceholder() override { offsets_.push_back(offsets_.back()); }
  void TruncateStorage(size_t rows) override;
  void CopyValue(const Column& src, size_t row) override;
  size_t ElementCount() const;

  std::vector<uint64_t> offsets_;  // size() + 1 entries
  std::vector<int64_t> ints_;
  std::vector<double> doubles_;
  std::vector<std::string> strings_;
};

/// FloatVector fields as row-major floats: row i is data()[i * dim, (i + 1) * dim).
/// Rejects wrong dimensions and NaN/Inf components.
class FloatVectorColumn final : public Column {
 public:
  explicit FloatVectorColumn(const FieldSchema& field) : Column(field) {}
  size_t dim() const { return static_cast<size_t>(field_.dim); }
  std::span<const float> data() const { return data_; }
  std::span<const float> Row(size_t row) const {
    return std::span<const float>(data_).subspan(row * dim(), dim());
  }
  nlohmann::json Get(size_t row) const override;
  size_t MemoryUsage() const override;

 private:
  Status AppendValue(const nlohmann::json& value) override;
  void AppendPlaceholder() override { data_.resize(data_.size() + dim(), 0.0f); }
  void TruncateStorage(size_t rows) override { data_.resize(rows * dim()); }
  void CopyValue(const Column& src, size_t row) override {
    auto v = static_cast<const FloatVectorColumn&>(src).Row(row);
    data_.insert(data_.end(), v.begin(), v.end());
  }

  std::vector<float> data_;
};

using BoolColumn = ScalarColumn<uint8_t>;
using Int8Column = ScalarColumn<int8_t>;
using Int16Column = ScalarColumn<int16_t>;
using Int32Column = ScalarColumn<int32_t>;
using Int64Column = ScalarColumn<int64_t>;
using FloatColumn = ScalarColumn<float>;
using DoubleColumn = ScalarColumn<double>;

}  // namespace tessera::core
