#include "common/thread_pool.h"

#include <atomic>
#include <memory>

namespace tessera {
namespace {
thread_local const ThreadPool* current_pool = nullptr;
}  // namespace

ThreadPool::ThreadPool(size_t num_threads, std::string name) : name_(std::move(name)) {
  if (num_threads == 0) num_threads = std::max(1u, std::thread::hardware_concurrency());
  workers_.reserve(num_threads);
  for (size_t i = 0; i < num_threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void ThreadPool::Submit(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
}

bool ThreadPool::InWorker() const { return current_pool == this; }

void ThreadPool::WorkerLoop() {
  current_pool = this;
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

void ThreadPool::ParallelFor(size_t n, const std::function<void(size_t)>& fn, size_t grain) {
  if (n == 0) return;
  if (grain == 0) grain = 1;
  if (InWorker() || workers_.size() <= 1 || n <= grain) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  struct Shared {
    std::atomic<size_t> next{0};
    std::atomic<size_t> active{0};
    std::mutex mu;
    std::condition_variable done;
  };
  auto shared = std::make_shared<Shared>();
  auto run = [shared, n, grain, &fn] {
    for (;;) {
      const size_t begin = shared->next.fetch_add(grain);
      if (begin >= n) break;
      const size_t end = std::min(n, begin + grain);
      for (size_t i = begin; i < end; ++i) fn(i);
    }
  };
  const size_t helpers = std::min(workers_.size(), (n + grain - 1) / grain - 1);
  shared->active = helpers;
  for (size_t h = 0; h < helpers; ++h) {
    Submit([shared, run] {
      run();
      if (shared->active.fetch_sub(1) == 1) {
        std::lock_guard lock(shared->mu);
        shared->done.notify_all();
      }
    });
  }
  run();
  std::unique_lock lock(shared->mu);
  shared->done.wait(lock, [&] { return shared->active.load() == 0; });
}

}  // namespace tessera
