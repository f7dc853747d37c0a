#include "storage/log/local_log.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <unordered_map>
#include <utility>

#include "common/check.h"
#include "common/crash_point.h"
#include "common/durable_dir.h"
#include "common/errno_status.h"
#include "common/logging.h"
#include "storage/log/wal_format.h"

namespace tessera::storage {

namespace {

constexpr size_t kReadChunk = 1 << 20;

/// Owns a file descriptor. Move-only.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

Status PWriteAll(int fd, std::string_view data, uint64_t offset, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return Status::OK();
}

/// Reads up to `size` bytes at `offset`; fewer only at end of file.
Status PReadUpTo(int fd, uint64_t offset, size_t size, std::string* out, const std::string& path) {
  out->resize(size);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, out->data() + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read", path);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  out->resize(done);
  return Status::OK();
}

Status ReadWholeFile(const std::string& path, std::string* out) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "open", path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "stat", path);
  return PReadUpTo(fd.get(), 0, static_cast<size_t>(st.st_size), out, path);
}

Status ListDir(const std::string& path, std::vector<std::pair<std::string, bool>>* entries) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return ErrnoStatus(errno, "list", path);
  while (const dirent* e = ::readdir(dir)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    const bool is_dir = ::stat((path + "/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    entries->emplace_back(name, is_dir);
  }
  ::closedir(dir);
  return Status::OK();
}

/// Recently seen idempotency keys of one channel with the offsets their batch got, bounded
/// to `capacity` keys; the least recently inserted is forgotten first.
class KeyWindow {
 public:
  struct Entry {
    uint64_t first_offset;
    uint64_t count;
    uint64_t seq = 0;  // insertion number; matches the newest order_ element for this key
  };
  explicit KeyWindow(size_t capacity) : capacity_(capacity) {}

  const Entry* Find(std::string_view key) const {
    auto it = entries_.find(std::string(key));
    return it == entries_.end() ? nullptr : &it->second;
  }

  /// Records `key` (again); a re-inserted key moves to the young end.
  void Insert(std::string_view key, uint64_t first_offset, uint64_t count) {
    if (capacity_ == 0) return;
    const uint64_t seq = next_seq_++;
    entries_.insert_or_assign(std::string(key), Entry{first_offset, count, seq});
    order_.emplace_back(std::string(key), seq);
    while (!order_.empty()) {
      auto it = entries_.find(order_.front().first);
      const bool stale = it == entries_.end() || it->second.seq != order_.front().second;
      if (!stale && entries_.size() <= capacity_) break;
      if (!stale) entries_.erase(it);
      order_.pop_front();
    }
  }

 private:
  size_t capacity_;
  uint64_t next_seq_ = 0;
  std::unordered_map<std::string, Entry> entries_;
  std::deque<std::pair<std::string, uint64_t>> order_;  // (key, seq), oldest first
};

std::vector<uint64_t> OffsetRange(uint64_t first, uint64_t count) {
  std::vector<uint64_t> offsets(count);
  for (uint64_t i = 0; i < count; ++i) offsets[i] = first + i;
  return offsets;
}

}  // namespace

// One Append waiting in a channel's queue.
struct LocalLog::Writer {
  std::span<const std::string> records;
  std::string_view key;
  uint64_t payload_bytes = 0;
  bool done = false;  // guarded by Channel::mu
  Status status;
  std::vector<uint64_t> offsets;
};

// The state of one open channel. Shared by the LocalLog and its subscriptions, so it lives
// as long as either.
struct LocalLog::Channel {
  struct Segment {
    uint64_t base;           // offset of its first record
    std::string path;
    uint64_t durable_bytes;  // bytes known complete and synced
  };

  Channel(std::string n, std::string d, size_t window_capacity)
      : name(std::move(n)), dir(std::move(d)), window(window_capacity) {}

  const std::string name;
  const std::string dir;

  std::mutex mu;
  std::condition_variable writers_cv;  // queued appenders: "you lead" or "you are done"
  std::condition_variable data_cv;     // subscribers: new durable records, cancel, close
  std::vector<Segment> segments;       // guarded by mu; sorted by base, never empty once open
  uint64_t durable_next = 0;           // guarded by mu; every record below is durable
  std::deque<Writer*> writers;         // guarded by mu; front() is the leader
  Status failed;                       // guarded by mu; sticky write/sync failure
  bool closed = false;                 // guarded by mu

  // Leader state: touched only by the writer at writers.front() (or during recovery, before
  // the channel is published), so it needs no lock.
  Fd active_fd;
  std::string active_path;
  uint64_t active_bytes = 0;  // size of the newest segment
  uint64_t next_offset = 0;   // offset the next written record gets
  KeyWindow window;
  // Segments the current group started: not in `segments` (so no reader or Truncate sees
  // them) until PublishGroup; removed by UndoGroup. `previous_bytes` is the final size of
  // the segment each one follows.
  struct Rolled {
    Segment segment;
    uint64_t previous_bytes;
  };
  std::vector<Rolled> rolled;
};

// ---------------------------------------------------------------------------------------------
// Subscription

class LocalLog::LocalSubscription final : public Subscription {
 public:
  LocalSubscription(std::shared_ptr<Channel> channel, uint64_t from)
      : channel_(std::move(channel)), next_(from) {}
  ~LocalSubscription() override = default;

  Result<std::vector<LogRecord>> Poll(size_t max_records, std::chrono::milliseconds timeout) override;

  void Cancel() override {
    cancelled_.store(true);
    std::lock_guard lock(channel_->mu);
    channel_->data_cv.notify_all();
  }

  uint64_t position() const override { return next_.load(); }

 private:
  // Makes buf_ cover [pos, pos + n) reading no further than `limit`; false when the file
  // (up to limit) is too short.
  Result<bool> EnsureBuffered(uint64_t pos, size_t n, uint64_t limit);
  Status OpenSegment(const Channel::Segment& segment);
  Status DataLossAt(std::string_view why) const {
    return Status::DataLoss("channel " + channel_->name + ": segment " + seg_path_ + " byte offset " +
                            std::to_string(file_pos_) + " (record offset " + std::to_string(file_next_offset_) +
                            "): " + std::string(why));
  }

  const std::shared_ptr<Channel> channel_;
  std::atomic<uint64_t> next_;
  std::atomic<bool> cancelled_{false};

  // Reader state, used by the polling thread only.
  Fd fd_;
  bool have_segment_ = false;
  uint64_t seg_base_ = 0;
  std::string seg_path_;
  uint64_t file_pos_ = 0;          // byte position of the next frame in the segment
  uint64_t file_next_offset_ = 0;  // record offset of the frame at file_pos_
  std::string buf_;
  uint64_t buf_pos_ = 0;           // file position of buf_[0]
};

Status LocalLog::LocalSubscription::OpenSegment(const Channel::Segment& segment) {
  fd_ = Fd(::open(segment.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd_.valid()) {
    if (errno == ENOENT) {
      return Status::OutOfRange("channel " + channel_->name + ": segment " + segment.path +
                                " was truncated away before it could be read");
    }
    return ErrnoStatus(errno, "open", segment.path);
  }
  have_segment_ = true;
  seg_base_ = segment.base;
  seg_path_ = segment.path;
  buf_.clear();
  buf_pos_ = 0;
  file_pos_ = 0;
  file_next_offset_ = segment.base;
  TESSERA_ASSIGN_OR_RETURN(bool ok, EnsureBuffered(0, wal::kSegmentHeaderSize, segment.durable_bytes));
  uint64_t base = 0;
  std::string why;
  if (!ok || !wal::DecodeSegmentHeader(std::string_view(buf_).substr(0, wal::kSegmentHeaderSize), &base, &why)) {
    return DataLossAt(ok ? why : "segment header truncated");
  }
  if (base != segment.base) return DataLossAt("segment header names base offset " + std::to_string(base));
  file_pos_ = wal::kSegmentHeaderSize;
  return Status::OK();
}

Result<bool> LocalLog::LocalSubscription::EnsureBuffered(uint64_t pos, size_t n, uint64_t limit) {
  if (pos >= buf_pos_ && pos + n <= buf_pos_ + buf_.size()) return true;
  if (pos + n > limit) return false;
  const size_t want = static_cast<size_t>(std::min<uint64_t>(limit - pos, std::max(n, kReadChunk)));
  TESSERA_RETURN_IF_ERROR(PReadUpTo(fd_.get(), pos, want, &buf_, seg_path_));
  buf_pos_ = pos;
  return buf_.size() >= n;
}

Result<std::vector<LogRecord>> LocalLog::LocalSubscription::Poll(size_t max_records,
                                                                 std::chrono::milliseconds timeout) {
  if (max_records == 0) max_records = 1;
  // Clamp so that "wait forever" style timeouts cannot overflow the clock.
  timeout = std::clamp(timeout, std::chrono::milliseconds(0), std::chrono::milliseconds(std::chrono::hours(24 * 365)));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<LogRecord> out;
  Channel& ch = *channel_;
  while (true) {
    const uint64_t next = next_.load();
    Channel::Segment segment;
    uint64_t segment_end = 0;  // first offset not to read from this segment
    {
      std::unique_lock lock(ch.mu);
      const bool ready = ch.data_cv.wait_until(
          lock, deadline, [&] { return cancelled_.load() || ch.closed || ch.durable_next > next; });
      if (cancelled_.load()) return Status::Cancelled("subscription to channel " + ch.name + " cancelled");
      if (ch.closed) return Status::Cancelled("log closed (channel " + ch.name + ")");
      if (!ready) return out;
      if (next < ch.segments.front().base) {
        return Status::OutOfRange("channel " + ch.name + ": offset " + std::to_string(next) +
                                  " was truncated; the first readable offset is " +
                                  std::to_string(ch.segments.front().base));
      }
      auto it = std::upper_bound(ch.segments.begin(), ch.segments.end(), next,
                                 [](uint64_t off, const Channel::Segment& s) { return off < s.base; });
      --it;
      segment = *it;
      segment_end = std::next(it) == ch.segments.end() ? ch.durable_next
                                                       : std::min(ch.durable_next, std::next(it)->base);
    }
    if (!have_segment_ || seg_base_ != segment.base) TESSERA_RETURN_IF_ERROR(OpenSegment(segment));

    while (next_.load() < segment_end && out.size() < max_records) {
      TESSERA_ASSIGN_OR_RETURN(bool ok, EnsureBuffered(file_pos_, wal::kFrameHeaderSize, segment.durable_bytes));
      if (!ok) return DataLossAt("durable data ends inside a frame header");
      wal::Frame frame;
      std::string why;
      auto view = std::string_view(buf_).substr(static_cast<size_t>(file_pos_ - buf_pos_));
      auto outcome = wal::ParseFrame(view, &frame, &why);
      if (outcome == wal::ParseOutcome::kIncomplete) {
        // The header is buffered (checked above) and sane, so the frame is longer than the
        // buffer: read all of it and parse again.
        const size_t need = wal::PeekFrameSize(view.data());
        TESSERA_ASSIGN_OR_RETURN(bool full, EnsureBuffered(file_pos_, need, segment.durable_bytes));
        if (!full) return DataLossAt("durable data ends inside a frame");
        view = std::string_view(buf_).substr(static_cast<size_t>(file_pos_ - buf_pos_));
        outcome = wal::ParseFrame(view, &frame, &why);
      }
      if (outcome != wal::ParseOutcome::kOk) return DataLossAt(why);
      if (frame.offset != file_next_offset_) {
        return DataLossAt("frame carries offset " + std::to_string(frame.offset));
      }
      if (frame.offset >= next_.load()) {  // earlier frames are skipped while positioning
        out.push_back(LogRecord{frame.offset, std::string(frame.payload)});
        next_.store(frame.offset + 1);
      }
      file_pos_ += frame.size;
      ++file_next_offset_;
    }
    if (!out.empty()) return out;
    // Nothing delivered from this segment: either we just crossed into the next one (loop
    // round to open it) or we skipped up to `next` and must wait again.
  }
}

// ---------------------------------------------------------------------------------------------
// LocalLog

LocalLog::LocalLog(std::string root, LocalLogOptions options, int lock_fd)
    : root_(std::move(root)), options_(options), lock_fd_(lock_fd) {}

LocalLog::~LocalLog() {
  std::lock_guard lock(channels_mu_);
  for (auto& [name, channel] : channels_) {
    std::lock_guard channel_lock(channel->mu);
    TESSERA_CHECK(channel->writers.empty()) << "LocalLog destroyed while appending to channel " << name;
    channel->closed = true;
    channel->active_fd.Reset();
    channel->data_cv.notify_all();
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<std::unique_ptr<LocalLog>> LocalLog::Open(std::string root, LocalLogOptions options) {
  if (root.empty()) return Status::InvalidArgument("LocalLog root directory is empty");
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  if (options.segment_bytes <= wal::kSegmentHeaderSize) {
    return Status::InvalidArgument("LocalLog segment_bytes must exceed the segment header (" +
                                   std::to_string(wal::kSegmentHeaderSize) + " bytes)");
  }
  if (options.max_record_bytes == 0 || options.max_record_bytes > wal::kMaxPayloadBytes) {
    return Status::InvalidArgument("LocalLog max_record_bytes must be in [1, " +
                                   std::to_string(wal::kMaxPayloadBytes) + "]");
  }
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0) {
    if (errno != ENOENT) return ErrnoStatus(errno, "stat", root);
    if (!options.create_if_missing) return Status::NotFound("LocalLog root " + root + " does not exist");
    TESSERA_RETURN_IF_ERROR(CreateDirectoriesDurably(root));  // a power cut must not take it away
  } else if (!S_ISDIR(st.st_mode)) {
    return Status::FailedPrecondition("LocalLog root " + root + " is not a directory");
  }
  const std::string lock_path = root + "/LOCK";
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) return ErrnoStatus(errno, "open", lock_path);
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(lock_fd);
    if (err == EWOULDBLOCK) {
      return Status::FailedPrecondition("LocalLog " + root + " is already open (" + lock_path + " is locked)");
    }
    return ErrnoStatus(err, "lock", lock_path);
  }
  return std::unique_ptr<LocalLog>(new LocalLog(std::move(root), options, lock_fd));
}

Result<std::shared_ptr<LocalLog::Channel>> LocalLog::GetChannel(std::string_view name) {
  TESSERA_RETURN_IF_ERROR(ValidateChannelName(name));
  std::lock_guard lock(channels_mu_);
  if (auto it = channels_.find(name); it != channels_.end()) return it->second;
  const std::string dir = root_ + "/" + std::string(name);
  if (::mkdir(dir.c_str(), 0755) == 0) {
    TESSERA_RETURN_IF_ERROR(SyncDirectory(root_));
  } else if (errno != EEXIST) {
    return ErrnoStatus(errno, "create directory", dir);
  }
  auto channel = std::make_shared<Channel>(std::string(name), dir, options_.idempotency_window);
  TESSERA_RETURN_IF_ERROR(RecoverChannel(*channel));
  channels_.emplace(std::string(name), channel);
  return channel;
}

Status LocalLog::RecoverChannel(Channel& ch) {
  std::vector<std::pair<std::string, bool>> entries;
  TESSERA_RETURN_IF_ERROR(ListDir(ch.dir, &entries));
  std::vector<uint64_t> bases;
  for (const auto& [file, is_dir] : entries) {
    uint64_t base = 0;
    if (file.ends_with(".wal.tmp")) {
      // A segment whose creation did not finish (it is renamed into place only once its
      // header is synced); it holds no records.
      const std::string path = ch.dir + "/" + file;
      if (::unlink(path.c_str()) != 0) return ErrnoStatus(errno, "remove", path);
    } else if (!is_dir && wal::ParseSegmentFileName(file, &base)) {
      bases.push_back(base);
    }
  }
  std::sort(bases.begin(), bases.end());
  if (bases.empty()) {
    ch.next_offset = 0;
    TESSERA_RETURN_IF_ERROR(RollSegment(ch));
    PublishGroup(ch);  // the channel is not shared yet
    return Status::OK();
  }

  uint64_t expected = bases.front();  // offset of the next record
  std::string data;
  for (size_t seg_idx = 0; seg_idx < bases.size(); ++seg_idx) {
    const bool last = seg_idx + 1 == bases.size();
    const std::string path = ch.dir + "/" + wal::SegmentFileName(bases[seg_idx]);
    TESSERA_RETURN_IF_ERROR(ReadWholeFile(path, &data));
    auto data_loss = [&](uint64_t pos, std::string_view why) {
      return Status::DataLoss("channel " + ch.name + ": segment " + path + " byte offset " + std::to_string(pos) +
                              " (record offset " + std::to_string(expected) + "): " + std::string(why));
    };
    uint64_t base = 0;
    std::string why;
    if (!wal::DecodeSegmentHeader(data, &base, &why)) return data_loss(0, why);
    if (base != bases[seg_idx]) return data_loss(0, "header names base offset " + std::to_string(base));
    if (base != expected) {
      return data_loss(0, "segment starts at offset " + std::to_string(base) + " but the previous one ends at " +
                              std::to_string(expected) + " (missing segment?)");
    }

    // Scan frames. `good_end` / `good_next` mark the end of the last complete batch.
    uint64_t pos = wal::kSegmentHeaderSize;
    uint64_t good_end = pos;
    uint64_t good_next = expected;
    bool in_batch = false;
    std::string batch_key;
    uint64_t batch_first = 0;
    bool torn = false;
    while (pos < data.size()) {
      wal::Frame frame;
      auto outcome = wal::ParseFrame(std::string_view(data).substr(pos), &frame, &why);
      if (outcome == wal::ParseOutcome::kOk) {
        if (frame.offset != expected) {
          outcome = wal::ParseOutcome::kCorrupt;
          why = "frame carries offset " + std::to_string(frame.offset);
        } else if (in_batch == ((frame.flags & wal::kFirstInBatch) != 0)) {
          outcome = wal::ParseOutcome::kCorrupt;
          why = in_batch ? "a batch starts before the previous one ended" : "frame continues a batch that never started";
        }
      }
      if (outcome != wal::ParseOutcome::kOk) {
        if (!last) return data_loss(pos, why);
        // In the newest segment damage is expected after a crash, but only inside the last
        // group-commit write (the only bytes not yet synced). A valid frame from a *later*
        // write proves the damaged bytes had been synced: that is corruption, not a tear.
        for (uint64_t q = pos + 1; q + wal::kFrameHeaderSize <= data.size(); ++q) {
          wal::Frame later;
          std::string ignored;
          const char* h = data.data() + q;
          // Cheap filter before the CRC: the offset field must point past `expected`.
          const uint64_t off = wal::PeekFrameOffset(h);
          if (off <= expected || off - expected > data.size()) continue;
          if (wal::ParseFrame(std::string_view(data).substr(q), &later, &ignored) == wal::ParseOutcome::kOk &&
              later.group_start() > expected) {
            return data_loss(pos, why + "; a valid record (offset " + std::to_string(later.offset) +
                                      ") written after it follows at byte " + std::to_string(q));
          }
        }
        torn = true;
        TESSERA_LOG_WARN("channel {}: torn tail in segment {} at byte {} ({}); cutting back to byte {} (offset {})",
                         ch.name, path, pos, why, good_end, good_next);
        break;
      }
      if (frame.flags & wal::kFirstInBatch) {
        in_batch = true;
        batch_key.assign(frame.key);
        batch_first = frame.offset;
      }
      ++expected;
      pos += frame.size;
      if (frame.flags & wal::kLastInBatch) {
        in_batch = false;
        good_end = pos;
        good_next = expected;
        if (!batch_key.empty()) ch.window.Insert(batch_key, batch_first, expected - batch_first);
      }
    }
    if (in_batch && !torn) {
      if (!last) return data_loss(pos, "segment ends inside a batch");
      TESSERA_LOG_WARN("channel {}: segment {} ends inside a batch; cutting back to byte {} (offset {})", ch.name,
                       path, good_end, good_next);
      torn = true;
    }
    expected = good_next;
    if (!last) {
      ch.segments.push_back({base, path, data.size()});
      continue;
    }
    Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd.valid()) return ErrnoStatus(errno, "open", path);
    if (torn || good_end != data.size()) {
      if (::ftruncate(fd.get(), static_cast<off_t>(good_end)) != 0) return ErrnoStatus(errno, "truncate", path);
      if (::fdatasync(fd.get()) != 0) return ErrnoStatus(errno, "fdatasync", path);
      syncs_.fetch_add(1);
    }
    ch.segments.push_back({base, path, good_end});
    ch.active_fd = std::move(fd);
    ch.active_path = path;
    ch.active_bytes = good_end;
  }
  ch.next_offset = expected;
  ch.durable_next = expected;
  return Status::OK();
}

Status LocalLog::RollSegment(Channel& ch) {
  const uint64_t base = ch.next_offset;
  const std::string path = ch.dir + "/" + wal::SegmentFileName(base);
  const std::string tmp = path + ".tmp";
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return ErrnoStatus(errno, "create", tmp);
  Status created = PWriteAll(fd.get(), wal::EncodeSegmentHeader(base), 0, tmp);
  if (created.ok() && ::fdatasync(fd.get()) != 0) created = ErrnoStatus(errno, "fdatasync", tmp);
  if (created.ok()) syncs_.fetch_add(1);
  if (created.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) created = ErrnoStatus(errno, "rename", tmp);
  if (!created.ok()) {
    ::unlink(tmp.c_str());  // holds no records; recovery would remove it too
    return created;
  }
  TESSERA_RETURN_IF_ERROR(SyncDirectory(ch.dir));
  ch.rolled.push_back({Channel::Segment{base, path, wal::kSegmentHeaderSize}, ch.active_bytes});
  ch.active_fd = std::move(fd);
  ch.active_path = path;
  ch.active_bytes = wal::kSegmentHeaderSize;
  return Status::OK();
}

Status LocalLog::WriteGroup(Channel& ch, const std::vector<Writer*>& group, bool* undone) {
  *undone = false;
  const uint64_t next_offset = ch.next_offset;
  const uint64_t active_bytes = ch.active_bytes;
  const std::string active_path = ch.active_path;
  const Status status = WriteGroupFrames(ch, group);
  // Only a lack of space is undone: after any other failed write or fdatasync the file's
  // state is unknown (a retried fsync can report success for lost pages).
  if (status.ok() || status.code() != StatusCode::kResourceExhausted) return status;
  const Status undo = UndoGroup(ch, next_offset, active_bytes, active_path);
  if (!undo.ok()) return status.WithContext("undoing the group failed: " + undo.ToString());
  *undone = true;
  TESSERA_LOG_WARN("channel {}: {}; the group's {} append(s) were refused and undone", ch.name, status.ToString(),
                   group.size());
  return status;
}

Status LocalLog::WriteGroupFrames(Channel& ch, const std::vector<Writer*>& group) {
  const uint64_t group_first = ch.next_offset;
  std::string buf;
  auto flush = [&]() -> Status {
    if (buf.empty()) return Status::OK();
    const std::string& path = ch.active_path;
    TESSERA_RETURN_IF_ERROR(PWriteAll(ch.active_fd.get(), buf, ch.active_bytes, path));
    crash_point::Reach(crash_point::Site::kWalAfterWriteBeforeSync);
    if (::fdatasync(ch.active_fd.get()) != 0) return ErrnoStatus(errno, "fdatasync", path);
    syncs_.fetch_add(1);
    ch.active_bytes += buf.size();
    buf.clear();
    return Status::OK();
  };
  // Keys of this group enter the window only once the whole group is durable: an undone
  // group's keys must not answer its retries.
  struct KeyedBatch {
    std::string_view key;
    uint64_t first, count;
  };
  std::vector<KeyedBatch> keyed;
  uint64_t records = 0, payload_bytes = 0;
  for (Writer* w : group) {
    if (!w->key.empty()) {
      const KeyWindow::Entry* e = ch.window.Find(w->key);
      const auto same = std::find_if(keyed.begin(), keyed.end(), [&](const KeyedBatch& b) { return b.key == w->key; });
      if (e != nullptr || same != keyed.end()) {
        w->offsets = e != nullptr ? OffsetRange(e->first_offset, e->count) : OffsetRange(same->first, same->count);
        deduplicated_.fetch_add(1);
        continue;
      }
    }
    uint64_t batch_bytes = 0;
    for (size_t i = 0; i < w->records.size(); ++i) {
      batch_bytes += wal::FrameSize(i == 0 ? w->key.size() : 0, w->records[i].size());
    }
    const uint64_t segment_used = ch.active_bytes + buf.size();
    if (segment_used > wal::kSegmentHeaderSize && segment_used + batch_bytes > options_.segment_bytes) {
      TESSERA_RETURN_IF_ERROR(flush());
      TESSERA_RETURN_IF_ERROR(RollSegment(ch));
    }
    const uint64_t first = ch.next_offset;
    for (size_t i = 0; i < w->records.size(); ++i) {
      uint8_t flags = 0;
      if (i == 0) flags |= wal::kFirstInBatch;
      if (i + 1 == w->records.size()) flags |= wal::kLastInBatch;
      wal::AppendFrame(&buf, first + i, static_cast<uint32_t>(first + i - group_first), flags,
                       i == 0 ? w->key : std::string_view(), w->records[i]);
    }
    ch.next_offset += w->records.size();
    w->offsets = OffsetRange(first, w->records.size());
    if (!w->key.empty()) keyed.push_back({w->key, first, w->records.size()});
    records += w->records.size();
    payload_bytes += w->payload_bytes;
  }
  TESSERA_RETURN_IF_ERROR(flush());
  for (const KeyedBatch& b : keyed) ch.window.Insert(b.key, b.first, b.count);
  records_.fetch_add(records);
  payload_bytes_.fetch_add(payload_bytes);
  if (records > 0) groups_.fetch_add(1);
  return Status::OK();
}

Status LocalLog::UndoGroup(Channel& ch, uint64_t next_offset, uint64_t active_bytes, const std::string& active_path) {
  if (ch.active_path != active_path) {
    Fd fd(::open(active_path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd.valid()) return ErrnoStatus(errno, "open", active_path);
    ch.active_fd = std::move(fd);
    ch.active_path = active_path;
  }
  // Newest first, so a crash part-way leaves a contiguous run of segments.
  for (auto it = ch.rolled.rbegin(); it != ch.rolled.rend(); ++it) {
    if (::unlink(it->segment.path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus(errno, "remove", it->segment.path);
    }
  }
  if (!ch.rolled.empty()) TESSERA_RETURN_IF_ERROR(SyncDirectory(ch.dir));
  ch.rolled.clear();
  // Whatever part of the group reached the file goes: its complete frames carry the offsets
  // the next group reuses, and would read back as records after a restart. Shrinking a file
  // needs no free space.
  if (::ftruncate(ch.active_fd.get(), static_cast<off_t>(active_bytes)) != 0) {
    return ErrnoStatus(errno, "truncate", active_path);
  }
  if (::fdatasync(ch.active_fd.get()) != 0) return ErrnoStatus(errno, "fdatasync", active_path);
  syncs_.fetch_add(1);
  ch.active_bytes = active_bytes;
  ch.next_offset = next_offset;
  return Status::OK();
}

void LocalLog::PublishGroup(Channel& ch) {
  for (Channel::Rolled& r : ch.rolled) {
    if (!ch.segments.empty()) ch.segments.back().durable_bytes = r.previous_bytes;
    ch.segments.push_back(std::move(r.segment));
  }
  ch.rolled.clear();
  ch.segments.back().durable_bytes = ch.active_bytes;
  ch.durable_next = ch.next_offset;
}

Result<std::vector<uint64_t>> LocalLog::Append(std::string_view channel, std::span<const std::string> records,
                                               std::string_view idempotency_key) {
  TESSERA_RETURN_IF_ERROR(ValidateChannelName(channel));
  if (idempotency_key.size() > kMaxIdempotencyKeyLength) {
    return Status::InvalidArgument("idempotency key for channel " + std::string(channel) + " is " +
                                   std::to_string(idempotency_key.size()) + " bytes; at most " +
                                   std::to_string(kMaxIdempotencyKeyLength) + " are allowed");
  }
  if (records.size() >= (1ull << 31)) {
    return Status::InvalidArgument("batch of " + std::to_string(records.size()) + " records is too large");
  }
  Writer w;
  w.records = records;
  w.key = idempotency_key;
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].size() > options_.max_record_bytes) {
      return Status::InvalidArgument("record " + std::to_string(i) + " of the batch for channel " +
                                     std::string(channel) + " is " + std::to_string(records[i].size()) +
                                     " bytes; max_record_bytes is " + std::to_string(options_.max_record_bytes));
    }
    w.payload_bytes += records[i].size();
  }
  if (records.empty()) return std::vector<uint64_t>{};
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<Channel> ch, GetChannel(channel));
  appends_.fetch_add(1);

  std::unique_lock lock(ch->mu);
  if (ch->closed) return Status::Cancelled("log closed (channel " + ch->name + ")");
  ch->writers.push_back(&w);
  ch->writers_cv.wait(lock, [&] { return w.done || ch->writers.front() == &w; });
  if (w.done) {
    if (!w.status.ok()) return w.status;
    return std::move(w.offsets);
  }

  // Leader: take the queue (up to max_group_bytes), write it with one fdatasync, hand over.
  std::vector<Writer*> group;
  uint64_t group_bytes = 0;
  for (Writer* x : ch->writers) {
    if (!group.empty() && group_bytes + x->payload_bytes > options_.max_group_bytes) break;
    group.push_back(x);
    group_bytes += x->payload_bytes;
  }
  Status status = ch->failed;
  bool undone = false;
  lock.unlock();
  if (status.ok()) status = WriteGroup(*ch, group, &undone);
  lock.lock();
  if (status.ok()) {
    PublishGroup(*ch);
  } else if (undone) {
    // Out of space, and the group was undone: only these appends fail.
    status = Status::ResourceExhausted("channel " + ch->name + ": " + std::string(status.message()) +
                                       "; nothing of this append was written; retry once space is freed");
  } else if (ch->failed.ok()) {
    // Any other failed write or fdatasync (or a failed undo) leaves the file state unknown,
    // so the channel takes no more writes until reopened.
    ch->failed = status.WithContext("channel " + ch->name + " failed; reopen the log");
    TESSERA_LOG_ERROR("{}", ch->failed.ToString());
  }
  for (Writer* x : group) {
    TESSERA_CHECK(ch->writers.front() == x) << "group-commit queue out of order";
    ch->writers.pop_front();
    x->status = status;
    x->done = true;
  }
  ch->writers_cv.notify_all();
  ch->data_cv.notify_all();
  if (!w.status.ok()) return w.status;
  return std::move(w.offsets);
}

Result<std::unique_ptr<Subscription>> LocalLog::Subscribe(std::string_view channel, uint64_t from_offset) {
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<Channel> ch, GetChannel(channel));
  {
    std::lock_guard lock(ch->mu);
    const uint64_t first = ch->segments.front().base;
    if (from_offset < first || from_offset > ch->durable_next) {
      return Status::OutOfRange("channel " + ch->name + ": cannot subscribe from offset " +
                                std::to_string(from_offset) + "; readable offsets are [" + std::to_string(first) +
                                ", " + std::to_string(ch->durable_next) + "]");
    }
  }
  return std::unique_ptr<Subscription>(new LocalSubscription(std::move(ch), from_offset));
}

Status LocalLog::Truncate(std::string_view channel, uint64_t before_offset) {
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<Channel> ch, GetChannel(channel));
  std::vector<std::string> doomed;
  {
    std::lock_guard lock(ch->mu);
    if (before_offset > ch->durable_next) {
      return Status::OutOfRange("channel " + ch->name + ": cannot truncate before offset " +
                                std::to_string(before_offset) + "; the next offset is " +
                                std::to_string(ch->durable_next));
    }
    // A segment can go when the next one starts at or before `before_offset`; the newest
    // segment always stays (it carries the next offset across restarts).
    size_t n = 0;
    while (n + 1 < ch->segments.size() && ch->segments[n + 1].base <= before_offset) ++n;
    for (size_t i = 0; i < n; ++i) doomed.push_back(ch->segments[i].path);
    ch->segments.erase(ch->segments.begin(), ch->segments.begin() + static_cast<std::ptrdiff_t>(n));
  }
  if (doomed.empty()) return Status::OK();
  // Oldest first, each removal made durable before the next, so a crash part-way always
  // leaves a contiguous run of segments (a gap would read as DataLoss on recovery).
  for (const std::string& path : doomed) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus(errno, "remove", path);
    TESSERA_RETURN_IF_ERROR(SyncDirectory(ch->dir));
  }
  return Status::OK();
}

Status LocalLog::DeleteChannel(std::string_view channel) {
  TESSERA_RETURN_IF_ERROR(ValidateChannelName(channel));
  {
    std::lock_guard lock(channels_mu_);
    if (auto it = channels_.find(channel); it != channels_.end()) {
      std::shared_ptr<Channel> ch = it->second;
      std::lock_guard channel_lock(ch->mu);
      if (!ch->writers.empty()) {
        return Status::FailedPrecondition("channel " + ch->name + " cannot be deleted while it is appended to");
      }
      ch->closed = true;  // wakes and ends its subscriptions
      ch->active_fd.Reset();
      ch->data_cv.notify_all();
      channels_.erase(it);
    }
  }
  const std::string dir = root_ + "/" + std::string(channel);
  std::vector<std::pair<std::string, bool>> entries;
  Status listed = ListDir(dir, &entries);
  if (listed.code() == StatusCode::kNotFound) return Status::OK();
  TESSERA_RETURN_IF_ERROR(listed);
  // Oldest segment first, as Truncate does: a crash part-way leaves a contiguous run, and
  // the next call finishes the job.
  std::sort(entries.begin(), entries.end());
  for (const auto& [name, is_dir] : entries) {
    const std::string path = dir + "/" + name;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus(errno, "remove", path);
  }
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) return ErrnoStatus(errno, "remove directory", dir);
  return SyncDirectory(root_);
}

Result<std::vector<std::string>> LocalLog::ListChannels() {
  std::vector<std::pair<std::string, bool>> entries;
  TESSERA_RETURN_IF_ERROR(ListDir(root_, &entries));
  std::vector<std::string> names;
  for (const auto& [name, is_dir] : entries) {
    if (is_dir && ValidateChannelName(name).ok()) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::optional<uint64_t>> LocalLog::LastOffset(std::string_view channel) {
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<Channel> ch, GetChannel(channel));
  std::lock_guard lock(ch->mu);
  if (ch->durable_next == 0) return std::optional<uint64_t>();
  return std::optional<uint64_t>(ch->durable_next - 1);
}

Result<uint64_t> LocalLog::FirstOffset(std::string_view channel) {
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<Channel> ch, GetChannel(channel));
  std::lock_guard lock(ch->mu);
  return ch->segments.front().base;
}

Status LocalLog::Health() {
  std::lock_guard lock(channels_mu_);
  for (const auto& [name, channel] : channels_) {
    std::lock_guard channel_lock(channel->mu);
    if (!channel->failed.ok()) return channel->failed;
  }
  return Status::OK();
}

LocalLogStats LocalLog::stats() const {
  LocalLogStats s;
  s.appends = appends_.load();
  s.deduplicated = deduplicated_.load();
  s.records = records_.load();
  s.payload_bytes = payload_bytes_.load();
  s.groups = groups_.load();
  s.syncs = syncs_.load();
  return s;
}

}  // namespace tessera::storage
