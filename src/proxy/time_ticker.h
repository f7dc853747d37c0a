#pragma once

// PRIVATE header of src/proxy: the timestamps of writes and the time ticks they allow.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"

namespace tessera::proxy::internal {

/// Allocates the timestamps of this proxy's writes and works out the time ticks that may
/// follow them (docs/format/wal_message.md). A time tick of value t appended to a channel
/// promises that every later record of that channel has a timestamp of at least t;
/// compaction retires deletes on that promise, so it must hold strictly.
///
/// Why it holds: a write's timestamp is allocated and registered as in flight on its
/// channels in one critical section, and stays registered until its appends have
/// returned. Due() takes a fresh timestamp T in the same critical section and ticks each
/// channel with min(T, its in-flight timestamps). A record appended after the tick
/// either began after Due (its timestamp came later than T) or was in flight at Due (the
/// tick is at most its timestamp); a write that had finished was appended before the
/// tick. The timestamp source must be monotonic (the coordinator's TSO is).
///
/// One ticker speaks only for its own proxy's writes. Thread-safe.
class TimeTicker {
 public:
  using Allocate = std::function<Result<uint64_t>()>;

  explicit TimeTicker(Allocate allocate) : allocate_(std::move(allocate)) {}

  /// One write in flight: its timestamp, registered on its channels until destroyed.
  /// Destroy it once every append of the write has returned, successful or not.
  class Write {
   public:
    Write(Write&& other) noexcept;
    Write& operator=(Write&&) = delete;
    ~Write();
    uint64_t timestamp() const { return timestamp_; }

   private:
    friend class TimeTicker;
    Write(TimeTicker* ticker, std::vector<std::string> channels, uint64_t timestamp)
        : ticker_(ticker), channels_(std::move(channels)), timestamp_(timestamp) {}
    TimeTicker* ticker_;
    std::vector<std::string> channels_;
    uint64_t timestamp_;
  };

  /// Allocates the timestamp of a write of collection `collection_id` to `channels`.
  Result<Write> Begin(int64_t collection_id, std::vector<std::string> channels);

  struct Tick {
    std::string channel;
    int64_t collection_id = 0;
    uint64_t timestamp = 0;
  };
  /// The ticks to append now: one for every channel written since its last tick (a channel
  /// with writes still in flight stays due, as its tick cannot pass them yet). Errors of
  /// the timestamp source are returned and nothing is due then.
  Result<std::vector<Tick>> Due();

 private:
  void Finish(const std::vector<std::string>& channels, uint64_t timestamp);

  const Allocate allocate_;
  std::mutex mu_;
  std::map<std::string, std::multiset<uint64_t>> in_flight_;  // guarded by mu_
  std::map<std::string, int64_t> due_;                         // guarded by mu_; channel -> collection
};

}  // namespace tessera::proxy::internal
