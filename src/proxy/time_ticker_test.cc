#include "proxy/time_ticker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <optional>
#include <thread>

namespace tessera::proxy::internal {
namespace {

/// A monotonic timestamp source, as the coordinator's TSO is.
TimeTicker::Allocate Counter(std::atomic<uint64_t>& next) {
  return [&next]() -> Result<uint64_t> { return next.fetch_add(1) + 1; };
}

/// The ticks due (none when the source failed, which these tests' sources do not).
std::vector<TimeTicker::Tick> Due(TimeTicker& ticker) {
  auto due = ticker.Due();
  EXPECT_TRUE(due.ok()) << due.status().ToString();
  std::vector<TimeTicker::Tick> ticks;
  if (due.ok()) ticks = std::move(due).value();
  return ticks;
}

TEST(TimeTickerTest, TicksFollowWritesAndNeverPassOneInFlight) {
  std::atomic<uint64_t> clock{100};
  TimeTicker ticker(Counter(clock));
  EXPECT_TRUE(Due(ticker).empty()) << "nothing written, nothing due";

  std::optional<TimeTicker::Write> write = ticker.Begin(7, {"c7_s0", "c7_s1"}).value();
  EXPECT_EQ(write->timestamp(), 101u);
  auto ticks = Due(ticker);
  ASSERT_EQ(ticks.size(), 2u);
  for (const auto& tick : ticks) {
    EXPECT_EQ(tick.collection_id, 7);
    EXPECT_EQ(tick.timestamp, 101u) << tick.channel << ": held back by the write in flight";
  }
  write.reset();  // its appends returned
  ticks = Due(ticker);
  ASSERT_EQ(ticks.size(), 2u) << "still due after a tick that the write held back";
  EXPECT_GT(ticks[0].timestamp, 101u);
  EXPECT_TRUE(Due(ticker).empty());

  TimeTicker::Write other = ticker.Begin(8, {"c8_s0"}).value();
  TimeTicker::Write moved = std::move(other);  // still one write
  ticks = Due(ticker);
  ASSERT_EQ(ticks.size(), 1u);
  EXPECT_EQ(ticks[0].channel, "c8_s0");
  EXPECT_EQ(ticks[0].timestamp, moved.timestamp());
}

TEST(TimeTickerTest, AllocationErrorsComeBack) {
  TimeTicker ticker([]() -> Result<uint64_t> { return Status::Unavailable("tso down"); });
  EXPECT_EQ(ticker.Begin(1, {"c1_s0"}).status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Due(ticker).empty());
}

// The promise itself, under concurrency: writers append records to shared channels while a
// ticker appends ticks; in every channel, no record after a tick has a smaller timestamp.
TEST(TimeTickerTest, NoRecordAfterATickIsOlderThanIt) {
  std::atomic<uint64_t> clock{0};
  TimeTicker ticker(Counter(clock));
  struct Entry {
    bool tick;
    uint64_t timestamp;
  };
  std::mutex log_mu;
  std::map<std::string, std::vector<Entry>> log;
  auto append = [&](const std::string& channel, Entry entry) {
    std::lock_guard<std::mutex> l(log_mu);
    log[channel].push_back(entry);
  };
  const std::vector<std::string> channels = {"a", "b", "c"};
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 3000; ++i) {
        std::vector<std::string> mine = {channels[(w + i) % 3], channels[(w + i + 1) % 3]};
        TimeTicker::Write write = ticker.Begin(1, mine).value();
        if (i % 7 == 0) std::this_thread::yield();  // between allocation and append
        for (const std::string& channel : mine) append(channel, {false, write.timestamp()});
      }
    });
  }
  std::thread ticking([&] {
    while (!stop) {
      for (const auto& tick : Due(ticker)) append(tick.channel, {true, tick.timestamp});
      std::this_thread::yield();
    }
  });
  for (auto& t : writers) t.join();
  stop = true;
  ticking.join();
  for (const auto& tick : Due(ticker)) append(tick.channel, {true, tick.timestamp});

  size_t ticks = 0;
  for (const auto& [channel, entries] : log) {
    uint64_t promised = 0;
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].tick) {
        promised = std::max(promised, entries[i].timestamp);
        ++ticks;
      } else {
        ASSERT_GE(entries[i].timestamp, promised) << channel << "[" << i << "] is older than a tick before it";
      }
    }
  }
  EXPECT_GT(ticks, 3u);
}

}  // namespace
}  // namespace tessera::proxy::internal
