// The coordinator's Prometheus counters, in one place. RegisterCoordMetrics creates every
// series at zero when the coordinator opens, so a series exists (and rate() works) before
// its first event.

#ifndef TESSERA_COORD_COORD_METRICS_H_
#define TESSERA_COORD_COORD_METRICS_H_

#include <string_view>

#include "common/metrics.h"

namespace tessera::coord {

metrics::Counter& IndexBuildsCounter(std::string_view result);      // "built" | "failed"
metrics::Counter& CompactionPlansCounter(std::string_view result);  // "completed" | "failed"
metrics::Counter& CompactionJobsCounter();
metrics::Counter& SegmentsFlushedCounter();
metrics::Counter& FlushRequestsCounter();
metrics::Counter& GcDeletedObjectsCounter();

void RegisterCoordMetrics();

}  // namespace tessera::coord

#endif  // TESSERA_COORD_COORD_METRICS_H_
