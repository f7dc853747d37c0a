#pragma once

// Plain value types the roles exchange about the catalog and segments. They are what the
// coordinator persists (as JSON, see ToJson/FromJson) and what it hands to the other roles;
// no role holds a pointer into another role's copy.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "core/schema.h"

namespace tessera::coord {

/// Field ids of the per-row system columns every segment carries next to the schema's
/// fields (user fields are numbered from kFirstUserFieldId in declaration order).
inline constexpr int64_t kTimestampFieldId = 1;    // Int64: the row's hybrid timestamp
inline constexpr int64_t kPartitionFieldId = 2;    // Int64: the row's partition id
inline constexpr int64_t kFirstUserFieldId = 100;

inline constexpr std::string_view kDefaultDatabase = "default";
inline constexpr std::string_view kDefaultPartition = "_default";

enum class ConsistencyLevel { kStrong, kSession, kBounded, kEventually, kCustomized };
std::string_view ConsistencyLevelName(ConsistencyLevel level);
/// Case-sensitive, as the spec: "Strong", "Session", "Bounded", "Eventually", "Customized".
Result<ConsistencyLevel> ParseConsistencyLevel(std::string_view name);

enum class LoadState { kNotLoad, kLoading, kLoaded };

struct DatabaseInfo {
  int64_t id = 0;
  std::string name;
  std::map<std::string, std::string> properties;
};

struct PartitionInfo {
  int64_t id = 0;
  std::string name;
  bool loaded = false;  // meaningful while the collection is loaded
};

/// An index definition on one vector field. The type is kept as the user wrote it
/// ("AUTOINDEX" stays "AUTOINDEX"); the index node resolves it.
struct IndexInfo {
  int64_t id = 0;
  std::string name;
  int64_t field_id = 0;
  std::string field_name;
  std::string index_type;  // FLAT, HNSW, IVF_FLAT, IVF_SQ8, IVF_PQ, AUTOINDEX; scalar: STL_SORT, INVERTED, ...
  std::string metric_type;  // L2, IP, COSINE; empty for a scalar index
  nlohmann::json params = nlohmann::json::object();  // build params (M, efConstruction, nlist, ...)
};

struct CollectionInfo {
  int64_t id = 0;
  std::string db_name;
  /// schema.name is the collection name. Field ids are assigned by the coordinator; when the
  /// dynamic field is enabled the schema declares it explicitly (is_dynamic, "$meta").
  core::CollectionSchema schema;
  int32_t num_shards = 1;
  /// Number of partitions the partition key hashes to (0 when there is no partition key).
  int32_t num_partitions = 0;
  ConsistencyLevel consistency = ConsistencyLevel::kBounded;
  std::map<std::string, std::string> properties;
  std::vector<PartitionInfo> partitions;  // "_default" first
  std::vector<IndexInfo> indexes;
  std::vector<std::string> aliases;
  bool loaded = false;  // the user asked to load it (and has not released it)
  uint64_t created_ts = 0;

  /// WAL channel of shard `shard` ("c<id>_s<shard>").
  std::string Channel(int32_t shard) const;
  std::vector<std::string> Channels() const;
  const PartitionInfo* FindPartition(std::string_view name) const;
  /// Ids of the partitions the collection lists. Rows of other partition ids belong to
  /// dropped partitions (compaction removes them); an empty set restricts nothing.
  std::set<int64_t> LivePartitionIds() const;
  const IndexInfo* FindIndex(std::string_view name) const;
  /// collection.ttl.seconds (0: rows never expire; a malformed value, which the coordinator
  /// refuses to store, also reads as 0).
  int64_t TtlSeconds() const;
  /// The hybrid timestamp below which this collection's rows have expired when the wall
  /// clock reads `now_ms`; 0 when it has no TTL. Searches and queries hide such rows and
  /// compaction drops them.
  uint64_t ExpiredBefore(int64_t now_ms) const;
  /// The index on field `field_id`, or nullptr.
  const IndexInfo* IndexOnField(int64_t field_id) const;
  /// True for an index on a vector field, which is built per segment into an index file;
  /// false for a scalar index definition, which builds nothing (src/coord/scalar_index.h).
  bool BuildsFiles(const IndexInfo& index) const;
};

/// A sealed segment: the rows and deletes of one channel's WAL range [start_offset,
/// end_offset), written to the object store by a data node.
struct SegmentInfo {
  int64_t id = 0;
  int64_t collection_id = 0;
  std::string channel;
  uint64_t start_offset = 0;
  uint64_t end_offset = 0;
  uint64_t num_rows = 0;
  /// Rows already hidden when the segment was written: a delete or upsert of their key later
  /// in the same WAL range (heavy upsert churn seals segments of mostly such rows). A lower
  /// bound of its dead rows (deletes from later ranges are not counted); a compaction output
  /// has none. Index builds are deferred for mostly-deleted segments (src/coord/README.md).
  uint64_t deleted_rows = 0;
  /// The newest row's hybrid timestamp (0 = unknown: written before it was recorded, or no
  /// rows). With a TTL, a segment whose newest row has expired is compacted away.
  uint64_t max_timestamp = 0;
  /// Bytes the rows take in memory, as the data node measured them when it wrote the
  /// segment (what it seals on); compaction sizes its merges with it. 0 = unknown.
  uint64_t memory_size = 0;
  /// Field id (system fields included) -> object key of its binlog. Empty when num_rows == 0.
  std::map<int64_t, std::string> binlogs;
  /// Deltalog object keys: the deletes consumed in the WAL range (none when there were no
  /// deletes), plus, for a compacted segment, its inputs' deltalogs carried over. A delete
  /// applies to every row of the collection with that primary key and an older timestamp,
  /// in any segment, so deltalogs stay referenced as long as some segment lists them.
  std::vector<std::string> deltalogs;
  std::string stats;  // stats object key; empty when num_rows == 0
  /// Partition id -> rows of that partition in this segment (sums to num_rows). Filled by
  /// whoever writes the segment; CountRows(partition) reads it. Empty means unknown: the
  /// coordinator then counts the rows for a partition only when the collection has one.
  std::map<int64_t, uint64_t> partition_rows;
  /// Index id -> object key of that index's file for this segment.
  std::map<int64_t, std::string> index_files;
  /// Segments this one replaces (compaction); they are dropped when it is registered.
  std::vector<int64_t> compacted_from;
  /// The largest proxy time tick in the WAL range (a compacted segment: the largest of its
  /// inputs'); 0 = none. Every record of the channel after that tick, so every record
  /// after this range, has a timestamp at least this. Compaction retires deletes with it.
  uint64_t time_tick = 0;
  bool dropped = false;
};

/// Which deletes of a compaction's inputs may be dropped instead of carried over to the
/// output (src/coord/README.md, "Retiring deletes"). A delete of key k at timestamp t is
/// dropped when t <= up_to_ts and none of `other_stats` may hold k: every row it could hide
/// is then older than a time tick of the channel, so it lies in a sealed segment of the
/// channel; the inputs' rows are rewritten without it, and the other segments hold no k.
struct DeleteRetirement {
  /// The largest time tick of the channel's live segments; 0 = drop nothing.
  uint64_t up_to_ts = 0;
  /// Stats files of every other live segment of the channel that has rows.
  std::vector<std::string> other_stats;
};

/// Build state of one index over a collection, summed over its segments.
struct IndexProgress {
  uint64_t total_rows = 0;
  uint64_t indexed_rows = 0;
  uint64_t pending_rows = 0;
  std::string state;  // "Finished", "InProgress", "Failed", "IndexStateNone"
  std::string fail_reason;
};

/// JSON forms used by the coordinator's persistence (and handy in tests and logs).
nlohmann::json ToJson(const core::CollectionSchema& schema);
Result<core::CollectionSchema> SchemaFromJson(const nlohmann::json& j);
nlohmann::json ToJson(const CollectionInfo& info);
Result<CollectionInfo> CollectionFromJson(const nlohmann::json& j);
nlohmann::json ToJson(const SegmentInfo& info);
Result<SegmentInfo> SegmentFromJson(const nlohmann::json& j);

}  // namespace tessera::coord
