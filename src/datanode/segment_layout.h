#pragma once

// Where a segment's files live and what its system columns are. Shared by the flush path
// and compaction (and readable by anyone who needs the same layout).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "coord/catalog_types.h"
#include "core/schema.h"

namespace tessera::datanode {

/// Schema of the system column holding each row's hybrid timestamp: Int64, id
/// coord::kTimestampFieldId, name "$ts". Timestamps are below 2^63 (physical ms << 18), so
/// the signed type holds them unchanged.
core::FieldSchema TimestampField();
/// Schema of the system column holding each row's partition id: Int64, id
/// coord::kPartitionFieldId, name "$partition".
core::FieldSchema PartitionField();


/// "collections/<collection_id>/<channel>/<segment_id>"; every file of the segment lies
/// below it (DESIGN.md §4).
std::string SegmentPrefix(int64_t collection_id, std::string_view channel, int64_t segment_id);
/// "<prefix>/binlog/<field_id>/<log_id>".
std::string BinlogKey(std::string_view prefix, int64_t field_id, int64_t log_id);
/// "<prefix>/deltalog/<log_id>".
std::string DeltalogKey(std::string_view prefix, int64_t log_id);
/// "<prefix>/stats/<log_id>".
std::string StatsKey(std::string_view prefix, int64_t log_id);

}  // namespace tessera::datanode
