#pragma once

#include <memory>

#include "common/config.h"
#include "common/result.h"
#include "storage/log/log.h"
#include "storage/meta/meta_store.h"
#include "storage/object/object_store.h"

namespace tessera::storage {

/// Opens the backends a configuration names (DESIGN.md §7: sections object_store, meta and
/// log, key `type` in each). The one place that knows every implementation, so roles and
/// tools depend on the interfaces only. Embedded backends create their directories.
/// An unknown `type` is InvalidArgument naming the key and the known types; a type this
/// build does not include is Unimplemented.
Result<std::unique_ptr<ObjectStore>> OpenObjectStore(const config::Config& config);
Result<std::unique_ptr<MetaStore>> OpenMetaStore(const config::Config& config);
Result<std::unique_ptr<Log>> OpenLog(const config::Config& config);

}  // namespace tessera::storage
