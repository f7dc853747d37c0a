#pragma once

#include <string>

#include "common/status.h"

namespace tessera {

/// Creates directory `path` and any missing parents, fsyncing the parent of each directory
/// it creates: POSIX makes a new directory entry durable only when the directory holding it
/// is fsynced, so without this a power cut can take a freshly created data directory away
/// with everything acknowledged in it (tests/integration/power_cut_test.cc). OK when `path`
/// is already a directory; FailedPrecondition when it (or a parent) is something else;
/// ResourceExhausted on ENOSPC/EDQUOT, PermissionDenied on EACCES/EPERM/EROFS.
Status CreateDirectoriesDurably(const std::string& path);

/// fsyncs directory `path` (its entries become durable).
Status SyncDirectory(const std::string& path);

}  // namespace tessera
