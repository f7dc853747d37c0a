#pragma once

// PRIVATE header of src/querynode.

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace tessera::querynode {

/// A reader/writer lock that neither side can starve (phase-fair).
///
/// Searches hold it shared for a whole search; the WAL tailers and segment handoffs take it
/// exclusively for short updates. std::shared_mutex on glibc prefers readers, so a steady
/// stream of overlapping searches would keep the tailer out forever. Here a waiting writer
/// stops new readers from entering, and when a writer leaves, every reader that was already
/// waiting enters before the next writer.
///
/// Satisfies SharedMutex (usable with std::unique_lock / std::shared_lock). Not recursive:
/// a thread holding it shared must not take it again while a writer may be waiting.
class FairSharedMutex {
 public:
  void lock() {
    std::unique_lock<std::mutex> l(mu_);
    ++writers_waiting_;
    cv_.wait(l, [&] { return !writer_active_ && readers_ == 0 && pending_readers_ == 0; });
    --writers_waiting_;
    writer_active_ = true;
  }

  void unlock() {
    {
      std::lock_guard<std::mutex> l(mu_);
      writer_active_ = false;
      if (readers_waiting_ > 0) {
        // Admit this phase's readers before any writer.
        ++phase_;
        pending_readers_ = readers_waiting_;
      }
    }
    cv_.notify_all();
  }

  void lock_shared() {
    std::unique_lock<std::mutex> l(mu_);
    if (!writer_active_ && (writers_waiting_ == 0 || pending_readers_ > 0)) {
      ++readers_;
      return;
    }
    ++readers_waiting_;
    const uint64_t my_phase = phase_;
    cv_.wait(l, [&] { return !writer_active_ && (phase_ != my_phase || writers_waiting_ == 0); });
    --readers_waiting_;
    if (phase_ != my_phase) --pending_readers_;  // one of the readers the last writer admitted
    ++readers_;
  }

  void unlock_shared() {
    bool wake = false;
    {
      std::lock_guard<std::mutex> l(mu_);
      wake = --readers_ == 0 && writers_waiting_ > 0;
    }
    if (wake) cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t readers_ = 0;          // readers holding the lock
  uint64_t readers_waiting_ = 0;  // readers blocked in lock_shared
  uint64_t pending_readers_ = 0;  // admitted by the last unlock() but not yet inside
  uint64_t writers_waiting_ = 0;
  uint64_t phase_ = 0;  // bumped when a writer leaves with readers waiting
  bool writer_active_ = false;
};

}  // namespace tessera::querynode
