#include "core/column_set.h"

#include <string>
#include <utility>

#include "common/check.h"

namespace tessera::core {

using nlohmann::json;

Result<std::unique_ptr<ColumnSet>> ColumnSet::Create(CollectionSchema schema) {
  TESSERA_RETURN_IF_ERROR(schema.Validate());
  return std::unique_ptr<ColumnSet>(new ColumnSet(std::move(schema)));
}

ColumnSet::ColumnSet(CollectionSchema schema) : schema_(std::move(schema)) {
  for (const FieldSchema& f : schema_.fields) {
    columns_.push_back(Column::Create(f));
    if (f.is_dynamic) dynamic_ = static_cast<JsonColumn*>(columns_.back().get());
  }
  if (schema_.enable_dynamic_field && dynamic_ == nullptr) {
    FieldSchema meta;
    meta.name = std::string(kDynamicFieldName);
    meta.data_type = DataType::kJSON;
    meta.is_dynamic = true;
    implicit_dynamic_ = std::make_unique<JsonColumn>(meta);
    dynamic_ = implicit_dynamic_.get();
  }
}

Status ColumnSet::AppendRow(const json& row) {
  if (!row.is_object()) return Status::InvalidArgument("row must be a JSON object");
  Status status = AppendFields(row);
  if (!status.ok()) {
    for (auto& c : columns_) c->Truncate(num_rows_);
    if (implicit_dynamic_) implicit_dynamic_->Truncate(num_rows_);
    return status;
  }
  ++num_rows_;
  deleted_.Resize(num_rows_);
  return Status::OK();
}

Status ColumnSet::AppendFields(const json& row) {
  // Unknown keys first: they decide whether the row is acceptable at all.
  json extra = json::object();
  for (auto it = row.begin(); it != row.end(); ++it) {
    if (it.key() == kDynamicFieldName) {
      return Status::InvalidArgument("field '$meta': the dynamic field cannot be set directly");
    }
    if (schema_.FindField(it.key()) != nullptr) continue;
    if (dynamic_ == nullptr) {
      return Status::InvalidArgument("field '" + it.key() +
                                     "': not in the schema and the dynamic field is disabled");
    }
    if (!it.value().is_null()) extra[it.key()] = it.value();
  }
  for (size_t i = 0; i < columns_.size(); ++i) {
    const FieldSchema& f = schema_.fields[i];
    Column& column = *columns_[i];
    if (f.is_dynamic) continue;
    auto it = row.find(f.name);
    const bool present = it != row.end() && !it->is_null();
    if (f.auto_id) {
      if (it != row.end()) {
        return Status::InvalidArgument("field '" + f.name + "': no need to pass the primary key when auto_id is on");
      }
      // A VarChar key gets the id's decimal text (Milvus does the same).
      TESSERA_RETURN_IF_ERROR(column.Append(f.data_type == DataType::kVarChar ? json(std::to_string(next_auto_id_))
                                                                              : json(next_auto_id_)));
      continue;
    }
    if (present) {
      TESSERA_RETURN_IF_ERROR(column.Append(*it));
    } else if (f.default_value.has_value()) {
      TESSERA_RETURN_IF_ERROR(column.Append(*f.default_value));
    } else if (f.nullable) {
      column.AppendNull();
    } else if (IsVectorType(f.data_type)) {
      return Status::InvalidArgument("missing vector field: " + f.name);
    } else {
      return Status::InvalidArgument("row does not have field " + f.name);
    }
  }
  if (dynamic_ != nullptr) dynamic_->AppendParsed(std::move(extra));
  const FieldSchema* pk = schema_.PrimaryKey();
  if (pk != nullptr && pk->auto_id) ++next_auto_id_;
  return Status::OK();
}

Result<std::unique_ptr<ColumnSet>> ColumnSet::FromColumns(CollectionSchema schema,
                                                          std::vector<std::unique_ptr<Column>> columns,
                                                          std::unique_ptr<JsonColumn> dynamic) {
  TESSERA_RETURN_IF_ERROR(schema.Validate());
  std::unique_ptr<ColumnSet> set(new ColumnSet(std::move(schema)));
  if (columns.size() != set->columns_.size()) {
    return Status::InvalidArgument("FromColumns: " + std::to_string(columns.size()) + " columns for " +
                                   std::to_string(set->columns_.size()) + " fields");
  }
  const bool wants_dynamic = set->implicit_dynamic_ != nullptr;
  if (wants_dynamic != (dynamic != nullptr)) {
    return Status::InvalidArgument(wants_dynamic ? "FromColumns: the dynamic field column is missing"
                                                 : "FromColumns: a dynamic column was given but is not expected");
  }
  const size_t rows = columns.empty() ? 0 : (columns[0] ? columns[0]->size() : 0);
  for (size_t i = 0; i < columns.size(); ++i) {
    const FieldSchema& f = set->schema_.fields[i];
    if (!columns[i] || columns[i]->field().data_type != f.data_type ||
        columns[i]->field().element_type != f.element_type || columns[i]->field().dim != f.dim) {
      return Status::InvalidArgument("FromColumns: column for field '" + f.name + "' is missing or of another type");
    }
    if (columns[i]->size() != rows) {
      return Status::InvalidArgument("FromColumns: field '" + f.name + "' has " + std::to_string(columns[i]->size()) +
                                     " rows, expected " + std::to_string(rows));
    }
  }
  if (dynamic && dynamic->size() != rows) {
    return Status::InvalidArgument("FromColumns: the dynamic field has " + std::to_string(dynamic->size()) +
                                   " rows, expected " + std::to_string(rows));
  }
  set->columns_ = std::move(columns);
  set->dynamic_ = nullptr;
  for (size_t i = 0; i < set->columns_.size(); ++i) {
    if (set->schema_.fields[i].is_dynamic) set->dynamic_ = static_cast<JsonColumn*>(set->columns_[i].get());
  }
  if (dynamic) {
    set->implicit_dynamic_ = std::move(dynamic);
    set->dynamic_ = set->implicit_dynamic_.get();
  }
  set->num_rows_ = rows;
  set->deleted_.Resize(rows);
  return set;
}

void ColumnSet::AppendRowFrom(const ColumnSet& src, size_t row) {
  TESSERA_CHECK(src.columns_.size() == columns_.size()) << "AppendRowFrom: schemas differ";
  for (size_t i = 0; i < columns_.size(); ++i) columns_[i]->AppendFrom(*src.columns_[i], row);
  if (implicit_dynamic_) {
    TESSERA_CHECK(src.implicit_dynamic_ != nullptr) << "AppendRowFrom: schemas differ";
    implicit_dynamic_->AppendFrom(*src.implicit_dynamic_, row);
  }
  ++num_rows_;
  deleted_.Resize(num_rows_);
}

void ColumnSet::MarkDeleted(size_t row) {
  TESSERA_CHECK(row < num_rows_) << "MarkDeleted(" << row << ") with " << num_rows_ << " rows";
  deleted_.Set(row);
}

Result<json> ColumnSet::GetRow(size_t row, const std::vector<std::string>& output_fields) const {
  if (row >= num_rows_) {
    return Status::OutOfRange("row " + std::to_string(row) + " >= row count " + std::to_string(num_rows_));
  }
  json out = json::object();
  const json* meta = dynamic_ != nullptr ? &dynamic_->Value(row) : nullptr;
  auto flatten_meta = [&] {
    if (meta == nullptr || !meta->is_object()) return;
    for (auto it = meta->begin(); it != meta->end(); ++it) out[it.key()] = it.value();
  };
  bool all = output_fields.empty();
  for (const auto& name : output_fields) all = all || name == "*";
  if (all) {
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (!schema_.fields[i].is_dynamic) out[schema_.fields[i].name] = columns_[i]->Get(row);
    }
    flatten_meta();
    return out;
  }
  for (const auto& name : output_fields) {
    if (name == kDynamicFieldName && meta != nullptr) {
      flatten_meta();
      continue;
    }
    const int index = schema_.FieldIndex(name);
    if (index >= 0) {
      out[name] = columns_[static_cast<size_t>(index)]->Get(row);
    } else if (meta != nullptr) {
      if (meta->is_object() && meta->contains(name)) out[name] = (*meta)[name];
    } else {
      return Status::InvalidArgument("field '" + name + "': not in the schema");
    }
  }
  return out;
}

const Column* ColumnSet::FindColumn(std::string_view name) const {
  const int index = schema_.FieldIndex(name);
  return index < 0 ? nullptr : columns_[static_cast<size_t>(index)].get();
}

size_t ColumnSet::MemoryUsage() const {
  size_t bytes = deleted_.MemoryUsage();
  for (const auto& c : columns_) bytes += c->MemoryUsage();
  if (implicit_dynamic_) bytes += implicit_dynamic_->MemoryUsage();
  return bytes;
}

}  // namespace tessera::core
