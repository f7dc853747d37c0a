#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "storage/object/object_store.h"

namespace tessera::storage {

struct LocalObjectStoreOptions {
  /// fsync temp files and directories so an acknowledged Put survives power loss. Turn off
  /// only in tests that do not care about durability.
  bool sync = true;
  /// Create the root directory (and its parents) if it does not exist.
  bool create_if_missing = true;
};

/// An ObjectStore in a local directory (standalone mode). Layout and crash semantics are in
/// docs/format/local_object_store.md: each key segment is a directory, objects are plain
/// files, and Put writes a uniquely named temp file in `tmp/`, fsyncs it, renames it into
/// place and fsyncs the directory, so a crash leaves the old object or the new one, never a
/// torn one. Open removes temp files left by a crash.
///
/// One process owns a root at a time: Open takes an exclusive flock on `<root>/LOCK`, held
/// until the store is destroyed; a second Open (from any process) is FailedPrecondition.
/// Thread-safe: all methods may be called concurrently, including Puts of the same key.
class LocalObjectStore final : public ObjectStore {
 public:
  /// Opens (and, with create_if_missing, creates) a store at `root`. A non-empty directory
  /// that is not a store is FailedPrecondition; so is a root held by another opener.
  static Result<std::unique_ptr<LocalObjectStore>> Open(const std::filesystem::path& root,
                                                        LocalObjectStoreOptions options = {});
  ~LocalObjectStore() override;
  LocalObjectStore(const LocalObjectStore&) = delete;
  LocalObjectStore& operator=(const LocalObjectStore&) = delete;

  std::string_view name() const override { return "local"; }
  Status Put(std::string_view key, std::string_view data) override;
  Result<std::string> Get(std::string_view key) override;
  Result<std::string> GetRange(std::string_view key, uint64_t offset,
                               std::optional<uint64_t> length) override;
  Result<ObjectInfo> Head(std::string_view key) override;
  Result<ListResult> List(const ListOptions& options) override;
  Status Delete(std::string_view key) override;
  Status DeleteMany(std::span<const std::string> keys) override;
  Status Copy(std::string_view src, std::string_view dst) override;

  const std::filesystem::path& root() const { return root_; }
  /// The file that holds `key` (which must be valid). For tests and tools.
  std::filesystem::path TEST_PathOf(std::string_view key) const { return PathOf(key); }

 private:
  LocalObjectStore(std::filesystem::path root, LocalObjectStoreOptions options, int lock_fd);

  std::filesystem::path PathOf(std::string_view key) const;
  // Validates `key` and returns its path, checked to lie under objects_dir_.
  Result<std::filesystem::path> CheckedPathOf(std::string_view key) const;
  // Creates the parent directories of `path` below objects_dir_, fsyncing each new one's
  // parent.
  Status EnsureParents(const std::filesystem::path& path) const;
  // Moves the finished temp file onto `key`'s path (creating parents; retried when a
  // concurrent Delete prunes a parent), then fsyncs the directory.
  Status Publish(const std::filesystem::path& temp, std::string_view key,
                 const std::filesystem::path& target) const;
  std::filesystem::path NewTempPath();
  // Removes now-empty directories from `dir` up to (not including) objects_dir_.
  void PruneEmptyParents(std::filesystem::path dir) const;
  Status DeleteOne(std::string_view key) const;

  const std::filesystem::path root_;
  const std::filesystem::path objects_dir_;
  const std::filesystem::path tmp_dir_;
  const LocalObjectStoreOptions options_;
  const int lock_fd_;
  std::atomic<uint64_t> temp_counter_{0};
};

}  // namespace tessera::storage
