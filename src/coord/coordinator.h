#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "coord/catalog_types.h"

namespace tessera::coord {

/// What a collection is created with (the proxy has validated the request shape; the
/// coordinator validates the schema again and assigns ids).
struct CreateCollectionRequest {
  std::string db_name;
  core::CollectionSchema schema;  // field ids are ignored and reassigned
  int32_t num_shards = 1;
  int32_t num_partitions = 0;     // partition-key partitions; 0 = default (16) when a key exists
  ConsistencyLevel consistency = ConsistencyLevel::kBounded;
  std::map<std::string, std::string> properties;
  /// Indexes created with the collection, in the same catalog write: each is checked as
  /// CreateIndex checks it before anything is written, so a bad one creates nothing.
  std::vector<IndexInfo> indexes;
};

struct LoadStatus {
  LoadState state = LoadState::kNotLoad;
  int progress = 0;  // 0..100
  /// kNotLoad of a collection the catalog has loaded (e.g. after a restart) whose load
  /// failed: the query node's reason.
  std::string failure;
};

struct CompactionState {
  int64_t id = 0;
  std::string state;  // "Executing", "Completed", "UndefiedState" (sic, as Milvus)
  int64_t executing_plans = 0;
  int64_t completed_plans = 0;
};

/// The coordinator role: catalog, timestamp oracle, id allocation, segment lifecycle, index
/// build queue, load/release, compaction and GC. One instance is active per cluster.
///
/// Names (databases, collections, partitions, aliases, indexes) are validated here too:
/// [A-Za-z_][A-Za-z0-9_]*, at most 255 characters; a bad name is InvalidArgument naming it.
/// Collection lookups by name also resolve aliases. Errors: NotFound for an unknown
/// database / collection / partition / alias / index (the message names which kind, e.g.
/// "collection not found[collection=x]"), AlreadyExists for duplicates, FailedPrecondition
/// for operations that need another state first (load without an index, drop of a loaded
/// partition, ...).
///
/// Thread-safe. Every mutation is durable in the metadata store before it returns.
class Coordinator {
 public:
  virtual ~Coordinator() = default;

  // ---- timestamp oracle and ids ------------------------------------------------------
  /// A hybrid timestamp (physical ms << 18 | logical), strictly greater than every one
  /// handed out before, also across restarts.
  virtual Result<uint64_t> AllocateTimestamp() = 0;
  /// `count` consecutive unique ids (auto-id primary keys, segment ids); returns the first.
  /// Never reused across restarts.
  virtual Result<int64_t> AllocateIds(uint32_t count) = 0;

  // ---- databases ---------------------------------------------------------------------
  virtual Status CreateDatabase(const std::string& name, const std::map<std::string, std::string>& properties) = 0;
  /// FailedPrecondition when the database still has collections; "default" cannot be dropped.
  virtual Status DropDatabase(const std::string& name) = 0;
  virtual Result<std::vector<DatabaseInfo>> ListDatabases() = 0;
  virtual Result<DatabaseInfo> DescribeDatabase(const std::string& name) = 0;
  virtual Status AlterDatabase(const std::string& name, const std::map<std::string, std::string>& set,
                               const std::vector<std::string>& drop_keys) = 0;

  // ---- collections -------------------------------------------------------------------
  virtual Result<CollectionInfo> CreateCollection(const CreateCollectionRequest& request) = 0;
  /// By name or alias within `db`.
  virtual Result<CollectionInfo> DescribeCollection(const std::string& db, const std::string& name) = 0;
  virtual Result<CollectionInfo> GetCollection(int64_t collection_id) = 0;
  /// Names in `db`, sorted.
  virtual Result<std::vector<std::string>> ListCollections(const std::string& db) = 0;
  /// Releases it, stops its channels and hands its files to GC.
  virtual Status DropCollection(const std::string& db, const std::string& name) = 0;
  virtual Status RenameCollection(const std::string& db, const std::string& name, const std::string& new_db,
                                  const std::string& new_name) = 0;
  virtual Status AlterCollectionProperties(const std::string& db, const std::string& name,
                                           const std::map<std::string, std::string>& set,
                                           const std::vector<std::string>& drop_keys) = 0;

  // ---- partitions --------------------------------------------------------------------
  virtual Status CreatePartition(const std::string& db, const std::string& collection, const std::string& name) = 0;
  /// "_default" cannot be dropped; a loaded partition must be released first.
  virtual Status DropPartition(const std::string& db, const std::string& collection, const std::string& name) = 0;

  // ---- aliases -----------------------------------------------------------------------
  virtual Status CreateAlias(const std::string& db, const std::string& alias, const std::string& collection) = 0;
  virtual Status AlterAlias(const std::string& db, const std::string& alias, const std::string& collection) = 0;
  virtual Status DropAlias(const std::string& db, const std::string& alias) = 0;
  /// The collection name the alias points to.
  virtual Result<std::string> DescribeAlias(const std::string& db, const std::string& alias) = 0;
  /// Aliases in `db`, of `collection` only when it is non-empty; sorted.
  virtual Result<std::vector<std::string>> ListAliases(const std::string& db, const std::string& collection) = 0;

  // ---- indexes -----------------------------------------------------------------------
  /// Validates the definition (field is a vector field without an index; type, metric and
  /// build params accepted by the index library) and schedules builds for every flushed
  /// segment. `index.name` empty = the field name.
  virtual Status CreateIndex(const std::string& db, const std::string& collection, IndexInfo index) = 0;
  /// FailedPrecondition while the collection is loaded.
  virtual Status DropIndex(const std::string& db, const std::string& collection, const std::string& index_name) = 0;
  virtual Result<IndexProgress> DescribeIndexProgress(int64_t collection_id, int64_t index_id) = 0;

  // ---- load / release ----------------------------------------------------------------
  /// FailedPrecondition ("index not found") when a vector field has no index. Loads all
  /// partitions when `partitions` is empty; returns once loading has started.
  virtual Status LoadCollection(const std::string& db, const std::string& collection,
                                const std::vector<std::string>& partitions) = 0;
  /// Releases the named partitions, or the whole collection when `partitions` is empty.
  virtual Status ReleaseCollection(const std::string& db, const std::string& collection,
                                   const std::vector<std::string>& partitions) = 0;
  virtual Result<LoadStatus> GetLoadState(int64_t collection_id) = 0;

  // ---- data lifecycle ----------------------------------------------------------------
  /// Seals and flushes everything appended to the collection's channels before the call;
  /// returns when the segments are recorded.
  virtual Status Flush(int64_t collection_id) = 0;
  /// Rows of the collection (flushed segments plus rows still growing), optionally only
  /// of one partition. Deleted rows are still counted until compaction (as Milvus).
  virtual Result<uint64_t> CountRows(int64_t collection_id, std::optional<int64_t> partition_id) = 0;
  virtual Result<int64_t> Compact(int64_t collection_id) = 0;
  /// A job's plans by state. An unknown id (never started, or from before a restart: jobs
  /// are not persisted) reads as Completed with no plans, as in Milvus.
  virtual Result<CompactionState> GetCompactionState(int64_t compaction_id) = 0;

  // ---- called by the other roles -----------------------------------------------------
  /// A data node flushed `segment`: records it and advances the channel checkpoint to
  /// segment.end_offset in one transaction, then schedules index builds and hands it to
  /// the query nodes. Idempotent on segment.id.
  virtual Status SegmentFlushed(const SegmentInfo& segment) = 0;
  /// An index node finished `index_id` for `segment_id`; the file is at `object_key`.
  virtual Status IndexBuilt(int64_t segment_id, int64_t index_id, const std::string& object_key) = 0;
  virtual Status IndexBuildFailed(int64_t segment_id, int64_t index_id, const std::string& reason) = 0;
  /// Live (not dropped) segments of a collection, ordered by id.
  virtual Result<std::vector<SegmentInfo>> ListSegments(int64_t collection_id) = 0;
  /// WAL offset from which a consumer of `channel` must replay: everything before it is
  /// in flushed segments. 0 for a new channel.
  virtual Result<uint64_t> ChannelCheckpoint(const std::string& channel) = 0;
};

}  // namespace tessera::coord
