#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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
  /// Compaction: writes one new segment (id `new_segment_id`, channel and WAL range
  /// spanning the inputs) holding the inputs' rows minus those hidden by any delete of the
  /// collection (deltalogs of every live segment, `all_deltalogs`), with the inputs'
  /// deletes carried over except those `retire` allows to drop, and compacted_from = the
  /// input ids. Does not register it: the coordinator does, after indexing it. Inputs must
  /// share one channel.
  virtual Result<coord::SegmentInfo> Compact(const coord::CollectionInfo& collection,
                                             const std::vector<coord::SegmentInfo>& inputs,
                                             const std::vector<std::string>& all_deltalogs, int64_t new_segment_id,
                                             const coord::DeleteRetirement& retire) = 0;
  /// Rows buffered but not yet flushed, optionally of one partition only.
  virtual uint64_t GrowingRows(int64_t collection_id, std::optional<int64_t> partition_id) = 0;
};

}  // namespace tessera::datanode
