#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "indexnode/index_node.h"

namespace tessera {
class ThreadPool;
namespace coord {
class Coordinator;
}
namespace storage {
class ObjectStore;
}
}  // namespace tessera

namespace tessera::indexnode {

/// Settings of the index node (config keys indexnode.*). Plain value type.
struct IndexNodeOptions {
  /// Builds run at the same time, each on its own worker thread (indexnode.parallel_builds).
  /// Values < 1 count as 1. Default 1.
  int parallel_builds = 1;
  /// Threads of the pool the builds share for their parallel work (indexnode.build_threads);
  /// 0 = std::thread::hardware_concurrency(). Default 0.
  int build_threads = 0;
};

/// The index node (see IndexNode for the contract).
///
/// A build: read the vector field's binlog (segment.binlogs[index.field_id]) into a
/// FloatVectorColumn; resolve index.index_type (AUTOINDEX = HNSW with default parameters)
/// and index.metric_type; index::CreateIndex(type, metric, dim, index.params), Build on
/// the shared pool, Serialize; Put the blob at
/// "collections/<collection_id>/<channel>/<segment_id>/index/<index_id>/<build_id>" with a
/// fresh build id from Coordinator::AllocateIds; then Coordinator::IndexBuilt. Any failure
/// (bad type, metric or params, a missing or damaged binlog, a dim that does not match) is
/// reported with Coordinator::IndexBuildFailed and the error's message. Object-store and
/// coordinator calls are retried with backoff while they fail transiently.
///
/// Thread-safe. Holds no lock while calling the coordinator or the object store. Borrows
/// the coordinator and object store, which must outlive it. The destructor stops it.
class IndexNodeImpl final : public IndexNode {
 public:
  IndexNodeImpl(IndexNodeOptions options, coord::Coordinator* coordinator, storage::ObjectStore* objects);
  ~IndexNodeImpl() override;
  IndexNodeImpl(const IndexNodeImpl&) = delete;
  IndexNodeImpl& operator=(const IndexNodeImpl&) = delete;

  /// Queues the job (FIFO). Unavailable after Stop.
  Status Submit(BuildJob job) override;
  size_t PendingBuilds() const override;

  /// Refuses new jobs, drops the queued ones (the coordinator still has them as pending and
  /// hands them out again), ends retries, and waits for running builds. Idempotent.
  void Stop();

 private:
  void WorkerLoop();
  /// Builds and stores the index; returns the object key.
  Result<std::string> Build(const BuildJob& job);
  /// Runs `job` (counted in running_, which it decrements) and reports the outcome to the
  /// coordinator.
  void Run(const BuildJob& job);
  bool SleepUnlessStopping(std::chrono::milliseconds duration);

  coord::Coordinator* const coordinator_;
  storage::ObjectStore* const objects_;
  std::unique_ptr<ThreadPool> build_pool_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<BuildJob> queue_;  // guarded by mu_
  size_t running_ = 0;          // guarded by mu_
  bool stopping_ = false;       // guarded by mu_
  std::mutex stop_mu_;          // serialises Stop
  std::vector<std::thread> workers_;
};

/// Creates an index node that reads binlogs from and writes index files to `objects` and
/// reports to `coordinator` (both borrowed, non-null, outliving it).
std::unique_ptr<IndexNodeImpl> CreateIndexNode(IndexNodeOptions options, coord::Coordinator* coordinator,
                                               storage::ObjectStore* objects);

}  // namespace tessera::indexnode
