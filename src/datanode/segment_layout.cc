#include "datanode/segment_layout.h"

#include <fmt/format.h>

namespace tessera::datanode {

namespace {

core::FieldSchema SystemInt64Field(int64_t id, std::string name) {
  core::FieldSchema field;
  field.id = id;
  field.name = std::move(name);
  field.data_type = core::DataType::kInt64;
  return field;
}

}  // namespace

core::FieldSchema TimestampField() { return SystemInt64Field(coord::kTimestampFieldId, "$ts"); }

core::FieldSchema PartitionField() { return SystemInt64Field(coord::kPartitionFieldId, "$partition"); }

std::string SegmentPrefix(int64_t collection_id, std::string_view channel, int64_t segment_id) {
  return fmt::format("collections/{}/{}/{}", collection_id, channel, segment_id);
}

std::string BinlogKey(std::string_view prefix, int64_t field_id, int64_t log_id) {
  return fmt::format("{}/binlog/{}/{}", prefix, field_id, log_id);
}

std::string DeltalogKey(std::string_view prefix, int64_t log_id) {
  return fmt::format("{}/deltalog/{}", prefix, log_id);
}

std::string StatsKey(std::string_view prefix, int64_t log_id) {
  return fmt::format("{}/stats/{}", prefix, log_id);
}

}  // namespace tessera::datanode
