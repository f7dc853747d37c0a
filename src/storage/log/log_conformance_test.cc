// The Log conformance suite: every case runs against every implementation listed in
// LogImplementations below. To add one (NatsLog), write a harness with the same three
// members as LocalLogHarness and add it to that list.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "storage/log/local_log.h"
#include "storage/log/log.h"
#include "storage/log/log_test_util.h"
#include "storage/log/nats_log.h"
#include "storage/log/nats_test_server.h"

namespace tessera::storage {

/// Harness contract: `static std::string SkipReason()` (empty when the backend is usable
/// here, otherwise why the suite is skipped, e.g. "no NATS server at $TESSERA_NATS_URL");
/// a default constructor that sets up fresh, empty storage; `Open()`, which returns a new
/// Log over that same storage each time (so a test can close and reopen).
class LocalLogHarness {
 public:
  static std::string SkipReason() { return ""; }
  Result<std::unique_ptr<Log>> Open() {
    LocalLogOptions options;
    options.segment_bytes = 4096;  // small, so truncation and reads cross segments
    TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<LocalLog> log, LocalLog::Open(dir_.path(), options));
    return std::unique_ptr<Log>(std::move(log));
  }

 private:
  testing::TempDir dir_;
};

/// NatsLog against the binary's private nats-server (started on first use). Each harness gets
/// its own stream prefix and subject space, so tests never see each other's channels. A
/// missing or broken nats-server makes Open fail with the reason (no skip unless
/// TESSERA_ALLOW_SKIP=1).
class NatsLogHarness {
 public:
  static std::string SkipReason() { return testing::NatsTestServer::SkipReason(); }
  NatsLogHarness() {
    static std::atomic<int> next{0};
    id_ = ++next;
  }
  Result<std::unique_ptr<Log>> Open() {
    TESSERA_ASSIGN_OR_RETURN(testing::NatsTestServer * server, testing::NatsTestServer::Shared());
    NatsLogOptions options;
    options.url = server->url();
    options.stream_prefix = testing::Numbered("TC", static_cast<uint64_t>(id_)) + "_";
    options.subject_prefix = testing::Numbered("tc.h", static_cast<uint64_t>(id_));
    TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<NatsLog> log, NatsLog::Open(options));
    return std::unique_ptr<Log>(std::move(log));
  }

 private:
  int id_ = 0;
};

/// NatsLog over TLS (server certificate checked against the test CA and host name, client
/// certificate verified by the server) with user/password authorization, against the
/// binary's second shared nats-server (NatsTestServer::SharedSecure).
class NatsTlsAuthLogHarness {
 public:
  static std::string SkipReason() { return ""; }
  NatsTlsAuthLogHarness() {
    static std::atomic<int> next{0};
    id_ = ++next;
  }
  Result<std::unique_ptr<Log>> Open() {
    TESSERA_ASSIGN_OR_RETURN(testing::NatsTestServer * server, testing::NatsTestServer::SharedSecure());
    NatsLogOptions options = server->LogOptions();
    options.stream_prefix = testing::Numbered("TS", static_cast<uint64_t>(id_)) + "_";
    options.subject_prefix = testing::Numbered("ts.h", static_cast<uint64_t>(id_));
    TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<NatsLog> log, NatsLog::Open(options));
    return std::unique_ptr<Log>(std::move(log));
  }

 private:
  int id_ = 0;
};

using LogImplementations = ::testing::Types<LocalLogHarness, NatsLogHarness, NatsTlsAuthLogHarness>;

namespace {

using namespace std::chrono_literals;

template <typename Harness>
class LogConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string reason = Harness::SkipReason(); !reason.empty()) GTEST_SKIP() << reason;
    harness_ = std::make_unique<Harness>();
    Reopen();
  }

  void Reopen() {
    log_.reset();
    auto opened = harness_->Open();
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    log_ = std::move(opened).value();
  }

  std::vector<uint64_t> Append(const std::string& channel, const std::vector<std::string>& records,
                               const std::string& key = "") {
    auto offsets = log_->Append(channel, records, key);
    EXPECT_TRUE(offsets.ok()) << offsets.status().ToString();
    return offsets.ok() ? *offsets : std::vector<uint64_t>{};
  }

  std::optional<uint64_t> Last(const std::string& channel) {
    auto last = log_->LastOffset(channel);
    EXPECT_TRUE(last.ok()) << last.status().ToString();
    return last.ok() ? *last : std::nullopt;
  }

  /// Every record from `from` up to the current last offset.
  std::vector<LogRecord> ReadFrom(const std::string& channel, uint64_t from) {
    std::vector<LogRecord> out;
    const std::optional<uint64_t> last = Last(channel);
    if (!last || *last < from) return out;
    auto sub = log_->Subscribe(channel, from);
    EXPECT_TRUE(sub.ok()) << sub.status().ToString();
    if (!sub.ok()) return out;
    while (out.empty() || out.back().offset < *last) {
      auto batch = (*sub)->Poll(64, 5s);
      EXPECT_TRUE(batch.ok()) << batch.status().ToString();
      if (!batch.ok() || batch->empty()) break;
      for (auto& r : *batch) out.push_back(std::move(r));
    }
    return out;
  }

  std::vector<std::string> Payloads(const std::vector<LogRecord>& records) {
    std::vector<std::string> out;
    for (const auto& r : records) out.push_back(r.payload);
    return out;
  }

  std::unique_ptr<Harness> harness_;
  std::unique_ptr<Log> log_;
};

TYPED_TEST_SUITE(LogConformanceTest, LogImplementations);

TYPED_TEST(LogConformanceTest, AppendThenReadBack) {
  EXPECT_EQ(this->Append("ch", {"a", "b", "c"}), (std::vector<uint64_t>{0, 1, 2}));
  EXPECT_EQ(this->Append("ch", {"d", "e"}), (std::vector<uint64_t>{3, 4}));
  const auto records = this->ReadFrom("ch", 0);
  ASSERT_EQ(records.size(), 5u);
  for (uint64_t i = 0; i < 5; ++i) EXPECT_EQ(records[i].offset, i);
  EXPECT_EQ(this->Payloads(records), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
}

// Offsets start at 0 and are dense: LastOffset is the number of records minus one.
TYPED_TEST(LogConformanceTest, OffsetsStartAtZeroAndAreDense) {
  EXPECT_EQ(this->Last("fresh"), std::nullopt);
  auto first = this->log_->FirstOffset("fresh");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, 0u);
  uint64_t expected = 0;
  for (int batch = 1; batch <= 10; ++batch) {
    std::vector<std::string> records(static_cast<size_t>(batch), "x");
    const auto offsets = this->Append("fresh", records);
    ASSERT_EQ(offsets.size(), records.size());
    for (uint64_t off : offsets) EXPECT_EQ(off, expected++);
  }
  EXPECT_EQ(this->Last("fresh"), expected - 1);
}

TYPED_TEST(LogConformanceTest, EmptyBatchWritesNothing) {
  EXPECT_TRUE(this->Append("ch", {}).empty());
  EXPECT_EQ(this->Last("ch"), std::nullopt);
  this->Append("ch", {"a"});
  EXPECT_TRUE(this->Append("ch", {}).empty());
  EXPECT_EQ(this->Last("ch"), 0u);
}

TYPED_TEST(LogConformanceTest, SubscribeFromMiddle) {
  for (int i = 0; i < 40; ++i) this->Append("ch", {testing::Numbered("r", i)});
  const auto records = this->ReadFrom("ch", 17);
  ASSERT_EQ(records.size(), 23u);
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].offset, 17 + i);
    EXPECT_EQ(records[i].payload, testing::Numbered("r", 17 + i));
  }
}

TYPED_TEST(LogConformanceTest, SubscriptionReceivesLaterAppends) {
  this->Append("ch", {"old"});
  auto sub = this->log_->Subscribe("ch", 0);
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  auto first = (*sub)->Next(5s);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, (LogRecord{0, "old"}));

  // Nothing new yet: a short poll times out empty, Next reports DeadlineExceeded.
  auto none = (*sub)->Poll(10, 20ms);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ((*sub)->Next(1ms).status().code(), StatusCode::kDeadlineExceeded);

  std::thread appender([&] {
    std::this_thread::sleep_for(50ms);
    for (int i = 0; i < 20; ++i) this->Append("ch", {testing::Numbered("new", i)});
  });
  std::vector<LogRecord> got;
  while (got.size() < 20) {
    auto batch = (*sub)->Poll(7, 10s);
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    ASSERT_FALSE(batch->empty()) << "timed out after " << got.size() << " records";
    for (auto& r : *batch) got.push_back(std::move(r));
  }
  appender.join();
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], (LogRecord{1 + i, testing::Numbered("new", i)}));
  EXPECT_EQ((*sub)->position(), 21u);
}

TYPED_TEST(LogConformanceTest, SubscribeAtEndSeesOnlyNewRecords) {
  this->Append("ch", {"a", "b"});
  auto sub = this->log_->Subscribe("ch", 2);
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  this->Append("ch", {"c"});
  auto rec = (*sub)->Next(5s);
  ASSERT_TRUE(rec.ok()) << rec.status().ToString();
  EXPECT_EQ(*rec, (LogRecord{2, "c"}));
  // An empty, never-written channel can be tailed from 0.
  auto empty = this->log_->Subscribe("empty", 0);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  this->Append("empty", {"first"});
  rec = (*empty)->Next(5s);
  ASSERT_TRUE(rec.ok()) << rec.status().ToString();
  EXPECT_EQ(*rec, (LogRecord{0, "first"}));
}

TYPED_TEST(LogConformanceTest, SubscribeOutOfRange) {
  this->Append("ch", {"a", "b"});
  EXPECT_EQ(this->log_->Subscribe("ch", 3).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(this->log_->Subscribe("never", 1).status().code(), StatusCode::kOutOfRange);
}

TYPED_TEST(LogConformanceTest, CancelWakesBlockedPoll) {
  auto sub = this->log_->Subscribe("ch", 0);
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  std::atomic<bool> returned{false};
  Status status;
  std::thread poller([&] {
    auto r = (*sub)->Poll(1, 30s);
    status = r.status();
    returned = true;
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(returned.load());
  const auto start = std::chrono::steady_clock::now();
  (*sub)->Cancel();
  poller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(status.code(), StatusCode::kCancelled);
  EXPECT_EQ((*sub)->Poll(1, 0ms).status().code(), StatusCode::kCancelled);
}

TYPED_TEST(LogConformanceTest, SubscriptionOutlivingTheLogIsCancelled) {
  this->Append("ch", {"a"});
  auto sub = this->log_->Subscribe("ch", 1);
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  std::unique_ptr<Subscription> kept = std::move(sub).value();
  this->log_.reset();
  EXPECT_EQ(kept->Poll(1, 100ms).status().code(), StatusCode::kCancelled);
}

TYPED_TEST(LogConformanceTest, ChannelsAreIsolated) {
  EXPECT_EQ(this->Append("alpha", {"a0", "a1"}), (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(this->Append("beta", {"b0"}), (std::vector<uint64_t>{0}));
  EXPECT_EQ(this->Append("alpha", {"a2"}), (std::vector<uint64_t>{2}));
  EXPECT_EQ(this->Payloads(this->ReadFrom("alpha", 0)), (std::vector<std::string>{"a0", "a1", "a2"}));
  EXPECT_EQ(this->Payloads(this->ReadFrom("beta", 0)), (std::vector<std::string>{"b0"}));
  EXPECT_EQ(this->log_->Truncate("beta", 1).code(), StatusCode::kOk);
  EXPECT_EQ(this->Last("alpha"), 2u);
  auto channels = this->log_->ListChannels();
  ASSERT_TRUE(channels.ok()) << channels.status().ToString();
  EXPECT_EQ(*channels, (std::vector<std::string>{"alpha", "beta"}));
}

TYPED_TEST(LogConformanceTest, DeleteChannelRemovesItEntirely) {
  this->Append("gone", {"a", "b"});
  this->Append("kept", {"k"});
  ASSERT_EQ(this->log_->DeleteChannel("gone").code(), StatusCode::kOk);
  auto channels = this->log_->ListChannels();
  ASSERT_TRUE(channels.ok()) << channels.status().ToString();
  EXPECT_EQ(*channels, (std::vector<std::string>{"kept"}));
  EXPECT_EQ(this->log_->DeleteChannel("gone").code(), StatusCode::kOk) << "deleting twice is fine";
  EXPECT_EQ(this->log_->DeleteChannel("never_there").code(), StatusCode::kOk);
  this->Reopen();
  channels = this->log_->ListChannels();
  ASSERT_TRUE(channels.ok());
  EXPECT_EQ(*channels, (std::vector<std::string>{"kept"}));
  EXPECT_EQ(this->Append("gone", {"again"}), (std::vector<uint64_t>{0})) << "a new channel of that name starts over";
  EXPECT_EQ(this->Payloads(this->ReadFrom("kept", 0)), (std::vector<std::string>{"k"}));
}

TYPED_TEST(LogConformanceTest, IdempotentRetryDoesNotDuplicate) {
  const auto first = this->Append("ch", {"x", "y"}, "batch-1");
  EXPECT_EQ(first, (std::vector<uint64_t>{0, 1}));
  this->Append("ch", {"z"}, "batch-2");
  // A retry returns the original offsets and writes nothing, even with other payloads.
  EXPECT_EQ(this->Append("ch", {"x", "y"}, "batch-1"), first);
  EXPECT_EQ(this->Last("ch"), 2u);
  // Keys are per channel.
  EXPECT_EQ(this->Append("other", {"x"}, "batch-1"), (std::vector<uint64_t>{0}));
  // The window survives a restart.
  this->Reopen();
  EXPECT_EQ(this->Append("ch", {"x", "y"}, "batch-1"), first);
  EXPECT_EQ(this->Append("ch", {"z"}, "batch-2"), (std::vector<uint64_t>{2}));
  EXPECT_EQ(this->Append("ch", {"w"}, "batch-3"), (std::vector<uint64_t>{3}));
  EXPECT_EQ(this->Payloads(this->ReadFrom("ch", 0)), (std::vector<std::string>{"x", "y", "z", "w"}));
  // No key, no deduplication.
  EXPECT_EQ(this->Append("ch", {"w"}), (std::vector<uint64_t>{4}));
  EXPECT_EQ(this->Append("ch", {"w"}), (std::vector<uint64_t>{5}));
}

TYPED_TEST(LogConformanceTest, ConcurrentIdempotentRetriesWriteOnce) {
  constexpr int kThreads = 8;
  std::vector<std::vector<uint64_t>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] { results[t] = this->Append("ch", {"p", "q"}, "same-key"); });
  }
  for (auto& th : threads) th.join();
  for (const auto& r : results) EXPECT_EQ(r, (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(this->Last("ch"), 1u);
}

TYPED_TEST(LogConformanceTest, IdempotencyKeyTooLong) {
  const std::string key(kMaxIdempotencyKeyLength + 1, 'k');
  EXPECT_EQ(this->log_->Append("ch", std::vector<std::string>{"a"}, key).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(this->Append("ch", {"a"}, std::string(kMaxIdempotencyKeyLength, 'k')), (std::vector<uint64_t>{0}));
}

TYPED_TEST(LogConformanceTest, TruncateKeepsEverythingFromTheOffset) {
  for (int i = 0; i < 200; ++i) this->Append("ch", {testing::MakePayload(testing::Numbered("r", i), 100)});
  ASSERT_TRUE(this->log_->Truncate("ch", 150).ok());
  auto first = this->log_->FirstOffset("ch");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_LE(*first, 150u);
  EXPECT_EQ(this->Last("ch"), 199u);
  const auto records = this->ReadFrom("ch", 150);
  ASSERT_EQ(records.size(), 50u);
  EXPECT_EQ(records.front().payload, testing::MakePayload("r150", 100));
  if (*first > 0) {
    EXPECT_EQ(this->log_->Subscribe("ch", 0).status().code(), StatusCode::kOutOfRange);
  }
  // Truncation survives a restart, and appends continue after the last offset.
  this->Reopen();
  auto reopened_first = this->log_->FirstOffset("ch");
  ASSERT_TRUE(reopened_first.ok());
  EXPECT_LE(*reopened_first, 150u);
  EXPECT_EQ(this->Append("ch", {"next"}), (std::vector<uint64_t>{200}));
  // Truncating everything written so far is allowed; past the end is not.
  EXPECT_TRUE(this->log_->Truncate("ch", 201).ok());
  EXPECT_EQ(this->Last("ch"), 200u);
  EXPECT_EQ(this->log_->Truncate("ch", 202).code(), StatusCode::kOutOfRange);
}

TYPED_TEST(LogConformanceTest, BadChannelNamesAreRejected) {
  const std::vector<std::string> bad = {"",   ".",     "..",  ".hidden", "a/b", "../x", "a b",
                                        "ü",  "tab\t", "a\\b", std::string("nul\0x", 5),
                                        std::string(kMaxChannelNameLength + 1, 'c')};
  const std::vector<std::string> records = {"r"};
  for (const std::string& name : bad) {
    SCOPED_TRACE(testing::Numbered("name of ", name.size()) + " bytes");
    const auto append = this->log_->Append(name, records);
    EXPECT_EQ(append.status().code(), StatusCode::kInvalidArgument);
    if (!name.empty() && name.find_first_of(std::string("\0\t/\\ \xc3", 6)) == std::string::npos &&
        name.size() <= kMaxChannelNameLength) {
      EXPECT_NE(append.status().message().find(name), std::string::npos) << append.status().message();
    }
    EXPECT_EQ(this->log_->Subscribe(name, 0).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(this->log_->Truncate(name, 0).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(this->log_->LastOffset(name).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(this->log_->FirstOffset(name).status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_NE(ValidateChannelName("a/b").message().find("\"a/b\""), std::string::npos);
  for (const std::string& good : {std::string("a"), std::string("dml_0.v-1"), std::string("A..b"),
                                  std::string(kMaxChannelNameLength, 'z')}) {
    EXPECT_TRUE(ValidateChannelName(good).ok()) << good;
    EXPECT_EQ(this->Append(good, {"r"}), (std::vector<uint64_t>{0}));
  }
  auto channels = this->log_->ListChannels();
  ASSERT_TRUE(channels.ok());
  EXPECT_EQ(channels->size(), 4u);
}

TYPED_TEST(LogConformanceTest, LargeRecords) {
  const std::string big = testing::MakePayload("big", 3 << 20);
  const std::string medium = testing::MakePayload("medium", 1 << 20);
  EXPECT_EQ(this->Append("ch", {"small", big, medium}), (std::vector<uint64_t>{0, 1, 2}));
  EXPECT_EQ(this->Append("ch", {big}), (std::vector<uint64_t>{3}));
  auto records = this->ReadFrom("ch", 0);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].payload, "small");
  EXPECT_TRUE(records[1].payload == big);
  EXPECT_TRUE(records[2].payload == medium);
  EXPECT_TRUE(records[3].payload == big);
  this->Reopen();
  records = this->ReadFrom("ch", 1);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_TRUE(records[0].payload == big);
}

TYPED_TEST(LogConformanceTest, RecordsSurviveReopen) {
  this->Append("ch", {"a", "b"});
  this->Append("ch", {"c"});
  this->Reopen();
  EXPECT_EQ(this->Last("ch"), 2u);
  EXPECT_EQ(this->Payloads(this->ReadFrom("ch", 0)), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(this->Append("ch", {"d"}), (std::vector<uint64_t>{3}));
}

TYPED_TEST(LogConformanceTest, ConcurrentAppendersGetDenseDistinctOffsets) {
  constexpr int kThreads = 8;
  constexpr int kAppends = 40;
  std::vector<std::vector<std::pair<uint64_t, std::string>>> written(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppends; ++i) {
        const std::vector<std::string> batch = {testing::Numbered("t", t) + testing::Numbered("-", i) + "a",
                                                testing::Numbered("t", t) + testing::Numbered("-", i) + "b"};
        const auto offsets = this->Append("ch", batch);
        ASSERT_EQ(offsets.size(), 2u);
        EXPECT_EQ(offsets[1], offsets[0] + 1);  // a batch is contiguous
        written[t].emplace_back(offsets[0], batch[0]);
        written[t].emplace_back(offsets[1], batch[1]);
      }
    });
  }
  for (auto& th : threads) th.join();
  const auto records = this->ReadFrom("ch", 0);
  ASSERT_EQ(records.size(), static_cast<size_t>(kThreads * kAppends * 2));
  std::set<uint64_t> seen;
  for (const auto& per_thread : written) {
    uint64_t previous = 0;
    for (size_t i = 0; i < per_thread.size(); ++i) {
      const auto& [offset, payload] = per_thread[i];
      EXPECT_TRUE(seen.insert(offset).second) << "offset " << offset << " handed out twice";
      if (i > 0) {
        EXPECT_GT(offset, previous);  // one thread's appends stay in its order
      }
      previous = offset;
      ASSERT_LT(offset, records.size());
      EXPECT_EQ(records[offset].payload, payload);
    }
  }
}

}  // namespace
}  // namespace tessera::storage
