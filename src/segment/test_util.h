#pragma once

// PRIVATE test helpers of src/segment.

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/column.h"
#include "core/schema.h"

namespace tessera::segment::testing {

inline core::FieldSchema MakeField(int64_t id, std::string name, core::DataType type, bool nullable = false) {
  core::FieldSchema f;
  f.id = id;
  f.name = std::move(name);
  f.data_type = type;
  f.nullable = nullable;
  if (type == core::DataType::kVarChar) f.max_length = 65535;
  if (type == core::DataType::kFloatVector) f.dim = 4;
  return f;
}

inline core::FieldSchema MakeArrayField(int64_t id, core::DataType element, bool nullable = false) {
  core::FieldSchema f = MakeField(id, "arr", core::DataType::kArray, nullable);
  f.element_type = element;
  f.max_capacity = 4096;
  f.max_length = 65535;
  return f;
}

/// A column of `field` holding `rows` (JSON null = a null row).
inline std::unique_ptr<core::Column> MakeColumn(const core::FieldSchema& field, const std::vector<nlohmann::json>& rows) {
  auto column = core::Column::Create(field);
  for (const auto& row : rows) {
    if (row.is_null() && field.nullable) {
      column->AppendNull();
    } else if (field.data_type == core::DataType::kJSON) {
      static_cast<core::JsonColumn&>(*column).AppendParsed(row);
    } else {
      Status s = column->Append(row);
      EXPECT_TRUE(s.ok()) << s.ToString() << " for " << row.dump();
    }
  }
  return column;
}

/// Every row of `column` via Get().
inline std::vector<nlohmann::json> Rows(const core::Column& column) {
  std::vector<nlohmann::json> rows;
  for (size_t i = 0; i < column.size(); ++i) rows.push_back(column.Get(i));
  return rows;
}

}  // namespace tessera::segment::testing
