#pragma once

// Converting insert / upsert rows (spec §3.2, §7.2.1-2) into per-shard ColumnSets ready for
// the WAL. Pure functions of the rows, the collection and pre-allocated auto ids, so they
// can be tested and fuzzed without any role.

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "coord/catalog_types.h"
#include "core/column_set.h"
#include "proxy/api_status.h"
#include "segment/deltalog.h"

namespace tessera::proxy {

struct InsertOptions {
  /// Upsert: the primary key is required in every row even when the collection generates
  /// ids, and a batch must not repeat a key.
  bool upsert = false;
  /// Insert into an auto-id collection: the ids given to rows 0, 1, ... are first_auto_id,
  /// first_auto_id + 1, ... (from Coordinator::AllocateIds).
  int64_t first_auto_id = 0;
};

/// All rows of one request, in request order, with the collection's schema.
struct InsertBatch {
  std::unique_ptr<core::ColumnSet> rows;
  std::vector<segment::PrimaryKey> pks;  // one per row
};

/// Converts `rows` (must be a JSON array of objects). Errors are 1804 naming the row and
/// field: an empty array ("missing required parameters"), a row that is not an object, the
/// primary key given on an auto-id insert ("no need to pass pk field(<name>) when
/// autoid==true in insert"), or any value core::ColumnSet::AppendRow rejects. A repeated key
/// in an upsert is 1100. `schema` must be valid (a collection's schema).
ApiResult<InsertBatch> BuildInsertBatch(const nlohmann::json& rows, const core::CollectionSchema& schema,
                                        const InsertOptions& options);

/// The rows of one shard with their partitions.
struct ShardBatch {
  int32_t shard = 0;
  std::unique_ptr<core::ColumnSet> rows;  // the collection's schema
  std::vector<int64_t> partition_ids;     // one per row
  std::vector<segment::PrimaryKey> pks;   // one per row
};

/// Splits `batch` by shard (sharding.h) and assigns partitions: `partition_id` when given,
/// else by the partition key field when the schema has one (hashed over
/// collection.partitions), else the "_default" partition (the first one). Shards without
/// rows are left out; the result is ordered by shard. 1100 when the collection has no
/// partition to put rows in or a row's partition key is null.
ApiResult<std::vector<ShardBatch>> RouteRows(InsertBatch batch, const coord::CollectionInfo& collection,
                                             std::optional<int64_t> partition_id);

}  // namespace tessera::proxy
