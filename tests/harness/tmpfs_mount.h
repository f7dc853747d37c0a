#pragma once

// A small tmpfs for tests that fill a filesystem (reliability test plan 2.5, disk full).

#include <cstdint>
#include <string>

namespace tessera::testing {

/// A tmpfs of a given size mounted on a directory for the object's lifetime (lazily
/// unmounted by the destructor). Mounting needs CAP_SYS_ADMIN (root, as in CI): check ok()
/// and skip the test with error() otherwise.
class TmpfsMount {
 public:
  /// Creates `dir` when missing and mounts a tmpfs of `size_bytes` on it.
  TmpfsMount(std::string dir, uint64_t size_bytes);
  ~TmpfsMount();
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  bool ok() const { return mounted_; }
  const std::string& error() const { return error_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool mounted_ = false;
  std::string error_;
};

/// Creates `path` and writes zeros to it until its filesystem is full; returns the bytes
/// written. Removing the file frees the space again.
uint64_t FillFilesystem(const std::string& path);

}  // namespace tessera::testing
