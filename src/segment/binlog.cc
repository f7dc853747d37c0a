#include "segment/binlog.h"

#include <algorithm>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "segment/format.h"

namespace tessera::segment {
namespace {

using core::Column;
using core::DataType;
using core::FieldSchema;
using internal::Decoder;
using internal::Encoder;
using nlohmann::json;

constexpr std::string_view kKind = "binlog";
constexpr size_t kMetadataBytes = 24;
constexpr uint8_t kFlagNullable = 1;

std::string TypeName(DataType type) {
  return std::string(core::DataTypeName(type)) + " (" + std::to_string(static_cast<int>(type)) + ")";
}

bool IsKnownType(uint8_t t) {
  switch (static_cast<DataType>(t)) {
    case DataType::kBool: case DataType::kInt8: case DataType::kInt16: case DataType::kInt32:
    case DataType::kInt64: case DataType::kFloat: case DataType::kDouble: case DataType::kVarChar:
    case DataType::kArray: case DataType::kJSON: case DataType::kFloatVector:
      return true;
    case DataType::kNone:
      break;
  }
  return false;
}

// ---- writing ----

// Strings as count+1 u32 offsets (the first 0) then the concatenated bytes.
template <typename GetFn>
void PutStrings(Encoder& e, size_t count, GetFn get) {
  uint32_t offset = 0;
  e.Put<uint32_t>(0);
  for (size_t i = 0; i < count; ++i) {
    offset += static_cast<uint32_t>(get(i).size());
    e.Put<uint32_t>(offset);
  }
  for (size_t i = 0; i < count; ++i) {
    std::string_view s = get(i);
    e.PutBytes(s.data(), s.size());
  }
}

template <typename T>
const T* As(const Column& column) {
  return dynamic_cast<const T*>(&column);
}

// Encodes rows [begin, end) of `column` as one block payload. The size checks here only
// guard the u32 offsets; FileBuilder enforces the 1 GiB block limit.
Status EncodeBlock(const FieldSchema& field, const Column& column, size_t begin, size_t end, Encoder& e) {
  const size_t n = end - begin;
  e.Put<uint32_t>(static_cast<uint32_t>(n));
  if (field.nullable) {
    std::vector<uint8_t> bitmap((n + 7) / 8, 0);
    for (size_t i = 0; i < n; ++i) {
      if (!column.IsNull(begin + i)) bitmap[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
    }
    e.PutBytes(bitmap.data(), bitmap.size());
  }
  auto put_scalars = [&]<typename T>(const core::ScalarColumn<T>* c) {
    for (size_t row = begin; row < end; ++row) e.Put<T>(column.IsNull(row) ? T{} : c->Value(row));
  };
  std::string_view bad_type;
  switch (field.data_type) {
    case DataType::kBool: if (auto c = As<core::BoolColumn>(column)) { put_scalars(c); return Status::OK(); } break;
    case DataType::kInt8: if (auto c = As<core::Int8Column>(column)) { put_scalars(c); return Status::OK(); } break;
    case DataType::kInt16: if (auto c = As<core::Int16Column>(column)) { put_scalars(c); return Status::OK(); } break;
    case DataType::kInt32: if (auto c = As<core::Int32Column>(column)) { put_scalars(c); return Status::OK(); } break;
    case DataType::kInt64: if (auto c = As<core::Int64Column>(column)) { put_scalars(c); return Status::OK(); } break;
    case DataType::kFloat: if (auto c = As<core::FloatColumn>(column)) { put_scalars(c); return Status::OK(); } break;
    case DataType::kDouble: if (auto c = As<core::DoubleColumn>(column)) { put_scalars(c); return Status::OK(); } break;
    case DataType::kVarChar:
      if (auto c = As<core::VarCharColumn>(column)) {
        PutStrings(e, n, [&](size_t i) { return column.IsNull(begin + i) ? std::string_view() : c->View(begin + i); });
        return Status::OK();
      }
      break;
    case DataType::kJSON:
      if (auto c = As<core::JsonColumn>(column)) {
        std::vector<std::string> texts(n);
        for (size_t i = 0; i < n; ++i) {
          if (!column.IsNull(begin + i)) {
            texts[i] = c->Value(begin + i).dump(-1, ' ', false, json::error_handler_t::replace);
          }
        }
        PutStrings(e, n, [&](size_t i) { return std::string_view(texts[i]); });
        return Status::OK();
      }
      break;
    case DataType::kArray:
      if (auto c = As<core::ArrayColumn>(column)) {
        uint32_t count = 0;
        e.Put<uint32_t>(0);
        std::vector<size_t> elements;
        for (size_t i = 0; i < n; ++i) {
          const size_t row = begin + i;
          const size_t len = column.IsNull(row) ? 0 : c->Length(row);
          for (size_t j = 0; j < len; ++j) elements.push_back(c->Begin(row) + j);
          count += static_cast<uint32_t>(len);
          e.Put<uint32_t>(count);
        }
        switch (field.element_type) {
          case DataType::kBool: for (size_t x : elements) e.Put<uint8_t>(c->ints()[x] != 0); break;
          case DataType::kInt8: for (size_t x : elements) e.Put<int8_t>(static_cast<int8_t>(c->ints()[x])); break;
          case DataType::kInt16: for (size_t x : elements) e.Put<int16_t>(static_cast<int16_t>(c->ints()[x])); break;
          case DataType::kInt32: for (size_t x : elements) e.Put<int32_t>(static_cast<int32_t>(c->ints()[x])); break;
          case DataType::kInt64: for (size_t x : elements) e.Put<int64_t>(c->ints()[x]); break;
          case DataType::kFloat: for (size_t x : elements) e.Put<float>(static_cast<float>(c->doubles()[x])); break;
          case DataType::kDouble: for (size_t x : elements) e.Put<double>(c->doubles()[x]); break;
          case DataType::kVarChar:
            PutStrings(e, elements.size(), [&](size_t k) { return std::string_view(c->strings()[elements[k]]); });
            break;
          default:
            return Status::InvalidArgument("field '" + field.name + "': unsupported array element type " +
                                           TypeName(field.element_type));
        }
        return Status::OK();
      }
      break;
    case DataType::kFloatVector:
      if (auto c = As<core::FloatVectorColumn>(column)) {
        if (c->dim() != static_cast<size_t>(field.dim)) break;
        const auto data = c->data().subspan(begin * c->dim(), n * c->dim());
        e.PutBytes(data.data(), data.size_bytes());
        return Status::OK();
      }
      break;
    case DataType::kNone:
      break;
  }
  return Status::InvalidArgument("field '" + field.name + "' of type " + TypeName(field.data_type) +
                                 ": the column does not hold that type");
}

// ---- reading ----

Status GetStrings(Decoder& d, size_t count, std::vector<std::string_view>* out, std::string_view what) {
  std::vector<uint32_t> offsets;
  const size_t offsets_pos = d.position();
  if (count == SIZE_MAX) return d.Corrupt("string count overflow");
  TESSERA_RETURN_IF_ERROR(d.GetArray(count + 1, &offsets, what));
  if (offsets[0] != 0) return d.CorruptAt(std::string(what) + ": first offset is not 0", offsets_pos);
  for (size_t i = 1; i < offsets.size(); ++i) {
    if (offsets[i] < offsets[i - 1]) {
      return d.CorruptAt(std::string(what) + ": offsets decrease", offsets_pos + 4 * i);
    }
  }
  std::string_view bytes;
  TESSERA_RETURN_IF_ERROR(d.GetView(offsets.back(), &bytes, what));
  out->resize(count);
  for (size_t i = 0; i < count; ++i) (*out)[i] = bytes.substr(offsets[i], offsets[i + 1] - offsets[i]);
  return Status::OK();
}

template <typename T>
Status GetNumbers(Decoder& d, size_t count, std::vector<json>* out, std::string_view what) {
  std::vector<T> values;
  TESSERA_RETURN_IF_ERROR(d.GetArray(count, &values, what));
  out->resize(count);
  for (size_t i = 0; i < count; ++i) {
    if constexpr (std::is_same_v<T, uint8_t>) {
      if (values[i] > 1) return d.Corrupt(std::string(what) + ": bool byte " + std::to_string(values[i]) + " is not 0 or 1");
      (*out)[i] = values[i] != 0;
    } else if constexpr (std::is_floating_point_v<T>) {
      (*out)[i] = static_cast<double>(values[i]);
    } else {
      (*out)[i] = static_cast<int64_t>(values[i]);
    }
  }
  return Status::OK();
}

// Values of `count` scalars of `type` as JSON.
Status GetScalars(Decoder& d, DataType type, size_t count, std::vector<json>* out) {
  switch (type) {
    case DataType::kBool: return GetNumbers<uint8_t>(d, count, out, "bool values");
    case DataType::kInt8: return GetNumbers<int8_t>(d, count, out, "int8 values");
    case DataType::kInt16: return GetNumbers<int16_t>(d, count, out, "int16 values");
    case DataType::kInt32: return GetNumbers<int32_t>(d, count, out, "int32 values");
    case DataType::kInt64: return GetNumbers<int64_t>(d, count, out, "int64 values");
    case DataType::kFloat: return GetNumbers<float>(d, count, out, "float values");
    case DataType::kDouble: return GetNumbers<double>(d, count, out, "double values");
    case DataType::kVarChar: {
      std::vector<std::string_view> strings;
      TESSERA_RETURN_IF_ERROR(GetStrings(d, count, &strings, "varchar values"));
      out->resize(count);
      for (size_t i = 0; i < count; ++i) (*out)[i] = std::string(strings[i]);
      return Status::OK();
    }
    default:
      return d.Corrupt("unsupported scalar type " + TypeName(type));
  }
}

Status DecodeBlock(const BinlogInfo& info, size_t block_index, const internal::Block& block,
                   std::string_view key, Column& column) {
  Decoder d = internal::BlockDecoder(kKind, key, block_index, block);
  uint32_t n = 0;
  TESSERA_RETURN_IF_ERROR(d.Get(&n, "row count"));
  // Every row needs at least one byte of values except in Array/VarChar/JSON, whose offsets
  // take 4 bytes a row; either way this bounds n by the payload before anything is sized by it.
  if (n > d.remaining() * 8) return d.Corrupt("row count " + std::to_string(n) + " exceeds the block");
  std::vector<uint8_t> validity;
  if (info.nullable) {
    const size_t validity_pos = d.position();
    TESSERA_RETURN_IF_ERROR(d.GetArray((n + size_t{7}) / 8, &validity, "validity bitmap"));
    if (n % 8 != 0 && (validity.back() >> (n % 8)) != 0) {
      return d.CorruptAt("validity bitmap has bits set past the row count", validity_pos + validity.size() - 1);
    }
  }
  const size_t values_pos = d.position();
  std::vector<json> values;
  switch (info.data_type) {
    case DataType::kJSON: {
      std::vector<std::string_view> texts;
      TESSERA_RETURN_IF_ERROR(GetStrings(d, n, &texts, "json values"));
      values.resize(n);
      for (size_t i = 0; i < n; ++i) {
        if (info.nullable && ((validity[i / 8] >> (i % 8)) & 1) == 0) continue;
        values[i] = json::parse(texts[i], nullptr, /*allow_exceptions=*/false);
        if (values[i].is_discarded()) return d.CorruptAt("row " + std::to_string(i) + " is not valid JSON text", values_pos);
      }
      break;
    }
    case DataType::kArray: {
      std::vector<uint32_t> offsets;
      TESSERA_RETURN_IF_ERROR(d.GetArray(size_t{n} + 1, &offsets, "array offsets"));
      if (offsets[0] != 0) return d.CorruptAt("array offsets: first offset is not 0", values_pos);
      for (size_t i = 1; i < offsets.size(); ++i) {
        if (offsets[i] < offsets[i - 1]) return d.CorruptAt("array offsets decrease", values_pos + 4 * i);
      }
      std::vector<json> elements;
      TESSERA_RETURN_IF_ERROR(GetScalars(d, info.element_type, offsets.back(), &elements));
      values.resize(n);
      for (size_t i = 0; i < n; ++i) {
        json row = json::array();
        for (uint32_t x = offsets[i]; x < offsets[i + 1]; ++x) row.push_back(std::move(elements[x]));
        values[i] = std::move(row);
      }
      break;
    }
    case DataType::kFloatVector: {
      std::vector<float> data;
      if (info.dim == 0) return d.Corrupt("float vector dim is 0");
      if (n > d.remaining() / 4 / info.dim) return d.Corrupt("truncated reading float vectors");
      TESSERA_RETURN_IF_ERROR(d.GetArray(size_t{n} * info.dim, &data, "float vectors"));
      values.resize(n);
      for (size_t i = 0; i < n; ++i) {
        json row = json::array();
        for (size_t j = 0; j < info.dim; ++j) row.push_back(static_cast<double>(data[i * info.dim + j]));
        values[i] = std::move(row);
      }
      break;
    }
    default:
      TESSERA_RETURN_IF_ERROR(GetScalars(d, info.data_type, n, &values));
  }
  if (!d.done()) return d.Corrupt(std::to_string(d.remaining()) + " unexpected trailing bytes");
  for (size_t i = 0; i < n; ++i) {
    if (info.nullable && ((validity[i / 8] >> (i % 8)) & 1) == 0) {
      column.AppendNull();
    } else if (info.data_type == DataType::kJSON) {
      static_cast<core::JsonColumn&>(column).AppendParsed(std::move(values[i]));
    } else if (Status s = column.Append(values[i]); !s.ok()) {
      return d.CorruptAt("row " + std::to_string(i) + " rejected: " + s.message(), values_pos);
    }
  }
  return Status::OK();
}

Result<BinlogInfo> DecodeInfo(const internal::ParsedFile& file, std::string_view key) {
  Decoder d(file.metadata, internal::FileContext(kKind, key), internal::kFileHeaderFixedBytes);
  if (file.metadata.size() != kMetadataBytes) {
    return d.CorruptAt("metadata length " + std::to_string(file.metadata.size()) + " != " +
                           std::to_string(kMetadataBytes),
                       0);
  }
  BinlogInfo info;
  uint8_t data_type = 0, element_type = 0, flags = 0, reserved = 0;
  TESSERA_RETURN_IF_ERROR(d.Get(&info.field_id, "field id"));
  TESSERA_RETURN_IF_ERROR(d.Get(&info.row_count, "row count"));
  TESSERA_RETURN_IF_ERROR(d.Get(&info.dim, "dim"));
  TESSERA_RETURN_IF_ERROR(d.Get(&data_type, "data type"));
  TESSERA_RETURN_IF_ERROR(d.Get(&element_type, "element type"));
  TESSERA_RETURN_IF_ERROR(d.Get(&flags, "flags"));
  TESSERA_RETURN_IF_ERROR(d.Get(&reserved, "reserved"));
  if (!IsKnownType(data_type)) return d.CorruptAt("unknown data type " + std::to_string(data_type), 20);
  info.data_type = static_cast<DataType>(data_type);
  info.element_type = static_cast<DataType>(element_type);
  if (info.data_type == DataType::kArray) {
    if (!IsKnownType(element_type) || !core::IsScalarType(info.element_type)) {
      return d.CorruptAt("bad array element type " + std::to_string(element_type), 21);
    }
  } else if (element_type != 0) {
    return d.CorruptAt("element type " + std::to_string(element_type) + " on a non-array field", 21);
  }
  if ((info.data_type == DataType::kFloatVector) != (info.dim != 0)) {
    return d.CorruptAt("dim " + std::to_string(info.dim) + " does not suit type " + TypeName(info.data_type), 16);
  }
  if ((flags & ~kFlagNullable) != 0 || reserved != 0) return d.CorruptAt("unknown flags", 22);
  info.nullable = (flags & kFlagNullable) != 0;
  return info;
}

Status CheckSchema(const BinlogInfo& info, const FieldSchema& field, std::string_view key) {
  auto mismatch = [&](std::string_view what, const std::string& file_value, const std::string& schema_value) {
    return Status::FailedPrecondition("binlog '" + std::string(key) + "' holds " + std::string(what) + " " +
                                      file_value + " but schema field '" + field.name + "' has " + schema_value);
  };
  if (info.field_id != field.id) {
    return mismatch("field id", std::to_string(info.field_id), std::to_string(field.id));
  }
  if (info.data_type != field.data_type) {
    return mismatch("data type", TypeName(info.data_type), TypeName(field.data_type));
  }
  if (info.data_type == DataType::kArray && info.element_type != field.element_type) {
    return mismatch("element type", TypeName(info.element_type), TypeName(field.element_type));
  }
  if (info.data_type == DataType::kFloatVector && static_cast<int64_t>(info.dim) != field.dim) {
    return mismatch("dim", std::to_string(info.dim), std::to_string(field.dim));
  }
  if (info.nullable != field.nullable) {
    return mismatch("nullable", info.nullable ? "true" : "false", field.nullable ? "true" : "false");
  }
  return Status::OK();
}

}  // namespace

Result<std::string> WriteBinlog(const FieldSchema& field, const Column& column, const BinlogOptions& options) {
  if (options.rows_per_block == 0) return Status::InvalidArgument("BinlogOptions.rows_per_block must be >= 1");
  if (column.field().data_type != field.data_type || column.field().nullable != field.nullable) {
    return Status::InvalidArgument("column of field '" + column.field().name + "' (" +
                                   TypeName(column.field().data_type) + ") does not match field '" + field.name +
                                   "' (" + TypeName(field.data_type) + ")");
  }
  if (field.data_type == DataType::kFloatVector && (field.dim <= 0 || field.dim > core::kMaxVectorDim)) {
    return Status::InvalidArgument("field '" + field.name + "': bad dim " + std::to_string(field.dim));
  }
  if (field.data_type == DataType::kArray && !core::IsScalarType(field.element_type)) {
    return Status::InvalidArgument("field '" + field.name + "': bad array element type " +
                                   TypeName(field.element_type));
  }
  Encoder meta;
  meta.Put<int64_t>(field.id);
  meta.Put<uint64_t>(column.size());
  meta.Put<uint32_t>(field.data_type == DataType::kFloatVector ? static_cast<uint32_t>(field.dim) : 0);
  meta.Put<uint8_t>(static_cast<uint8_t>(field.data_type));
  meta.Put<uint8_t>(field.data_type == DataType::kArray ? static_cast<uint8_t>(field.element_type) : 0);
  meta.Put<uint8_t>(field.nullable ? kFlagNullable : 0);
  meta.Put<uint8_t>(0);
  internal::FileBuilder builder(internal::kBinlogMagic, meta.str());
  for (size_t begin = 0; begin < column.size(); begin += options.rows_per_block) {
    const size_t end = std::min(column.size(), begin + size_t{options.rows_per_block});
    Encoder block;
    TESSERA_RETURN_IF_ERROR(EncodeBlock(field, column, begin, end, block));
    if (block.size() > internal::kMaxBlockBytes) {
      return Status::InvalidArgument("field '" + field.name + "': a block of " + std::to_string(end - begin) +
                                     " rows takes " + std::to_string(block.size()) +
                                     " bytes, over the 1 GiB limit; lower rows_per_block");
    }
    TESSERA_RETURN_IF_ERROR(builder.AddBlock(block.str(), options.compression));
  }
  return builder.Finish();
}

Result<BinlogInfo> ReadBinlogInfo(std::string_view bytes, std::string_view object_key) {
  TESSERA_ASSIGN_OR_RETURN(auto file, internal::ParseFile(bytes, internal::kBinlogMagic, kKind, object_key));
  return DecodeInfo(file, object_key);
}

Result<std::unique_ptr<Column>> ReadBinlog(const FieldSchema& field, std::string_view bytes,
                                           std::string_view object_key) {
  TESSERA_ASSIGN_OR_RETURN(auto file, internal::ParseFile(bytes, internal::kBinlogMagic, kKind, object_key));
  TESSERA_ASSIGN_OR_RETURN(BinlogInfo info, DecodeInfo(file, object_key));
  TESSERA_RETURN_IF_ERROR(CheckSchema(info, field, object_key));
  std::unique_ptr<Column> column = Column::Create(field);
  for (size_t i = 0; i < file.blocks.size(); ++i) {
    TESSERA_RETURN_IF_ERROR(DecodeBlock(info, i, file.blocks[i], object_key, *column));
  }
  if (column->size() != info.row_count) {
    return Status::DataLoss("binlog '" + std::string(object_key) + "': header says " +
                            std::to_string(info.row_count) + " rows, blocks hold " + std::to_string(column->size()) +
                            " at offset 12");
  }
  return column;
}

}  // namespace tessera::segment
