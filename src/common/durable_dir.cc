#include "common/durable_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <vector>

#include "common/errno_status.h"

namespace tessera {

Status SyncDirectory(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open directory", path);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  return rc == 0 ? Status::OK() : ErrnoStatus(err, "fsync directory", path);
}

Status CreateDirectoriesDurably(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path target = fs::absolute(path, ec).lexically_normal();
  if (ec) return Status::InvalidArgument("cannot resolve directory path " + path + ": " + ec.message());
  std::vector<fs::path> missing;  // deepest first
  struct stat st;
  for (fs::path d = target; !d.empty(); d = d.parent_path()) {
    if (d.filename().empty() && d != d.root_path()) continue;  // a trailing '/'
    if (::stat(d.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) return Status::FailedPrecondition(d.string() + " exists and is not a directory");
      break;
    }
    if (errno == ENOTDIR) return Status::FailedPrecondition("a parent of " + d.string() + " is not a directory");
    if (errno != ENOENT) return ErrnoStatus(errno, "stat", d.string());
    missing.push_back(d);
    if (d == d.root_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0755) != 0) {
      if (errno == EEXIST) continue;  // made by someone else meanwhile; its creator syncs it
      return ErrnoStatus(errno, "create directory", it->string());
    }
    TESSERA_RETURN_IF_ERROR(SyncDirectory(it->parent_path().string()));
  }
  return Status::OK();
}

}  // namespace tessera
