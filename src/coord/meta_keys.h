#pragma once

// PRIVATE header of the coordinator: where it keeps its state in the MetaStore. The layout
// is documented in src/coord/README.md; keep both in step.

#include <cstdint>
#include <string>
#include <string_view>

namespace tessera::coord::keys {

/// Everything the coordinator writes lives under this prefix.
inline constexpr std::string_view kRoot = "tessera/";
inline constexpr std::string_view kDatabasePrefix = "tessera/database/";
inline constexpr std::string_view kCollectionPrefix = "tessera/collection/";
inline constexpr std::string_view kSegmentPrefix = "tessera/segment/";
inline constexpr std::string_view kCheckpointPrefix = "tessera/checkpoint/";
/// Decimal physical milliseconds: no timestamp at or above it has been handed out.
inline constexpr std::string_view kTsoKey = "tessera/tso";
/// Decimal id: no id at or above it has been handed out.
inline constexpr std::string_view kIdKey = "tessera/id";

inline std::string Database(std::string_view name) { return std::string(kDatabasePrefix) + std::string(name); }
inline std::string Collection(int64_t id) { return std::string(kCollectionPrefix) + std::to_string(id); }
inline std::string Segment(int64_t collection_id, int64_t segment_id) {
  return std::string(kSegmentPrefix) + std::to_string(collection_id) + "/" + std::to_string(segment_id);
}
inline std::string Checkpoint(std::string_view channel) {
  return std::string(kCheckpointPrefix) + std::string(channel);
}

}  // namespace tessera::coord::keys
