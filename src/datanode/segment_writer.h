#pragma once

// PRIVATE header of the data node: turns a segment's rows and deletes into its files.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "coord/catalog_types.h"
#include "core/column.h"
#include "core/column_set.h"
#include "segment/deltalog.h"

namespace tessera::datanode {

/// The contents of one sealed segment: rows of the collection's schema, the two system
/// columns parallel to them, and the deletes consumed with them.
/// Thread-compatible; immutable once handed to EncodeSegment.
struct SegmentData {
  std::unique_ptr<core::ColumnSet> rows;
  /// Int64 columns of TimestampField() and PartitionField(), rows->num_rows() entries each.
  std::unique_ptr<core::Column> timestamps;
  std::unique_ptr<core::Column> partitions;
  /// Deletes in consumption order.
  std::vector<segment::DeleteEntry> deletes;

  /// Empty columns for `schema` (which must be valid).
  static Result<SegmentData> Create(const core::CollectionSchema& schema);
  size_t num_rows() const { return rows->num_rows(); }
  /// The rows' bytes in memory, system columns included (walks JSON values: not per row).
  size_t MemoryUsage() const {
    return rows->MemoryUsage() + timestamps->MemoryUsage() + partitions->MemoryUsage();
  }
};

/// The primary key in row `row` of `pk`, an Int64 or VarChar column.
segment::PrimaryKey PrimaryKeyAt(const core::Column& pk, size_t row);

/// A segment ready to upload: the files (key, bytes) and the SegmentInfo naming them.
struct EncodedSegment {
  /// id, collection_id, channel, num_rows, deleted_rows, memory_size, binlogs, deltalogs (this
  /// segment's own), stats.
  /// The caller fills in the WAL range and, for compaction, compacted_from and the
  /// carried-over deltalogs.
  coord::SegmentInfo info;
  std::vector<std::pair<std::string, std::string>> files;
};

/// Encodes `data` as segment `segment_id` of `channel`: one binlog per schema field and
/// per system column plus a stats file (only when there are rows), and a deltalog (only
/// when there are deletes). Log ids count from 0 within the segment; the segment id makes
/// every key unique. InvalidArgument when the data does not fit the schema (a delete key
/// of the wrong type, column lengths that differ).
Result<EncodedSegment> EncodeSegment(const coord::CollectionInfo& collection, std::string_view channel,
                                     int64_t segment_id, const SegmentData& data);

}  // namespace tessera::datanode
