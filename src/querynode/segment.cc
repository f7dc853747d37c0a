#include "querynode/segment.h"

#include <algorithm>

#include "common/check.h"

namespace tessera::querynode {
namespace {

index::MetricType MetricOf(const VectorMetrics& metrics, int64_t field_id) {
  auto it = metrics.find(field_id);
  return it == metrics.end() ? index::MetricType::kL2 : it->second;
}

Result<std::shared_ptr<index::Index>> BuildFlat(const core::FloatVectorColumn& column,
                                                index::MetricType metric) {
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<index::Index> flat,
                           index::CreateIndex(index::IndexType::kFlat, metric, column.dim(),
                                              nlohmann::json::object()));
  if (column.size() > 0) {
    TESSERA_RETURN_IF_ERROR(flat->Build(column.data().data(), column.size(), nullptr));
  }
  return std::shared_ptr<index::Index>(std::move(flat));
}

}  // namespace

Segment::Segment(Kind kind, int64_t id, std::string channel, std::unique_ptr<core::ColumnSet> columns,
                 VectorMetrics metrics)
    : kind_(kind), id_(id), channel_(std::move(channel)), columns_(std::move(columns)),
      metrics_(std::move(metrics)) {}

Result<std::unique_ptr<Segment>> Segment::CreateSealed(int64_t id, std::string channel,
                                                       std::unique_ptr<core::ColumnSet> columns,
                                                       std::vector<uint64_t> timestamps,
                                                       std::vector<int64_t> partitions,
                                                       std::map<int64_t, SegmentIndex> indexes,
                                                       const VectorMetrics& metrics) {
  const size_t rows = columns->num_rows();
  if (timestamps.size() != rows || partitions.size() != rows) {
    return Status::InvalidArgument("segment " + std::to_string(id) + " has " + std::to_string(rows) +
                                   " rows but " + std::to_string(timestamps.size()) + " timestamps and " +
                                   std::to_string(partitions.size()) + " partition ids");
  }
  std::unique_ptr<Segment> segment(new Segment(Kind::kSealed, id, std::move(channel), std::move(columns), metrics));
  segment->timestamps_ = std::move(timestamps);
  segment->partitions_ = std::move(partitions);
  TESSERA_RETURN_IF_ERROR(segment->Init(std::move(indexes)));
  return segment;
}

Result<std::unique_ptr<Segment>> Segment::CreateGrowing(std::string channel, const core::CollectionSchema& schema,
                                                        const VectorMetrics& metrics) {
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<core::ColumnSet> columns, core::ColumnSet::Create(schema));
  std::unique_ptr<Segment> segment(new Segment(Kind::kGrowing, 0, std::move(channel), std::move(columns), metrics));
  TESSERA_RETURN_IF_ERROR(segment->Init({}));
  return segment;
}

Status Segment::Init(std::map<int64_t, SegmentIndex> indexes) {
  const core::FieldSchema* pk = columns_->schema().PrimaryKey();
  if (pk == nullptr) return Status::InvalidArgument("the schema has no primary key");
  pk_column_ = columns_->FindColumn(pk->name);
  TESSERA_CHECK(pk_column_ != nullptr) << "primary key column missing";
  const size_t rows = num_rows();
  pk_index_.Reserve(rows);
  for (size_t row = 0; row < rows; ++row) pk_index_.Add(PkAt(*pk_column_, row), static_cast<uint32_t>(row));
  partition_set_.insert(partitions_.begin(), partitions_.end());
  for (uint64_t ts : timestamps_) min_timestamp_ = std::min(min_timestamp_, ts);
  deleted_.Resize(rows);
  for (size_t i = 0; i < columns_->schema().fields.size(); ++i) {
    const core::FieldSchema& field = columns_->schema().fields[i];
    if (field.data_type != core::DataType::kFloatVector) continue;
    const auto& column = static_cast<const core::FloatVectorColumn&>(columns_->column(i));
    auto given = indexes.find(field.id);
    if (given != indexes.end()) {
      indexes_[field.id] = SegmentIndex{};
      TESSERA_RETURN_IF_ERROR(SetIndex(field.id, std::move(given->second)));
      continue;
    }
    TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<index::Index> flat, BuildFlat(column, MetricOf(metrics_, field.id)));
    if (kind_ == Kind::kGrowing) growing_indexes_[field.id] = flat;
    indexes_[field.id] = SegmentIndex{std::move(flat), -1, ""};
  }
  return Status::OK();
}

const SegmentIndex* Segment::VectorIndex(int64_t field_id) const {
  auto it = indexes_.find(field_id);
  return it == indexes_.end() ? nullptr : &it->second;
}

Status Segment::SetIndex(int64_t field_id, SegmentIndex index) {
  auto it = indexes_.find(field_id);
  if (it == indexes_.end()) {
    return Status::InvalidArgument("field " + std::to_string(field_id) + " of segment " + std::to_string(id_) +
                                   " is not a vector field");
  }
  const core::FieldSchema* field = nullptr;
  for (const auto& f : columns_->schema().fields) {
    if (f.id == field_id) field = &f;
  }
  if (index.index == nullptr) return Status::InvalidArgument("null index");
  if (index.index->dim() != static_cast<size_t>(field->dim) || index.index->size() != num_rows()) {
    return Status::InvalidArgument("index " + std::to_string(index.index_id) + " (" + index.object_key + ") has " +
                                   std::to_string(index.index->size()) + " rows of dim " +
                                   std::to_string(index.index->dim()) + ", but field '" + field->name +
                                   "' of segment " + std::to_string(id_) + " has " + std::to_string(num_rows()) +
                                   " rows of dim " + std::to_string(field->dim));
  }
  it->second = std::move(index);
  growing_indexes_.erase(field_id);
  return Status::OK();
}

void Segment::MarkDeleted(size_t row) {
  if (!deleted_.Test(row)) {
    deleted_.Set(row);
    ++num_deleted_;
  }
}

size_t Segment::ApplyDelete(const PrimaryKey& pk, uint64_t timestamp) {
  size_t hidden = 0;
  pk_index_.ForEachRow(pk, [&](uint32_t row) {
    if (timestamps_[row] < timestamp && !deleted_.Test(row)) {
      MarkDeleted(row);
      ++hidden;
    }
  });
  return hidden;
}

size_t Segment::ApplyDeleteMap(const DeleteMap& deletes) {
  size_t hidden = 0;
  if (deletes.size() == 0) return 0;
  if (deletes.size() < num_rows()) {
    deletes.ForEach([&](const PrimaryKey& pk, uint64_t ts) { hidden += ApplyDelete(pk, ts); });
    return hidden;
  }
  for (size_t row = 0; row < num_rows(); ++row) {
    if (!deleted_.Test(row) && deletes.Get(pk(row)) > timestamps_[row]) {
      MarkDeleted(row);
      ++hidden;
    }
  }
  return hidden;
}

Status Segment::AppendRows(const core::ColumnSet& rows, std::span<const int64_t> partitions, uint64_t timestamp,
                           uint64_t wal_offset, const DeleteMap& deletes) {
  TESSERA_CHECK(kind_ == Kind::kGrowing) << "AppendRows on a sealed segment";
  TESSERA_CHECK(wal_offsets_.empty() || wal_offsets_.back() <= wal_offset) << "WAL offsets out of order";
  if (partitions.size() != rows.num_rows()) {
    return Status::InvalidArgument("record at offset " + std::to_string(wal_offset) + " has " +
                                   std::to_string(rows.num_rows()) + " rows but " +
                                   std::to_string(partitions.size()) + " partition ids");
  }
  const size_t first = num_rows();
  for (size_t i = 0; i < rows.num_rows(); ++i) {
    columns_->AppendRowFrom(rows, i);
    timestamps_.push_back(timestamp);
    min_timestamp_ = std::min(min_timestamp_, timestamp);
    partitions_.push_back(partitions[i]);
    partition_set_.insert(partitions[i]);
    wal_offsets_.push_back(wal_offset);
    PrimaryKey key = PkAt(*pk_column_, first + i);
    const bool hidden = deletes.Get(key) > timestamp;
    pk_index_.Add(key, static_cast<uint32_t>(first + i));
    deleted_.Resize(first + i + 1);
    if (hidden) MarkDeleted(first + i);
  }
  for (auto& [field_id, flat] : growing_indexes_) {
    const core::Column* column = nullptr;
    for (size_t c = 0; c < rows.schema().fields.size(); ++c) {
      if (rows.schema().fields[c].id == field_id) column = &rows.column(c);
    }
    TESSERA_CHECK(column != nullptr) << "vector field missing from WAL rows";
    const auto& vectors = static_cast<const core::FloatVectorColumn&>(*column);
    if (vectors.size() > 0) TESSERA_RETURN_IF_ERROR(flat->Add(vectors.data().data(), vectors.size(), nullptr));
  }
  return Status::OK();
}

size_t Segment::CountRowsInRange(uint64_t begin, uint64_t end) const {
  auto lo = std::lower_bound(wal_offsets_.begin(), wal_offsets_.end(), begin);
  auto hi = std::lower_bound(lo, wal_offsets_.end(), end);
  return static_cast<size_t>(hi - lo);
}

Result<std::unique_ptr<Segment>> Segment::WithoutRange(uint64_t begin, uint64_t end) const {
  TESSERA_CHECK(kind_ == Kind::kGrowing) << "WithoutRange on a sealed segment";
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<core::ColumnSet> columns, core::ColumnSet::Create(columns_->schema()));
  std::unique_ptr<Segment> out(new Segment(Kind::kGrowing, 0, channel_, std::move(columns), metrics_));
  std::vector<size_t> kept_deleted;
  for (size_t row = 0; row < num_rows(); ++row) {
    if (wal_offsets_[row] >= begin && wal_offsets_[row] < end) continue;
    if (deleted_.Test(row)) kept_deleted.push_back(out->timestamps_.size());
    out->columns_->AppendRowFrom(*columns_, row);
    out->timestamps_.push_back(timestamps_[row]);
    out->partitions_.push_back(partitions_[row]);
    out->wal_offsets_.push_back(wal_offsets_[row]);
  }
  TESSERA_RETURN_IF_ERROR(out->Init({}));  // pk index, partitions, FLAT indexes from the columns
  for (size_t row : kept_deleted) out->MarkDeleted(row);
  return out;
}

size_t Segment::MemoryUsage() const {
  size_t bytes = columns_->MemoryUsage() + pk_index_.MemoryUsage() + deleted_.MemoryUsage();
  bytes += timestamps_.capacity() * sizeof(uint64_t) + partitions_.capacity() * sizeof(int64_t) +
           wal_offsets_.capacity() * sizeof(uint64_t);
  for (const auto& [field_id, index] : indexes_) {
    if (index.index != nullptr) bytes += index.index->MemoryUsage();
  }
  return bytes;
}

}  // namespace tessera::querynode
