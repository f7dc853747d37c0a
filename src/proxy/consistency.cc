#include "proxy/consistency.h"

#include <algorithm>
#include <array>
#include <string>

namespace tessera::proxy {
namespace {

// Acknowledgements closer together than staleness / kBuckets share one entry.
constexpr int kBuckets = 64;

}  // namespace

ApiResult<coord::ConsistencyLevel> ParseConsistency(std::string_view name) {
  auto level = coord::ParseConsistencyLevel(name);
  if (level.ok()) return *level;
  return ApiStatus(code::kInvalidParameter,
                   "consistencyLevel can only be [Strong, Session, Bounded, Eventually, Customized], default: "
                   "Bounded, err:parameter:'" +
                       std::string(name) + "' is incorrect, please check it: invalid parameter");
}

std::string_view ConsistencyName(coord::ConsistencyLevel level) { return coord::ConsistencyLevelName(level); }

void AckTracker::Expire(ChannelAcks& acks, Clock::time_point now) const {
  while (!acks.recent.empty() && acks.recent.front().first + staleness_ <= now) {
    acks.bounded_next = std::max(acks.bounded_next, acks.recent.front().second);
    acks.recent.pop_front();
  }
}

void AckTracker::Acknowledge(const std::string& channel, uint64_t offset, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  ChannelAcks& acks = channels_[channel];
  const uint64_t next = offset + 1;
  acks.session_next = std::max(acks.session_next, next);
  const auto bucket = std::max<Clock::duration>(staleness_ / kBuckets, Clock::duration(1));
  if (!acks.recent.empty() && now - acks.recent.back().first < bucket) {
    acks.recent.back().first = std::max(acks.recent.back().first, now);
    acks.recent.back().second = std::max(acks.recent.back().second, next);
  } else {
    const uint64_t prev = acks.recent.empty() ? 0 : acks.recent.back().second;
    acks.recent.emplace_back(std::max(now, acks.recent.empty() ? now : acks.recent.back().first),
                             std::max(prev, next));
  }
  Expire(acks, now);
}

querynode::WaitOffsets AckTracker::Session(const std::vector<std::string>& channels) const {
  std::lock_guard<std::mutex> lock(mu_);
  querynode::WaitOffsets wait;
  for (const std::string& channel : channels) {
    auto it = channels_.find(channel);
    if (it != channels_.end() && it->second.session_next > 0) wait[channel] = it->second.session_next;
  }
  return wait;
}

querynode::WaitOffsets AckTracker::Bounded(const std::vector<std::string>& channels, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  querynode::WaitOffsets wait;
  for (const std::string& channel : channels) {
    auto it = channels_.find(channel);
    if (it == channels_.end()) continue;
    Expire(it->second, now);
    if (it->second.bounded_next > 0) wait[channel] = it->second.bounded_next;
  }
  return wait;
}

}  // namespace tessera::proxy
