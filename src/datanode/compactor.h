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

/// Merges `inputs` (sealed segments of one channel of `collection`) into segment
/// `new_segment_id`: their rows in input order minus every row hidden by a delete in
/// `all_deltalogs` (same primary key, row timestamp older than the delete's), with the
/// system columns kept, the WAL range [min start, max end) of the inputs, compacted_from =
/// the input ids and deltalogs = the inputs' deltalogs (deduplicated, in order). Writes the
/// files to `objects` and returns the SegmentInfo without registering it.
///
/// Errors: InvalidArgument for inputs that are empty, of another collection or of several
/// channels, or a new id that is one of them; DataLoss for a missing or damaged binlog or
/// deltalog (naming the key); object-store failures after retrying transient ones with
/// `sleep` (false ends the retries). Thread-safe (stateless).
Result<coord::SegmentInfo> CompactSegments(const coord::CollectionInfo& collection,
                                           const std::vector<coord::SegmentInfo>& inputs,
                                           const std::vector<std::string>& all_deltalogs, int64_t new_segment_id,
                                           storage::ObjectStore& objects,
                                           const std::function<bool(std::chrono::milliseconds)>& sleep,
                                           Backoff backoff = {});

}  // namespace tessera::datanode
