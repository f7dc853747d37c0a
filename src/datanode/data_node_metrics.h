#pragma once

// PRIVATE header of the data node.

#include "common/metrics.h"

namespace tessera::datanode {

/// The data node's instruments in the default registry (created on first use; shared by
/// every DataNodeImpl of the process, so gauges are updated with deltas).
struct DataNodeMetrics {
  metrics::Counter& flushes;          // segments flushed (SegmentFlushed succeeded)
  metrics::Counter& flush_failures;   // flushes abandoned on a non-transient error
  metrics::Histogram& flush_seconds;  // seal to SegmentFlushed
  metrics::Counter& rows_flushed;
  metrics::Counter& deletes_flushed;
  metrics::Counter& records_consumed;
  metrics::Counter& channel_errors;   // channels stopped by an error
  metrics::Gauge& growing_rows;       // rows consumed but not yet in a flushed segment
  metrics::Counter& compactions;
  metrics::Histogram& compaction_seconds;
  metrics::Counter& deletes_retired;  // delete entries compaction dropped instead of carrying

  static DataNodeMetrics& Get();
};

}  // namespace tessera::datanode
