#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/thread_pool.h"
#include "querynode/query_node.h"

namespace tessera::storage {
class Log;
class ObjectStore;
}  // namespace tessera::storage

namespace tessera::querynode {

class LoadedCollection;
class MemoryGuard;

/// What a query node serves of one sealed segment (status pages and tests).
struct SealedSegmentStatus {
  int64_t id = 0;
  std::string channel;
  uint64_t num_rows = 0;
  uint64_t num_deleted = 0;
  /// Vector field id -> index type searched ("FLAT" while no built index is attached) and
  /// the catalog index id (-1 for the in-memory FLAT).
  std::map<int64_t, std::pair<std::string, int64_t>> indexes;
};

/// Options of the query node. Plain value type.
struct QueryNodeOptions {
  /// Threads that run per-segment searches and queries (config querynode.search_threads);
  /// 0 = std::thread::hardware_concurrency().
  int search_threads = 0;
  /// Threads that read sealed segments in parallel during LoadCollection; 0 = 4.
  int load_threads = 0;
  /// The process's memory limit (config querynode.memory_limit): a load whose estimated
  /// size does not fit under it beside what the process uses is refused with
  /// ResourceExhausted. 0 = no limit.
  uint64_t memory_limit = 0;
  /// Measures the process's memory in use; empty = its resident size. Tests set it to
  /// make the admission decisions deterministic.
  std::function<uint64_t()> memory_in_use;
};

/// The in-process query node (see QueryNode for the contract).
///
/// Ownership: borrows `log` and `store` (the object store already wrapped in the disk
/// cache); both must outlive the node. Thread-safe. Stop() (also run by the destructor)
/// releases every collection; LoadCollection after it is Unavailable (and searches find
/// nothing loaded).
class QueryNodeImpl final : public QueryNode {
 public:
  QueryNodeImpl(QueryNodeOptions options, storage::Log* log, storage::ObjectStore* store);
  ~QueryNodeImpl() override;
  QueryNodeImpl(const QueryNodeImpl&) = delete;
  QueryNodeImpl& operator=(const QueryNodeImpl&) = delete;

  Status LoadCollection(const coord::CollectionInfo& collection, const std::vector<coord::SegmentInfo>& segments,
                        const std::map<std::string, uint64_t>& checkpoints) override;
  Status ReleaseCollection(int64_t collection_id) override;
  Status AddSegment(const coord::SegmentInfo& segment) override;
  bool IsLoaded(int64_t collection_id) const override;
  Status LoadFailure(int64_t collection_id) const override;
  std::map<std::string, uint64_t> TailPositions(int64_t collection_id) const override;
  Result<SearchResponse> Search(const SearchRequest& request) override;
  Result<QueryResponse> Query(const QueryRequest& request) override;
  size_t QueueDepth() const override { return in_flight_.load(); }

  /// Stops every tail and frees every collection. Idempotent.
  void Stop();

  /// Sealed segments served for `collection_id` (0 when not loaded); for tests and status.
  size_t NumSealedSegments(int64_t collection_id) const;
  /// Rows in the growing segments of `collection_id`.
  size_t NumGrowingRows(int64_t collection_id) const;
  /// The sealed segments served for `collection_id`, by id (empty when not loaded).
  std::vector<SealedSegmentStatus> SealedSegments(int64_t collection_id) const;
  /// WAL records appended to the channels of the loaded collections and not applied here
  /// yet, summed over the channels: what a Strong read would wait for. Asks the log for each
  /// channel's last offset (a request per channel on NATS); a channel it cannot read counts 0.
  /// A background thread puts it into tessera_querynode_wal_lag_records every second.
  uint64_t WalLagRecords() const;

 private:
  std::shared_ptr<LoadedCollection> Find(int64_t collection_id) const;
  Result<std::shared_ptr<LoadedCollection>> FindReady(int64_t collection_id) const;
  Status LoadSegments(const std::shared_ptr<LoadedCollection>& collection,
                      const std::vector<coord::SegmentInfo>& segments);
  /// The lag sampler's loop: WalLagRecords into the wal_lag gauge every second until Stop.
  void SampleWalLag();

  QueryNodeOptions options_;
  storage::Log* log_;
  storage::ObjectStore* store_;
  ThreadPool search_pool_;
  ThreadPool load_pool_;
  std::atomic<size_t> in_flight_{0};
  std::unique_ptr<MemoryGuard> memory_guard_;

  mutable std::mutex mu_;
  std::map<int64_t, std::shared_ptr<LoadedCollection>> collections_;  // guarded by mu_
  std::set<int64_t> loading_;                                         // guarded by mu_
  /// Why the last load of a collection that is not loaded failed; searches of it say so.
  std::map<int64_t, Status> load_failures_;                           // guarded by mu_
  bool stopped_ = false;                                              // guarded by mu_
  std::condition_variable stop_cv_;                                   // signalled when stopped_ is set
  std::thread lag_sampler_;
};

/// Creates a query node over `log` and `store` (borrowed; see QueryNodeImpl).
std::unique_ptr<QueryNodeImpl> CreateQueryNode(QueryNodeOptions options, storage::Log* log,
                                               storage::ObjectStore* store);

}  // namespace tessera::querynode
