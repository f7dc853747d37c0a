#pragma once

// Test helpers shared by the storage/log tests (not part of the library).

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <cstdint>
#include <string>
#include <string_view>

namespace tessera::storage::testing {

/// A fresh directory under the gtest temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string templ = ::testing::TempDir() + "/tessera_log_XXXXXX";
    const char* made = ::mkdtemp(templ.data());
    EXPECT_NE(made, nullptr) << "mkdtemp " << templ;
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// prefix followed by the decimal `i` (avoids GCC 12's -Wrestrict false positive on
/// `"literal" + std::to_string(i)`).
inline std::string Numbered(std::string_view prefix, uint64_t i) {
  std::string s(prefix);
  s += std::to_string(i);
  return s;
}

/// "prefix-<i>" padded with a deterministic filler to `size` bytes (at least the prefix).
inline std::string MakePayload(const std::string& prefix, size_t size) {
  std::string s = prefix;
  for (size_t i = 0; s.size() < size; ++i) s.push_back(static_cast<char>('a' + (i * 7 + prefix.size()) % 26));
  return s;
}

}  // namespace tessera::storage::testing
