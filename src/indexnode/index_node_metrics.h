#pragma once

// PRIVATE header of the index node.

#include "common/metrics.h"

namespace tessera::indexnode {

/// The index node's instruments in the default registry (shared by every IndexNodeImpl of
/// the process, so the gauge is updated with deltas).
struct IndexNodeMetrics {
  metrics::Counter& builds_ok;
  metrics::Counter& builds_failed;
  metrics::Histogram& build_seconds;  // whole job: read, build, serialize, store
  metrics::Gauge& pending_builds;     // queued or running (the autoscaling signal)

  static IndexNodeMetrics& Get();
};

}  // namespace tessera::indexnode
