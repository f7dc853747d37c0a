#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "core/column.h"
#include "core/schema.h"
#include "segment/bloom_filter.h"
#include "segment/deltalog.h"
#include "segment/options.h"

namespace tessera::segment {

/// A segment's primary-key statistics: row count, PK range and a PK Bloom filter.
/// Plain value type (thread-compatible).
struct SegmentStats {
  uint64_t row_count = 0;
  core::DataType pk_type = core::DataType::kNone;  // kInt64 or kVarChar
  /// Smallest and largest primary key (strings compare bytewise); both empty or both set
  /// and holding the pk_type alternative; empty when there are no rows.
  std::optional<PrimaryKey> min_pk;
  std::optional<PrimaryKey> max_pk;
  BloomFilter bloom;

  /// False only when the segment certainly holds no row with `pk` (no rows, another key
  /// type, outside the range, or not in the Bloom filter).
  bool MayContain(const PrimaryKey& pk) const;

  bool operator==(const SegmentStats&) const = default;
};

/// Stats of a primary-key column (Int64 or VarChar, no nulls) with a Bloom filter sized for
/// its rows at `fp_rate` (default 1%). InvalidArgument for another type or a null row.
Result<SegmentStats> ComputeStats(const core::Column& pk_column, double fp_rate = 0.01);

/// Serialises `stats` as a stats file (docs/format/segment.md). InvalidArgument when
/// pk_type is not Int64/VarChar or min/max are inconsistent (one set, wrong alternative,
/// min > max). Thread-safe.
Result<std::string> WriteStats(const SegmentStats& stats, const Compression& compression = {});

/// Parses and verifies a stats file. DataLoss naming `object_key` and the byte offset for a
/// damaged file. Thread-safe.
Result<SegmentStats> ReadStats(std::string_view bytes, std::string_view object_key);

}  // namespace tessera::segment
