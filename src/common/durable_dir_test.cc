// What CreateDirectoriesDurably creates and refuses. That the new entries survive a power
// cut is shown end to end by tests/integration/power_cut_test.cc (the library there undoes
// any directory entry whose parent was not fsynced).

#include "common/durable_dir.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace tessera {
namespace {

namespace fs = std::filesystem;

class DurableDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("tessera_durable_dir_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(DurableDirTest, CreatesEveryMissingLevel) {
  const fs::path deep = root_ / "a" / "b" / "c";
  ASSERT_TRUE(CreateDirectoriesDurably(deep.string()).ok());
  EXPECT_TRUE(fs::is_directory(deep));
  EXPECT_TRUE(CreateDirectoriesDurably(deep.string()).ok()) << "an existing directory is fine";
  EXPECT_TRUE(CreateDirectoriesDurably((root_ / "a" / "b" / "d" / "").string()).ok()) << "a trailing slash";
  EXPECT_TRUE(fs::is_directory(root_ / "a" / "b" / "d"));
}

TEST_F(DurableDirTest, RefusesAFileInThePathNamingIt) {
  std::ofstream(root_ / "file") << "x";
  Status s = CreateDirectoriesDurably((root_ / "file").string());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find((root_ / "file").string()), std::string::npos) << s.ToString();
  s = CreateDirectoriesDurably((root_ / "file" / "below").string());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
}

TEST_F(DurableDirTest, SyncDirectoryNamesAMissingDirectory) {
  Status s = SyncDirectory((root_ / "missing").string());
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("missing"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace tessera
