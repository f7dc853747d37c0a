// An LD_PRELOAD fault file layer for the standalone's data directory (reliability test
// plan 2.3 "lose un-fsynced data" and 2.6 "slow disk").
//
// Environment (the library does nothing unless TESSERA_FAULT_FS_ROOT is set):
//   TESSERA_FAULT_FS_ROOT         the directory whose files are tracked (the data directory)
//   TESSERA_FAULT_FS_CUT_TRIGGER  a FIFO; one byte written to it cuts the power
//   TESSERA_FAULT_FS_SYNC_DELAY   milliseconds every fsync/fdatasync of a file or directory
//                                 under the root takes in addition (a slow disk)
//   TESSERA_FAULT_FS_CUT_ON_SELF_KILL=1
//                                 a process that SIGKILLs itself (a crash point,
//                                 common/crash_point.h) cuts the power instead
//
// A power cut puts every file and directory under the root back into a state a disk could
// be left in by losing power, then kills the process with SIGKILL. The model is the
// harshest one POSIX allows:
//   - a file's content is what it was at its last successful fsync/fdatasync (content
//     that existed before the process first opened it counts as synced);
//   - a file created, renamed or unlinked, and a directory made, since the last fsync of
//     the directory holding the (new) name is put back: the file or directory disappears,
//     the rename is undone (a file it replaced comes back), the unlinked file comes back.
// Removals the library does not see (rmdir, unlinkat, glibc-internal calls) stay done,
// which is one of the states a real disk could be in too. Files opened with openat
// relative to a directory descriptor, and the root's own directory entry, are not tracked.
// Writes through mmap are not seen (SQLite's -shm index, which SQLite rebuilds from the WAL
// after a crash).
//
// Every intercepted call runs under one mutex, so the cut sees no write half recorded; the
// process is stopped (SIGSTOP, from a forked child) while its files are put back. The cut
// writes "power-cut: ..." to stderr before the SIGKILL, so a test can tell a cut from any
// other death. copy_file_range on a tracked file fails with ENOSYS (callers fall back to
// write, which is tracked). The sync delay is slept before the lock is taken, so a slow
// sync holds up only its caller, as on a real disk.

#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;

// The C library's functions, found past this library.
template <typename Fn>
Fn Next(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

using OpenFn = int (*)(const char*, int, ...);
using OpenatFn = int (*)(int, const char*, int, ...);
using CloseFn = int (*)(int);
using WriteFn = ssize_t (*)(int, const void*, size_t);
using PwriteFn = ssize_t (*)(int, const void*, size_t, off_t);
using SyncFn = int (*)(int);
using TruncateFn = int (*)(int, off_t);
using RenameFn = int (*)(const char*, const char*);
using UnlinkFn = int (*)(const char*);
using MkdirFn = int (*)(const char*, mode_t);
using CopyFn = ssize_t (*)(int, loff_t*, int, loff_t*, size_t, unsigned int);
using KillFn = int (*)(pid_t, int);

struct Real {
  OpenFn open = Next<OpenFn>("open");
  OpenFn open64 = Next<OpenFn>("open64");
  OpenatFn openat = Next<OpenatFn>("openat");
  OpenatFn openat64 = Next<OpenatFn>("openat64");
  CloseFn close = Next<CloseFn>("close");
  WriteFn write = Next<WriteFn>("write");
  PwriteFn pwrite = Next<PwriteFn>("pwrite");
  PwriteFn pwrite64 = Next<PwriteFn>("pwrite64");
  SyncFn fsync = Next<SyncFn>("fsync");
  SyncFn fdatasync = Next<SyncFn>("fdatasync");
  TruncateFn ftruncate = Next<TruncateFn>("ftruncate");
  TruncateFn ftruncate64 = Next<TruncateFn>("ftruncate64");
  RenameFn rename = Next<RenameFn>("rename");
  UnlinkFn unlink = Next<UnlinkFn>("unlink");
  MkdirFn mkdir = Next<MkdirFn>("mkdir");
  CopyFn copy_file_range = Next<CopyFn>("copy_file_range");
  KillFn kill = Next<KillFn>("kill");
};

const Real& R() {
  static const Real real;
  return real;
}

// Bytes of a file as they were synced, saved before an unsynced write or truncate
// replaced them.
struct SavedRange {
  off_t offset;
  std::string bytes;
};

// An inode open for writing, or written and not synced since. `fd` is the library's own
// O_RDWR descriptor, which reaches the inode whatever its names become.
struct FileState {
  int fd = -1;
  off_t synced_size = 0;
  std::vector<SavedRange> saved;  // in the order saved; restored in reverse
  bool dirty = false;
  int app_fds = 0;  // descriptors of the application open on it
};

// A change of a directory entry not yet made durable by an fsync of its directory.
struct DirOp {
  enum Kind { kCreate, kMkdir, kRename, kUnlink } kind;
  std::string dir;     // the directory whose fsync makes it durable
  std::string path;    // kCreate/kMkdir/kUnlink: the name; kRename: the new name
  std::string from;    // kRename: the old name
  std::string backup;  // kRename: the replaced file; kUnlink: the removed file (hard links)
  ino_t ino = 0;       // kCreate/kRename: the inode now at `path`
};

struct FdEntry {
  std::shared_ptr<FileState> file;  // a tracked regular file open for writing
  std::string dir;                  // a tracked directory
};

struct State {
  std::mutex mu;
  std::string root;  // with a trailing '/'
  std::map<std::pair<dev_t, ino_t>, std::shared_ptr<FileState>> files;
  std::map<int, FdEntry> fds;
  std::vector<DirOp> ops;
  int backups = 0;
  std::chrono::milliseconds sync_delay{0};
  bool cut_on_self_kill = false;
};

State* g_state = nullptr;            // null: pass everything through
thread_local bool t_inside = false;  // the library's own calls pass through

// Holds the lock and marks the thread as inside the library; `active` is false when the
// call should pass straight through.
class Guard {
 public:
  Guard() : active_(g_state != nullptr && !t_inside) {
    if (!active_) return;
    lock_ = std::unique_lock(g_state->mu);
    t_inside = true;
  }
  ~Guard() {
    if (active_) t_inside = false;
  }
  bool active() const { return active_; }

 private:
  bool active_;
  std::unique_lock<std::mutex> lock_;
};

std::string Absolute(const char* path) {
  if (path == nullptr) return {};
  std::error_code ec;
  fs::path p = fs::absolute(path, ec).lexically_normal();
  return ec ? std::string() : p.string();
}

// True for the root itself and everything below it.
bool UnderRoot(const std::string& path) {
  return !path.empty() && (path + "/").compare(0, g_state->root.size(), g_state->root) == 0;
}

std::string Parent(const std::string& path) { return fs::path(path).parent_path().string(); }

off_t SizeOf(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? st.st_size : 0;
}

// Saves the synced bytes in [offset, offset + length) before they are overwritten.
void SaveSynced(FileState& f, off_t offset, off_t length) {
  const off_t end = std::min(offset + length, f.synced_size);
  f.dirty = true;
  if (offset >= end) return;
  SavedRange range{offset, std::string(static_cast<size_t>(end - offset), '\0')};
  const ssize_t n = pread(f.fd, range.bytes.data(), range.bytes.size(), offset);
  range.bytes.resize(n > 0 ? static_cast<size_t>(n) : 0);
  f.saved.push_back(std::move(range));
}

// Hard-links `path` to a fresh backup name under the root; empty when there is no file.
std::string Backup(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return {};
  const std::string dir = g_state->root + ".power-cut";
  R().mkdir(dir.c_str(), 0700);
  const std::string backup = dir + "/" + std::to_string(++g_state->backups);
  return link(path.c_str(), backup.c_str()) == 0 ? backup : std::string();
}

ino_t InodeOf(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

void Forget(int fd) {
  auto it = g_state->fds.find(fd);
  if (it == g_state->fds.end()) return;
  if (auto file = it->second.file; file != nullptr && --file->app_fds == 0 && !file->dirty) {
    R().close(file->fd);
    file->fd = -1;
    for (auto f = g_state->files.begin(); f != g_state->files.end(); ++f) {
      if (f->second == file) {
        g_state->files.erase(f);
        break;
      }
    }
  }
  g_state->fds.erase(it);
}

// Bookkeeping after a successful open of `path` (absolute) as `fd`.
void Opened(int fd, const std::string& path, int flags, bool existed) {
  Forget(fd);  // a descriptor number closed behind our back (dup2, glibc internals)
  if (!existed && UnderRoot(Parent(path))) {
    g_state->ops.push_back({DirOp::kCreate, Parent(path), path, {}, {}, InodeOf(path)});
  }
  struct stat st;
  if (fstat(fd, &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    g_state->fds[fd].dir = path;
    return;
  }
  if (!S_ISREG(st.st_mode) || (flags & O_ACCMODE) == O_RDONLY) return;
  auto& file = g_state->files[{st.st_dev, st.st_ino}];
  if (file == nullptr) {
    file = std::make_shared<FileState>();
    const std::string self = "/proc/self/fd/" + std::to_string(fd);
    file->fd = R().open(self.c_str(), O_RDWR | O_CLOEXEC);
    file->synced_size = existed ? st.st_size : 0;
  }
  ++file->app_fds;
  g_state->fds[fd].file = file;
}

std::shared_ptr<FileState> FileOf(int fd) {
  auto it = g_state->fds.find(fd);
  return it == g_state->fds.end() ? nullptr : it->second.file;
}

template <typename OpenCall>
int TrackedOpen(const char* path, int flags, OpenCall&& call) {
  Guard guard;
  if (!guard.active()) return call();
  const std::string abs = Absolute(path);
  if (!UnderRoot(abs)) return call();
  const bool existed = access(abs.c_str(), F_OK) == 0;
  if (existed && (flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY) {
    // Truncation by open: keep the synced content first, through a descriptor of our own.
    const int fd = R().open(abs.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      Opened(fd, abs, O_RDWR, true);
      if (auto f = FileOf(fd)) SaveSynced(*f, 0, f->synced_size);
      Forget(fd);
      R().close(fd);
    }
  }
  const int fd = call();
  if (fd >= 0) Opened(fd, abs, flags, existed);
  return fd;
}

// Puts every tracked file and unsynced directory change back; returns what it did for the
// log line.
std::string Revert() {
  int files = 0;
  for (auto& [key, f] : g_state->files) {
    if (!f->dirty || f->fd < 0) continue;
    for (auto it = f->saved.rbegin(); it != f->saved.rend(); ++it) {
      pwrite(f->fd, it->bytes.data(), it->bytes.size(), it->offset);
    }
    if (ftruncate(f->fd, f->synced_size) == 0) ++files;
  }
  for (auto it = g_state->ops.rbegin(); it != g_state->ops.rend(); ++it) {
    const DirOp& op = *it;
    switch (op.kind) {
      case DirOp::kCreate:
        if (InodeOf(op.path) == op.ino) unlink(op.path.c_str());
        break;
      case DirOp::kMkdir: {
        std::error_code ec;
        fs::remove_all(op.path, ec);
        break;
      }
      case DirOp::kRename:
        if (InodeOf(op.path) == op.ino) rename(op.path.c_str(), op.from.c_str());
        if (!op.backup.empty()) link(op.backup.c_str(), op.path.c_str());
        break;
      case DirOp::kUnlink:
        if (!op.backup.empty()) link(op.backup.c_str(), op.path.c_str());
        break;
    }
  }
  std::error_code ec;
  fs::remove_all(g_state->root + ".power-cut", ec);
  return "power-cut: restored " + std::to_string(files) + " files to their synced state, undid " +
         std::to_string(g_state->ops.size()) + " directory changes\n";
}

// True once every thread of `pid` is stopped (or after 10 s, to never hang a test).
void WaitUntilStopped(pid_t pid) {
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  for (int i = 0; i < 10000; ++i) {
    bool all = true;
    std::error_code ec;
    for (const auto& task : fs::directory_iterator(tasks, ec)) {
      char buffer[512] = {};
      const int fd = R().open((task.path() / "stat").c_str(), O_RDONLY | O_CLOEXEC);
      const ssize_t n = fd >= 0 ? read(fd, buffer, sizeof buffer - 1) : -1;
      if (fd >= 0) R().close(fd);
      const char* paren = n > 0 ? strrchr(buffer, ')') : nullptr;
      if (paren != nullptr && paren[1] == ' ' && paren[2] != 'T' && paren[2] != 't') all = false;
    }
    if (all) return;
    usleep(1000);
  }
}

// In the forked child: closes every descriptor but stderr and the library's own, so that
// flock()s and listening sockets it inherited are released when the process dies, not
// when this child exits (a restart could otherwise find them still held).
void CloseInheritedFds() {
  std::vector<int> keep = {STDERR_FILENO};
  for (const auto& [key, f] : g_state->files) keep.push_back(f->fd);
  std::vector<int> open_fds;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc/self/fd", ec)) {
    open_fds.push_back(atoi(entry.path().filename().c_str()));
  }
  for (int fd : open_fds) {
    if (std::find(keep.begin(), keep.end(), fd) == keep.end()) R().close(fd);
  }
}

// Cuts the power. The other threads must not run while files change under them (a reader
// of a mapped file that shrinks gets SIGBUS), so a forked child stops the whole process,
// reverts the files, writes the log line and kills the process; nothing of it runs again.
[[noreturn]] void CutPower() {
  g_state->mu.lock();  // no intercepted call starts or is half recorded from here on
  t_inside = true;
  const pid_t process = getpid();
  const pid_t child = fork();
  if (child == 0) {
    CloseInheritedFds();  // the process's locks and listening sockets must die with it
    R().kill(process, SIGSTOP);
    WaitUntilStopped(process);
    const std::string line = Revert();
    R().write(STDERR_FILENO, line.data(), line.size());
    R().kill(process, SIGKILL);
    _exit(0);
  }
  if (child < 0) {  // no child: revert in place, racing the other threads
    const std::string line = Revert();
    R().write(STDERR_FILENO, line.data(), line.size());
    R().kill(process, SIGKILL);
  }
  for (;;) pause();
}

void WaitForTrigger(std::string fifo) {
  sigset_t all;  // signals are the application's (the standalone sigwaits for SIGTERM)
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  const int fd = R().open(fifo.c_str(), O_RDWR | O_CLOEXEC);  // RDWR: never sees EOF
  char byte;
  while (fd >= 0) {
    const ssize_t n = read(fd, &byte, 1);
    if (n == 1) CutPower();
    if (n < 0 && errno != EINTR) break;
  }
  fprintf(stderr, "power-cut: cannot read trigger %s: %s\n", fifo.c_str(), strerror(errno));
}

__attribute__((constructor)) void Init() {
  const char* root = getenv("TESSERA_FAULT_FS_ROOT");
  if (root == nullptr) return;
  auto* state = new State();
  state->root = Absolute(root) + "/";
  if (const char* delay = getenv("TESSERA_FAULT_FS_SYNC_DELAY")) {
    state->sync_delay = std::chrono::milliseconds(atoi(delay));
  }
  if (const char* on_kill = getenv("TESSERA_FAULT_FS_CUT_ON_SELF_KILL")) {
    state->cut_on_self_kill = std::string(on_kill) == "1";
  }
  g_state = state;  // before the trigger thread, which uses it
  if (const char* trigger = getenv("TESSERA_FAULT_FS_CUT_TRIGGER")) {
    std::thread(WaitForTrigger, std::string(trigger)).detach();
  }
}

int Mode(int flags, va_list args) { return (flags & (O_CREAT | O_TMPFILE)) ? va_arg(args, int) : 0; }

}  // namespace

extern "C" {

int open(const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  const int mode = Mode(flags, args);
  va_end(args);
  return TrackedOpen(path, flags, [&] { return R().open(path, flags, mode); });
}

int open64(const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  const int mode = Mode(flags, args);
  va_end(args);
  return TrackedOpen(path, flags, [&] { return R().open64(path, flags, mode); });
}

// A path relative to a directory descriptor is not tracked (see the top of the file).
static int TrackedOpenat(OpenatFn real, int dirfd, const char* path, int flags, int mode) {
  if (dirfd != AT_FDCWD && path[0] != '/') return real(dirfd, path, flags, mode);
  return TrackedOpen(path, flags, [&] { return real(dirfd, path, flags, mode); });
}

int openat(int dirfd, const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  const int mode = Mode(flags, args);
  va_end(args);
  return TrackedOpenat(R().openat, dirfd, path, flags, mode);
}

int openat64(int dirfd, const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  const int mode = Mode(flags, args);
  va_end(args);
  return TrackedOpenat(R().openat64, dirfd, path, flags, mode);
}

int close(int fd) {
  Guard guard;
  if (guard.active()) Forget(fd);
  return R().close(fd);
}

ssize_t write(int fd, const void* buf, size_t count) {
  Guard guard;
  if (guard.active()) {
    if (auto f = FileOf(fd)) {
      const off_t at = (fcntl(fd, F_GETFL) & O_APPEND) ? SizeOf(fd) : lseek(fd, 0, SEEK_CUR);
      SaveSynced(*f, at, static_cast<off_t>(count));
    }
  }
  return R().write(fd, buf, count);
}

static ssize_t TrackedPwrite(PwriteFn real, int fd, const void* buf, size_t count, off_t offset) {
  Guard guard;
  if (guard.active()) {
    if (auto f = FileOf(fd)) SaveSynced(*f, offset, static_cast<off_t>(count));
  }
  return real(fd, buf, count, offset);
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  return TrackedPwrite(R().pwrite, fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void* buf, size_t count, off_t offset) {
  return TrackedPwrite(R().pwrite64, fd, buf, count, offset);
}

static int TrackedTruncate(TruncateFn real, int fd, off_t length) {
  Guard guard;
  if (guard.active()) {
    if (auto f = FileOf(fd)) SaveSynced(*f, length, f->synced_size);
  }
  return real(fd, length);
}

int ftruncate(int fd, off_t length) { return TrackedTruncate(R().ftruncate, fd, length); }
int ftruncate64(int fd, off_t length) { return TrackedTruncate(R().ftruncate64, fd, length); }

static int TrackedSync(SyncFn real, int fd) {
  if (g_state != nullptr && g_state->sync_delay.count() > 0 && !t_inside) {
    bool tracked;
    {
      std::lock_guard lock(g_state->mu);
      tracked = g_state->fds.contains(fd);
    }
    if (tracked) std::this_thread::sleep_for(g_state->sync_delay);
  }
  Guard guard;
  const int rc = real(fd);
  if (!guard.active() || rc != 0) return rc;
  auto it = g_state->fds.find(fd);
  if (it == g_state->fds.end()) return rc;
  if (auto f = it->second.file) {
    f->synced_size = SizeOf(f->fd);
    f->saved.clear();
    f->dirty = false;
  } else if (!it->second.dir.empty()) {
    const std::string& dir = it->second.dir;
    std::erase_if(g_state->ops, [&](const DirOp& op) {
      if (op.dir != dir) return false;
      if (!op.backup.empty()) R().unlink(op.backup.c_str());
      return true;
    });
  }
  return rc;
}

int fsync(int fd) { return TrackedSync(R().fsync, fd); }
int fdatasync(int fd) { return TrackedSync(R().fdatasync, fd); }

int rename(const char* from, const char* to) {
  Guard guard;
  if (!guard.active()) return R().rename(from, to);
  const std::string abs_from = Absolute(from), abs_to = Absolute(to);
  if (!UnderRoot(abs_from) && !UnderRoot(abs_to)) return R().rename(from, to);
  const std::string backup = Backup(abs_to);
  const int rc = R().rename(from, to);
  if (rc == 0) {
    g_state->ops.push_back({DirOp::kRename, Parent(abs_to), abs_to, abs_from, backup, InodeOf(abs_to)});
  } else if (!backup.empty()) {
    R().unlink(backup.c_str());
  }
  return rc;
}

int unlink(const char* path) {
  Guard guard;
  if (!guard.active()) return R().unlink(path);
  const std::string abs = Absolute(path);
  if (!UnderRoot(abs)) return R().unlink(path);
  const std::string backup = Backup(abs);
  const int rc = R().unlink(path);
  if (rc == 0) {
    g_state->ops.push_back({DirOp::kUnlink, Parent(abs), abs, {}, backup, 0});
  } else if (!backup.empty()) {
    R().unlink(backup.c_str());
  }
  return rc;
}

int mkdir(const char* path, mode_t mode) {
  Guard guard;
  const int rc = R().mkdir(path, mode);
  if (!guard.active() || rc != 0) return rc;
  const std::string abs = Absolute(path);
  if (UnderRoot(Parent(abs))) g_state->ops.push_back({DirOp::kMkdir, Parent(abs), abs, {}, {}, 0});
  return rc;
}

int kill(pid_t pid, int sig) {
  if (g_state != nullptr && g_state->cut_on_self_kill && !t_inside && sig == SIGKILL && pid == getpid()) CutPower();
  return R().kill(pid, sig);
}

ssize_t copy_file_range(int in, loff_t* in_offset, int out, loff_t* out_offset, size_t length, unsigned int flags) {
  Guard guard;
  if (guard.active() && FileOf(out) != nullptr) {
    errno = ENOSYS;
    return -1;
  }
  return R().copy_file_range(in, in_offset, out, out_offset, length, flags);
}

}  // extern "C"
