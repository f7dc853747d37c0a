#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"
#include "core/schema.h"
#include "segment/options.h"

namespace tessera::segment {

/// A primary key value: Int64 or VarChar (UTF-8).
using PrimaryKey = std::variant<int64_t, std::string>;

/// One deleted primary key and the hybrid timestamp of its delete.
struct DeleteEntry {
  PrimaryKey pk;
  uint64_t timestamp = 0;
  bool operator==(const DeleteEntry&) const = default;
};

/// The contents of a deltalog.
struct Deltalog {
  core::DataType pk_type = core::DataType::kNone;  // kInt64 or kVarChar
  std::vector<DeleteEntry> entries;                // in file order
};

/// Options of WriteDeltalog(). Plain value type.
struct DeltalogOptions {
  /// Block compression. Default: none.
  Compression compression;
  /// Entries per block (>= 1). Default 65536.
  uint32_t entries_per_block = 65536;
};

/// Serialises `entries` (in the given order) as a deltalog file. `pk_type` is kInt64 or
/// kVarChar and every entry's key must hold that alternative; VarChar keys must be valid
/// UTF-8 of at most 65535 bytes. InvalidArgument otherwise. Thread-safe.
Result<std::string> WriteDeltalog(core::DataType pk_type, std::span<const DeleteEntry> entries,
                                  const DeltalogOptions& options = {});

/// Parses and verifies a deltalog. DataLoss naming `object_key` and the byte offset for a
/// damaged file. Thread-safe.
Result<Deltalog> ReadDeltalog(std::string_view bytes, std::string_view object_key);

}  // namespace tessera::segment
