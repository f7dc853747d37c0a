#pragma once

// PRIVATE header of src/querynode.

#include "common/metrics.h"

namespace tessera::querynode {

/// The query node's instruments in the process registry. Gauges are process-wide sums
/// (several query nodes in one process add up). Thread-safe.
struct QueryNodeMetrics {
  metrics::Counter& searches;
  metrics::Counter& search_errors;
  metrics::Histogram& search_latency;
  metrics::Counter& queries;
  metrics::Counter& query_errors;
  metrics::Histogram& query_latency;
  metrics::Gauge& loaded_segments;
  metrics::Gauge& growing_rows;
  metrics::Gauge& queue_depth;
  metrics::Gauge& wal_lag;

  static QueryNodeMetrics& Get();
};

}  // namespace tessera::querynode
