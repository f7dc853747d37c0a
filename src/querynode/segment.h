#pragma once

// PRIVATE header of src/querynode.

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "core/bitset.h"
#include "core/column_set.h"
#include "index/index.h"
#include "querynode/delete_index.h"

namespace tessera::querynode {

/// The metric each vector field is searched with: that of the collection's index on the
/// field, L2 when the field has none.
using VectorMetrics = std::map<int64_t, index::MetricType>;

/// A vector index of one segment field and where it came from.
struct SegmentIndex {
  std::shared_ptr<const index::Index> index;
  /// The catalog index id and object key it was loaded from; -1 and empty for the exact
  /// in-memory FLAT index a segment gets while it has no built index.
  int64_t index_id = -1;
  std::string object_key;
};

/// The rows a query node serves from one place: a sealed segment (loaded from the object
/// store, immutable rows) or the growing segment of one channel (rows appended from the WAL).
/// Besides the schema columns it keeps per row the hybrid timestamp, the partition id and,
/// for growing rows, the WAL offset; a primary-key index; a deleted bitset; and one vector
/// index per vector field (searched with a skip bitset).
///
/// Thread-compatible: the owning LoadedCollection calls mutators under its exclusive lock
/// and readers under its shared lock.
class Segment {
 public:
  enum class Kind { kSealed, kGrowing };

  /// A sealed segment over `columns` (the schema's fields) with per-row timestamps and
  /// partitions. Vector fields without an entry in `indexes` get an exact FLAT index built
  /// from the column. InvalidArgument when sizes disagree or an index does not fit.
  static Result<std::unique_ptr<Segment>> CreateSealed(int64_t id, std::string channel,
                                                       std::unique_ptr<core::ColumnSet> columns,
                                                       std::vector<uint64_t> timestamps,
                                                       std::vector<int64_t> partitions,
                                                       std::map<int64_t, SegmentIndex> indexes,
                                                       const VectorMetrics& metrics);
  /// An empty growing segment of `channel`.
  static Result<std::unique_ptr<Segment>> CreateGrowing(std::string channel,
                                                        const core::CollectionSchema& schema,
                                                        const VectorMetrics& metrics);

  Kind kind() const { return kind_; }
  bool sealed() const { return kind_ == Kind::kSealed; }
  /// The segment id (0 for growing segments).
  int64_t id() const { return id_; }
  const std::string& channel() const { return channel_; }
  size_t num_rows() const { return columns_->num_rows(); }
  const core::ColumnSet& columns() const { return *columns_; }

  PrimaryKey pk(size_t row) const { return PkAt(*pk_column_, row); }
  /// Starts loading the Int64 key of `row` into the cache (no effect for VarChar keys): the
  /// hits of a search are scattered rows, and reading their keys one by one would pay one
  /// memory latency each.
  void PrefetchPk(size_t row) const {
    if (pk_column_->field().data_type == core::DataType::kInt64) {
      __builtin_prefetch(static_cast<const core::Int64Column*>(pk_column_)->data().data() + row);
    }
  }
  uint64_t timestamp(size_t row) const { return timestamps_[row]; }
  /// The smallest row timestamp (UINT64_MAX when there are no rows).
  uint64_t min_timestamp() const { return min_timestamp_; }
  int64_t partition(size_t row) const { return partitions_[row]; }
  /// Distinct partition ids of the rows.
  const std::set<int64_t>& partition_set() const { return partition_set_; }
  /// Growing only: WAL offset of each row, ascending.
  std::span<const uint64_t> wal_offsets() const { return wal_offsets_; }
  /// One bit per row, set = hidden by a delete.
  const core::Bitset& deleted() const { return deleted_; }
  size_t num_deleted() const { return num_deleted_; }

  /// The index of vector field `field_id`, or nullptr when the field is not a vector field.
  const SegmentIndex* VectorIndex(int64_t field_id) const;
  const std::map<int64_t, SegmentIndex>& vector_indexes() const { return indexes_; }
  /// Replaces the index of vector field `field_id` (a built index arrived). InvalidArgument
  /// when its dimension or row count does not match.
  Status SetIndex(int64_t field_id, SegmentIndex index);

  /// Calls fn(row) for every row holding `pk`.
  template <typename Fn>
  void ForEachRowOf(const PrimaryKey& pk, Fn&& fn) const {
    pk_index_.ForEachRow(pk, std::forward<Fn>(fn));
  }

  /// Hides the rows of `pk` older than `timestamp`; returns how many became hidden.
  size_t ApplyDelete(const PrimaryKey& pk, uint64_t timestamp);
  /// Applies every delete of `deletes` (walks the smaller of the map and the rows).
  size_t ApplyDeleteMap(const DeleteMap& deletes);

  /// Growing only: appends every row of `rows` (same schema) with the record's timestamp,
  /// its partition ids (one per row) and WAL offset; rows already deleted by `deletes` are
  /// hidden at once. Offsets must not decrease (checked).
  Status AppendRows(const core::ColumnSet& rows, std::span<const int64_t> partitions,
                    uint64_t timestamp, uint64_t wal_offset, const DeleteMap& deletes);
  /// Growing only: number of rows whose WAL offset lies in [begin, end).
  size_t CountRowsInRange(uint64_t begin, uint64_t end) const;
  /// Growing only: a copy without the rows whose WAL offset lies in [begin, end) (deleted
  /// bits carried over). Used at handoff, when a sealed segment takes over that range.
  Result<std::unique_ptr<Segment>> WithoutRange(uint64_t begin, uint64_t end) const;

  /// Bytes held (columns, indexes, bookkeeping).
  size_t MemoryUsage() const;

 private:
  Segment(Kind kind, int64_t id, std::string channel, std::unique_ptr<core::ColumnSet> columns,
          VectorMetrics metrics);
  Status Init(std::map<int64_t, SegmentIndex> indexes);
  void MarkDeleted(size_t row);

  Kind kind_;
  int64_t id_;
  std::string channel_;
  std::unique_ptr<core::ColumnSet> columns_;
  VectorMetrics metrics_;
  const core::Column* pk_column_ = nullptr;
  std::vector<uint64_t> timestamps_;
  uint64_t min_timestamp_ = UINT64_MAX;
  std::vector<int64_t> partitions_;
  std::set<int64_t> partition_set_;
  std::vector<uint64_t> wal_offsets_;  // growing only
  PkIndex pk_index_;
  core::Bitset deleted_;
  size_t num_deleted_ = 0;
  std::map<int64_t, SegmentIndex> indexes_;  // vector field id -> index
  /// Growing only: the FLAT indexes (mutable views of indexes_ entries) rows are added to.
  std::map<int64_t, std::shared_ptr<index::Index>> growing_indexes_;
};

}  // namespace tessera::querynode
