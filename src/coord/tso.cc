#include "coord/tso.h"

#include <algorithm>
#include <charconv>
#include <string>

#include "coord/meta_keys.h"

namespace tessera::coord {

namespace {

int64_t SystemClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<int64_t> ReadCounter(storage::MetaStore* store, std::string_view key, int64_t fallback) {
  TESSERA_ASSIGN_OR_RETURN(auto kv, store->Get(key));
  if (!kv.has_value()) return fallback;
  const std::string& text = kv->value;
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) {
    return Status::DataLoss("meta key '" + std::string(key) + "' does not hold a non-negative integer");
  }
  return value;
}

Result<std::unique_ptr<TimestampOracle>> TimestampOracle::Open(storage::MetaStore* store,
                                                               std::chrono::milliseconds window, Clock clock) {
  if (!clock) clock = SystemClockMs;
  std::unique_ptr<TimestampOracle> tso(new TimestampOracle(store, window, std::move(clock)));
  TESSERA_ASSIGN_OR_RETURN(const int64_t stored, ReadCounter(store, keys::kTsoKey, 0));
  // Every timestamp handed out before had a physical part below `stored`, so starting at
  // max(now, stored) with logical 0 is above all of them.
  const int64_t start = std::max(tso->clock_(), stored);
  std::lock_guard lock(tso->mu_);
  TESSERA_RETURN_IF_ERROR(tso->PersistHighWater(start + window.count()));
  tso->physical_ = start;
  tso->logical_ = -1;
  return tso;
}

Status TimestampOracle::PersistHighWater(int64_t high_water) {
  auto put = store_->Put(keys::kTsoKey, std::to_string(high_water));
  if (!put.ok()) return put.status().WithContext("persisting the timestamp high-water mark");
  high_water_ = high_water;
  return Status::OK();
}

Result<uint64_t> TimestampOracle::Allocate() {
  std::lock_guard lock(mu_);
  int64_t physical = physical_;
  int64_t logical = logical_ + 1;
  const int64_t now = clock_();
  if (now > physical) {
    physical = now;
    logical = 0;
  } else if (static_cast<uint64_t>(logical) > kMaxLogical) {
    physical += 1;
    logical = 0;
  }
  if (physical >= high_water_) {
    TESSERA_RETURN_IF_ERROR(PersistHighWater(physical + window_.count()));
  }
  physical_ = physical;
  logical_ = logical;
  return ComposeTimestamp(physical, static_cast<uint64_t>(logical));
}

Result<std::unique_ptr<IdAllocator>> IdAllocator::Open(storage::MetaStore* store, int64_t block) {
  std::unique_ptr<IdAllocator> ids(new IdAllocator(store, std::max<int64_t>(block, 1)));
  TESSERA_ASSIGN_OR_RETURN(const int64_t stored, ReadCounter(store, keys::kIdKey, 1));
  std::lock_guard lock(ids->mu_);
  ids->next_ = std::max<int64_t>(stored, 1);
  ids->high_water_ = ids->next_;
  return ids;
}

Result<int64_t> IdAllocator::Allocate(uint32_t count) {
  if (count == 0) return Status::InvalidArgument("AllocateIds: count must be at least 1");
  std::lock_guard lock(mu_);
  const int64_t first = next_;
  const int64_t end = first + static_cast<int64_t>(count);
  if (end > high_water_) {
    const int64_t high_water = end + block_;
    auto put = store_->Put(keys::kIdKey, std::to_string(high_water));
    if (!put.ok()) return put.status().WithContext("persisting the id high-water mark");
    high_water_ = high_water;
  }
  next_ = end;
  return first;
}

}  // namespace tessera::coord
