#include "coord/tso.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "coord/coord_test_util.h"
#include "coord/meta_keys.h"
#include "storage/meta/sqlite_meta_store.h"

namespace tessera::coord {
namespace {

using testing::ScratchDir;

class TsoTest : public ::testing::Test {
 protected:
  void SetUp() override { OpenStore(); }
  void OpenStore() {
    store_.reset();
    auto store = storage::SqliteMetaStore::Open(dir_.path() / "meta.db");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  int64_t StoredHighWater(std::string_view key) {
    auto v = ReadCounter(store_.get(), key, -1);
    EXPECT_TRUE(v.ok());
    return v.ok() ? *v : -1;
  }

  ScratchDir dir_;
  std::unique_ptr<storage::SqliteMetaStore> store_;
};

TEST_F(TsoTest, StrictlyIncreasingWithThePhysicalClock) {
  auto tso = TimestampOracle::Open(store_.get());
  ASSERT_TRUE(tso.ok());
  uint64_t last = 0;
  const int64_t before = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  for (int i = 0; i < 10000; ++i) {
    auto ts = (*tso)->Allocate();
    ASSERT_TRUE(ts.ok());
    ASSERT_GT(*ts, last);
    last = *ts;
  }
  EXPECT_GE(PhysicalMs(last), before);
  // The persisted mark is ahead of everything handed out.
  EXPECT_GT(StoredHighWater(keys::kTsoKey), PhysicalMs(last));
}

TEST_F(TsoTest, UniqueAcrossThreads) {
  auto tso = TimestampOracle::Open(store_.get());
  ASSERT_TRUE(tso.ok());
  std::mutex mu;
  std::set<uint64_t> all;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      std::vector<uint64_t> mine;
      for (int i = 0; i < 2000; ++i) mine.push_back(*(*tso)->Allocate());
      for (size_t i = 1; i < mine.size(); ++i) EXPECT_GT(mine[i], mine[i - 1]);
      std::lock_guard lock(mu);
      all.insert(mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(all.size(), 8000u);
}

TEST_F(TsoTest, FrozenClockUsesLogicalAndOverflowsIntoPhysical) {
  const int64_t now = 1'700'000'000'000;
  auto tso = TimestampOracle::Open(store_.get(), std::chrono::seconds(3), [now] { return now; });
  ASSERT_TRUE(tso.ok());
  auto first = (*tso)->Allocate();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, ComposeTimestamp(now, 0));
  uint64_t last = *first;
  for (uint64_t i = 1; i <= kMaxLogical + 5; ++i) {
    auto ts = (*tso)->Allocate();
    ASSERT_TRUE(ts.ok());
    ASSERT_GT(*ts, last);
    last = *ts;
  }
  // 2^18 + 5 timestamps at one frozen millisecond: the physical part moved on by one.
  EXPECT_EQ(PhysicalMs(last), now + 1);
  EXPECT_EQ(last & kMaxLogical, 4u);
}

TEST_F(TsoTest, ClockGoingBackwardsNeverGoesBackwards) {
  std::atomic<int64_t> clock{2'000'000'000'000};
  auto tso = TimestampOracle::Open(store_.get(), std::chrono::seconds(3), [&] { return clock.load(); });
  ASSERT_TRUE(tso.ok());
  const uint64_t a = *(*tso)->Allocate();
  clock = 1'000'000'000'000;
  const uint64_t b = *(*tso)->Allocate();
  EXPECT_GT(b, a);
  EXPECT_EQ(PhysicalMs(b), PhysicalMs(a));
}

TEST_F(TsoTest, MonotonicAcrossReopenEvenWithAClockBehind) {
  std::atomic<int64_t> clock{3'000'000'000'000};
  uint64_t last = 0;
  {
    auto tso = TimestampOracle::Open(store_.get(), std::chrono::seconds(3), [&] { return clock.load(); });
    ASSERT_TRUE(tso.ok());
    // Run the clock past the first window so the mark has to move forward.
    for (int i = 0; i < 100; ++i) {
      clock += 100;
      last = *(*tso)->Allocate();
    }
  }
  OpenStore();
  clock = 1'000;  // the new process's clock is far behind
  auto tso = TimestampOracle::Open(store_.get(), std::chrono::seconds(3), [&] { return clock.load(); });
  ASSERT_TRUE(tso.ok());
  EXPECT_GT(*(*tso)->Allocate(), last);
}

TEST_F(TsoTest, DamagedHighWaterIsDataLoss) {
  ASSERT_TRUE(store_->Put(keys::kTsoKey, "12ab").ok());
  auto tso = TimestampOracle::Open(store_.get());
  ASSERT_FALSE(tso.ok());
  EXPECT_EQ(tso.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(tso.status().message().find("tessera/tso"), std::string::npos);
}

TEST_F(TsoTest, IdsAreConsecutiveAndNeverReusedAcrossReopen) {
  std::set<int64_t> seen;
  int64_t last_end = 0;
  {
    auto ids = IdAllocator::Open(store_.get(), /*block=*/10);
    ASSERT_TRUE(ids.ok());
    EXPECT_EQ((*ids)->Allocate(0).status().code(), StatusCode::kInvalidArgument);
    for (uint32_t count : {1u, 5u, 25u, 3u}) {
      auto first = (*ids)->Allocate(count);
      ASSERT_TRUE(first.ok());
      EXPECT_GE(*first, 1);
      if (last_end != 0) {
        EXPECT_EQ(*first, last_end);
      }
      for (uint32_t i = 0; i < count; ++i) EXPECT_TRUE(seen.insert(*first + i).second);
      last_end = *first + count;
    }
  }
  OpenStore();
  auto ids = IdAllocator::Open(store_.get(), 10);
  ASSERT_TRUE(ids.ok());
  for (int i = 0; i < 50; ++i) {
    auto id = (*ids)->Allocate(1);
    ASSERT_TRUE(id.ok());
    EXPECT_TRUE(seen.insert(*id).second) << *id;
    EXPECT_GE(*id, last_end);
  }
}

}  // namespace
}  // namespace tessera::coord
