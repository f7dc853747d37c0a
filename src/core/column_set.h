#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "common/status.h"
#include "core/bitset.h"
#include "core/column.h"
#include "core/schema.h"

namespace tessera::core {

/// A growing-segment-like container: a validated schema, one append-only Column per field,
/// the dynamic field (when enabled) and a deleted-rows bitset.
/// Thread-compatible (single writer; readers need external synchronisation with it).
class ColumnSet {
 public:
  /// Validates `schema` (InvalidArgument from CollectionSchema::Validate()) and creates
  /// empty columns.
  static Result<std::unique_ptr<ColumnSet>> Create(CollectionSchema schema);

  ColumnSet(const ColumnSet&) = delete;
  ColumnSet& operator=(const ColumnSet&) = delete;

  const CollectionSchema& schema() const { return schema_; }
  size_t num_rows() const { return num_rows_; }

  /// Appends one row given as a JSON object in the REST insert encoding (spec §3.2).
  /// Missing or null fields take the default value, else null when nullable; a missing
  /// non-nullable field is InvalidArgument ("row does not have field <name>"). An auto_id
  /// primary key must be absent and is assigned from a counter starting at 1. Keys not in
  /// the schema go to the dynamic field when enabled (null values skipped, the key "$meta"
  /// rejected), else InvalidArgument naming the key. On error nothing is appended.
  Status AppendRow(const nlohmann::json& row);

  /// Builds a set from columns read back from storage: `columns` parallel to
  /// schema.fields (each of its field's type), plus the dynamic column when the schema
  /// enables the dynamic field without declaring it (else null). InvalidArgument when the
  /// schema is invalid, a column is missing or of another type, or row counts differ.
  static Result<std::unique_ptr<ColumnSet>> FromColumns(CollectionSchema schema,
                                                        std::vector<std::unique_ptr<Column>> columns,
                                                        std::unique_ptr<JsonColumn> dynamic);

  /// Appends row `row` of `src`, which must have the same schema (field types checked),
  /// copying typed values. The row is not marked deleted.
  void AppendRowFrom(const ColumnSet& src, size_t row);

  /// Marks `row` deleted (row < num_rows(), checked). Deleted rows stay readable.
  void MarkDeleted(size_t row);
  bool IsDeleted(size_t row) const { return deleted_.Test(row); }
  /// One bit per row, set = deleted.
  const Bitset& deleted() const { return deleted_; }

  /// The row as a JSON object holding `output_fields` (empty or "*": every schema field and
  /// every dynamic key, flattened). Naming "$meta" flattens all dynamic keys; naming a
  /// dynamic key outputs it when the row has it. Values use Column::Get(). OutOfRange for
  /// row >= num_rows(); InvalidArgument for an unknown field when the dynamic field is off.
  Result<nlohmann::json> GetRow(size_t row, const std::vector<std::string>& output_fields = {}) const;

  /// Column of schema field `index` (the order of schema().fields).
  const Column& column(size_t index) const { return *columns_[index]; }
  /// Column of the field called `name`, or nullptr.
  const Column* FindColumn(std::string_view name) const;
  /// The dynamic field's column (one JSON object per row), or nullptr when disabled.
  const JsonColumn* dynamic_column() const { return dynamic_; }

  /// Bytes held by all columns and bitsets.
  size_t MemoryUsage() const;

 private:
  explicit ColumnSet(CollectionSchema schema);
  Status AppendFields(const nlohmann::json& row);

  CollectionSchema schema_;
  std::vector<std::unique_ptr<Column>> columns_;  // parallel to schema_.fields
  JsonColumn* dynamic_ = nullptr;                 // points into columns_ or implicit_dynamic_
  std::unique_ptr<JsonColumn> implicit_dynamic_;
  Bitset deleted_;
  size_t num_rows_ = 0;
  int64_t next_auto_id_ = 1;
};

}  // namespace tessera::core
