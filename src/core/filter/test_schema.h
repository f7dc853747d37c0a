#pragma once
// PRIVATE test helper (filter tests and the fuzzer): a schema with a field of every
// filterable type. Not part of the core library.

#include <string>

#include "core/schema.h"

namespace tessera::core::filter::testing {

inline FieldSchema TestField(std::string name, DataType type, DataType element = DataType::kNone) {
  FieldSchema f;
  f.name = std::move(name);
  f.data_type = type;
  f.element_type = element;
  if (type == DataType::kVarChar || element == DataType::kVarChar) f.max_length = 64;
  if (type == DataType::kArray) f.max_capacity = 16;
  if (type == DataType::kFloatVector) f.dim = 2;
  return f;
}

/// id (Int64 PK), vec (FloatVector), b, i8, i16, i32, i64, f (Float), d (Double), s (VarChar),
/// j (JSON), ai (Array<Int64>), as (Array<VarChar>), af (Array<Double>), ab (Array<Bool>),
/// ni (nullable Int32), ns (nullable VarChar), nd (nullable Double), nj (nullable JSON).
inline CollectionSchema TestSchema(bool dynamic) {
  CollectionSchema s;
  s.name = std::string("t");
  s.enable_dynamic_field = dynamic;
  FieldSchema id = TestField("id", DataType::kInt64);
  id.is_primary_key = true;
  s.fields.push_back(id);
  s.fields.push_back(TestField("vec", DataType::kFloatVector));
  s.fields.push_back(TestField("b", DataType::kBool));
  s.fields.push_back(TestField("i8", DataType::kInt8));
  s.fields.push_back(TestField("i16", DataType::kInt16));
  s.fields.push_back(TestField("i32", DataType::kInt32));
  s.fields.push_back(TestField("i64", DataType::kInt64));
  s.fields.push_back(TestField("f", DataType::kFloat));
  s.fields.push_back(TestField("d", DataType::kDouble));
  s.fields.push_back(TestField("s", DataType::kVarChar));
  s.fields.push_back(TestField("j", DataType::kJSON));
  s.fields.push_back(TestField("ai", DataType::kArray, DataType::kInt64));
  s.fields.push_back(TestField("as", DataType::kArray, DataType::kVarChar));
  s.fields.push_back(TestField("af", DataType::kArray, DataType::kDouble));
  s.fields.push_back(TestField("ab", DataType::kArray, DataType::kBool));
  for (auto [name, type] : {std::pair{"ni", DataType::kInt32}, std::pair{"ns", DataType::kVarChar},
                            std::pair{"nd", DataType::kDouble}, std::pair{"nj", DataType::kJSON}}) {
    FieldSchema f = TestField(name, type);
    f.nullable = true;
    s.fields.push_back(f);
  }
  return s;
}

}  // namespace tessera::core::filter::testing
