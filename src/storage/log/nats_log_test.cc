// NatsLog-specific tests (the shared contract is in log_conformance_test.cc): name escaping,
// connection failures, a nats-server killed with SIGKILL and restarted, foreign writers.

#include "storage/log/nats_log.h"

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "storage/log/log_test_util.h"
#include "storage/log/nats_test_server.h"

namespace tessera::storage {
namespace {

using namespace std::chrono_literals;
using testing::NatsTestServer;
using testing::Numbered;

// Options for a log in its own namespace on `url`.
NatsLogOptions OptionsFor(const std::string& url) {
  static std::atomic<int> next{0};
  const int id = ++next;
  NatsLogOptions options;
  options.url = url;
  options.stream_prefix = Numbered("TN", static_cast<uint64_t>(id)) + "_";
  options.subject_prefix = Numbered("tn.h", static_cast<uint64_t>(id));
  return options;
}

std::unique_ptr<NatsLog> OpenOrDie(const NatsLogOptions& options) {
  auto log = NatsLog::Open(options);
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  return log.ok() ? std::move(log).value() : nullptr;
}

class NatsLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string reason = NatsTestServer::SkipReason(); !reason.empty()) GTEST_SKIP() << reason;
    auto server = NatsTestServer::Shared();
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = *server;
  }
  NatsTestServer* server_ = nullptr;
};

TEST(NatsChannelNameTest, EscapingIsInjectiveAndReversible) {
  const std::vector<std::string> names = {"a", "a.b", "a_b", "a-b", "a..b", "a._b", "a_.b", "A.b", "dml_0.v-1",
                                          "a" + std::string(kMaxChannelNameLength - 1, '.')};
  std::set<std::string> escaped;
  for (const auto& name : names) {
    const std::string e = EscapeChannelName(name);
    EXPECT_EQ(e.size(), name.size());
    EXPECT_EQ(e.find_first_of(".*> \t"), std::string::npos) << e;
    EXPECT_TRUE(escaped.insert(e).second) << name << " collides";
    EXPECT_EQ(UnescapeChannelName(e), name);
  }
  EXPECT_EQ(UnescapeChannelName("a.b"), std::nullopt);  // never produced by the escape
  EXPECT_EQ(UnescapeChannelName("~a"), std::nullopt);   // would start with '.'
  EXPECT_EQ(UnescapeChannelName(""), std::nullopt);
  EXPECT_EQ(UnescapeChannelName("a*b"), std::nullopt);
}

TEST_F(NatsLogTest, LookalikeChannelNamesAreDistinctStreams) {
  auto log = OpenOrDie(OptionsFor(server_->url()));
  ASSERT_NE(log, nullptr);
  const std::vector<std::string> names = {"a.b", "a_b", "a-b", "a..b", "a" + std::string(kMaxChannelNameLength - 1, '.')};
  for (size_t i = 0; i < names.size(); ++i) {
    auto offsets = log->Append(names[i], std::vector<std::string>{Numbered("r", i)});
    ASSERT_TRUE(offsets.ok()) << names[i] << ": " << offsets.status().ToString();
    EXPECT_EQ(*offsets, (std::vector<uint64_t>{0}));
  }
  auto channels = log->ListChannels();
  ASSERT_TRUE(channels.ok()) << channels.status().ToString();
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(*channels, sorted);
  for (const auto& name : names) EXPECT_TRUE(log->DeleteChannel(name).ok());
}

TEST(NatsLogOpenTest, UnreachableServerIsUnavailableFast) {
  // A port that was just free: bind it, note it, close it, so nothing listens there.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  NatsLogOptions options;
  options.url = "nats://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  const auto start = std::chrono::steady_clock::now();
  auto log = NatsLog::Open(options);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kUnavailable) << log.status().ToString();
  EXPECT_NE(log.status().message().find(options.url), std::string::npos) << log.status().message();
}

TEST(NatsLogOpenTest, BadOptionsAreInvalidArgument) {
  NatsLogOptions options;
  EXPECT_EQ(NatsLog::Open(options).status().code(), StatusCode::kInvalidArgument);  // no URL
  options.url = "nats://127.0.0.1:1";
  options.replicas = 0;
  EXPECT_EQ(NatsLog::Open(options).status().code(), StatusCode::kInvalidArgument);
  options.replicas = 1;
  options.stream_prefix = "bad.prefix";
  EXPECT_EQ(NatsLog::Open(options).status().code(), StatusCode::kInvalidArgument);
  options.stream_prefix = "OK_";
  options.subject_prefix = "bad..subject";
  EXPECT_EQ(NatsLog::Open(options).status().code(), StatusCode::kInvalidArgument);
}

TEST(NatsLogOpenTest, JetStreamDisabledIsFailedPrecondition) {
  if (std::string reason = NatsTestServer::SkipReason(); !reason.empty()) GTEST_SKIP() << reason;
  auto server = NatsTestServer::Start(/*jetstream=*/false);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto log = NatsLog::Open(OptionsFor((*server)->url()));
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kFailedPrecondition) << log.status().ToString();
  EXPECT_NE(log.status().message().find("-js"), std::string::npos) << log.status().message();
}

TEST_F(NatsLogTest, RecordOverMaxPayloadIsInvalidArgumentAndWritesNothing) {
  auto log = OpenOrDie(OptionsFor(server_->url()));
  ASSERT_NE(log, nullptr);
  const std::vector<std::string> batch = {"small", std::string(9 << 20, 'x')};  // server max_payload is 8 MiB
  EXPECT_EQ(log->Append("ch", batch).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*log->LastOffset("ch"), std::nullopt);
}

// Two NatsLog instances (as two processes would) appending to one channel: each batch
// still gets contiguous offsets, because a stale expected sequence is detected and the
// batch restarted at the new end.
TEST_F(NatsLogTest, TwoWritersKeepBatchesContiguous) {
  const NatsLogOptions options = OptionsFor(server_->url());
  auto a = OpenOrDie(options);
  auto b = OpenOrDie(options);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  std::vector<std::vector<uint64_t>> got(2);
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      NatsLog& log = w == 0 ? *a : *b;
      for (int i = 0; i < 30; ++i) {
        auto offsets = log.Append("shared", std::vector<std::string>{"x", "y", "z"});
        if (!offsets.ok()) {
          // Tolerated: a batch that lost the race past its first record (kAborted).
          EXPECT_EQ(offsets.status().code(), StatusCode::kAborted) << offsets.status().ToString();
          ++failures;
          continue;
        }
        ASSERT_EQ(offsets->size(), 3u);
        EXPECT_EQ((*offsets)[1], (*offsets)[0] + 1);
        EXPECT_EQ((*offsets)[2], (*offsets)[0] + 2);
        got[w].insert(got[w].end(), offsets->begin(), offsets->end());
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<uint64_t> all;
  for (const auto& v : got) {
    for (uint64_t o : v) EXPECT_TRUE(all.insert(o).second) << "offset " << o << " handed out twice";
  }
  EXPECT_GE(all.size(), 3u * (60 - static_cast<size_t>(failures.load())));
  EXPECT_TRUE(a->DeleteChannel("shared").ok());
}

// kill -9 of the server: acknowledged records survive, the client reconnects on its own,
// appends resume, and a batch retried with its key after the restart is not duplicated.
TEST(NatsLogRestartTest, AcknowledgedRecordsSurviveServerKill) {
  if (std::string reason = NatsTestServer::SkipReason(); !reason.empty()) GTEST_SKIP() << reason;
  auto started = NatsTestServer::Start();
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  NatsTestServer& server = **started;
  NatsLogOptions options = OptionsFor(server.url());
  options.request_timeout = 1s;
  options.reconnect_wait = 100ms;
  auto log = OpenOrDie(options);
  ASSERT_NE(log, nullptr);

  std::vector<uint64_t> keyed;
  for (int i = 0; i < 20; ++i) {
    auto offsets = log->Append("wal", std::vector<std::string>{Numbered("r", 2 * i), Numbered("r", 2 * i + 1)},
                               Numbered("batch-", i));
    ASSERT_TRUE(offsets.ok()) << offsets.status().ToString();
    EXPECT_EQ(*offsets, (std::vector<uint64_t>{2u * i, 2u * i + 1}));
    if (i == 19) keyed = *offsets;
  }
  auto sub = log->Subscribe("wal", 0);
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();

  server.Kill();
  // While the server is down an append fails within about request_timeout.
  const auto t0 = std::chrono::steady_clock::now();
  auto down = log->Append("wal", std::vector<std::string>{"lost?"}, "during-outage");
  EXPECT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable) << down.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);

  ASSERT_TRUE(server.Restart().ok());
  // The client reconnects in the background; retry the same keyed batch until it goes through.
  Result<std::vector<uint64_t>> retried = Status::Unavailable("not tried");
  for (int attempt = 0; attempt < 50 && !retried.ok(); ++attempt) {
    retried = log->Append("wal", std::vector<std::string>{"r38", "r39"}, "batch-19");
    if (!retried.ok()) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_EQ(*retried, keyed);  // the duplicate ack carries the original sequences

  // The outage append may or may not have reached the server; its retry settles it once.
  auto outage_retry = log->Append("wal", std::vector<std::string>{"lost?"}, "during-outage");
  ASSERT_TRUE(outage_retry.ok()) << outage_retry.status().ToString();
  EXPECT_EQ(*outage_retry, (std::vector<uint64_t>{40}));
  auto next = log->Append("wal", std::vector<std::string>{"after"});
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(*next, (std::vector<uint64_t>{41}));

  // A fresh log (new connection) reads everything back; the old subscription resumes too.
  auto fresh = OpenOrDie(options);
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(*fresh->LastOffset("wal"), 41u);
  for (auto* reader : {&*sub, static_cast<std::unique_ptr<Subscription>*>(nullptr)}) {
    std::unique_ptr<Subscription> own;
    Subscription* s = nullptr;
    if (reader != nullptr) {
      s = reader->get();
    } else {
      auto opened = fresh->Subscribe("wal", 0);
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      own = std::move(opened).value();
      s = own.get();
    }
    std::vector<LogRecord> records;
    while (records.size() < 42) {
      auto batch = s->Poll(64, 10s);
      ASSERT_TRUE(batch.ok()) << batch.status().ToString();
      ASSERT_FALSE(batch->empty()) << "stalled after " << records.size() << " records";
      for (auto& r : *batch) records.push_back(std::move(r));
    }
    ASSERT_EQ(records.size(), 42u);
    for (uint64_t i = 0; i < 40; ++i) EXPECT_EQ(records[i], (LogRecord{i, Numbered("r", i)}));
    EXPECT_EQ(records[40], (LogRecord{40, "lost?"}));
    EXPECT_EQ(records[41], (LogRecord{41, "after"}));
  }
}

}  // namespace
}  // namespace tessera::storage
