#pragma once

// PRIVATE header of the data node.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string_view>

#include "common/result.h"
#include "common/status.h"
#include "coord/catalog_types.h"
#include "datanode/segment_writer.h"
#include "msg/wal_message.h"

namespace tessera::datanode {

/// Checks a decoded WAL record against the collection it was read for: the record's
/// collection id, a timestamp below 2^63, deleted keys of the primary key's type, and a
/// partition id per row. FailedPrecondition naming `where` ("<channel>@<offset>") otherwise.
Status CheckMessage(const msg::WalMessage& message, const coord::CollectionInfo& collection,
                    std::string_view where);

/// The rows and deletes of one channel's WAL range [start_offset, end_offset) not yet in a
/// sealed segment: the growing segment the data node seals and flushes.
///
/// Thread-compatible: one writer (the channel's consumer); readers synchronise with it.
class GrowingBuffer {
 public:
  /// An empty buffer of `schema` (valid, checked by ColumnSet::Create) starting at WAL
  /// offset `start_offset`.
  static Result<std::unique_ptr<GrowingBuffer>> Create(const core::CollectionSchema& schema, uint64_t start_offset);

  /// Appends the rows (with the message's timestamp and their partition ids) and deletes of
  /// the record at WAL offset `offset` (>= end_offset(), checked) and moves end_offset()
  /// past it. `message` must have passed CheckMessage for this buffer's schema.
  void Append(const msg::WalMessage& message, uint64_t offset);

  uint64_t start_offset() const { return start_offset_; }
  /// One past the last record consumed into this buffer (start_offset() when none).
  uint64_t end_offset() const { return end_offset_; }
  size_t num_rows() const { return data_.num_rows(); }
  size_t num_deletes() const { return data_.deletes.size(); }
  /// True when it holds no row and no delete (then there is nothing to seal).
  bool empty() const { return num_rows() == 0 && num_deletes() == 0; }
  /// Rows held, only of `partition` when given.
  uint64_t Rows(std::optional<int64_t> partition) const;
  /// The largest time tick consumed into this buffer (0 = none): every record after its
  /// range has a timestamp at least this (SegmentInfo::time_tick).
  uint64_t time_tick() const { return time_tick_; }

  /// Approximate bytes held: the decoded records' ColumnSet::MemoryUsage, 16 bytes per row
  /// for the system columns, and the deletes. Tracked incrementally, because
  /// ColumnSet::MemoryUsage walks JSON values and is too slow to call per record.
  size_t MemoryUsage() const { return bytes_; }

  const SegmentData& data() const { return data_; }

 private:
  GrowingBuffer(SegmentData data, uint64_t start_offset)
      : data_(std::move(data)), start_offset_(start_offset), end_offset_(start_offset) {}

  SegmentData data_;
  uint64_t start_offset_;
  uint64_t end_offset_;
  size_t bytes_ = 0;
  uint64_t time_tick_ = 0;
  std::map<int64_t, uint64_t> rows_per_partition_;
};

}  // namespace tessera::datanode
