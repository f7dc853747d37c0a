#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "common/thread_pool.h"
#include "coord/catalog_store.h"
#include "coord/coordinator.h"
#include "coord/tso.h"
#include "datanode/data_node.h"
#include "indexnode/index_node.h"
#include "querynode/query_node.h"
#include "segment/deltalog.h"
#include "storage/log/log.h"
#include "storage/meta/meta_store.h"
#include "storage/object/object_store.h"

namespace tessera::coord {

/// Every object written for a collection lies under this prefix (datanode/segment_layout.h,
/// index files likewise). GC deletes only here; nothing else in the store is touched.
inline constexpr std::string_view kCollectionDataPrefix = "collections/";

/// Checks an index definition against `schema` as CreateIndex does (the field exists and
/// is a FloatVector, the name, type, metric and params are valid) and fills in what it
/// leaves out: name = the field's, type AUTOINDEX, metric COSINE, params {}, the field's id
/// and name, the type upper-cased and the metric's canonical name. NotFound for an unknown
/// field, InvalidArgument naming what else is wrong.
Status NormalizeIndexDefinition(const core::CollectionSchema& schema, IndexInfo& index);

/// Tuning of the background work. Defaults are those of the coord.* config keys.
struct CoordinatorOptions {
  /// How often the coordinator looks for segments to compact; 0 = only on Compact().
  std::chrono::milliseconds compaction_interval{60000};
  /// Segments smaller than half of this (SegmentInfo::memory_size; unknown counts as
  /// small) are merged with the other small ones of their channel into segments of up to
  /// this size. The data node seals growing segments early (datanode.segment_size bounds
  /// the brute-force search of unsealed rows); merging them afterwards keeps the number of
  /// indexes a search visits low, since an HNSW search costs about as much on a small
  /// segment as on a large one.
  uint64_t compaction_target_size = 512ULL << 20;
  /// A segment whose estimated deleted fraction reaches this is rewritten without them.
  double compaction_delete_ratio = 0.2;
  /// An unreferenced object is deleted only once it has been unreferenced, and existed,
  /// for at least this long.
  std::chrono::milliseconds gc_grace_period{600000};
  /// How often garbage collection runs; 0 = only on RunGarbageCollection().
  std::chrono::milliseconds gc_interval{60000};
  /// How often what the query node refused is offered again (a collection whose load
  /// failed, e.g. for memory, while the catalog has it loaded; a segment it did not take);
  /// 0 = only on RetryRefusedLoads().
  std::chrono::milliseconds load_retry_interval{10000};
};

/// The coordinator (coord::Coordinator): catalog, TSO, ids, segment lifecycle, index build
/// queue, load/release, compaction and GC, persisted in a MetaStore (layout in README.md).
///
/// Lifecycle: Open (reads the catalog), AttachNodes, Start (recovery + background
/// threads), ..., Stop (or the destructor). The nodes are optional: a null node is skipped
/// for notifications, and calls that need it (Flush, compaction) are Unavailable.
///
/// Thread-safe. One mutex guards the in-memory catalog, which is written through to the
/// MetaStore before the mutex is released. No lock of the catalog is held while another
/// role is called. Query-node calls of one collection are serialised by a per-collection
/// mutex (so a loaded collection never misses a segment, and a newer version of a segment
/// is never overtaken by an older one); the query node must not call back into paths that
/// notify it (SegmentFlushed, IndexBuilt), which it has no reason to.
///
/// The MetaStore and ObjectStore must outlive it; so must the attached nodes (until Stop).
/// The nodes must stop calling it (IndexBuilt, SegmentFlushed, ...) before it is destroyed.
class CoordinatorImpl final : public Coordinator {
 public:
  /// Reads (or initialises) the catalog, repairs what a crash in the middle of a
  /// multi-key change left behind, and creates the "default" database on first open.
  /// DataLoss naming the key for a damaged value. FailedPrecondition, writing nothing, when
  /// the catalog is new but the object store already holds collection data: the metadata
  /// was lost (a wiped etcd) or the store belongs to another deployment, and GC would
  /// delete that data as unreferenced.
  static Result<std::unique_ptr<CoordinatorImpl>> Open(CoordinatorOptions options, storage::MetaStore* meta,
                                                       storage::ObjectStore* objects);
  ~CoordinatorImpl() override;
  CoordinatorImpl(const CoordinatorImpl&) = delete;
  CoordinatorImpl& operator=(const CoordinatorImpl&) = delete;

  /// Call before Start. Any of them may be null.
  void AttachNodes(datanode::DataNode* data_node, indexnode::IndexNode* index_node,
                   querynode::QueryNode* query_node);

  /// The WAL whose channels TruncateWal trims (the GC thread calls it after each pass).
  /// Call before Start; null (the default) = the WAL is never truncated.
  void AttachLog(storage::Log* log) { log_ = log; }

  /// Recovery, then the background threads: DataNode::WatchCollection for every
  /// collection, index builds resubmitted for every (live segment, index) without a file,
  /// QueryNode::LoadCollection for every collection persisted as loaded. A watch failure
  /// is returned; a load failure is logged (the collection stays "loading").
  /// FailedPrecondition when called twice.
  Status Start();
  /// Stops the background threads and waits for them; compaction plans not yet handed to
  /// the data node are abandoned. Idempotent; the destructor calls it.
  void Stop();

  // ---- Coordinator -------------------------------------------------------------------
  Result<uint64_t> AllocateTimestamp() override;
  Result<int64_t> AllocateIds(uint32_t count) override;

  Status CreateDatabase(const std::string& name, const std::map<std::string, std::string>& properties) override;
  Status DropDatabase(const std::string& name) override;
  Result<std::vector<DatabaseInfo>> ListDatabases() override;
  Result<DatabaseInfo> DescribeDatabase(const std::string& name) override;
  Status AlterDatabase(const std::string& name, const std::map<std::string, std::string>& set,
                       const std::vector<std::string>& drop_keys) override;

  Result<CollectionInfo> CreateCollection(const CreateCollectionRequest& request) override;
  Result<CollectionInfo> DescribeCollection(const std::string& db, const std::string& name) override;
  Result<CollectionInfo> GetCollection(int64_t collection_id) override;
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

  Status CreateIndex(const std::string& db, const std::string& collection, IndexInfo index) override;
  Status DropIndex(const std::string& db, const std::string& collection, const std::string& index_name) override;
  Result<IndexProgress> DescribeIndexProgress(int64_t collection_id, int64_t index_id) override;

  Status LoadCollection(const std::string& db, const std::string& collection,
                        const std::vector<std::string>& partitions) override;
  Status ReleaseCollection(const std::string& db, const std::string& collection,
                           const std::vector<std::string>& partitions) override;
  Result<LoadStatus> GetLoadState(int64_t collection_id) override;

  Status Flush(int64_t collection_id) override;
  Result<uint64_t> CountRows(int64_t collection_id, std::optional<int64_t> partition_id) override;
  Result<int64_t> Compact(int64_t collection_id) override;
  Result<CompactionState> GetCompactionState(int64_t compaction_id) override;

  Status SegmentFlushed(const SegmentInfo& segment) override;
  Status IndexBuilt(int64_t segment_id, int64_t index_id, const std::string& object_key) override;
  Status IndexBuildFailed(int64_t segment_id, int64_t index_id, const std::string& reason) override;
  Result<std::vector<SegmentInfo>> ListSegments(int64_t collection_id) override;
  Result<uint64_t> ChannelCheckpoint(const std::string& channel) override;

  // ---- operations beyond the interface ------------------------------------------------
  /// One garbage-collection pass now (the background thread runs the same every
  /// gc_interval). Passes never overlap.
  Status RunGarbageCollection();
  /// Trims each channel of every collection to what someone may still read: below the
  /// channel's checkpoint (everything before it is in flushed segments) and below the
  /// query node's tail of it; a channel of a collection that no longer exists entirely.
  /// Each collection is handled under its query-node mutex, so no load starts from an
  /// offset being trimmed. Returns the first error (after trying every channel).
  Status TruncateWal();
  /// Offers the query node again what it refused: loads of collections the catalog has
  /// loaded and whose last load failed, and segments whose AddSegment failed (the
  /// background thread runs the same every load_retry_interval). Returns how many of the
  /// refusals are settled now (taken, or moot: released, dropped).
  size_t RetryRefusedLoads();
  /// One background compaction round now: a Compact job for every collection that has
  /// something to compact. Returns the ids of the jobs started.
  Result<std::vector<int64_t>> CompactAll();
  /// Builds queued at the index node and not reported back yet.
  size_t PendingIndexBuilds() const;

 private:
  using BuildKey = std::pair<int64_t, int64_t>;  // segment id, index id

  struct CompactionPlan {
    enum class State { kQueued, kCompacting, kIndexing, kCompleted, kFailed };
    std::string channel;
    std::vector<int64_t> inputs;  // segment ids, ascending
    int64_t output_id = 0;
    State state = State::kQueued;
    std::string error;
  };
  struct CompactionJob {
    int64_t id = 0;
    int64_t collection_id = 0;
    std::vector<CompactionPlan> plans;
  };
  // A compacted segment written by the data node, waiting for its indexes before it is
  // registered. Its files count as referenced for GC.
  struct CompactionOutput {
    int64_t job_id = 0;
    size_t plan = 0;
    SegmentInfo segment;
  };

  CoordinatorImpl(CoordinatorOptions options, storage::MetaStore* meta, storage::ObjectStore* objects);
  // Open's refusal when a new catalog meets existing collection data.
  static Status CheckNoDataWithoutCatalog(storage::ObjectStore& objects);
  Status Recover(CatalogSnapshot snapshot);

  // ---- lookups (require mu_) ---------------------------------------------------------
  Status CheckDatabaseLocked(const std::string& db) const;
  /// FailedPrecondition when database `db` (which exists) holds database.max.collections
  /// collections already.
  Status CheckRoomForCollectionLocked(const std::string& db) const;
  CollectionInfo* FindByNameLocked(const std::string& db, const std::string& name);
  CollectionInfo* FindByAliasLocked(const std::string& db, const std::string& alias);
  /// By name or alias; NotFound naming the database or the collection.
  Result<CollectionInfo*> ResolveLocked(const std::string& db, const std::string& name);
  Result<CollectionInfo*> CollectionByIdLocked(int64_t collection_id);
  std::vector<SegmentInfo> LiveSegmentsLocked(int64_t collection_id) const;
  std::map<std::string, uint64_t> CheckpointsLocked(const CollectionInfo& info) const;
  /// Build jobs for every index of `info` that `segment` lacks and that is not pending;
  /// marks them pending. Only for segments with rows and a vector binlog.
  std::vector<indexnode::BuildJob> PlanBuildsLocked(const CollectionInfo& info, const SegmentInfo& segment);
  /// True when `segment`'s index builds wait for compaction instead: more than half of its
  /// rows were deleted within its own WAL range (SegmentInfo::deleted_rows: upsert churn),
  /// so the compaction output, which drops them, is far cheaper to index. Only with a data
  /// node and background compaction; never for a compaction output or once a plan holding
  /// the segment failed (undeferred_).
  bool DefersBuildLocked(const CollectionInfo& info, const SegmentInfo& segment) const;
  void UpdateGaugesLocked();

  // ---- calls into other roles (never with mu_ held) -----------------------------------
  /// Submits `jobs`, and queues a compaction of every collection whose builds were deferred
  /// since the last call (compaction_wanted_).
  void SubmitBuilds(std::vector<indexnode::BuildJob> jobs);
  /// Plans and starts a compaction of the collection on the compaction pool, soon (at most
  /// one queued per collection).
  void RequestCompaction(int64_t collection_id);
  /// Submits the builds of segments whose deferral was given up (a failed compaction plan,
  /// autocompaction turned off) and forgets dropped ones. Run by each CompactAll.
  void BuildUndeferred();
  std::shared_ptr<std::mutex> NotifyMutex(int64_t collection_id);
  /// Hands the current version of the segment to the query node when its collection is
  /// loaded. A refusal is logged and remembered for RetryRefusedLoads; true when the node
  /// took it (or had no reason to: not loaded, dropped).
  bool PushSegment(int64_t collection_id, int64_t segment_id);
  /// (Re)loads the collection on the query node with its current info, live segments and
  /// checkpoints; OK when no query node is attached.
  Status PushLoad(int64_t collection_id);

  // ---- compaction (compaction.cc) -----------------------------------------------------
  /// Plans a job for one collection and queues it. With `even_if_empty` a job without
  /// plans is recorded (and completed) too; otherwise 0 is returned for it.
  Result<int64_t> StartCompaction(int64_t collection_id, bool even_if_empty);
  /// Plans for one collection, inputs reserved and output ids allocated. Reads deltalogs
  /// and stats from the object store for the delete-ratio estimate (no lock held).
  Result<std::vector<CompactionPlan>> PlanCompaction(int64_t collection_id);
  /// What a compaction of `inputs` on `channel` may retire, given the collection's `live`
  /// segments (coord::DeleteRetirement).
  DeleteRetirement RetirementLocked(const std::vector<SegmentInfo>& live, const std::string& channel,
                                    const std::vector<int64_t>& inputs) const;
  /// Estimated rows of `segment` hidden by deletes of `deleted_pks` (all newer than its
  /// rows), from the segment's stats (PK range and Bloom filter).
  uint64_t EstimateDeletedRows(const SegmentInfo& segment, const std::set<segment::PrimaryKey>& deleted_pks);
  void RunCompactionJob(int64_t job_id);
  void RunCompactionPlan(int64_t job_id, size_t plan_index);
  /// Registers a compaction output once every index of its collection is built.
  void MaybeFinishCompactionOutput(int64_t output_id);
  void FailPlanLocked(int64_t job_id, size_t plan_index, const std::string& error);
  void CompactionLoop();

  // ---- gc (gc.cc) -----------------------------------------------------------------------
  Status GarbageCollectOnce();
  void GcLoop();
  void RetryLoop();

  /// Waits up to `interval` or until Stop; false when stopping.
  bool SleepFor(std::chrono::milliseconds interval);

  const CoordinatorOptions options_;
  storage::MetaStore* const meta_;
  storage::ObjectStore* const objects_;
  const CatalogStore store_;
  std::unique_ptr<TimestampOracle> tso_;
  std::unique_ptr<IdAllocator> ids_;

  // Set by AttachNodes before Start; read-only afterwards.
  datanode::DataNode* data_node_ = nullptr;
  indexnode::IndexNode* index_node_ = nullptr;
  querynode::QueryNode* query_node_ = nullptr;
  storage::Log* log_ = nullptr;  // set by AttachLog before Start

  mutable std::mutex mu_;
  std::map<std::string, DatabaseInfo> databases_;       // guarded by mu_
  std::map<int64_t, CollectionInfo> collections_;       // guarded by mu_
  std::map<int64_t, SegmentInfo> segments_;             // guarded by mu_; dropped ones until GC
  std::map<std::string, uint64_t> checkpoints_;         // guarded by mu_
  std::set<BuildKey> pending_builds_;                   // guarded by mu_
  std::map<BuildKey, std::string> failed_builds_;       // guarded by mu_
  std::map<int64_t, CompactionJob> compaction_jobs_;    // guarded by mu_
  std::map<int64_t, CompactionOutput> compaction_outputs_;  // guarded by mu_; by output id
  std::set<int64_t> compacting_inputs_;                 // guarded by mu_
  std::map<int64_t, std::shared_ptr<std::mutex>> notify_mu_;  // guarded by mu_
  std::set<std::pair<int64_t, int64_t>> refused_segments_;  // guarded by mu_; (collection, segment)
  std::set<int64_t> deferred_builds_;    // guarded by mu_; segments whose builds wait for compaction
  std::set<int64_t> undeferred_;         // guarded by mu_; built normally after a failed plan
  std::set<int64_t> compaction_wanted_;  // guarded by mu_; collections with new deferrals

  // Background work.
  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool started_ = false;                 // guarded by bg_mu_
  std::set<int64_t> compaction_requested_;  // guarded by bg_mu_; queued RequestCompaction
  std::atomic<bool> stopping_{false};
  std::thread compaction_thread_;
  std::thread gc_thread_;
  std::thread retry_thread_;
  std::unique_ptr<ThreadPool> compaction_pool_;  // created in Open, reset in Stop

  std::mutex gc_mu_;  // one GC pass at a time
  std::map<std::string, std::chrono::system_clock::time_point> unreferenced_since_;  // guarded by gc_mu_
};

}  // namespace tessera::coord
