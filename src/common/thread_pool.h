#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tessera {

/// A fixed set of worker threads running submitted tasks in FIFO order.
/// Thread-safe: Submit and ParallelFor may be called from any thread, including from a task
/// (ParallelFor called from a worker runs its share inline, so nested use cannot deadlock).
/// The destructor finishes queued tasks, then joins the workers.
class ThreadPool {
 public:
  /// `num_threads` 0 means std::thread::hardware_concurrency().
  explicit ThreadPool(size_t num_threads = 0, std::string name = "pool");
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return workers_.size(); }

  void Submit(std::function<void()> task);

  /// Calls fn(i) for every i in [0, n), spread over the workers and the calling thread,
  /// and returns when all calls have returned. Indices are handed out dynamically in
  /// chunks of `grain`, so uneven work balances.
  void ParallelFor(size_t n, const std::function<void(size_t)>& fn, size_t grain = 1);

  /// True when called from one of this pool's workers.
  bool InWorker() const;

 private:
  void WorkerLoop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> workers_;
  std::string name_;
};

}  // namespace tessera
