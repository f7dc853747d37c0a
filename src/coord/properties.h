// Collection and database properties Milvus defines, checked before they are stored.
//
// Properties are free-form key/value strings (unknown keys are kept, as Milvus keeps them).
// Known keys must hold a value of their type, so a typo ("collection.ttl.seconds": "abc")
// fails the request instead of being stored. What Tessera does with them:
//   database.max.collections        enforced: creating one more collection is refused
//   collection.autocompaction.enabled  "false" stops background compaction of the collection
//   collection.ttl.seconds          rows older than this are hidden from searches and
//                                   queries and dropped by compaction (CollectionInfo::ExpiredBefore)
//   mmap.enabled, lazyload.enabled, rate limits, replica numbers, ...: accepted, no effect
//                                   (performance and placement hints of a Milvus cluster)

#ifndef TESSERA_COORD_PROPERTIES_H_
#define TESSERA_COORD_PROPERTIES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "common/status.h"

namespace tessera::coord {

inline constexpr char kMaxCollectionsProperty[] = "database.max.collections";
inline constexpr char kAutoCompactionProperty[] = "collection.autocompaction.enabled";

/// InvalidArgument naming the key and the expected value for a known collection property
/// with a bad value.
Status ValidateCollectionProperties(const std::map<std::string, std::string>& properties);
/// The same for database properties.
Status ValidateDatabaseProperties(const std::map<std::string, std::string>& properties);

/// database.max.collections of `properties`, when set.
std::optional<int64_t> MaxCollections(const std::map<std::string, std::string>& properties);
/// False only when collection.autocompaction.enabled is "false".
bool AutoCompactionEnabled(const std::map<std::string, std::string>& properties);

}  // namespace tessera::coord

#endif  // TESSERA_COORD_PROPERTIES_H_
