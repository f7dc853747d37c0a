#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <future>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "storage/object/object_store.h"

namespace tessera::storage {

struct DiskCacheOptions {
  /// Bound on the bytes of cache files on disk (object bytes plus ~40 bytes and 4 bytes per
  /// block of overhead each). Least recently used entries are evicted to stay under it.
  uint64_t capacity_bytes = 10ULL << 30;
  /// Objects larger than this are served from the backend without being cached.
  /// 0 means capacity_bytes / 2.
  uint64_t max_object_bytes = 0;
  /// Checksum block size: ranged reads verify only the blocks they touch. Power of two,
  /// 4 KiB..16 MiB.
  uint32_t block_bytes = 64 << 10;
  /// fsync entries when written. Off by default: the cache is disposable and every read is
  /// verified, so an entry damaged by a crash is dropped and fetched again.
  bool sync = false;
};

/// Counters since Open (entries and bytes are current values).
struct DiskCacheStats {
  uint64_t hits = 0;               // reads served from a verified cache file
  uint64_t misses = 0;             // reads that started a download
  uint64_t coalesced = 0;          // reads that waited for another reader's download
  uint64_t downloads = 0;          // backend Gets made to fill the cache
  uint64_t bypasses = 0;           // reads of objects too large to cache
  uint64_t evictions = 0;          // entries removed to respect capacity_bytes
  uint64_t checksum_failures = 0;  // cache files that failed verification (then refetched)
  uint64_t entries = 0;
  uint64_t bytes = 0;              // on-disk bytes of all entries
};

/// A read-through cache of a backend ObjectStore in a bounded local directory, for query
/// nodes (DESIGN.md §2). It is itself an ObjectStore, so callers do not know it is there.
///
///  - Get/GetRange serve verified local copies; a miss downloads the whole object once
///    (concurrent misses of one key share a single download) and caches it unless it is
///    larger than max_object_bytes.
///  - Every cache file carries a CRC32C per block and a checksummed footer naming its key
///    (docs/format/local_object_store.md, "Disk cache entries"). A failed check drops the
///    entry and fetches the object again; a read never returns unverified cached bytes.
///  - Head and List go to the backend. Put, Delete, DeleteMany and Copy go to the backend
///    and then drop the affected cache entries (an in-flight download of such a key is not
///    cached). Changes made to the backend by others are not seen while an entry lives: the
///    cache relies on Tessera's objects being immutable once written.
///  - Open rebuilds the index from the directory (least recently used order = file mtime,
///    i.e. insertion order), dropping damaged entries and leftover temp files, and evicts down
///    to capacity.
///
/// Ownership: borrows `backend`, which must outlive the cache. Owns its directory; one
/// DiskCache per directory (an flock on `<dir>/LOCK`). Thread-safe.
class DiskCache final : public ObjectStore {
 public:
  static Result<std::unique_ptr<DiskCache>> Open(ObjectStore& backend, const std::filesystem::path& dir,
                                                 DiskCacheOptions options = {});
  ~DiskCache() override;
  DiskCache(const DiskCache&) = delete;
  DiskCache& operator=(const DiskCache&) = delete;

  std::string_view name() const override { return "disk_cache"; }
  Status Put(std::string_view key, std::string_view data) override;
  Result<std::string> Get(std::string_view key) override;
  Result<std::string> GetRange(std::string_view key, uint64_t offset,
                               std::optional<uint64_t> length) override;
  Result<ObjectInfo> Head(std::string_view key) override;
  Result<ListResult> List(const ListOptions& options) override;
  Status Delete(std::string_view key) override;
  Status DeleteMany(std::span<const std::string> keys) override;
  Status Copy(std::string_view src, std::string_view dst) override;

  DiskCacheStats stats() const;
  /// True if `key` has a cache entry now.
  bool Contains(std::string_view key) const;
  /// Drops `key`'s entry, if any.
  void Invalidate(std::string_view key);
  /// The cache file for `key` (present or not). For corruption tests.
  std::filesystem::path TEST_EntryPath(std::string_view key) const;

 private:
  using Bytes = std::shared_ptr<const std::string>;
  struct Entry {
    uint64_t data_size = 0;
    uint64_t file_bytes = 0;
    uint64_t generation = 0;
    std::list<std::string>::iterator lru;  // position in lru_
  };
  struct Download {
    std::promise<Result<Bytes>> promise;
    std::shared_future<Result<Bytes>> future;
  };

  DiskCache(ObjectStore& backend, std::filesystem::path dir, DiskCacheOptions options, int lock_fd);

  Status Rebuild();
  // Reads [offset, offset+count) of `key` if cached and valid. NotFound: not cached (or gone);
  // DataLoss: the entry failed verification and was dropped.
  Result<std::string> ReadCached(std::string_view key, uint64_t offset, std::optional<uint64_t> length,
                                 bool whole);
  // Downloads (or joins the download of) the whole object and caches it.
  Result<Bytes> Fetch(std::string_view key);
  // Writes `key`'s entry file to a new temp file; sets its path and size.
  Status WriteEntry(const std::string& key, const std::string& data, std::filesystem::path* temp,
                    uint64_t* file_bytes);
  void InsertLocked(const std::string& key, uint64_t data_size, uint64_t file_bytes);
  void EraseLocked(const std::string& key);
  void EvictLocked();
  std::filesystem::path EntryPath(std::string_view key) const;

  ObjectStore& backend_;
  const std::filesystem::path dir_;
  const std::filesystem::path tmp_dir_;
  const DiskCacheOptions options_;
  const int lock_fd_;
  std::atomic<uint64_t> temp_counter_{0};

  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;                     // guarded by mu_
  std::list<std::string> lru_;                                         // guarded by mu_; front = oldest
  std::unordered_map<std::string, std::shared_ptr<Download>> downloads_;  // guarded by mu_
  uint64_t bytes_ = 0;                                                 // guarded by mu_
  uint64_t next_generation_ = 1;                                       // guarded by mu_

  std::atomic<uint64_t> hits_{0}, misses_{0}, coalesced_{0}, downloads_count_{0}, bypasses_{0},
      evictions_{0}, checksum_failures_{0};
};

}  // namespace tessera::storage
