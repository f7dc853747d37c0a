#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "core/column.h"
#include "core/schema.h"
#include "segment/options.h"

namespace tessera::segment {

/// Options of WriteBinlog(). Plain value type.
struct BinlogOptions {
  /// Block compression. Default: none.
  Compression compression;
  /// Rows per block (>= 1); the last block may hold fewer. Default 8192. A block's encoded
  /// size must stay under 1 GiB, so very wide rows need fewer rows per block.
  uint32_t rows_per_block = 8192;
};

/// What a binlog's header says about its column.
struct BinlogInfo {
  int64_t field_id = 0;
  core::DataType data_type = core::DataType::kNone;
  core::DataType element_type = core::DataType::kNone;
  bool nullable = false;
  uint32_t dim = 0;
  uint64_t row_count = 0;
};

/// Serialises `column` (one field of one segment) as a binlog file (docs/format/segment.md).
/// `field` is the schema field the column belongs to; the file records its id, type,
/// element type, nullability and dim. InvalidArgument when the column's type does not match
/// `field`, when rows_per_block is 0 or a block would exceed 1 GiB; Internal when zstd fails.
/// Thread-safe (reads `column`, which must not be appended to meanwhile).
Result<std::string> WriteBinlog(const core::FieldSchema& field, const core::Column& column,
                                const BinlogOptions& options = {});

/// Parses and verifies a binlog into a new column of `field`. `object_key` names the file in
/// messages. DataLoss (naming the key and byte offset) for a damaged or inconsistent file,
/// including values the column rejects; FailedPrecondition (with both values) when the file's
/// field id, data type, element type, nullability or dim differ from `field`. Never crashes
/// and never allocates more than the file's declared block sizes justify. Thread-safe.
Result<std::unique_ptr<core::Column>> ReadBinlog(const core::FieldSchema& field, std::string_view bytes,
                                                 std::string_view object_key);

/// Verifies the whole file and returns its header fields. Same errors as ReadBinlog() minus
/// the schema checks.
Result<BinlogInfo> ReadBinlogInfo(std::string_view bytes, std::string_view object_key);

}  // namespace tessera::segment
