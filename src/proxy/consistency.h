#pragma once

// Consistency levels (spec §8) and the bookkeeping behind Session and Bounded reads.
//
// A read waits until the query node has applied the WAL up to per-channel offsets
// (querynode::WaitOffsets, "every record below the value"):
//   Strong     -> Log::LastOffset(channel) + 1 for every channel, taken at request start;
//   Session    -> the highest offset this proxy has acknowledged on the channel, + 1;
//   Bounded    -> the highest offset acknowledged at least `staleness` ago, + 1;
//   Eventually -> nothing (Customized is treated as Bounded).
// Session is per proxy process, not per client connection: with several proxies a client
// that reads through another proxy than it wrote through gets Bounded-like behaviour.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "coord/catalog_types.h"
#include "proxy/api_status.h"
#include "querynode/query_node.h"

namespace tessera::proxy {

/// Case-sensitive "Strong" | "Session" | "Bounded" | "Eventually" | "Customized"; anything
/// else is 1100 with the spec's message.
ApiResult<coord::ConsistencyLevel> ParseConsistency(std::string_view name);
std::string_view ConsistencyName(coord::ConsistencyLevel level);

/// Remembers, per WAL channel, which offsets this proxy acknowledged and when.
/// Thread-safe. Memory per channel is bounded (acknowledgements close together in time are
/// merged into one entry stamped with the later time, which only ever makes Bounded reads
/// wait for less, never for more than the staleness allows).
class AckTracker {
 public:
  using Clock = std::chrono::steady_clock;

  explicit AckTracker(std::chrono::milliseconds staleness) : staleness_(staleness) {}

  /// Record `offset` of `channel` as durable and answered at `now`.
  void Acknowledge(const std::string& channel, uint64_t offset, Clock::time_point now);

  /// Wait offsets for Session reads of `channels` (channels never written here are left out).
  querynode::WaitOffsets Session(const std::vector<std::string>& channels) const;
  /// Wait offsets for Bounded reads at `now`.
  querynode::WaitOffsets Bounded(const std::vector<std::string>& channels, Clock::time_point now);

 private:
  struct ChannelAcks {
    uint64_t session_next = 0;  // highest acknowledged offset + 1
    uint64_t bounded_next = 0;  // highest offset acknowledged >= staleness ago, + 1
    std::deque<std::pair<Clock::time_point, uint64_t>> recent;  // (time, offset + 1), ascending
  };
  void Expire(ChannelAcks& acks, Clock::time_point now) const;

  const std::chrono::milliseconds staleness_;
  mutable std::mutex mu_;
  std::map<std::string, ChannelAcks, std::less<>> channels_;  // guarded by mu_
};

}  // namespace tessera::proxy
