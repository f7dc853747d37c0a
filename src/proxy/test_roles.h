#pragma once

// TEST-ONLY in-memory implementations of the Coordinator and QueryNode interfaces, for the
// proxy's handler tests while the real roles are written elsewhere. They implement what the
// proxy needs, simply: FakeCoordinator keeps the catalog in maps; MiniQueryNode reads the
// collection's WAL channels from a real storage::Log on every request, applies inserts,
// upserts and deletes, and answers queries and brute-force searches. Not for production.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "coord/coordinator.h"
#include "core/column_set.h"
#include "querynode/query_node.h"
#include "storage/log/log.h"

namespace tessera::proxy::testing {

class MiniQueryNode;

class FakeCoordinator : public coord::Coordinator {
 public:
  /// `query_node` (optional) is told about loads and releases.
  explicit FakeCoordinator(MiniQueryNode* query_node = nullptr);

  Result<uint64_t> AllocateTimestamp() override;
  Result<int64_t> AllocateIds(uint32_t count) override;
  Status CreateDatabase(const std::string& name, const std::map<std::string, std::string>& properties) override;
  Status DropDatabase(const std::string& name) override;
  Result<std::vector<coord::DatabaseInfo>> ListDatabases() override;
  Result<coord::DatabaseInfo> DescribeDatabase(const std::string& name) override;
  Status AlterDatabase(const std::string& name, const std::map<std::string, std::string>& set,
                       const std::vector<std::string>& drop_keys) override;
  Result<coord::CollectionInfo> CreateCollection(const coord::CreateCollectionRequest& request) override;
  Result<coord::CollectionInfo> DescribeCollection(const std::string& db, const std::string& name) override;
  Result<coord::CollectionInfo> GetCollection(int64_t collection_id) override;
  Result<std::vector<std::string>> ListCollections(const std::string& db) override;
  Status DropCollection(const std::string& db, const std::string& name) override;
  Status RenameCollection(const std::string& db, const std::string& name, const std::string& new_db,
                          const std::string& new_name) override;
  Status AlterCollectionProperties(const std::string& db, const std::string& name,
                                   const std::map<std::string, std::string>& set,
                                   const std::vector<std::string>& drop_keys) override;
  Status CreatePartition(const std::string& db, const std::string& collection, const std::string& name) override;
  Status DropPartition(const std::string& db, const std::string& collection, const std::string& name) override;
  Status CreateAlias(const std::string& db, const std::string& alias, const std::string& collection) override;
  Status AlterAlias(const std::string& db, const std::string& alias, const std::string& collection) override;
  Status DropAlias(const std::string& db, const std::string& alias) override;
  Result<std::string> DescribeAlias(const std::string& db, const std::string& alias) override;
  Result<std::vector<std::string>> ListAliases(const std::string& db, const std::string& collection) override;
  Status CreateIndex(const std::string& db, const std::string& collection, coord::IndexInfo index) override;
  Status DropIndex(const std::string& db, const std::string& collection, const std::string& index_name) override;
  Result<coord::IndexProgress> DescribeIndexProgress(int64_t collection_id, int64_t index_id) override;
  Status LoadCollection(const std::string& db, const std::string& collection,
                        const std::vector<std::string>& partitions) override;
  Status ReleaseCollection(const std::string& db, const std::string& collection,
                           const std::vector<std::string>& partitions) override;
  Result<coord::LoadStatus> GetLoadState(int64_t collection_id) override;
  Status Flush(int64_t collection_id) override;
  Result<uint64_t> CountRows(int64_t collection_id, std::optional<int64_t> partition_id) override;
  Result<int64_t> Compact(int64_t collection_id) override;
  Result<coord::CompactionState> GetCompactionState(int64_t compaction_id) override;
  Status SegmentFlushed(const coord::SegmentInfo& segment) override;
  Status IndexBuilt(int64_t segment_id, int64_t index_id, const std::string& object_key) override;
  Status IndexBuildFailed(int64_t segment_id, int64_t index_id, const std::string& reason) override;
  Result<std::vector<coord::SegmentInfo>> ListSegments(int64_t collection_id) override;
  Result<uint64_t> ChannelCheckpoint(const std::string& channel) override;

  /// Test hooks.
  int flushes() const;
  /// What CountRows answers for (collection, partition or -1).
  void SetRowCount(int64_t collection_id, int64_t partition_id, uint64_t rows);

 private:
  coord::CollectionInfo* Find(const std::string& db, const std::string& name);  // by name or alias
  Status CheckDatabase(const std::string& db) const;

  MiniQueryNode* const query_node_;
  mutable std::mutex mu_;
  uint64_t next_ts_ = uint64_t{1} << 40;
  int64_t next_id_ = 1000;
  std::map<std::string, coord::DatabaseInfo> databases_;
  std::map<int64_t, coord::CollectionInfo> collections_;
  std::map<std::pair<std::string, std::string>, std::string> aliases_;  // (db, alias) -> collection
  std::map<std::pair<int64_t, int64_t>, uint64_t> row_counts_;
  int flushes_ = 0;
};

/// Reads a collection's channels (CollectionInfo::Channel naming: "c<id>_s<shard>") from
/// `log` on each request. Records the last requests for assertions.
class MiniQueryNode : public querynode::QueryNode {
 public:
  explicit MiniQueryNode(storage::Log* log) : log_(log) {}

  Status LoadCollection(const coord::CollectionInfo& collection, const std::vector<coord::SegmentInfo>& segments,
                        const std::map<std::string, uint64_t>& checkpoints) override;
  Status ReleaseCollection(int64_t collection_id) override;
  Status AddSegment(const coord::SegmentInfo& segment) override { return Status::OK(); }
  bool IsLoaded(int64_t collection_id) const override;
  Status LoadFailure(int64_t) const override { return Status::OK(); }
  std::map<std::string, uint64_t> TailPositions(int64_t collection_id) const override;
  Result<querynode::SearchResponse> Search(const querynode::SearchRequest& request) override;
  Result<querynode::QueryResponse> Query(const querynode::QueryRequest& request) override;
  size_t QueueDepth() const override { return 0; }

  std::optional<querynode::SearchRequest> last_search() const;
  /// Makes every Search sleep this long first (a slow request, for shutdown tests).
  void set_search_delay(std::chrono::milliseconds delay) { search_delay_ms_ = delay.count(); }
  std::optional<querynode::QueryRequest> last_query() const;

 private:
  struct Loaded {
    coord::CollectionInfo info;
    std::unique_ptr<core::ColumnSet> rows;
    std::vector<uint64_t> row_ts;
    std::vector<int64_t> row_partition;
    std::map<std::string, uint64_t> next_offset;  // per channel
  };
  // Applies every record appended so far; DeadlineExceeded when `wait` asks for more.
  Status CatchUp(Loaded& c, const querynode::WaitOffsets& wait);
  Status ApplyDeletes(Loaded& c, const std::vector<segment::PrimaryKey>& pks, uint64_t ts);
  // Rows that are live, in the requested partitions and match the filter.
  Result<std::vector<size_t>> Candidates(const Loaded& c, const std::string& filter,
                                         const std::vector<int64_t>& partitions) const;

  storage::Log* const log_;
  std::atomic<int64_t> search_delay_ms_{0};
  mutable std::mutex mu_;
  std::map<int64_t, Loaded> loaded_;
  std::optional<querynode::SearchRequest> last_search_;
  std::optional<querynode::QueryRequest> last_query_;
};

}  // namespace tessera::proxy::testing
