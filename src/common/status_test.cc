#include "common/status.h"

#include <gtest/gtest.h>

#include <memory>

#include "common/result.h"

namespace tessera {
namespace {

TEST(Status, OkIsCheapAndEmpty) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_EQ(sizeof(Status), sizeof(void*));
}

TEST(Status, ErrorCarriesCodeAndMessage) {
  Status s = Status::DataLoss("bad checksum at offset 42");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_EQ(s.ToString(), "DATA_LOSS: bad checksum at offset 42");
  Status copy = s;
  EXPECT_EQ(copy, s);
  EXPECT_EQ(s.WithContext("segment 7").message(), "segment 7: bad checksum at offset 42");
}

TEST(Status, CodesMatchGrpcNumbering) {
  EXPECT_EQ(static_cast<int>(StatusCode::kInvalidArgument), 3);
  EXPECT_EQ(static_cast<int>(StatusCode::kNotFound), 5);
  EXPECT_EQ(static_cast<int>(StatusCode::kUnavailable), 14);
  EXPECT_EQ(static_cast<int>(StatusCode::kDataLoss), 15);
}

Result<int> ParsePositive(int x) {
  if (x <= 0) return Status::InvalidArgument("x must be positive");
  return x;
}

Status UseMacros(int x, int* out) {
  TESSERA_ASSIGN_OR_RETURN(int v, ParsePositive(x));
  TESSERA_RETURN_IF_ERROR(v > 100 ? Status::OutOfRange("too big") : Status::OK());
  *out = v;
  return Status::OK();
}

TEST(Result, HoldsValueOrError) {
  auto good = ParsePositive(5);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 5);
  auto bad = ParsePositive(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(Result, MacrosPropagate) {
  int out = 0;
  EXPECT_TRUE(UseMacros(7, &out).ok());
  EXPECT_EQ(out, 7);
  EXPECT_EQ(UseMacros(-3, &out).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(UseMacros(300, &out).code(), StatusCode::kOutOfRange);
}

TEST(Result, MoveOnlyValue) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(3);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 3);
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  auto bad = ParsePositive(0);
  EXPECT_DEATH((void)bad.value(), "x must be positive");
}

}  // namespace
}  // namespace tessera
