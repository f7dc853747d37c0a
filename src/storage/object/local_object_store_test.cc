// LocalObjectStore specifics beyond the conformance suite: layout, reopen, locking, temp
// file cleanup, path confinement.

#include "storage/object/local_object_store.h"

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/object/object_store_test_util.h"

namespace tessera::storage {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;

std::vector<std::string> Keys(ObjectStore& store) {
  std::vector<std::string> keys;
  Result<ListResult> page = store.List({});
  EXPECT_TRUE(page.ok());
  if (page.ok()) {
    for (const ObjectInfo& info : page->objects) keys.push_back(info.key);
  }
  return keys;
}

void WriteFile(const fs::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
}

TEST(LocalObjectStoreTest, LayoutMapsSegmentsToDirectories) {
  ScratchDir scratch;
  auto store = LocalObjectStore::Open(scratch.path() / "s").value();
  ASSERT_TRUE(store->Put("collections/1/binlog/7", "data").ok());
  ASSERT_TRUE(store->Put("collections/1", "also an object").ok());
  const fs::path root = store->root();
  EXPECT_TRUE(fs::is_regular_file(root / "TESSERA_OBJECT_STORE"));
  EXPECT_TRUE(fs::is_regular_file(root / "objects/collections.dir/1.dir/binlog.dir/7.obj"));
  EXPECT_TRUE(fs::is_regular_file(root / "objects/collections.dir/1.obj"));
  EXPECT_EQ(root / "objects/collections.dir/1.dir/binlog.dir/7.obj", store->TEST_PathOf("collections/1/binlog/7"));
  EXPECT_TRUE(fs::is_empty(root / "tmp"));
  // Deleting the last object under a prefix prunes its directories.
  ASSERT_TRUE(store->Delete("collections/1/binlog/7").ok());
  EXPECT_FALSE(fs::exists(root / "objects/collections.dir/1.dir"));
  EXPECT_TRUE(fs::exists(root / "objects/collections.dir/1.obj"));
}

TEST(LocalObjectStoreTest, ReopenSeesEverything) {
  ScratchDir scratch;
  {
    auto store = LocalObjectStore::Open(scratch.path()).value();
    ASSERT_TRUE(store->Put("a/b", "1").ok());
    ASSERT_TRUE(store->Put("c", "2").ok());
  }
  auto store = LocalObjectStore::Open(scratch.path()).value();
  EXPECT_EQ("1", store->Get("a/b").value());
  EXPECT_THAT(Keys(*store), ::testing::ElementsAre("a/b", "c"));
}

TEST(LocalObjectStoreTest, SecondOpenIsRefusedWhileHeld) {
  ScratchDir scratch;
  auto first = LocalObjectStore::Open(scratch.path()).value();
  auto second = LocalObjectStore::Open(scratch.path());
  EXPECT_EQ(StatusCode::kFailedPrecondition, second.status().code());
  first.reset();
  EXPECT_TRUE(LocalObjectStore::Open(scratch.path()).ok());
}

TEST(LocalObjectStoreTest, RefusesForeignDirectories) {
  ScratchDir scratch;
  WriteFile(scratch.path() / "precious.txt", "not ours");
  EXPECT_EQ(StatusCode::kFailedPrecondition, LocalObjectStore::Open(scratch.path()).status().code());
  EXPECT_TRUE(fs::exists(scratch.path() / "precious.txt"));
  // A marker with another format version is refused too.
  ScratchDir other;
  WriteFile(other.path() / "TESSERA_OBJECT_STORE", "tessera local object store\nformat 9\n");
  EXPECT_EQ(StatusCode::kFailedPrecondition, LocalObjectStore::Open(other.path()).status().code());
  // Missing root without create_if_missing.
  LocalObjectStoreOptions options;
  options.create_if_missing = false;
  EXPECT_EQ(StatusCode::kNotFound, LocalObjectStore::Open(scratch.path() / "nope", options).status().code());
}

TEST(LocalObjectStoreTest, OpensAfterACrashWhileCreatingTheMarker) {
  // What an opener killed between writing the marker's temp file and renaming it leaves.
  ScratchDir scratch;
  WriteFile(scratch.path() / "LOCK", "");
  WriteFile(scratch.path() / "TESSERA_OBJECT_STORE.tmp", "tessera local obj");
  auto store = LocalObjectStore::Open(scratch.path());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->Put("a", "1").ok());
  store->reset();
  EXPECT_FALSE(fs::exists(scratch.path() / "TESSERA_OBJECT_STORE.tmp"));
  EXPECT_EQ("1", LocalObjectStore::Open(scratch.path()).value()->Get("a").value());
}

TEST(LocalObjectStoreTest, TempFilesAreInvisibleAndCleanedOnOpen) {
  ScratchDir scratch;
  {
    auto store = LocalObjectStore::Open(scratch.path()).value();
    ASSERT_TRUE(store->Put("x/y", "ok").ok());
  }
  // What a writer killed between create and rename leaves behind.
  WriteFile(scratch.path() / "tmp/123-0-deadbeef.tmp", "torn half of an obj");
  // Stray files in the object tree that are not objects are never listed.
  WriteFile(scratch.path() / "objects/x.dir/stray-file", "?");
  WriteFile(scratch.path() / "objects/x.dir/y.obj.tmp", "?");
  auto store = LocalObjectStore::Open(scratch.path()).value();
  EXPECT_TRUE(fs::is_empty(scratch.path() / "tmp"));
  EXPECT_THAT(Keys(*store), ::testing::ElementsAre("x/y"));
  EXPECT_EQ("ok", store->Get("x/y").value());
}

TEST(LocalObjectStoreTest, SymlinksAreNotFollowed) {
  ScratchDir scratch;
  ScratchDir outside;
  WriteFile(outside.path() / "secret", "outside the root");
  auto store = LocalObjectStore::Open(scratch.path() / "s").value();
  ASSERT_TRUE(store->Put("dir/real", "r").ok());
  fs::create_symlink(outside.path() / "secret", store->root() / "objects/dir.dir/link.obj");
  EXPECT_NE(StatusCode::kOk, store->Get("dir/link").status().code());
  EXPECT_EQ(StatusCode::kNotFound, store->Head("dir/link").status().code());
  EXPECT_THAT(Keys(*store), ::testing::ElementsAre("dir/real"));
}

TEST(LocalObjectStoreTest, UnsyncedModeWorks) {
  ScratchDir scratch;
  LocalObjectStoreOptions options;
  options.sync = false;
  auto store = LocalObjectStore::Open(scratch.path(), options).value();
  ASSERT_TRUE(store->Put("k", "v").ok());
  ASSERT_TRUE(store->Copy("k", "k2").ok());
  EXPECT_EQ("v", store->Get("k2").value());
}

}  // namespace
}  // namespace tessera::storage
