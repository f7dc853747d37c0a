#include "datanode/data_node_metrics.h"

namespace tessera::datanode {

DataNodeMetrics& DataNodeMetrics::Get() {
  static DataNodeMetrics* instance = [] {
    auto& r = metrics::Registry::Default();
    return new DataNodeMetrics{
        r.GetCounter("tessera_datanode_flushes_total", "Segments flushed by the data node", {{"result", "ok"}}),
        r.GetCounter("tessera_datanode_flushes_total", "Segments flushed by the data node", {{"result", "failed"}}),
        r.GetHistogram("tessera_datanode_flush_duration_seconds", "Time from sealing a segment to its SegmentFlushed"),
        r.GetCounter("tessera_datanode_flushed_rows_total", "Rows written in flushed segments"),
        r.GetCounter("tessera_datanode_flushed_deletes_total", "Deletes written in flushed segments' deltalogs"),
        r.GetCounter("tessera_datanode_consumed_records_total", "WAL records consumed by the data node"),
        r.GetCounter("tessera_datanode_channel_errors_total", "WAL channels stopped by an error"),
        r.GetGauge("tessera_datanode_growing_rows", "Rows consumed by the data node and not yet flushed"),
        r.GetCounter("tessera_datanode_compactions_total", "Compacted segments written"),
        r.GetHistogram("tessera_datanode_compaction_duration_seconds", "Time to write one compacted segment"),
        r.GetCounter("tessera_datanode_compaction_deletes_retired_total",
                     "Delete entries a compaction dropped: nothing left for them to hide"),
    };
  }();
  return *instance;
}

}  // namespace tessera::datanode
