#pragma once

// PRIVATE header of the coordinator: the timestamp oracle and the id allocator. Both hand
// out values from a window persisted ahead in the MetaStore, so after a restart (or a
// crash) they continue above everything handed out before without a write per call.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "common/result.h"
#include "coord/hybrid_timestamp.h"
#include "storage/meta/meta_store.h"

namespace tessera::coord {

/// Hybrid timestamps (physical ms << 18 | logical), strictly increasing, also across
/// restarts: the store key holds a physical time no handed-out timestamp reaches, moved
/// forward by `window` whenever the clock catches up with it (before the timestamp is
/// returned). A clock that goes backwards only slows the physical part down.
/// Thread-safe. `store` must outlive it.
class TimestampOracle {
 public:
  using Clock = std::function<int64_t()>;  // wall clock in ms since the epoch

  static Result<std::unique_ptr<TimestampOracle>> Open(storage::MetaStore* store,
                                                       std::chrono::milliseconds window = std::chrono::seconds(3),
                                                       Clock clock = {});
  Result<uint64_t> Allocate();

 private:
  TimestampOracle(storage::MetaStore* store, std::chrono::milliseconds window, Clock clock)
      : store_(store), window_(window), clock_(std::move(clock)) {}
  Status PersistHighWater(int64_t high_water);

  storage::MetaStore* const store_;
  const std::chrono::milliseconds window_;
  const Clock clock_;
  std::mutex mu_;
  int64_t physical_ = 0;    // guarded by mu_
  int64_t logical_ = -1;    // guarded by mu_; -1: nothing handed out at physical_ yet
  int64_t high_water_ = 0;  // guarded by mu_; persisted
};

/// Unique int64 ids (collection, partition, index, segment, auto-id keys), starting at 1,
/// never reused across restarts: a block of `block` ids is reserved in the store before
/// any of it is handed out. Thread-safe. `store` must outlive it.
class IdAllocator {
 public:
  static Result<std::unique_ptr<IdAllocator>> Open(storage::MetaStore* store, int64_t block = 10000);
  /// The first of `count` consecutive ids. InvalidArgument for count 0.
  Result<int64_t> Allocate(uint32_t count);

 private:
  IdAllocator(storage::MetaStore* store, int64_t block) : store_(store), block_(block) {}

  storage::MetaStore* const store_;
  const int64_t block_;
  std::mutex mu_;
  int64_t next_ = 1;        // guarded by mu_
  int64_t high_water_ = 1;  // guarded by mu_; persisted
};

/// Reads a decimal int64 stored under `key`; `fallback` when the key is missing; DataLoss
/// naming the key when the value is not a number.
Result<int64_t> ReadCounter(storage::MetaStore* store, std::string_view key, int64_t fallback);

}  // namespace tessera::coord
