#include "storage/object/fault_injecting_object_store.h"

#include <gtest/gtest.h>

#include "storage/object/memory_object_store.h"

namespace tessera::storage {
namespace {

class FaultInjectingTest : public ::testing::Test {
 protected:
  FaultInjectingTest() : store_(backend_) {}
  MemoryObjectStore backend_;
  FaultInjectingObjectStore store_;
};

TEST_F(FaultInjectingTest, PassesThroughAndCounts) {
  ASSERT_TRUE(store_.Put("a", "1").ok());
  EXPECT_EQ("1", store_.Get("a").value());
  EXPECT_TRUE(store_.Head("a").ok());
  EXPECT_TRUE(store_.List({}).ok());
  EXPECT_EQ(1u, store_.calls(ObjectOp::kPut));
  EXPECT_EQ(1u, store_.calls(ObjectOp::kGet));
  EXPECT_EQ(1u, store_.calls(ObjectOp::kHead));
  EXPECT_EQ(1u, store_.calls(ObjectOp::kList));
  EXPECT_EQ(0u, store_.faults_injected());
}

TEST_F(FaultInjectingTest, FailsSelectedCallsAfterSkipForTimes) {
  ASSERT_TRUE(backend_.Put("seg/a", "x").ok());
  ASSERT_TRUE(backend_.Put("other", "y").ok());
  FaultRule rule;
  rule.op = ObjectOp::kGet;
  rule.key_prefix = "seg/";
  rule.error = Status::Unavailable("boom");
  rule.skip = 1;
  rule.times = 2;
  store_.AddRule(rule);
  EXPECT_TRUE(store_.Get("seg/a").ok());    // skipped
  EXPECT_EQ(StatusCode::kUnavailable, store_.Get("seg/a").status().code());
  EXPECT_TRUE(store_.Get("other").ok());    // prefix does not match
  EXPECT_EQ(StatusCode::kUnavailable, store_.Get("seg/a").status().code());
  EXPECT_TRUE(store_.Get("seg/a").ok());    // exhausted
  EXPECT_EQ(2u, store_.faults_injected());
  store_.ClearRules();
}

TEST_F(FaultInjectingTest, FailBeforeDoesNotWriteFailAfterDoes) {
  FaultRule before;
  before.op = ObjectOp::kPut;
  before.times = 1;
  store_.AddRule(before);
  EXPECT_FALSE(store_.Put("k", "v").ok());
  EXPECT_EQ(StatusCode::kNotFound, backend_.Head("k").status().code());
  store_.ClearRules();
  FaultRule after = before;
  after.action = FaultRule::Action::kFailAfter;
  store_.AddRule(after);
  EXPECT_FALSE(store_.Put("k", "v").ok());
  EXPECT_EQ("v", backend_.Get("k").value()) << "the write landed; only the ack was lost";
}

TEST_F(FaultInjectingTest, CorruptsReadsAndWrites) {
  ASSERT_TRUE(backend_.Put("k", "abcdef").ok());
  FaultRule corrupt;
  corrupt.op = ObjectOp::kGet;
  corrupt.action = FaultRule::Action::kCorrupt;
  corrupt.times = 1;
  store_.AddRule(corrupt);
  Result<std::string> bad = store_.Get("k");
  ASSERT_TRUE(bad.ok());
  EXPECT_NE("abcdef", *bad);
  EXPECT_EQ(6u, bad->size());
  EXPECT_EQ("abcdef", store_.Get("k").value());
  corrupt.op = ObjectOp::kPut;
  store_.AddRule(corrupt);
  ASSERT_TRUE(store_.Put("w", "abcdef").ok());
  EXPECT_NE("abcdef", backend_.Get("w").value());
}

TEST_F(FaultInjectingTest, Delays) {
  ASSERT_TRUE(backend_.Put("k", "v").ok());
  FaultRule delay;
  delay.op = ObjectOp::kHead;
  delay.action = FaultRule::Action::kDelay;
  delay.delay = std::chrono::milliseconds(50);
  store_.AddRule(delay);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(store_.Head("k").ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
}

}  // namespace
}  // namespace tessera::storage
