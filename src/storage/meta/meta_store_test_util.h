#pragma once
// Test-only helpers shared by the meta store tests. Not part of the library.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "storage/meta/meta_store.h"

namespace tessera::storage::testing {

/// A fresh directory under the gtest temp dir, removed on destruction.
class ScratchDir {
 public:
  ScratchDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("tessera_meta_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Polls `pred` every 10 ms until it holds or `timeout` passes.
inline bool WaitFor(const std::function<bool()>& pred,
                    std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

/// Collects what a watch delivers. Thread-safe.
class WatchRecorder {
 public:
  WatchCallback Callback() {
    return [this](const WatchResponse& response) {
      std::lock_guard<std::mutex> lock(mu_);
      responses_.push_back(response);
      if (!response.status.ok()) {
        error_ = response.status;
      } else {
        last_revision_ = response.revision;
      }
      cv_.notify_all();
    };
  }

  /// Waits until a response with revision >= `revision` arrived.
  bool WaitForRevision(int64_t revision, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return last_revision_ >= revision; });
  }
  /// Waits until a terminal error arrived.
  bool WaitForError(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return !error_.ok(); });
  }

  std::vector<WatchResponse> responses() const {
    std::lock_guard<std::mutex> lock(mu_);
    return responses_;
  }
  std::vector<WatchEvent> events() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<WatchEvent> all;
    for (const WatchResponse& r : responses_) all.insert(all.end(), r.events.begin(), r.events.end());
    return all;
  }
  Status error() const {
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }
  size_t response_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return responses_.size();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<WatchResponse> responses_;
  int64_t last_revision_ = 0;
  Status error_;
};

}  // namespace tessera::storage::testing
