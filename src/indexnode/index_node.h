#pragma once

#include <cstdint>
#include <functional>

#include "common/status.h"
#include "coord/catalog_types.h"

namespace tessera::indexnode {

/// One index build: the index definition, the segment it covers, and the collection
/// (for the schema and dim).
struct BuildJob {
  int64_t collection_id = 0;
  coord::IndexInfo index;
  coord::SegmentInfo segment;
  int64_t dim = 0;
};

/// The index node role: builds an index for a sealed segment from its vector binlog and
/// writes the index file (index::Index::Serialize) to the object store under
/// "collections/<collection_id>/<channel>/<segment_id>/index/<index_id>/<build_id>".
/// Runs up to a configured number of builds in parallel; Submit never blocks on a build.
/// When a build ends, it calls Coordinator::IndexBuilt or IndexBuildFailed.
class IndexNode {
 public:
  virtual ~IndexNode() = default;
  /// Queues the job. Unavailable once shutting down.
  virtual Status Submit(BuildJob job) = 0;
  /// Builds queued or running.
  virtual size_t PendingBuilds() const = 0;
};

}  // namespace tessera::indexnode
