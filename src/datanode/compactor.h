#pragma once

// PRIVATE header of the data node.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "coord/catalog_types.h"
#include "common/retry.h"
#include "storage/object/object_store.h"

namespace tessera::datanode {

struct CompactionResult {
  coord::SegmentInfo segment;   // the output, not registered
  uint64_t retired_deletes = 0;  // delete entries of the inputs dropped, not carried over
};

/// Merges `inputs` (sealed segments of one channel of `collection`) into segment
/// `new_segment_id`: their rows in input order minus every row hidden by a delete in
/// `all_deltalogs` (same primary key, row timestamp older than the delete's), with the
/// system columns kept, the WAL range [min start, max end) of the inputs, the largest of
/// their time ticks, and compacted_from = the input ids. Deletes: when `retire` lets it
/// drop any of the inputs' delete entries (coord::DeleteRetirement), the output gets one
/// new deltalog with the entries it keeps (none when it keeps none); otherwise it carries
/// the inputs' deltalogs (deduplicated, in order). Writes the files to `objects` and
/// returns the SegmentInfo (without registering it) and how many deletes it retired.
///
/// Errors: InvalidArgument for inputs that are empty, of another collection or of several
/// channels, or a new id that is one of them; DataLoss for a missing or damaged binlog or
/// deltalog or stats file (naming the key); object-store failures after retrying transient ones with
/// `sleep` (false ends the retries). Thread-safe (stateless).
Result<CompactionResult> CompactSegments(const coord::CollectionInfo& collection,
                                           const std::vector<coord::SegmentInfo>& inputs,
                                           const std::vector<std::string>& all_deltalogs, int64_t new_segment_id,
                                           const coord::DeleteRetirement& retire, storage::ObjectStore& objects,
                                           const std::function<bool(std::chrono::milliseconds)>& sleep,
                                           Backoff backoff = {});

}  // namespace tessera::datanode
