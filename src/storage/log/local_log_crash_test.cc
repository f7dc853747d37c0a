// Crash test: a child process appends to a LocalLog from several threads and reports each
// acknowledged batch through a pipe the moment Append returns; the parent SIGKILLs it at a
// random moment (during recovery, mid-append, mid-fsync, ...), many times. Restarted
// children re-send their last acknowledged batches with the same idempotency keys. At the
// end every acknowledged batch must be present at its acknowledged offset, in order, exactly
// once, and every batch all-or-nothing.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "storage/log/local_log.h"
#include "storage/log/log_test_util.h"

namespace tessera::storage {
namespace {

using namespace std::chrono_literals;

constexpr int kThreads = 4;
constexpr int kIterations = 40;
constexpr char kChannel[] = "crash";

// What the child writes to the pipe per acknowledged batch (well under PIPE_BUF, so atomic).
struct Ack {
  uint32_t thread;
  uint32_t seq;
  uint64_t first_offset;
  uint64_t count;
};

size_t BatchSize(uint32_t seq) { return 1 + seq % 3; }

std::string Payload(uint32_t thread, uint32_t seq, size_t idx) {
  char head[64];
  std::snprintf(head, sizeof(head), "t%u s%u r%zu|", thread, seq, idx);
  // Mostly small records, with an occasional large one so that a kill can land inside a
  // multi-page write and leave a torn tail behind.
  const size_t size = (seq % 16 == 5 && idx == 0) ? (128u << 10) : 64 + (seq * 37 + idx * 101) % 900;
  return testing::MakePayload(head, size);
}

bool ParsePayload(const std::string& payload, uint32_t* thread, uint32_t* seq, size_t* idx) {
  return std::sscanf(payload.c_str(), "t%u s%u r%zu|", thread, seq, idx) == 3;
}

[[noreturn]] void RunChild(const std::string& dir, const std::vector<uint32_t>& start, int ack_fd) {
  LocalLogOptions options;
  options.segment_bytes = 64 << 10;  // roll often, so kills also land around rolls
  auto log = LocalLog::Open(dir, options);
  if (!log.ok()) {
    std::fprintf(stderr, "child: %s\n", log.status().ToString().c_str());
    ::_exit(2);
  }
  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (uint32_t seq = start[t];; ++seq) {
        std::vector<std::string> batch;
        for (size_t i = 0; i < BatchSize(seq); ++i) batch.push_back(Payload(t, seq, i));
        const std::string key = testing::Numbered("t", t) + testing::Numbered("-s", seq);
        auto offsets = (*log)->Append(kChannel, batch, key);
        if (!offsets.ok()) {
          std::fprintf(stderr, "child: %s\n", offsets.status().ToString().c_str());
          ::_exit(3);
        }
        const Ack ack{t, seq, offsets->front(), offsets->size()};
        if (::write(ack_fd, &ack, sizeof(ack)) != sizeof(ack)) ::_exit(4);
      }
    });
  }
  for (auto& th : threads) th.join();
  ::_exit(0);
}

class CrashTest : public ::testing::Test {
 protected:
  // Checks the whole log against the acknowledgements; returns per-thread the highest seq present.
  void Verify(std::vector<uint32_t>* present_next) {
    auto log = LocalLog::Open(dir_.path());
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    auto last = (*log)->LastOffset(kChannel);
    ASSERT_TRUE(last.ok()) << last.status().ToString();
    std::vector<LogRecord> records;
    if (last->has_value()) {
      auto sub = (*log)->Subscribe(kChannel, 0);
      ASSERT_TRUE(sub.ok()) << sub.status().ToString();
      while (records.size() <= **last) {
        auto batch = (*sub)->Poll(1000, 5s);
        ASSERT_TRUE(batch.ok()) << batch.status().ToString();
        ASSERT_FALSE(batch->empty());
        for (auto& r : *batch) records.push_back(std::move(r));
      }
    }
    // Dense offsets, whole batches, per-thread seqs consecutive from 0 (each exactly once).
    std::vector<uint32_t> next_seq(kThreads, 0);
    for (size_t i = 0; i < records.size();) {
      ASSERT_EQ(records[i].offset, i);
      uint32_t t = 0, seq = 0;
      size_t idx = 0;
      ASSERT_TRUE(ParsePayload(records[i].payload, &t, &seq, &idx)) << "offset " << i;
      ASSERT_LT(t, static_cast<uint32_t>(kThreads));
      ASSERT_EQ(seq, next_seq[t]) << "thread " << t << " at offset " << i << ": duplicate or gap";
      for (size_t j = 0; j < BatchSize(seq); ++j, ++i) {
        ASSERT_LT(i, records.size()) << "partial batch at the end";
        ASSERT_EQ(records[i].payload, Payload(t, seq, j)) << "offset " << i;
      }
      ++next_seq[t];
    }
    // Every acknowledged batch is where its acknowledgement said.
    for (const auto& [key, ack] : acked_) {
      ASSERT_LT(ack.first_offset + ack.count - 1, records.size())
          << "acknowledged batch t" << ack.thread << " s" << ack.seq << " lost";
      ASSERT_EQ(ack.count, BatchSize(ack.seq));
      ASSERT_EQ(records[ack.first_offset].payload, Payload(ack.thread, ack.seq, 0));
    }
    total_records_ = records.size();
    *present_next = next_seq;
  }

  testing::TempDir dir_;
  std::map<std::pair<uint32_t, uint32_t>, Ack> acked_;
  size_t total_records_ = 0;
};

TEST_F(CrashTest, AcknowledgedRecordsSurviveSigkill) {
  uint64_t seed = 20240601;
  if (const char* env = std::getenv("TESSERA_CRASH_SEED")) seed = std::strtoull(env, nullptr, 10);
  std::mt19937_64 rng(seed);
  RecordProperty("seed", std::to_string(seed));
  std::vector<uint32_t> start(kThreads, 0);
  std::vector<uint32_t> max_acked(kThreads, 0);
  std::vector<bool> any_acked(kThreads, false);
  int retried_acks = 0;

  for (int iter = 0; iter < kIterations; ++iter) {
    SCOPED_TRACE(testing::Numbered("iteration ", iter) + testing::Numbered(" seed ", seed));
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      RunChild(dir_.path(), start, fds[1]);
    }
    ::close(fds[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(5, 180)(rng)));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int wstatus = 0;
    ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited on its own with status " << WEXITSTATUS(wstatus);

    Ack ack{};
    while (::read(fds[0], &ack, sizeof(ack)) == static_cast<ssize_t>(sizeof(ack))) {
      auto [it, inserted] = acked_.try_emplace({ack.thread, ack.seq}, ack);
      if (!inserted) {
        // A retried batch must be answered with its original offsets.
        ASSERT_EQ(it->second.first_offset, ack.first_offset) << "t" << ack.thread << " s" << ack.seq;
        ASSERT_EQ(it->second.count, ack.count);
        ++retried_acks;
      }
      if (!any_acked[ack.thread] || ack.seq > max_acked[ack.thread]) max_acked[ack.thread] = ack.seq;
      any_acked[ack.thread] = true;
    }
    ::close(fds[0]);
    // Next child re-sends each thread's last two acknowledged batches (and whatever was in
    // flight), which idempotency must answer without writing them again.
    for (int t = 0; t < kThreads; ++t) start[t] = any_acked[t] ? (max_acked[t] >= 1 ? max_acked[t] - 1 : 0) : 0;

    if (iter % 8 == 7) {
      std::vector<uint32_t> present;
      Verify(&present);
      if (HasFatalFailure()) return;
    }
  }
  std::vector<uint32_t> present;
  Verify(&present);
  if (HasFatalFailure()) return;
  RecordProperty("acknowledged_batches", static_cast<int>(acked_.size()));
  RecordProperty("records", static_cast<int>(total_records_));
  RecordProperty("retried_acks", retried_acks);
  EXPECT_GT(acked_.size(), 100u) << "too few acknowledged appends to mean anything";
  EXPECT_GT(retried_acks, 0) << "no retry was deduplicated";
  std::printf("crash test: %d kills, %zu acknowledged batches, %zu records, %d deduplicated retries\n",
              kIterations, acked_.size(), total_records_, retried_acks);
}

}  // namespace
}  // namespace tessera::storage
