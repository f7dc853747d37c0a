#pragma once

#include <cstdint>

#include "common/result.h"
#include "common/status.h"
#include "coord/catalog_types.h"

namespace tessera::datanode {

/// The data node role: consumes a collection's WAL channels from their checkpoints,
/// buffers rows and deletes into one growing segment per channel, seals a segment when it
/// reaches the size limit or has been idle (both configurable), writes its binlogs
/// (schema fields plus the system columns coord::kTimestampFieldId and
/// coord::kPartitionFieldId), deltalog and stats to the object store, and reports it with
/// Coordinator::SegmentFlushed. Object keys follow DESIGN.md §4 under
/// "collections/<collection_id>/<channel>/<segment_id>/".
///
/// Thread-safe. Nothing it holds is the only copy: after a crash, replaying the channels
/// from their checkpoints rebuilds the growing segments.
class DataNode {
 public:
  virtual ~DataNode() = default;

  /// Starts consuming every channel of `collection` from its checkpoint. Idempotent.
  virtual Status WatchCollection(const coord::CollectionInfo& collection) = 0;
  /// Stops consuming and drops the growing data (the collection was dropped).
  virtual Status UnwatchCollection(int64_t collection_id) = 0;
  /// Seals and flushes everything appended to the collection's channels before the call
  /// (including deletes-only ranges); returns after SegmentFlushed succeeded for each.
  virtual Status Flush(int64_t collection_id) = 0;
  /// Rows buffered but not yet flushed, optionally of one partition only.
  virtual uint64_t GrowingRows(int64_t collection_id, std::optional<int64_t> partition_id) = 0;
};

}  // namespace tessera::datanode
