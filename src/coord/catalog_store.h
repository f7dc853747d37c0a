#pragma once

// PRIVATE header of the coordinator: typed reads and writes of its MetaStore keys
// (layout in meta_keys.h and README.md).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "coord/catalog_types.h"
#include "storage/meta/meta_store.h"

namespace tessera::coord {

/// Everything the coordinator persists, as read at start-up.
struct CatalogSnapshot {
  std::map<std::string, DatabaseInfo> databases;   // by name
  std::map<int64_t, CollectionInfo> collections;   // by id
  std::map<int64_t, SegmentInfo> segments;         // by id, dropped ones included
  std::map<std::string, uint64_t> checkpoints;     // by channel
};

/// Most writes one Apply sends as a single transaction (etcd's default --max-txn-ops).
inline constexpr size_t kMaxOpsPerTxn = 128;

/// Stateless helper over a MetaStore. Thread-safe as the store is.
class CatalogStore {
 public:
  explicit CatalogStore(storage::MetaStore* store) : store_(store) {}

  /// Reads every catalog key. A value that does not parse is DataLoss naming its key.
  Result<CatalogSnapshot> Load() const;

  /// Writes `ops` as one atomic transaction (at most kMaxOpsPerTxn ops: InvalidArgument
  /// beyond, a programming limit the callers respect).
  Status Apply(std::vector<storage::TxnOp> ops) const;
  /// Writes `ops` in transactions of at most kMaxOpsPerTxn: atomic per chunk only. For
  /// bulk bookkeeping whose partial application is repaired at start-up.
  Status ApplyChunked(std::vector<storage::TxnOp> ops) const;

  static storage::TxnOp PutDatabase(const DatabaseInfo& db);
  static storage::TxnOp DeleteDatabase(const std::string& name);
  static storage::TxnOp PutCollection(const CollectionInfo& info);
  static storage::TxnOp DeleteCollection(int64_t collection_id);
  static storage::TxnOp PutSegment(const SegmentInfo& segment);
  static storage::TxnOp DeleteSegment(int64_t collection_id, int64_t segment_id);
  static storage::TxnOp PutCheckpoint(const std::string& channel, uint64_t offset);
  static storage::TxnOp DeleteCheckpoint(const std::string& channel);

 private:
  storage::MetaStore* const store_;
};

nlohmann::json DatabaseToJson(const DatabaseInfo& db);
Result<DatabaseInfo> DatabaseFromJson(const nlohmann::json& j);

}  // namespace tessera::coord
