#include "storage/object/disk_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <tuple>
#include <vector>

#include "common/crc32c.h"
#include "common/logging.h"

namespace tessera::storage {

namespace fs = std::filesystem;

namespace {

static_assert(std::endian::native == std::endian::little, "cache entries are little-endian");

// Entry file layout (docs/format/local_object_store.md, "Disk cache entries"):
//   data | u32 crc per block | key | footer (32 bytes)
// footer: u64 data_len, u32 block_bytes, u32 key_len, u32 version, u32 meta_crc, u64 magic.
constexpr size_t kFooterBytes = 32;
constexpr uint32_t kEntryVersion = 1;
constexpr uint64_t kEntryMagic = 0x4548434143525354ULL;  // "TSRCACHE" as little-endian bytes
constexpr std::string_view kEntrySuffix = ".entry";
constexpr uint32_t kMinBlockBytes = 4 << 10;
constexpr uint32_t kMaxBlockBytes = 16 << 20;

template <typename T>
void PutLE(std::string& out, T value) {
  char buf[sizeof(T)];
  std::memcpy(buf, &value, sizeof(T));
  out.append(buf, sizeof(T));
}
template <typename T>
T GetLE(const char* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

Status Errno(int err, std::string_view op, const fs::path& path) {
  std::string msg = std::string(op) + " " + path.string() + ": " + std::strerror(err);
  if (err == ENOENT) return Status::NotFound(msg);
  if (err == ENOSPC || err == EDQUOT) return Status::ResourceExhausted(msg);
  return Status::Internal(msg);
}

Result<std::string> Pread(int fd, uint64_t offset, uint64_t count, const fs::path& path) {
  std::string out(count, '\0');
  uint64_t done = 0;
  while (done < count) {
    ssize_t n = ::pread(fd, out.data() + done, count - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno(errno, "read", path);
    if (n == 0) return Status::DataLoss("cache file " + path.string() + " is truncated");
    done += static_cast<uint64_t>(n);
  }
  return out;
}

Status WriteAll(int fd, std::string_view data, const fs::path& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno(errno, "write", path);
    done += static_cast<size_t>(n);
  }
  return Status::OK();
}

// What the footer and metadata section of an entry say, verified against meta_crc.
struct EntryMeta {
  std::string key;
  uint64_t data_len = 0;
  uint32_t block_bytes = 0;
  std::vector<uint32_t> block_crcs;
  uint64_t file_bytes = 0;
};

Result<EntryMeta> ReadEntryMeta(int fd, const fs::path& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return Errno(errno, "stat", path);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const auto corrupt = [&](std::string_view why) {
    return Status::DataLoss("cache file " + path.string() + ": " + std::string(why));
  };
  if (size < kFooterBytes) return corrupt("shorter than its footer");
  TESSERA_ASSIGN_OR_RETURN(std::string footer, Pread(fd, size - kFooterBytes, kFooterBytes, path));
  EntryMeta meta;
  meta.data_len = GetLE<uint64_t>(footer.data());
  meta.block_bytes = GetLE<uint32_t>(footer.data() + 8);
  const uint32_t key_len = GetLE<uint32_t>(footer.data() + 12);
  const uint32_t version = GetLE<uint32_t>(footer.data() + 16);
  const uint32_t meta_crc = GetLE<uint32_t>(footer.data() + 20);
  if (GetLE<uint64_t>(footer.data() + 24) != kEntryMagic) return corrupt("bad magic");
  if (version != kEntryVersion) return corrupt("unknown version " + std::to_string(version));
  if (meta.block_bytes < kMinBlockBytes || meta.block_bytes > kMaxBlockBytes ||
      !std::has_single_bit(meta.block_bytes)) {
    return corrupt("bad block size " + std::to_string(meta.block_bytes));
  }
  if (key_len == 0 || key_len > kMaxObjectKeyBytes) return corrupt("bad key length");
  if (meta.data_len > size) return corrupt("data length beyond the file");
  const uint64_t blocks = meta.data_len == 0 ? 0 : (meta.data_len - 1) / meta.block_bytes + 1;
  const uint64_t meta_bytes = blocks * 4 + key_len;
  if (meta.data_len + meta_bytes + kFooterBytes != size) {
    return corrupt("size " + std::to_string(size) + " does not match its footer");
  }
  TESSERA_ASSIGN_OR_RETURN(std::string section, Pread(fd, meta.data_len, meta_bytes, path));
  uint32_t crc = crc32c::Value(section.data(), section.size());
  crc = crc32c::Extend(crc, footer.data(), 20);
  if (crc != meta_crc) return corrupt("metadata checksum mismatch");
  meta.block_crcs.resize(blocks);
  if (blocks > 0) std::memcpy(meta.block_crcs.data(), section.data(), blocks * 4);
  meta.key = section.substr(blocks * 4);
  meta.file_bytes = size;
  return meta;
}

uint64_t Fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace

Result<std::unique_ptr<DiskCache>> DiskCache::Open(ObjectStore& backend, const fs::path& dir,
                                                   DiskCacheOptions options) {
  if (options.capacity_bytes == 0) return Status::InvalidArgument("disk cache capacity_bytes must be > 0");
  if (options.block_bytes < kMinBlockBytes || options.block_bytes > kMaxBlockBytes ||
      !std::has_single_bit(options.block_bytes)) {
    return Status::InvalidArgument("disk cache block_bytes must be a power of two in [4 KiB, 16 MiB], got " +
                                   std::to_string(options.block_bytes));
  }
  if (options.max_object_bytes == 0) options.max_object_bytes = options.capacity_bytes / 2;
  options.max_object_bytes = std::min(options.max_object_bytes, options.capacity_bytes);

  std::error_code ec;
  fs::create_directories(dir / "tmp", ec);
  if (ec) return Errno(ec.value(), "create", dir);
  const fs::path lock_path = dir / "LOCK";
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) return Errno(errno, "open", lock_path);
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(lock_fd);
    if (err == EWOULDBLOCK) return Status::FailedPrecondition("disk cache " + dir.string() + " is already open");
    return Errno(err, "lock", lock_path);
  }
  std::unique_ptr<DiskCache> cache(new DiskCache(backend, dir, options, lock_fd));
  TESSERA_RETURN_IF_ERROR(cache->Rebuild());
  return cache;
}

DiskCache::DiskCache(ObjectStore& backend, fs::path dir, DiskCacheOptions options, int lock_fd)
    : backend_(backend), dir_(std::move(dir)), tmp_dir_(dir_ / "tmp"), options_(options), lock_fd_(lock_fd) {}

DiskCache::~DiskCache() { ::close(lock_fd_); }

fs::path DiskCache::EntryPath(std::string_view key) const {
  char name[48];
  std::snprintf(name, sizeof(name), "%016llx%08x%s", static_cast<unsigned long long>(Fnv1a64(key)),
                crc32c::Value(key.data(), key.size()), kEntrySuffix.data());
  return dir_ / name;
}

fs::path DiskCache::TEST_EntryPath(std::string_view key) const { return EntryPath(key); }

Status DiskCache::Rebuild() {
  std::error_code ec;
  for (fs::directory_iterator it(tmp_dir_, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code rm_ec;
    fs::remove_all(it->path(), rm_ec);
  }
  struct Found {
    fs::file_time_type mtime;
    std::string key;
    uint64_t data_len;
    uint64_t file_bytes;
  };
  std::vector<Found> found;
  size_t dropped = 0;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path path = it->path();
    if (!path.filename().string().ends_with(kEntrySuffix)) continue;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;
    Result<EntryMeta> meta = ReadEntryMeta(fd, path);
    ::close(fd);
    std::error_code time_ec;
    const fs::file_time_type mtime = fs::last_write_time(path, time_ec);
    if (!meta.ok() || time_ec || EntryPath(meta->key) != path) {
      std::error_code rm_ec;
      fs::remove(path, rm_ec);
      ++dropped;
      continue;
    }
    found.push_back(Found{mtime, meta->key, meta->data_len, meta->file_bytes});
  }
  if (ec) return Errno(ec.value(), "list", dir_);
  std::sort(found.begin(), found.end(),
            [](const Found& a, const Found& b) { return std::tie(a.mtime, a.key) < std::tie(b.mtime, b.key); });
  std::lock_guard<std::mutex> lock(mu_);
  for (const Found& f : found) InsertLocked(f.key, f.data_len, f.file_bytes);
  EvictLocked();
  if (dropped > 0) TESSERA_LOG_WARN("disk cache {}: dropped {} damaged entries on open", dir_.string(), dropped);
  return Status::OK();
}

void DiskCache::InsertLocked(const std::string& key, uint64_t data_size, uint64_t file_bytes) {
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    bytes_ -= it->second.file_bytes;
    lru_.erase(it->second.lru);
    entries_.erase(it);
  }
  lru_.push_back(key);
  entries_.emplace(key, Entry{data_size, file_bytes, next_generation_++, std::prev(lru_.end())});
  bytes_ += file_bytes;
}

void DiskCache::EraseLocked(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  ::unlink(EntryPath(key).c_str());
  bytes_ -= it->second.file_bytes;
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

void DiskCache::EvictLocked() {
  while (bytes_ > options_.capacity_bytes && !lru_.empty()) {
    const std::string victim = lru_.front();
    EraseLocked(victim);
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
}

Result<std::string> DiskCache::ReadCached(std::string_view key, uint64_t offset, std::optional<uint64_t> length,
                                          bool whole) {
  const std::string key_str(key);
  uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key_str);
    if (it == entries_.end()) return Status::NotFound("not cached");
    lru_.splice(lru_.end(), lru_, it->second.lru);
    generation = it->second.generation;
  }
  const fs::path path = EntryPath(key);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Status::NotFound("not cached (evicted)");
  Result<std::string> data = [&]() -> Result<std::string> {
    TESSERA_ASSIGN_OR_RETURN(EntryMeta meta, ReadEntryMeta(fd, path));
    if (meta.key != key) return Status::DataLoss("cache file " + path.string() + " holds another key");
    uint64_t count = meta.data_len;
    if (!whole) {
      TESSERA_ASSIGN_OR_RETURN(count, internal::ResolveRange(key, meta.data_len, offset, length));
    } else {
      offset = 0;
    }
    if (count == 0) return std::string();
    const uint64_t bs = meta.block_bytes;
    const uint64_t first = offset / bs;
    const uint64_t last = (offset + count - 1) / bs;
    const uint64_t start = first * bs;
    const uint64_t end = std::min((last + 1) * bs, meta.data_len);
    TESSERA_ASSIGN_OR_RETURN(std::string buf, Pread(fd, start, end - start, path));
    for (uint64_t block = first; block <= last; ++block) {
      const uint64_t b_start = block * bs - start;
      const uint64_t b_len = std::min(bs, meta.data_len - block * bs);
      if (crc32c::Value(buf.data() + b_start, b_len) != meta.block_crcs[block]) {
        return Status::DataLoss("cache file " + path.string() + ": checksum mismatch in block " +
                                std::to_string(block) + " of " + internal::QuoteKey(key));
      }
    }
    if (start == offset && count == buf.size()) return buf;
    return buf.substr(offset - start, count);
  }();
  ::close(fd);
  if (data.ok()) {
    hits_.fetch_add(1, std::memory_order_relaxed);
  } else if (data.status().code() == StatusCode::kDataLoss) {
    checksum_failures_.fetch_add(1, std::memory_order_relaxed);
    TESSERA_LOG_WARN("disk cache: {}; dropping the entry and fetching again", data.status().message());
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key_str);
    if (it != entries_.end() && it->second.generation == generation) EraseLocked(key_str);
  }
  return data;
}

Status DiskCache::WriteEntry(const std::string& key, const std::string& data, fs::path* temp,
                             uint64_t* file_bytes) {
  char name[64];
  std::snprintf(name, sizeof(name), "%d-%llu.tmp", static_cast<int>(::getpid()),
                static_cast<unsigned long long>(temp_counter_.fetch_add(1, std::memory_order_relaxed)));
  *temp = tmp_dir_ / name;
  int fd = ::open(temp->c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno(errno, "create", *temp);
  const uint64_t bs = options_.block_bytes;
  std::string tail;
  for (uint64_t off = 0; off < data.size(); off += bs) {
    PutLE<uint32_t>(tail, crc32c::Value(data.data() + off, std::min<uint64_t>(bs, data.size() - off)));
  }
  tail += key;
  std::string footer;
  PutLE<uint64_t>(footer, data.size());
  PutLE<uint32_t>(footer, options_.block_bytes);
  PutLE<uint32_t>(footer, static_cast<uint32_t>(key.size()));
  PutLE<uint32_t>(footer, kEntryVersion);
  const uint32_t meta_crc = crc32c::Extend(crc32c::Value(tail.data(), tail.size()), footer.data(), 20);
  PutLE<uint32_t>(footer, meta_crc);
  PutLE<uint64_t>(footer, kEntryMagic);
  tail += footer;
  *file_bytes = data.size() + tail.size();
  Status status = WriteAll(fd, data, *temp);
  if (status.ok()) status = WriteAll(fd, tail, *temp);
  if (status.ok() && options_.sync && ::fsync(fd) != 0) status = Errno(errno, "fsync", *temp);
  if (::close(fd) != 0 && status.ok()) status = Errno(errno, "close", *temp);
  if (!status.ok()) ::unlink(temp->c_str());
  return status;
}

Result<DiskCache::Bytes> DiskCache::Fetch(std::string_view key) {
  const std::string key_str(key);
  std::shared_ptr<Download> download;
  std::shared_ptr<Download> other;  // someone else's download of this key, to wait for
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = downloads_.find(key_str);
    if (it != downloads_.end()) {
      other = it->second;
    } else {
      download = std::make_shared<Download>();
      download->future = download->promise.get_future().share();
      downloads_.emplace(key_str, download);
    }
  }
  if (other) {
    coalesced_.fetch_add(1, std::memory_order_relaxed);
    return other->future.get();
  }
  misses_.fetch_add(1, std::memory_order_relaxed);

  downloads_count_.fetch_add(1, std::memory_order_relaxed);
  Result<std::string> got = backend_.Get(key);
  Result<Bytes> result = got.ok() ? Result<Bytes>(std::make_shared<const std::string>(std::move(got).value()))
                                  : Result<Bytes>(got.status());
  fs::path temp;
  uint64_t file_bytes = 0;
  Status written = Status::Cancelled("not cached");
  if (result.ok()) {
    if ((*result)->size() <= options_.max_object_bytes) {
      written = WriteEntry(key_str, **result, &temp, &file_bytes);
      if (!written.ok()) TESSERA_LOG_WARN("disk cache: cannot cache {}: {}", key_str, written.ToString());
    } else {
      bypasses_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = downloads_.find(key_str);
    // Not current: the key was invalidated (Put/Delete/Copy) while downloading, so these
    // bytes may be stale; hand them to the readers that asked, but do not cache them.
    const bool current = it != downloads_.end() && it->second == download;
    if (written.ok()) {
      if (current && ::rename(temp.c_str(), EntryPath(key).c_str()) == 0) {
        InsertLocked(key_str, (*result)->size(), file_bytes);
        EvictLocked();
      } else {
        ::unlink(temp.c_str());
      }
    }
    if (current) downloads_.erase(it);
  }
  download->promise.set_value(result);
  return result;
}

Result<std::string> DiskCache::Get(std::string_view key) {
  TESSERA_RETURN_IF_ERROR(ValidateObjectKey(key));
  Result<std::string> cached = ReadCached(key, 0, std::nullopt, /*whole=*/true);
  if (cached.ok() || (cached.status().code() != StatusCode::kNotFound &&
                      cached.status().code() != StatusCode::kDataLoss)) {
    return cached;
  }
  TESSERA_ASSIGN_OR_RETURN(Bytes bytes, Fetch(key));
  return std::string(*bytes);
}

Result<std::string> DiskCache::GetRange(std::string_view key, uint64_t offset, std::optional<uint64_t> length) {
  TESSERA_RETURN_IF_ERROR(ValidateObjectKey(key));
  Result<std::string> cached = ReadCached(key, offset, length, /*whole=*/false);
  if (cached.ok() || (cached.status().code() != StatusCode::kNotFound &&
                      cached.status().code() != StatusCode::kDataLoss)) {
    return cached;
  }
  // Learn the size first so that a range of a huge object does not download all of it.
  TESSERA_ASSIGN_OR_RETURN(ObjectInfo info, backend_.Head(key));
  if (info.size > options_.max_object_bytes) {
    bypasses_.fetch_add(1, std::memory_order_relaxed);
    return backend_.GetRange(key, offset, length);
  }
  TESSERA_RETURN_IF_ERROR(internal::ResolveRange(key, info.size, offset, length).status());
  TESSERA_ASSIGN_OR_RETURN(Bytes bytes, Fetch(key));
  TESSERA_ASSIGN_OR_RETURN(uint64_t count, internal::ResolveRange(key, bytes->size(), offset, length));
  return bytes->substr(offset, count);
}

Result<ObjectInfo> DiskCache::Head(std::string_view key) { return backend_.Head(key); }

Result<ListResult> DiskCache::List(const ListOptions& options) { return backend_.List(options); }

void DiskCache::Invalidate(std::string_view key) {
  const std::string key_str(key);
  std::lock_guard<std::mutex> lock(mu_);
  EraseLocked(key_str);
  downloads_.erase(key_str);
}

Status DiskCache::Put(std::string_view key, std::string_view data) {
  Status status = backend_.Put(key, data);
  if (ValidateObjectKey(key).ok()) Invalidate(key);  // even on error: the write may have landed
  return status;
}

Status DiskCache::Delete(std::string_view key) {
  Status status = backend_.Delete(key);
  if (ValidateObjectKey(key).ok()) Invalidate(key);
  return status;
}

Status DiskCache::DeleteMany(std::span<const std::string> keys) {
  for (const std::string& key : keys) TESSERA_RETURN_IF_ERROR(ValidateObjectKey(key));
  Status status = backend_.DeleteMany(keys);
  for (const std::string& key : keys) Invalidate(key);
  return status;
}

Status DiskCache::Copy(std::string_view src, std::string_view dst) {
  Status status = backend_.Copy(src, dst);
  if (ValidateObjectKey(dst).ok()) Invalidate(dst);
  return status;
}

DiskCacheStats DiskCache::stats() const {
  DiskCacheStats s;
  s.hits = hits_.load(std::memory_order_relaxed);
  s.misses = misses_.load(std::memory_order_relaxed);
  s.coalesced = coalesced_.load(std::memory_order_relaxed);
  s.downloads = downloads_count_.load(std::memory_order_relaxed);
  s.bypasses = bypasses_.load(std::memory_order_relaxed);
  s.evictions = evictions_.load(std::memory_order_relaxed);
  s.checksum_failures = checksum_failures_.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mu_);
  s.entries = entries_.size();
  s.bytes = bytes_;
  return s;
}

bool DiskCache::Contains(std::string_view key) const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.count(std::string(key)) > 0;
}

}  // namespace tessera::storage
