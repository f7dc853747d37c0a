#include "coord/coord_metrics.h"

#include <string>

namespace tessera::coord {

namespace {

metrics::Registry& R() { return metrics::Registry::Default(); }

}  // namespace

metrics::Counter& IndexBuildsCounter(std::string_view result) {
  return R().GetCounter("tessera_coord_index_builds_total", "Index builds reported back by index nodes, by result.",
                        {{"result", std::string(result)}});
}

metrics::Counter& CompactionPlansCounter(std::string_view result) {
  return R().GetCounter("tessera_coord_compaction_plans_total", "Compaction plans finished, by result.",
                        {{"result", std::string(result)}});
}

metrics::Counter& CompactionJobsCounter() {
  return R().GetCounter("tessera_coord_compaction_jobs_total", "Compaction jobs started (manual and background).");
}

metrics::Counter& SegmentsFlushedCounter() {
  return R().GetCounter("tessera_coord_segments_flushed_total", "Sealed segments recorded by the coordinator.");
}

metrics::Counter& FlushRequestsCounter() {
  return R().GetCounter("tessera_coord_flush_requests_total", "Flush requests passed to the data node.");
}

metrics::Counter& GcDeletedObjectsCounter() {
  return R().GetCounter("tessera_coord_gc_deleted_objects_total", "Objects deleted by garbage collection.");
}

void RegisterCoordMetrics() {
  IndexBuildsCounter("built");
  IndexBuildsCounter("failed");
  CompactionPlansCounter("completed");
  CompactionPlansCounter("failed");
  CompactionJobsCounter();
  SegmentsFlushedCounter();
  FlushRequestsCounter();
  GcDeletedObjectsCounter();
}

}  // namespace tessera::coord
