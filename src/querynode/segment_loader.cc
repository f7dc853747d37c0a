#include "querynode/segment_loader.h"

#include <span>
#include <string>

#include "common/logging.h"
#include "segment/binlog.h"

namespace tessera::querynode {
namespace {

std::string SegmentName(const coord::SegmentInfo& info) {
  return "segment " + std::to_string(info.id) + " of collection " + std::to_string(info.collection_id);
}

core::FieldSchema SystemField(int64_t id, const char* name) {
  core::FieldSchema f;
  f.id = id;
  f.name = name;
  f.data_type = core::DataType::kInt64;
  return f;
}

Result<std::unique_ptr<core::Column>> ReadColumn(const core::FieldSchema& field, const coord::SegmentInfo& info,
                                                 storage::ObjectStore& store) {
  auto key = info.binlogs.find(field.id);
  if (key == info.binlogs.end()) {
    return Status::DataLoss(SegmentName(info) + " has " + std::to_string(info.num_rows) +
                            " rows but no binlog for field '" + field.name + "' (id " + std::to_string(field.id) + ")");
  }
  auto bytes = store.Get(key->second);
  if (!bytes.ok()) return bytes.status().WithContext(SegmentName(info) + ": reading binlog");
  auto column = segment::ReadBinlog(field, *bytes, key->second);
  if (!column.ok()) {
    // A binlog that does not match the schema is damaged data for this segment.
    if (column.status().code() == StatusCode::kFailedPrecondition) {
      return Status::DataLoss(SegmentName(info) + ": " + column.status().message());
    }
    return column.status().WithContext(SegmentName(info));
  }
  if ((*column)->size() != info.num_rows) {
    return Status::DataLoss(SegmentName(info) + ": binlog " + key->second + " holds " +
                            std::to_string((*column)->size()) + " rows, the segment has " +
                            std::to_string(info.num_rows));
  }
  return std::move(column).value();
}

Result<SegmentIndex> ReadIndex(const coord::CollectionInfo& collection, const coord::SegmentInfo& info,
                               int64_t index_id, const std::string& key, int64_t* field_id,
                               storage::ObjectStore& store) {
  const coord::IndexInfo* def = nullptr;
  for (const auto& idx : collection.indexes) {
    if (idx.id == index_id) def = &idx;
  }
  if (def == nullptr) return Status::NotFound("index " + std::to_string(index_id) + " is not defined");
  const core::FieldSchema* field = nullptr;
  for (const auto& f : collection.schema.fields) {
    if (f.id == def->field_id) field = &f;
  }
  if (field == nullptr || field->data_type != core::DataType::kFloatVector) {
    return Status::NotFound("index " + std::to_string(index_id) + " is not on a vector field");
  }
  auto bytes = store.Get(key);
  if (!bytes.ok()) return bytes.status().WithContext(SegmentName(info) + ": reading index file");
  auto index = index::LoadIndex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()));
  if (!index.ok()) return index.status().WithContext(SegmentName(info) + ": index file " + key);
  if ((*index)->dim() != static_cast<size_t>(field->dim) || (*index)->size() != info.num_rows) {
    return Status::DataLoss(SegmentName(info) + ": index file " + key + " holds " +
                            std::to_string((*index)->size()) + " vectors of dim " + std::to_string((*index)->dim()) +
                            ", expected " + std::to_string(info.num_rows) + " of dim " + std::to_string(field->dim) +
                            " (field '" + field->name + "')");
  }
  *field_id = field->id;
  return SegmentIndex{std::shared_ptr<const index::Index>(std::move(index).value()), index_id, key};
}

}  // namespace

VectorMetrics MetricsOf(const coord::CollectionInfo& collection) {
  VectorMetrics metrics;
  for (const auto& idx : collection.indexes) {
    auto metric = index::ParseMetricType(idx.metric_type);
    if (metric.ok()) metrics[idx.field_id] = *metric;
  }
  return metrics;
}

ServedIndexes ServedIndexesOf(const Segment& segment) {
  ServedIndexes out;
  for (const auto& [field_id, index] : segment.vector_indexes()) {
    if (index.index_id >= 0) out.emplace(index.index_id, index.object_key);
  }
  return out;
}

Result<std::map<int64_t, SegmentIndex>> LoadNewIndexes(const coord::CollectionInfo& collection,
                                                       const coord::SegmentInfo& info, const ServedIndexes& served,
                                                       storage::ObjectStore& store) {
  std::map<int64_t, SegmentIndex> out;
  for (const auto& [index_id, key] : info.index_files) {
    if (served.count({index_id, key}) != 0) continue;
    int64_t field_id = 0;
    auto index = ReadIndex(collection, info, index_id, key, &field_id, store);
    if (!index.ok()) {
      if (index.status().code() == StatusCode::kNotFound &&
          index.status().message().rfind("index ", 0) == 0) {
        // The collection no longer defines this index (dropped); the field stays exact.
        TESSERA_LOG_WARN("{}: skipping index file {}: {}", SegmentName(info), key, index.status().message());
        continue;
      }
      return index.status();
    }
    out[field_id] = std::move(index).value();
  }
  return out;
}

Result<LoadedSegment> LoadSealedSegment(const coord::CollectionInfo& collection, const coord::SegmentInfo& info,
                                        storage::ObjectStore& store) {
  const core::CollectionSchema& schema = collection.schema;
  std::unique_ptr<core::ColumnSet> columns;
  std::vector<uint64_t> timestamps;
  std::vector<int64_t> partitions;
  if (info.num_rows == 0) {
    TESSERA_ASSIGN_OR_RETURN(columns, core::ColumnSet::Create(schema));
  } else {
    std::vector<std::unique_ptr<core::Column>> fields;
    for (const auto& field : schema.fields) {
      TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<core::Column> column, ReadColumn(field, info, store));
      fields.push_back(std::move(column));
    }
    // A schema with the dynamic field on but not declared keeps it implicit; such rows
    // carry no dynamic keys in storage.
    std::unique_ptr<core::JsonColumn> dynamic;
    bool declared = false;
    for (const auto& f : schema.fields) declared = declared || f.is_dynamic;
    if (schema.enable_dynamic_field && !declared) {
      core::FieldSchema meta;
      meta.name = std::string(core::kDynamicFieldName);
      meta.data_type = core::DataType::kJSON;
      meta.is_dynamic = true;
      dynamic = std::make_unique<core::JsonColumn>(meta);
      for (uint64_t i = 0; i < info.num_rows; ++i) dynamic->AppendParsed(nlohmann::json::object());
    }
    auto set = core::ColumnSet::FromColumns(schema, std::move(fields), std::move(dynamic));
    if (!set.ok()) return Status::DataLoss(SegmentName(info) + ": " + set.status().message());
    columns = std::move(set).value();

    TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<core::Column> ts,
                             ReadColumn(SystemField(coord::kTimestampFieldId, "$timestamp"), info, store));
    TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<core::Column> parts,
                             ReadColumn(SystemField(coord::kPartitionFieldId, "$partition"), info, store));
    auto ts_values = static_cast<const core::Int64Column&>(*ts).data();
    timestamps.assign(ts_values.begin(), ts_values.end());
    auto part_values = static_cast<const core::Int64Column&>(*parts).data();
    partitions.assign(part_values.begin(), part_values.end());
  }

  LoadedSegment out;
  out.info = info;
  for (const auto& key : info.deltalogs) {
    auto bytes = store.Get(key);
    if (!bytes.ok()) return bytes.status().WithContext(SegmentName(info) + ": reading deltalog");
    auto log = segment::ReadDeltalog(*bytes, key);
    if (!log.ok()) return log.status().WithContext(SegmentName(info));
    out.deletes.insert(out.deletes.end(), log->entries.begin(), log->entries.end());
  }

  TESSERA_ASSIGN_OR_RETURN(auto indexes, LoadNewIndexes(collection, info, {}, store));
  auto segment = Segment::CreateSealed(info.id, info.channel, std::move(columns), std::move(timestamps),
                                       std::move(partitions), std::move(indexes), MetricsOf(collection));
  if (!segment.ok()) return Status::DataLoss(SegmentName(info) + ": " + segment.status().message());
  out.segment = std::move(segment).value();
  return out;
}

}  // namespace tessera::querynode
