#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "storage/object/object_store.h"

namespace tessera::storage {

/// An ObjectStore held in memory: a sorted map from key to immutable bytes. For tests and
/// as a backend for wrappers (DiskCache, FaultInjectingObjectStore); nothing survives the
/// object. Follows the full ObjectStore contract (the conformance suite runs on it).
/// Thread-safe (one mutex; reads copy bytes out of shared immutable buffers).
class MemoryObjectStore final : public ObjectStore {
 public:
  MemoryObjectStore() = default;

  std::string_view name() const override { return "memory"; }
  Status Put(std::string_view key, std::string_view data) override;
  Result<std::string> Get(std::string_view key) override;
  Result<std::string> GetRange(std::string_view key, uint64_t offset,
                               std::optional<uint64_t> length) override;
  Result<ObjectInfo> Head(std::string_view key) override;
  Result<ListResult> List(const ListOptions& options) override;
  Status Delete(std::string_view key) override;
  Status DeleteMany(std::span<const std::string> keys) override;
  Status Copy(std::string_view src, std::string_view dst) override;

  /// Total bytes of all objects.
  uint64_t TotalBytes() const;

 private:
  struct Entry {
    std::shared_ptr<const std::string> data;
    std::string etag;
    std::chrono::system_clock::time_point mtime;
  };
  Result<Entry> Lookup(std::string_view key) const;
  static ObjectInfo InfoOf(const std::string& key, const Entry& entry);

  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> objects_;  // guarded by mu_
  uint64_t next_version_ = 1;                          // guarded by mu_
};

}  // namespace tessera::storage
