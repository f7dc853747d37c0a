#include "common/errno_status.h"

#include <cerrno>
#include <cstring>
#include <string>

namespace tessera {

Status ErrnoStatus(int err, std::string_view what, std::string_view path) {
  const std::string msg = std::string(what) + " " + std::string(path) + ": " + std::strerror(err);
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return Status::ResourceExhausted(msg);
    case EACCES:
    case EPERM:
    case EROFS:
      return Status::PermissionDenied(msg);
    case ENOENT:
      return Status::NotFound(msg);
    default:
      return Status::Internal(msg);
  }
}

}  // namespace tessera
