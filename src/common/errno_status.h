#pragma once

#include <string_view>

#include "common/status.h"

namespace tessera {

/// The Status for a failed system call: "<what> <path>: <strerror>", with a code callers
/// can act on: ResourceExhausted for ENOSPC/EDQUOT (a full disk; LocalLog undoes the write),
/// PermissionDenied for EACCES/EPERM/EROFS, NotFound for ENOENT, Internal otherwise.
Status ErrnoStatus(int err, std::string_view what, std::string_view path);

}  // namespace tessera
