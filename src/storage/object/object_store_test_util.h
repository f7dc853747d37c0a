#pragma once
// PRIVATE test helper header: shared by the storage/object tests only.

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "common/check.h"
#include "storage/object/local_object_store.h"
#include "storage/object/memory_object_store.h"
#include "storage/object/object_store.h"

namespace tessera::storage::testing {

/// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
/// Not thread-safe; owns the directory.
class ScratchDir {
 public:
  ScratchDir() {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base && *base ? base : "/tmp") + "/tessera-obj-XXXXXX";
    TESSERA_CHECK(::mkdtemp(templ.data()) != nullptr) << "mkdtemp " << templ;
    path_ = templ;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Deterministic pseudo-random bytes (splitmix64 of `seed`).
inline std::string PatternBytes(size_t size, uint64_t seed) {
  std::string out(size, '\0');
  uint64_t x = seed;
  for (size_t i = 0; i < size; i += 8) {
    x += 0x9E3779B97F4A7C15ULL;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    for (size_t b = 0; b < 8 && i + b < size; ++b) out[i + b] = static_cast<char>(z >> (8 * b));
  }
  return out;
}

}  // namespace tessera::storage::testing
