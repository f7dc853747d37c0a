#include "datanode/segment_writer.h"

#include <algorithm>
#include <unordered_map>

#include "datanode/segment_layout.h"
#include "segment/binlog.h"
#include "segment/stats.h"

namespace tessera::datanode {

Result<SegmentData> SegmentData::Create(const core::CollectionSchema& schema) {
  SegmentData data;
  TESSERA_ASSIGN_OR_RETURN(data.rows, core::ColumnSet::Create(schema));
  data.timestamps = core::Column::Create(TimestampField());
  data.partitions = core::Column::Create(PartitionField());
  return data;
}

segment::PrimaryKey PrimaryKeyAt(const core::Column& pk, size_t row) {
  if (pk.field().data_type == core::DataType::kInt64) return static_cast<const core::Int64Column&>(pk).Value(row);
  return std::string(static_cast<const core::VarCharColumn&>(pk).View(row));
}

namespace {

// Rows that a delete of the same data hides: a newer delete (or upsert) of their key.
uint64_t CountDeletedRows(const core::Column& pk, const core::Column& timestamps,
                          const std::vector<segment::DeleteEntry>& deletes) {
  if (deletes.empty()) return 0;
  std::unordered_map<segment::PrimaryKey, uint64_t> newest;
  for (const segment::DeleteEntry& d : deletes) {
    uint64_t& ts = newest[d.pk];
    ts = std::max(ts, d.timestamp);
  }
  const auto& ts = static_cast<const core::Int64Column&>(timestamps);
  uint64_t deleted = 0;
  for (size_t row = 0; row < pk.size(); ++row) {
    if (pk.IsNull(row)) continue;
    auto it = newest.find(PrimaryKeyAt(pk, row));
    deleted += it != newest.end() && static_cast<uint64_t>(ts.Value(row)) < it->second ? 1 : 0;
  }
  return deleted;
}

}  // namespace

Result<EncodedSegment> EncodeSegment(const coord::CollectionInfo& collection, std::string_view channel,
                                     int64_t segment_id, const SegmentData& data) {
  const core::CollectionSchema& schema = collection.schema;
  const core::FieldSchema* pk = schema.PrimaryKey();
  if (pk == nullptr) return Status::InvalidArgument("collection " + std::to_string(collection.id) + " has no primary key");
  const size_t rows = data.num_rows();
  if (data.timestamps->size() != rows || data.partitions->size() != rows) {
    return Status::InvalidArgument("segment " + std::to_string(segment_id) + ": system columns hold " +
                                   std::to_string(data.timestamps->size()) + "/" +
                                   std::to_string(data.partitions->size()) + " rows, expected " +
                                   std::to_string(rows));
  }

  EncodedSegment out;
  coord::SegmentInfo& info = out.info;
  info.id = segment_id;
  info.collection_id = collection.id;
  info.channel = std::string(channel);
  info.num_rows = rows;
  info.memory_size = data.MemoryUsage();
  const auto& partition_ids = static_cast<const core::Int64Column&>(*data.partitions).data();
  for (int64_t partition : partition_ids) ++info.partition_rows[partition];
  const std::string prefix = SegmentPrefix(collection.id, channel, segment_id);
  int64_t next_log_id = 0;

  auto add_binlog = [&](const core::FieldSchema& field, const core::Column& column) -> Status {
    auto bytes = segment::WriteBinlog(field, column);
    if (!bytes.ok()) return bytes.status().WithContext("segment " + std::to_string(segment_id) + " field '" + field.name + "'");
    std::string key = BinlogKey(prefix, field.id, next_log_id++);
    info.binlogs[field.id] = key;
    out.files.emplace_back(std::move(key), std::move(bytes).value());
    return Status::OK();
  };

  if (rows > 0) {
    const core::Column* pk_column = nullptr;
    for (size_t i = 0; i < schema.fields.size(); ++i) {
      const core::FieldSchema& field = schema.fields[i];
      TESSERA_RETURN_IF_ERROR(add_binlog(field, data.rows->column(i)));
      if (field.is_primary_key) pk_column = &data.rows->column(i);
    }
    TESSERA_RETURN_IF_ERROR(add_binlog(TimestampField(), *data.timestamps));
    TESSERA_RETURN_IF_ERROR(add_binlog(PartitionField(), *data.partitions));

    auto stats = segment::ComputeStats(*pk_column);
    if (!stats.ok()) return stats.status().WithContext("segment " + std::to_string(segment_id) + " stats");
    auto stats_bytes = segment::WriteStats(*stats);
    if (!stats_bytes.ok()) return stats_bytes.status().WithContext("segment " + std::to_string(segment_id) + " stats");
    info.stats = StatsKey(prefix, next_log_id++);
    out.files.emplace_back(info.stats, std::move(stats_bytes).value());
    info.deleted_rows = CountDeletedRows(*pk_column, *data.timestamps, data.deletes);
    for (int64_t ts : static_cast<const core::Int64Column&>(*data.timestamps).data()) {
      info.max_timestamp = std::max(info.max_timestamp, static_cast<uint64_t>(ts));
    }
  }

  if (!data.deletes.empty()) {
    auto bytes = segment::WriteDeltalog(pk->data_type, data.deletes);
    if (!bytes.ok()) return bytes.status().WithContext("segment " + std::to_string(segment_id) + " deltalog");
    std::string key = DeltalogKey(prefix, next_log_id++);
    info.deltalogs.push_back(key);
    out.files.emplace_back(std::move(key), std::move(bytes).value());
  }
  return out;
}

}  // namespace tessera::datanode
