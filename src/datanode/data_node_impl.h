#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "datanode/data_node.h"

namespace tessera {
namespace coord {
class Coordinator;
}
namespace storage {
class Log;
class ObjectStore;
}  // namespace storage
}  // namespace tessera

namespace tessera::datanode {

class ChannelConsumer;

/// Settings of the data node (config keys datanode.*). Plain value type.
struct DataNodeOptions {
  /// Seal a growing segment once its buffered data reaches this many bytes
  /// (datanode.segment_size). Default 64 MiB.
  uint64_t segment_size = 64 << 20;
  /// Seal a non-empty growing segment once no record has arrived on its channel for this
  /// long (datanode.seal_idle_time). Default 10 s.
  std::chrono::milliseconds seal_idle_time{10000};
  /// Longest a Flush call waits before DeadlineExceeded. Default 60 s.
  std::chrono::milliseconds flush_timeout{60000};
};

/// The data node (see DataNode for the contract): one ChannelConsumer per channel of each
/// watched collection, each with a consumer and a flusher thread.
///
/// Thread-safe. Holds no lock while calling the coordinator. Borrows the coordinator, log
/// and object store, which must outlive it. The destructor stops it.
class DataNodeImpl final : public DataNode {
 public:
  DataNodeImpl(DataNodeOptions options, coord::Coordinator* coordinator, storage::Log* log,
               storage::ObjectStore* objects);
  ~DataNodeImpl() override;
  DataNodeImpl(const DataNodeImpl&) = delete;
  DataNodeImpl& operator=(const DataNodeImpl&) = delete;

  /// Reads each channel's checkpoint (Coordinator::ChannelCheckpoint), subscribes from it
  /// and starts consuming. Watching a watched collection returns OK, or the error that
  /// stopped one of its channels (Unwatch and Watch again to restart it). Errors:
  /// FailedPrecondition for a schema the node cannot store (invalid, or the dynamic field
  /// enabled without a declared "$meta" field), the coordinator's or the log's error
  /// (e.g. OutOfRange when the checkpoint was truncated away), Unavailable after Stop.
  Status WatchCollection(const coord::CollectionInfo& collection) override;
  /// Stops its consumers and drops the growing data. OK when not watched.
  Status UnwatchCollection(int64_t collection_id) override;
  /// For each channel: waits until the records up to Log::LastOffset at the call are
  /// consumed, seals the buffer (also a deletes-only one) and waits for its SegmentFlushed;
  /// channels are flushed in parallel. NotFound when the collection is not watched; the
  /// channel's error when it stopped; DeadlineExceeded after options.flush_timeout.
  Status Flush(int64_t collection_id) override;
  Result<coord::SegmentInfo> Compact(const coord::CollectionInfo& collection,
                                     const std::vector<coord::SegmentInfo>& inputs,
                                     const std::vector<std::string>& all_deltalogs, int64_t new_segment_id,
                                     const coord::DeleteRetirement& retire) override;
  /// 0 when the collection is not watched.
  uint64_t GrowingRows(int64_t collection_id, std::optional<int64_t> partition_id) override;

  /// OK while every channel of the collection runs; otherwise the error that stopped one
  /// (DataLoss for a damaged WAL record). NotFound when not watched.
  Status CollectionStatus(int64_t collection_id) const;

  /// Stops every consumer and ends compaction retries; later calls return Unavailable.
  /// Idempotent.
  void Stop();

 private:
  struct Watched {
    std::shared_ptr<const coord::CollectionInfo> info;
    std::vector<std::unique_ptr<ChannelConsumer>> channels;
  };

  std::shared_ptr<Watched> Find(int64_t collection_id) const;
  bool SleepUnlessStopped(std::chrono::milliseconds duration);

  const DataNodeOptions options_;
  coord::Coordinator* const coordinator_;
  storage::Log* const log_;
  storage::ObjectStore* const objects_;

  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  std::map<int64_t, std::shared_ptr<Watched>> collections_;  // guarded by mu_
  bool stopped_ = false;                                     // guarded by mu_
};

/// Creates a data node that consumes from `log`, writes to `objects` and reports to
/// `coordinator` (all borrowed, non-null, outliving it).
std::unique_ptr<DataNodeImpl> CreateDataNode(DataNodeOptions options, coord::Coordinator* coordinator,
                                             storage::Log* log, storage::ObjectStore* objects);

}  // namespace tessera::datanode
