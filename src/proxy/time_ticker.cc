#include "proxy/time_ticker.h"

#include <algorithm>
#include <utility>

namespace tessera::proxy::internal {

TimeTicker::Write::Write(Write&& other) noexcept
    : ticker_(std::exchange(other.ticker_, nullptr)),
      channels_(std::move(other.channels_)),
      timestamp_(other.timestamp_) {}

TimeTicker::Write::~Write() {
  if (ticker_ != nullptr) ticker_->Finish(channels_, timestamp_);
}

Result<TimeTicker::Write> TimeTicker::Begin(int64_t collection_id, std::vector<std::string> channels) {
  std::lock_guard<std::mutex> l(mu_);
  TESSERA_ASSIGN_OR_RETURN(uint64_t timestamp, allocate_());
  for (const std::string& channel : channels) {
    in_flight_[channel].insert(timestamp);
    due_[channel] = collection_id;
  }
  return Write(this, std::move(channels), timestamp);
}

void TimeTicker::Finish(const std::vector<std::string>& channels, uint64_t timestamp) {
  std::lock_guard<std::mutex> l(mu_);
  for (const std::string& channel : channels) {
    auto it = in_flight_.find(channel);
    if (it == in_flight_.end()) continue;
    auto entry = it->second.find(timestamp);
    if (entry != it->second.end()) it->second.erase(entry);
    if (it->second.empty()) in_flight_.erase(it);
  }
}

Result<std::vector<TimeTicker::Tick>> TimeTicker::Due() {
  std::lock_guard<std::mutex> l(mu_);
  if (due_.empty()) return std::vector<Tick>{};
  TESSERA_ASSIGN_OR_RETURN(uint64_t now, allocate_());
  std::vector<Tick> ticks;
  std::map<std::string, int64_t> still_due;
  for (const auto& [channel, collection_id] : due_) {
    uint64_t tick = now;
    auto busy = in_flight_.find(channel);
    if (busy != in_flight_.end()) {
      tick = std::min(tick, *busy->second.begin());
      still_due.emplace(channel, collection_id);
    }
    ticks.push_back(Tick{channel, collection_id, tick});
  }
  due_ = std::move(still_due);
  return ticks;
}

}  // namespace tessera::proxy::internal
