#include "querynode/query_node_metrics.h"

namespace tessera::querynode {

QueryNodeMetrics& QueryNodeMetrics::Get() {
  static QueryNodeMetrics* m = [] {
    auto& r = metrics::Registry::Default();
    return new QueryNodeMetrics{
        r.GetCounter("tessera_querynode_search_total", "Searches answered by query nodes"),
        r.GetCounter("tessera_querynode_search_errors_total", "Searches that returned an error"),
        r.GetHistogram("tessera_querynode_search_latency_seconds", "Query node search latency (wait included)"),
        r.GetCounter("tessera_querynode_query_total", "Scalar queries answered by query nodes"),
        r.GetCounter("tessera_querynode_query_errors_total", "Scalar queries that returned an error"),
        r.GetHistogram("tessera_querynode_query_latency_seconds", "Query node scalar query latency (wait included)"),
        r.GetGauge("tessera_querynode_loaded_segments", "Sealed segments loaded on query nodes"),
        r.GetGauge("tessera_querynode_growing_rows", "Rows held in growing segments (from the WAL)"),
        r.GetGauge("tessera_querynode_search_queue_depth", "Searches and queries waiting or running"),
        r.GetGauge("tessera_querynode_wal_lag_records",
                   "WAL records of loaded collections' channels not applied yet, summed over channels (what a "
                   "Strong read waits for); sampled every second"),
    };
  }();
  return *m;
}

}  // namespace tessera::querynode
