#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <vector>

namespace tessera::server {

/// Decides which HTTP workers may wait for events, so that a busy CPU keeps running one
/// worker from request to request instead of switching threads for each.
///
/// Why: every worker asleep in epoll_wait is woken when a request arrives. If the CPUs are
/// busy answering other requests, that wake-up is wasted: the busy worker takes the event
/// when it finishes, and the woken one goes back to sleep. At tens of thousands of requests
/// a second those switches cost more than parsing the request.
///
/// The rule: at most `cpus` workers are "in play", meaning waiting in epoll_wait or working
/// on a request that started less than `blocked_after` ago. The others park. A request that
/// runs longer is presumed blocked (a flush, a Strong read waiting for the WAL) and stops
/// counting, so a parked worker takes its place; Monitor(), called every millisecond or so,
/// applies that rule. A worker whose request ends always tries to wait again itself.
///
/// Thread-safe. Workers are numbered 0..workers-1; each calls, in a loop,
/// EnterWait -> (epoll_wait) -> StartWork -> (handle) -> FinishWork.
class WorkerGate {
 public:
  using Clock = std::chrono::steady_clock;

  explicit WorkerGate(size_t workers);

  /// The CPUs the process may run on (at least 1 is used). Raising it lets parked workers in.
  void SetCpus(size_t cpus);
  /// Blocks while every CPU is in play; then counts the worker as waiting. False once
  /// Stop() was called.
  bool EnterWait();
  /// The worker's epoll_wait returned: it now works on what it got.
  void StartWork(size_t worker);
  /// The worker is done with it.
  void FinishWork(size_t worker);
  /// Presumes requests older than `blocked_after` blocked, and lets a parked worker in for
  /// each. Returns whether any worker is working (the caller should look again soon).
  bool Monitor(std::chrono::nanoseconds blocked_after);
  /// Releases every parked worker (EnterWait returns false from now on).
  void Stop();

  /// For tests: workers waiting, and working on requests presumed running.
  size_t waiting() const;
  size_t running() const;

 private:
  struct Slot {
    bool working = false;
    bool presumed_blocked = false;
    Clock::time_point since;
  };

  mutable std::mutex mu_;
  std::condition_variable parked_;
  std::vector<Slot> slots_;
  size_t cpus_ = 1;
  size_t waiting_ = 0;
  size_t running_ = 0;
  bool stopping_ = false;
};

}  // namespace tessera::server
