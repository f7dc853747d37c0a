#include "storage/object/local_object_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <system_error>
#include <vector>

#include "common/durable_dir.h"
#include "common/errno_status.h"
#include "common/logging.h"

namespace tessera::storage {

namespace fs = std::filesystem;

namespace {

// Layout constants (docs/format/local_object_store.md).
constexpr std::string_view kMarkerName = "TESSERA_OBJECT_STORE";
constexpr std::string_view kMarkerContent = "tessera local object store\nformat 1\n";
constexpr std::string_view kLockName = "LOCK";
constexpr std::string_view kObjectsDirName = "objects";
constexpr std::string_view kTmpDirName = "tmp";
constexpr std::string_view kObjectSuffix = ".obj";
constexpr std::string_view kDirSuffix = ".dir";
constexpr std::string_view kTempSuffix = ".tmp";
// Publish retries when a concurrent Delete prunes a parent directory under it.
constexpr int kPublishAttempts = 16;

// The common mapping (common/errno_status.h), plus: a file where a directory of a key's
// path should be means the key is absent, and running out of descriptors is a resource limit.
Status ErrnoStatus(int err, std::string_view op, const fs::path& path) {
  const Status status = tessera::ErrnoStatus(err, op, path.string());
  if (err == ENOTDIR) return Status::NotFound(status.message());
  if (err == EMFILE || err == ENFILE) return Status::ResourceExhausted(status.message());
  return status;
}

Status ErrorCodeStatus(const std::error_code& ec, std::string_view op, const fs::path& path) {
  return ErrnoStatus(ec.value(), op, path);
}

// Closes an fd on scope exit.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  // Closes now and reports the result (a delayed write error can surface here).
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

// errno of fsync on a directory, 0 on success.
int FsyncDirErrno(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  int rc = ::fsync(fd);
  int err = rc == 0 ? 0 : errno;
  ::close(fd);
  return err;
}

Status WriteAll(int fd, std::string_view data, const fs::path& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path);
    }
    done += static_cast<size_t>(n);
  }
  return Status::OK();
}

// Reads exactly `count` bytes at `offset`; a short file is DataLoss.
Result<std::string> PreadExactly(int fd, uint64_t offset, uint64_t count, const fs::path& path) {
  std::string out(count, '\0');
  uint64_t done = 0;
  while (done < count) {
    ssize_t n = ::pread(fd, out.data() + done, count - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read", path);
    }
    if (n == 0) {
      return Status::DataLoss("object file " + path.string() + " ended at byte " +
                              std::to_string(offset + done) + ", expected " +
                              std::to_string(offset + count));
    }
    done += static_cast<uint64_t>(n);
  }
  return out;
}

// Copies `size` bytes from `in` to `out` in the kernel where it can.
Status CopyFd(int in, int out, uint64_t size, const fs::path& src, const fs::path& dst) {
  uint64_t done = 0;
  bool use_copy_file_range = true;
  std::vector<char> buffer;
  while (done < size) {
    if (use_copy_file_range) {
      ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, size - done, 0);
      if (n > 0) {
        done += static_cast<uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP) {
        return ErrnoStatus(errno, "copy to", dst);
      }
      if (n == 0) return Status::DataLoss("object file " + src.string() + " is shorter than its size");
      use_copy_file_range = false;
      buffer.resize(1 << 20);
      if (::lseek(in, static_cast<off_t>(done), SEEK_SET) < 0) return ErrnoStatus(errno, "seek", src);
      if (::lseek(out, static_cast<off_t>(done), SEEK_SET) < 0) return ErrnoStatus(errno, "seek", dst);
    }
    ssize_t n = ::read(in, buffer.data(), std::min<uint64_t>(buffer.size(), size - done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read", src);
    }
    if (n == 0) return Status::DataLoss("object file " + src.string() + " is shorter than its size");
    TESSERA_RETURN_IF_ERROR(WriteAll(out, std::string_view(buffer.data(), static_cast<size_t>(n)), dst));
    done += static_cast<uint64_t>(n);
  }
  return Status::OK();
}

std::string EtagOf(const struct stat& st) {
  char buf[80];
  const long long mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
  std::snprintf(buf, sizeof(buf), "%llx-%llx-%llx", mtime_ns, static_cast<unsigned long long>(st.st_size),
                static_cast<unsigned long long>(st.st_ino));
  return buf;
}

std::chrono::system_clock::time_point MtimeOf(const struct stat& st) {
  return std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

bool EndsWith(std::string_view s, std::string_view suffix) { return s.ends_with(suffix); }

// Appends the directories of `key_dirs` ("a/b", no trailing '/') to `path`.
void AppendDirs(fs::path& path, std::string_view key_dirs) {
  size_t start = 0;
  while (start <= key_dirs.size()) {
    size_t slash = key_dirs.find('/', start);
    if (slash == std::string_view::npos) slash = key_dirs.size();
    std::string name(key_dirs.substr(start, slash - start));
    name += kDirSuffix;
    path /= name;
    start = slash + 1;
  }
}

// Removes everything inside `dir` (not `dir` itself).
Status RemoveContents(const fs::path& dir) {
  std::error_code ec;
  std::vector<fs::path> entries;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    entries.push_back(it->path());
  }
  if (ec) return ErrorCodeStatus(ec, "list", dir);
  for (const fs::path& p : entries) {
    fs::remove_all(p, ec);
    if (ec) return ErrorCodeStatus(ec, "remove", p);
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<LocalObjectStore>> LocalObjectStore::Open(const fs::path& root_arg,
                                                                 LocalObjectStoreOptions options) {
  std::error_code ec;
  fs::path root = fs::absolute(root_arg, ec).lexically_normal();
  if (ec) return ErrorCodeStatus(ec, "resolve", root_arg);
  if (!root.has_filename() && root.has_parent_path() && root != root.root_path()) root = root.parent_path();

  const bool exists = fs::exists(root, ec);
  if (ec) return ErrorCodeStatus(ec, "stat", root);
  if (!exists) {
    if (!options.create_if_missing) return Status::NotFound("object store root " + root.string() + " does not exist");
    // Durably: each new directory's entry is synced in its parent (a power cut must not
    // take the store away under objects it acknowledged).
    TESSERA_RETURN_IF_ERROR(CreateDirectoriesDurably(root.string()));
  } else if (!fs::is_directory(root, ec)) {
    return Status::FailedPrecondition("object store root " + root.string() + " is not a directory");
  }

  // Lock first, so two openers never clean each other's temp files.
  const fs::path lock_path = root / kLockName;
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) return ErrnoStatus(errno, "open", lock_path);
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(lock_fd);
    if (err == EWOULDBLOCK) {
      return Status::FailedPrecondition("object store " + root.string() + " is already open (LOCK is held)");
    }
    return ErrnoStatus(err, "lock", lock_path);
  }
  // From here on the store owns lock_fd (its destructor closes it).
  std::unique_ptr<LocalObjectStore> store(new LocalObjectStore(root, options, lock_fd));

  const fs::path marker = root / kMarkerName;
  if (fs::exists(marker, ec)) {
    int fd = ::open(marker.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(errno, "open", marker);
    FdCloser closer(fd);
    Result<std::string> content = PreadExactly(fd, 0, kMarkerContent.size(), marker);
    if (!content.ok() || *content != kMarkerContent) {
      return Status::FailedPrecondition(marker.string() + " is not a format 1 local object store marker");
    }
  } else {
    // A new store. Besides our LOCK, the only file allowed here is the marker's temp file:
    // an opener killed before its rename leaves it, and it is rewritten below.
    const fs::path temp = root / (std::string(kMarkerName) + kTempSuffix.data());
    for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
      const fs::path name = it->path().filename();
      if (name != kLockName && name != temp.filename()) {
        return Status::FailedPrecondition("directory " + root.string() +
                                          " is not empty and not an object store (no " +
                                          std::string(kMarkerName) + ")");
      }
    }
    if (ec) return ErrorCodeStatus(ec, "list", root);
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus(errno, "create", temp);
    FdCloser closer(fd);
    TESSERA_RETURN_IF_ERROR(WriteAll(fd, kMarkerContent, temp));
    if (options.sync && ::fsync(fd) != 0) return ErrnoStatus(errno, "fsync", temp);
    if (closer.Close() != 0) return ErrnoStatus(errno, "close", temp);
    if (::rename(temp.c_str(), marker.c_str()) != 0) return ErrnoStatus(errno, "rename", marker);
  }

  for (const fs::path& dir : {store->objects_dir_, store->tmp_dir_}) {
    fs::create_directory(dir, ec);
    if (ec) return ErrorCodeStatus(ec, "create", dir);
  }
  // Temp files are never visible as objects; any left here are from a crashed writer.
  TESSERA_RETURN_IF_ERROR(RemoveContents(store->tmp_dir_));
  if (options.sync) {
    if (int err = FsyncDirErrno(root); err != 0) return ErrnoStatus(err, "fsync", root);
  }
  return store;
}

LocalObjectStore::LocalObjectStore(fs::path root, LocalObjectStoreOptions options, int lock_fd)
    : root_(std::move(root)),
      objects_dir_(root_ / kObjectsDirName),
      tmp_dir_(root_ / kTmpDirName),
      options_(options),
      lock_fd_(lock_fd) {}

LocalObjectStore::~LocalObjectStore() { ::close(lock_fd_); }

fs::path LocalObjectStore::PathOf(std::string_view key) const {
  fs::path path = objects_dir_;
  const size_t last_slash = key.rfind('/');
  if (last_slash != std::string_view::npos) AppendDirs(path, key.substr(0, last_slash));
  std::string file(last_slash == std::string_view::npos ? key : key.substr(last_slash + 1));
  file += kObjectSuffix;
  path /= file;
  return path;
}

Result<fs::path> LocalObjectStore::CheckedPathOf(std::string_view key) const {
  TESSERA_RETURN_IF_ERROR(ValidateObjectKey(key));
  fs::path path = PathOf(key);
  // Defence in depth: validation already rules out "..", but never touch a path outside
  // the objects directory whatever the key mapping does.
  const fs::path normal_path = path.lexically_normal();
  const std::string& normal = normal_path.native();
  const std::string& base = objects_dir_.native();
  if (normal.size() <= base.size() || normal.compare(0, base.size(), base) != 0 || normal[base.size()] != '/') {
    return Status::InvalidArgument("object key " + internal::QuoteKey(key) + " maps outside the store root");
  }
  return path;
}

fs::path LocalObjectStore::NewTempPath() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char name[96];
  std::snprintf(name, sizeof(name), "%d-%llu-%016llx%s", static_cast<int>(::getpid()),
                static_cast<unsigned long long>(temp_counter_.fetch_add(1, std::memory_order_relaxed)),
                static_cast<unsigned long long>(rng()), kTempSuffix.data());
  return tmp_dir_ / name;
}

Status LocalObjectStore::EnsureParents(const fs::path& path) const {
  fs::path dir = path.parent_path();
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status::OK();
  std::vector<fs::path> missing;
  for (fs::path d = dir; d != objects_dir_; d = d.parent_path()) {
    if (::stat(d.c_str(), &st) == 0) break;
    missing.push_back(d);
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0755) == 0) {
      if (options_.sync) {
        if (int err = FsyncDirErrno(it->parent_path()); err != 0) return ErrnoStatus(err, "fsync", it->parent_path());
      }
    } else if (errno != EEXIST) {
      return ErrnoStatus(errno, "mkdir", *it);
    }
  }
  return Status::OK();
}

Status LocalObjectStore::Publish(const fs::path& temp, std::string_view key, const fs::path& target) const {
  Status status;
  for (int attempt = 0; attempt < kPublishAttempts; ++attempt) {
    status = EnsureParents(target);
    if (status.ok()) {
      if (::rename(temp.c_str(), target.c_str()) == 0) break;
      status = ErrnoStatus(errno, "rename into", target);
    }
    // NotFound: a concurrent Delete pruned a parent we just made; make it again.
    if (status.code() != StatusCode::kNotFound) break;
  }
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status.WithContext("put " + internal::QuoteKey(key));
  }
  if (options_.sync) {
    // ENOENT: a concurrent Delete removed the new object and pruned its directory, which
    // orders this Put before that Delete.
    if (int err = FsyncDirErrno(target.parent_path()); err != 0 && err != ENOENT) {
      return ErrnoStatus(err, "fsync", target.parent_path());
    }
  }
  return Status::OK();
}

Status LocalObjectStore::Put(std::string_view key, std::string_view data) {
  TESSERA_ASSIGN_OR_RETURN(fs::path target, CheckedPathOf(key));
  const fs::path temp = NewTempPath();
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, "create", temp);
  FdCloser closer(fd);
  Status status = WriteAll(fd, data, temp);
  if (status.ok() && options_.sync && ::fsync(fd) != 0) status = ErrnoStatus(errno, "fsync", temp);
  if (closer.Close() != 0 && status.ok()) status = ErrnoStatus(errno, "close", temp);
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status.WithContext("put " + internal::QuoteKey(key));
  }
  return Publish(temp, key, target);
}

namespace {

// Opens an object file for reading; NotFound when missing.
Result<int> OpenObject(const fs::path& path, std::string_view key, struct stat* st) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::NotFound("no object " + internal::QuoteKey(key));
    if (errno == ELOOP) return Status::FailedPrecondition("object file " + path.string() + " is a symlink");
    return ErrnoStatus(errno, "open", path);
  }
  if (::fstat(fd, st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus(err, "stat", path);
  }
  if (!S_ISREG(st->st_mode)) {
    ::close(fd);
    return Status::NotFound("no object " + internal::QuoteKey(key) + " (not a regular file)");
  }
  return fd;
}

}  // namespace

Result<std::string> LocalObjectStore::Get(std::string_view key) {
  TESSERA_ASSIGN_OR_RETURN(fs::path path, CheckedPathOf(key));
  struct stat st;
  TESSERA_ASSIGN_OR_RETURN(int fd, OpenObject(path, key, &st));
  FdCloser closer(fd);
  return PreadExactly(fd, 0, static_cast<uint64_t>(st.st_size), path);
}

Result<std::string> LocalObjectStore::GetRange(std::string_view key, uint64_t offset,
                                               std::optional<uint64_t> length) {
  TESSERA_ASSIGN_OR_RETURN(fs::path path, CheckedPathOf(key));
  struct stat st;
  TESSERA_ASSIGN_OR_RETURN(int fd, OpenObject(path, key, &st));
  FdCloser closer(fd);
  TESSERA_ASSIGN_OR_RETURN(uint64_t count,
                           internal::ResolveRange(key, static_cast<uint64_t>(st.st_size), offset, length));
  return PreadExactly(fd, offset, count, path);
}

Result<ObjectInfo> LocalObjectStore::Head(std::string_view key) {
  TESSERA_ASSIGN_OR_RETURN(fs::path path, CheckedPathOf(key));
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::NotFound("no object " + internal::QuoteKey(key));
    return ErrnoStatus(errno, "stat", path);
  }
  if (!S_ISREG(st.st_mode)) return Status::NotFound("no object " + internal::QuoteKey(key) + " (not a regular file)");
  return ObjectInfo{std::string(key), static_cast<uint64_t>(st.st_size), EtagOf(st), MtimeOf(st)};
}

Result<ListResult> LocalObjectStore::List(const ListOptions& options) {
  TESSERA_ASSIGN_OR_RETURN(size_t max_keys, internal::CheckListOptions(options));
  std::string after;
  if (!options.continuation_token.empty()) {
    TESSERA_ASSIGN_OR_RETURN(after, internal::DecodeListToken(options.continuation_token));
  }
  const std::string& prefix = options.prefix;
  ListResult result;

  // Start at the deepest directory the prefix names ("a/b/c" -> objects/a.dir/b.dir).
  fs::path start = objects_dir_;
  std::string start_key;
  if (const size_t last_slash = prefix.rfind('/'); last_slash != std::string::npos) {
    const std::string_view dirs = std::string_view(prefix).substr(0, last_slash);
    if (!ValidateObjectKey(dirs).ok()) return result;  // no valid key has this prefix
    AppendDirs(start, dirs);
    start_key = std::string(dirs) + "/";
  }

  // Depth-first walk collecting matching keys; order is fixed by the sort below.
  std::vector<std::pair<std::string, fs::path>> found;
  std::vector<std::pair<fs::path, std::string>> stack = {{start, start_key}};
  while (!stack.empty()) {
    auto [dir, key_prefix] = std::move(stack.back());
    stack.pop_back();
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      std::error_code type_ec;
      const fs::file_status status = it->symlink_status(type_ec);
      if (type_ec) continue;  // vanished under us
      if (fs::is_directory(status) && EndsWith(name, kDirSuffix)) {
        std::string sub = key_prefix + name.substr(0, name.size() - kDirSuffix.size()) + "/";
        if (sub.starts_with(prefix) || prefix.starts_with(sub)) stack.emplace_back(it->path(), std::move(sub));
      } else if (fs::is_regular_file(status) && EndsWith(name, kObjectSuffix)) {
        std::string key = key_prefix + name.substr(0, name.size() - kObjectSuffix.size());
        if (key.starts_with(prefix) && key > after) found.emplace_back(std::move(key), it->path());
      }
    }
    // A directory pruned by a concurrent Delete simply has no keys.
    if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory) {
      return ErrorCodeStatus(ec, "list", dir);
    }
  }

  std::sort(found.begin(), found.end());
  const size_t take = std::min(found.size(), max_keys);
  for (size_t i = 0; i < take; ++i) {
    struct stat st;
    if (::lstat(found[i].second.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;  // deleted since
    result.objects.push_back(
        ObjectInfo{found[i].first, static_cast<uint64_t>(st.st_size), EtagOf(st), MtimeOf(st)});
  }
  if (found.size() > max_keys) result.next_token = internal::EncodeListToken(found[max_keys - 1].first);
  return result;
}

void LocalObjectStore::PruneEmptyParents(fs::path dir) const {
  while (dir != objects_dir_ && dir.native().size() > objects_dir_.native().size()) {
    if (::rmdir(dir.c_str()) != 0) return;  // not empty (or gone): stop
    dir = dir.parent_path();
  }
}

Status LocalObjectStore::DeleteOne(std::string_view key) const {
  TESSERA_ASSIGN_OR_RETURN(fs::path path, CheckedPathOf(key));
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::OK();
    return ErrnoStatus(errno, "delete", path);
  }
  if (options_.sync) {
    if (int err = FsyncDirErrno(path.parent_path()); err != 0 && err != ENOENT) {
      return ErrnoStatus(err, "fsync", path.parent_path());
    }
  }
  PruneEmptyParents(path.parent_path());
  return Status::OK();
}

Status LocalObjectStore::Delete(std::string_view key) { return DeleteOne(key); }

Status LocalObjectStore::DeleteMany(std::span<const std::string> keys) {
  for (const std::string& key : keys) TESSERA_RETURN_IF_ERROR(ValidateObjectKey(key));
  Status first_error;
  for (const std::string& key : keys) {
    Status status = DeleteOne(key);
    if (!status.ok() && first_error.ok()) first_error = std::move(status);
  }
  return first_error;
}

Status LocalObjectStore::Copy(std::string_view src, std::string_view dst) {
  TESSERA_ASSIGN_OR_RETURN(fs::path src_path, CheckedPathOf(src));
  TESSERA_ASSIGN_OR_RETURN(fs::path dst_path, CheckedPathOf(dst));
  struct stat st;
  TESSERA_ASSIGN_OR_RETURN(int in, OpenObject(src_path, src, &st));
  FdCloser in_closer(in);
  const fs::path temp = NewTempPath();
  int out = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (out < 0) return ErrnoStatus(errno, "create", temp);
  FdCloser out_closer(out);
  Status status = CopyFd(in, out, static_cast<uint64_t>(st.st_size), src_path, temp);
  if (status.ok() && options_.sync && ::fsync(out) != 0) status = ErrnoStatus(errno, "fsync", temp);
  if (out_closer.Close() != 0 && status.ok()) status = ErrnoStatus(errno, "close", temp);
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status.WithContext("copy " + internal::QuoteKey(src) + " to " + internal::QuoteKey(dst));
  }
  return Publish(temp, dst, dst_path);
}

}  // namespace tessera::storage
