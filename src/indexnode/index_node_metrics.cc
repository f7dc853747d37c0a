#include "indexnode/index_node_metrics.h"

namespace tessera::indexnode {

IndexNodeMetrics& IndexNodeMetrics::Get() {
  static IndexNodeMetrics* instance = [] {
    auto& r = metrics::Registry::Default();
    return new IndexNodeMetrics{
        r.GetCounter("tessera_indexnode_builds_total", "Index builds finished, by result", {{"result", "ok"}}),
        r.GetCounter("tessera_indexnode_builds_total", "Index builds finished, by result", {{"result", "failed"}}),
        r.GetHistogram("tessera_indexnode_build_duration_seconds", "Time to build and store one segment index",
                       {}, {0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600}),
        r.GetGauge("tessera_indexnode_pending_builds", "Index builds queued or running on this node"),
    };
  }();
  return *instance;
}

}  // namespace tessera::indexnode
