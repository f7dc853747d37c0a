#pragma once

// PRIVATE header of src/querynode: reading sealed segments from the object store.

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "coord/catalog_types.h"
#include "querynode/segment.h"
#include "segment/deltalog.h"
#include "storage/object/object_store.h"

namespace tessera::querynode {

/// The vector metrics of a collection (from its index definitions; L2 by default).
VectorMetrics MetricsOf(const coord::CollectionInfo& collection);

/// A sealed segment read from the object store, not yet visible to searches.
struct LoadedSegment {
  coord::SegmentInfo info;
  std::unique_ptr<Segment> segment;
  /// Every entry of the segment's deltalogs (they apply collection-wide).
  std::vector<segment::DeleteEntry> deletes;
};

/// Reads segment `info` of `collection`: the binlog of every schema field plus the system
/// columns (coord::kTimestampFieldId, coord::kPartitionFieldId), its deltalogs, and its index
/// files (an index whose id the collection no longer defines is skipped). Vector fields
/// without an index file are searched exactly (FLAT). Errors name the segment and the object
/// key: NotFound/Unavailable from the store, DataLoss for damaged or inconsistent files
/// (a missing binlog, row counts that differ, an index that does not fit). Thread-safe.
Result<LoadedSegment> LoadSealedSegment(const coord::CollectionInfo& collection, const coord::SegmentInfo& info,
                                        storage::ObjectStore& store);

/// (index id, object key) of the index files a segment serves.
using ServedIndexes = std::set<std::pair<int64_t, std::string>>;
ServedIndexes ServedIndexesOf(const Segment& segment);

/// Loads the index files of `info` not in `served`. Returns vector field id -> index.
/// Same errors as LoadSealedSegment.
Result<std::map<int64_t, SegmentIndex>> LoadNewIndexes(const coord::CollectionInfo& collection,
                                                       const coord::SegmentInfo& info, const ServedIndexes& served,
                                                       storage::ObjectStore& store);

}  // namespace tessera::querynode
