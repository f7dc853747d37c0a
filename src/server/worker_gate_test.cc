#include "server/worker_gate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace tessera::server {
namespace {

using namespace std::chrono_literals;

// Runs EnterWait on a thread; entered() tells whether it got past the gate.
class Entrant {
 public:
  explicit Entrant(WorkerGate& gate) : thread_([this, &gate] { result_ = gate.EnterWait() ? 1 : 2; }) {}
  ~Entrant() { thread_.join(); }
  // 0 while parked, 1 once let in, 2 when refused (stopping).
  int result() const { return result_.load(); }
  bool BecomesResult(int want, std::chrono::milliseconds within = 2000ms) const {
    const auto deadline = std::chrono::steady_clock::now() + within;
    while (result() != want && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
    return result() == want;
  }

 private:
  std::atomic<int> result_{0};
  std::thread thread_;
};

TEST(WorkerGateTest, OneWorkerInPlayPerCpu) {
  WorkerGate gate(4);
  gate.SetCpus(1);
  ASSERT_TRUE(gate.EnterWait());  // worker 0 waits for events
  Entrant second(gate);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(second.result(), 0) << "the one CPU is taken by the waiting worker";
  gate.StartWork(0);  // worker 0 got a request: still in play, the other stays parked
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(second.result(), 0);
  EXPECT_EQ(gate.running(), 1u);
  gate.FinishWork(0);  // no wake-up: worker 0 is expected to come back
  ASSERT_TRUE(gate.EnterWait());
  EXPECT_EQ(gate.waiting(), 1u);
  gate.Stop();
  EXPECT_TRUE(second.BecomesResult(2));
}

TEST(WorkerGateTest, ARequestPresumedBlockedLetsAParkedWorkerIn) {
  WorkerGate gate(2);
  gate.SetCpus(1);
  ASSERT_TRUE(gate.EnterWait());
  gate.StartWork(0);
  Entrant second(gate);
  EXPECT_TRUE(gate.Monitor(1h));  // a young request: nothing changes
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(second.result(), 0);
  EXPECT_TRUE(gate.Monitor(5ms)) << "a worker is working";
  EXPECT_TRUE(second.BecomesResult(1)) << "the blocked request no longer holds the CPU";
  EXPECT_EQ(gate.running(), 0u);
  EXPECT_EQ(gate.waiting(), 1u);
  gate.FinishWork(0);  // the blocked one ends: its place was given away already
  EXPECT_EQ(gate.running(), 0u);
  gate.StartWork(1);
  gate.FinishWork(1);
  EXPECT_FALSE(gate.Monitor(5ms)) << "nobody works";
  gate.Stop();
}

TEST(WorkerGateTest, MoreCpusLetParkedWorkersIn) {
  WorkerGate gate(3);
  gate.SetCpus(1);
  ASSERT_TRUE(gate.EnterWait());
  Entrant second(gate);
  Entrant third(gate);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(second.result() + third.result(), 0);
  gate.SetCpus(3);
  EXPECT_TRUE(second.BecomesResult(1));
  EXPECT_TRUE(third.BecomesResult(1));
  EXPECT_EQ(gate.waiting(), 3u);
  gate.Stop();
  EXPECT_FALSE(gate.EnterWait());
}

}  // namespace
}  // namespace tessera::server
