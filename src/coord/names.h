#pragma once

// PRIVATE header of the coordinator: name rules shared by its operations.

#include <string>
#include <string_view>

#include "common/status.h"
#include "coord/catalog_types.h"

namespace tessera::coord {

inline constexpr size_t kMaxNameLength = 255;

/// OK when `name` matches [A-Za-z_][A-Za-z0-9_]* and has at most 255 characters;
/// otherwise InvalidArgument naming the kind ("collection", "alias", ...) and the name.
Status ValidateName(std::string_view kind, std::string_view name);

/// The database a request names: "default" when it names none.
inline std::string DbOrDefault(const std::string& db) { return db.empty() ? std::string(kDefaultDatabase) : db; }

}  // namespace tessera::coord
