#include "common/crash_point.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

namespace tessera::crash_point {
namespace {

// Each death test runs its statement in a child process, so arming there leaves this
// process's sites unarmed.
Status InitWith(const char* value) {
  ::setenv("TESSERA_CRASHPOINT", value, 1);
  Status s = InitFromEnvironment();
  ::unsetenv("TESSERA_CRASHPOINT");
  return s;
}

TEST(CrashPointTest, RejectsMalformedValuesNamingThem) {
  for (const char* bad : {"datanode.flush_before_commit", "datanode.flush_before_commit:0",
                          "datanode.flush_before_commit:x", "datanode.flush_before_commit:2x", "no.such_site:1",
                          ":1"}) {
    Status s = InitWith(bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find(std::string("got '") + bad + "'"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("coord.gc_after_delete"), std::string::npos) << "the known sites are listed";
  }
  EXPECT_FALSE(internal::armed);
}

TEST(CrashPointTest, UnsetIsOkAndUnarmed) {
  ::unsetenv("TESSERA_CRASHPOINT");
  EXPECT_TRUE(InitFromEnvironment().ok());
  EXPECT_FALSE(internal::armed);
  Reach(Site::kFlushBeforeCommit);  // nothing happens
}

TEST(CrashPointTest, KillsAtTheNthHitOfItsSiteOnly) {
  EXPECT_EXIT(
      {
        if (!InitWith("datanode.flush_before_commit:3").ok()) std::exit(1);
        Reach(Site::kFlushBeforeCommit);
        Reach(Site::kFlushBeforeCommit);
        for (int i = 0; i < 10; ++i) Reach(Site::kFlushMidUpload);  // another site: not counted
        Reach(Site::kFlushBeforeCommit);
        std::exit(0);
      },
      ::testing::KilledBySignal(SIGKILL), "crash point datanode.flush_before_commit hit \\(3\\)");
}

TEST(CrashPointTest, EverySiteHasADistinctName) {
  for (size_t i = 0; i < kSiteNames.size(); ++i) {
    for (size_t j = i + 1; j < kSiteNames.size(); ++j) EXPECT_NE(kSiteNames[i], kSiteNames[j]);
  }
  EXPECT_EQ(kSiteNames.size(), static_cast<size_t>(Site::kGcAfterDelete) + 1);
}

}  // namespace
}  // namespace tessera::crash_point
