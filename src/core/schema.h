#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "common/status.h"

namespace tessera::core {

/// Field data types, numbered as Milvus' schema.proto DataType (the numbers are
/// serialized, hence the fixed underlying type). kNone marks "no element type".
enum class DataType : uint8_t {
  kNone = 0,
  kBool = 1,
  kInt8 = 2,
  kInt16 = 3,
  kInt32 = 4,
  kInt64 = 5,
  kFloat = 10,
  kDouble = 11,
  kVarChar = 21,
  kArray = 22,
  kJSON = 23,
  kFloatVector = 101,
};

/// The spec's name of `type` ("Int64", "VarChar", "FloatVector", ...); "None" for kNone.
std::string_view DataTypeName(DataType type);
/// Parses a type name case-insensitively ("int64", "VARCHAR"). InvalidArgument naming the
/// input for anything else (including "None").
Result<DataType> ParseDataType(std::string_view name);

bool IsIntegerType(DataType type);   // Int8..Int64
bool IsFloatingType(DataType type);  // Float, Double
bool IsNumericType(DataType type);   // integer or floating
/// Bool, numbers and VarChar: the types an Array may hold.
bool IsScalarType(DataType type);
bool IsVectorType(DataType type);

/// Name of the dynamic field that holds keys not declared in the schema.
inline constexpr std::string_view kDynamicFieldName = "$meta";

inline constexpr int64_t kMaxVectorDim = 32768;
inline constexpr int64_t kMaxVarCharLength = 65535;
inline constexpr int64_t kMaxArrayCapacity = 4096;
inline constexpr size_t kMaxFieldNameLength = 255;

/// One field of a collection. Plain value type; which members matter depends on
/// data_type (max_length: VarChar and Array of VarChar; dim: FloatVector;
/// element_type + max_capacity: Array). Checked by CollectionSchema::Validate().
struct FieldSchema {
  int64_t id = 0;
  std::string name;
  DataType data_type = DataType::kNone;
  bool is_primary_key = false;
  bool auto_id = false;
  int64_t max_length = 0;
  int64_t dim = 0;
  DataType element_type = DataType::kNone;
  int64_t max_capacity = 0;
  bool nullable = false;
  /// Used when a row omits the field or gives null; encoded as in REST insert rows.
  std::optional<nlohmann::json> default_value;
  bool is_partition_key = false;
  /// Milvus's clustering key (at most one; a scalar or the vector field). Kept and reported;
  /// Tessera has no clustering compaction yet, so it changes nothing else.
  bool is_clustering_key = false;
  /// The declared dynamic field: must be JSON named "$meta". A schema with
  /// enable_dynamic_field gets one implicitly when none is declared.
  bool is_dynamic = false;
};

/// A collection's schema. Plain value type (thread-compatible).
struct CollectionSchema {
  std::string name;
  std::string description;
  std::vector<FieldSchema> fields;
  bool enable_dynamic_field = false;

  /// OK, or InvalidArgument whose message names the offending field. Rules: field names
  /// unique and matching [A-Za-z_][A-Za-z0-9_]{0,254}; exactly one primary key, Int64 or
  /// VarChar, not nullable; auto_id only on the primary key (a VarChar one gets the
  /// decimal text of a generated Int64, as in Milvus); at least one vector field;
  /// dim in [1, 32768]; VarChar max_length in [1, 65535]; Array element type scalar and
  /// max_capacity in [1, 4096]; at most one partition key (Int64 or VarChar, not the PK);
  /// vectors not nullable; default values of the field's type.
  Status Validate() const;

  /// The field called `name`, or nullptr.
  const FieldSchema* FindField(std::string_view name) const;
  /// Index of the field called `name` in `fields`, or -1.
  int FieldIndex(std::string_view name) const;
  /// The primary key field, or nullptr when there is none.
  const FieldSchema* PrimaryKey() const;
};

}  // namespace tessera::core
