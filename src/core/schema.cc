#include "core/schema.h"

#include "core/column.h"

#include <array>
#include <cctype>
#include <set>
#include <string>
#include <utility>

namespace tessera::core {
namespace {

constexpr std::array<std::pair<DataType, std::string_view>, 12> kTypeNames = {{
    {DataType::kBool, "Bool"},
    {DataType::kInt8, "Int8"},
    {DataType::kInt16, "Int16"},
    {DataType::kInt32, "Int32"},
    {DataType::kInt64, "Int64"},
    {DataType::kFloat, "Float"},
    {DataType::kDouble, "Double"},
    {DataType::kVarChar, "VarChar"},
    {DataType::kArray, "Array"},
    {DataType::kJSON, "JSON"},
    {DataType::kFloatVector, "FloatVector"},
    {DataType::kNone, "None"},
}};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool IsValidFieldName(std::string_view name) {
  if (name.empty() || name.size() > kMaxFieldNameLength) return false;
  auto is_start = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; };
  if (!is_start(name[0])) return false;
  for (char c : name) {
    if (!is_start(c) && !std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

Status FieldError(const FieldSchema& field, std::string_view what) {
  return Status::InvalidArgument("field '" + field.name + "': " + std::string(what));
}

// Checks that a default value has the JSON shape of the field's type.
Status ValidateDefault(const FieldSchema& f) {
  if (!f.default_value.has_value()) return Status::OK();
  const nlohmann::json& v = *f.default_value;
  bool ok = false;
  switch (f.data_type) {
    case DataType::kBool: ok = v.is_boolean(); break;
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kInt32:
    case DataType::kInt64: ok = v.is_number_integer(); break;
    case DataType::kFloat:
    case DataType::kDouble: ok = v.is_number(); break;
    case DataType::kVarChar:
      ok = v.is_string() && static_cast<int64_t>(v.get_ref<const std::string&>().size()) <= f.max_length;
      break;
    default:
      return FieldError(f, "default values are only allowed on Bool, numeric and VarChar fields");
  }
  if (!ok) return FieldError(f, "default value " + v.dump() + " does not match type " +
                                    std::string(DataTypeName(f.data_type)));
  if (f.is_primary_key) return FieldError(f, "the primary key cannot have a default value");
  // The shape is right; the value must also be in range (300 for an Int8), as it will be
  // stored in every row that omits the field.
  FieldSchema plain = f;
  plain.nullable = false;
  plain.default_value.reset();
  const Status fits = Column::Create(plain)->Append(v);
  if (!fits.ok()) return FieldError(f, "default value " + v.dump() + ": " + fits.message());
  return Status::OK();
}

Status ValidateField(const FieldSchema& f, bool enable_dynamic_field) {
  if (f.is_dynamic) {
    if (f.name != kDynamicFieldName || f.data_type != DataType::kJSON) {
      return FieldError(f, "the dynamic field must be a JSON field named '$meta'");
    }
    if (!enable_dynamic_field) return FieldError(f, "dynamic field declared but enable_dynamic_field is off");
    if (f.is_primary_key || f.is_partition_key) return FieldError(f, "the dynamic field cannot be a key");
    return Status::OK();
  }
  if (!IsValidFieldName(f.name)) {
    return FieldError(f, "invalid field name: must match [A-Za-z_][A-Za-z0-9_]* and be at most 255 characters");
  }
  switch (f.data_type) {
    case DataType::kBool:
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kInt32:
    case DataType::kInt64:
    case DataType::kFloat:
    case DataType::kDouble:
    case DataType::kJSON:
      break;
    case DataType::kVarChar:
      if (f.max_length < 1 || f.max_length > kMaxVarCharLength) {
        return FieldError(f, "max_length must be in [1, 65535], got " + std::to_string(f.max_length));
      }
      break;
    case DataType::kArray:
      if (!IsScalarType(f.element_type)) {
        return FieldError(f, "array element type must be Bool, a number or VarChar, got " +
                                 std::string(DataTypeName(f.element_type)));
      }
      if (f.max_capacity < 1 || f.max_capacity > kMaxArrayCapacity) {
        return FieldError(f, "max_capacity must be in [1, 4096], got " + std::to_string(f.max_capacity));
      }
      if (f.element_type == DataType::kVarChar && (f.max_length < 1 || f.max_length > kMaxVarCharLength)) {
        return FieldError(f, "max_length must be in [1, 65535], got " + std::to_string(f.max_length));
      }
      break;
    case DataType::kFloatVector:
      if (f.dim < 1 || f.dim > kMaxVectorDim) {
        return FieldError(f, "dim must be in [1, 32768], got " + std::to_string(f.dim));
      }
      if (f.nullable) return FieldError(f, "a vector field cannot be nullable");
      break;
    case DataType::kNone:
      return FieldError(f, "missing data type");
  }
  if (f.is_primary_key) {
    if (f.data_type != DataType::kInt64 && f.data_type != DataType::kVarChar) {
      return FieldError(f, "the primary key must be Int64 or VarChar");
    }
    if (f.nullable) return FieldError(f, "the primary key cannot be nullable");
    if (f.is_partition_key) return FieldError(f, "the primary key cannot be the partition key");
  }
  if (f.auto_id && !f.is_primary_key) return FieldError(f, "auto_id is only allowed on the primary key");
  if (f.is_partition_key && f.data_type != DataType::kInt64 && f.data_type != DataType::kVarChar) {
    return FieldError(f, "the partition key must be Int64 or VarChar");
  }
  return ValidateDefault(f);
}

}  // namespace

std::string_view DataTypeName(DataType type) {
  for (const auto& [t, name] : kTypeNames) {
    if (t == type) return name;
  }
  return "Unknown";
}

Result<DataType> ParseDataType(std::string_view name) {
  for (const auto& [t, type_name] : kTypeNames) {
    if (t != DataType::kNone && EqualsIgnoreCase(name, type_name)) return t;
  }
  return Status::InvalidArgument("unknown data type '" + std::string(name) + "'");
}

bool IsIntegerType(DataType t) {
  return t == DataType::kInt8 || t == DataType::kInt16 || t == DataType::kInt32 || t == DataType::kInt64;
}
bool IsFloatingType(DataType t) { return t == DataType::kFloat || t == DataType::kDouble; }
bool IsNumericType(DataType t) { return IsIntegerType(t) || IsFloatingType(t); }
bool IsScalarType(DataType t) { return t == DataType::kBool || t == DataType::kVarChar || IsNumericType(t); }
bool IsVectorType(DataType t) { return t == DataType::kFloatVector; }

Status CollectionSchema::Validate() const {
  std::set<std::string_view> names;
  const FieldSchema* pk = nullptr;
  const FieldSchema* partition_key = nullptr;
  const FieldSchema* dynamic = nullptr;
  const FieldSchema* clustering_key = nullptr;
  bool has_vector = false;
  for (const FieldSchema& f : fields) {
    TESSERA_RETURN_IF_ERROR(ValidateField(f, enable_dynamic_field));
    if (!names.insert(f.name).second) return FieldError(f, "duplicate field name");
    if (f.is_primary_key) {
      if (pk != nullptr) return FieldError(f, "more than one primary key (first: '" + pk->name + "')");
      pk = &f;
    }
    if (f.is_partition_key) {
      if (partition_key != nullptr) {
        return FieldError(f, "more than one partition key (first: '" + partition_key->name + "')");
      }
      partition_key = &f;
    }
    if (f.is_clustering_key) {
      if (clustering_key != nullptr) {
        return FieldError(f, "more than one clustering key (first: '" + clustering_key->name + "')");
      }
      if (!IsNumericType(f.data_type) && f.data_type != DataType::kVarChar && !IsVectorType(f.data_type)) {
        return FieldError(f, "a clustering key must be numeric, VarChar or a vector field, not " +
                                 std::string(DataTypeName(f.data_type)));
      }
      clustering_key = &f;
    }
    if (f.is_dynamic) {
      if (dynamic != nullptr) return FieldError(f, "more than one dynamic field");
      dynamic = &f;
    }
    has_vector = has_vector || IsVectorType(f.data_type);
  }
  if (pk == nullptr) return Status::InvalidArgument("collection '" + name + "': schema has no primary key field");
  if (!has_vector) return Status::InvalidArgument("collection '" + name + "': schema has no vector field");
  return Status::OK();
}

const FieldSchema* CollectionSchema::FindField(std::string_view field_name) const {
  const int i = FieldIndex(field_name);
  return i < 0 ? nullptr : &fields[static_cast<size_t>(i)];
}

int CollectionSchema::FieldIndex(std::string_view field_name) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == field_name) return static_cast<int>(i);
  }
  return -1;
}

const FieldSchema* CollectionSchema::PrimaryKey() const {
  for (const FieldSchema& f : fields) {
    if (f.is_primary_key) return &f;
  }
  return nullptr;
}

}  // namespace tessera::core
