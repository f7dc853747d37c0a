// SqliteMetaStore-specific behaviour: persistence across reopen, corruption, lease
// persistence, bounded history. The shared semantics are in meta_store_conformance_test.cc.

#include "storage/meta/sqlite_meta_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <thread>

#include "storage/meta/meta_store_test_util.h"

namespace tessera::storage {
namespace {

using namespace std::chrono_literals;
using testing::ScratchDir;
using testing::WaitFor;
using testing::WatchRecorder;

class SqliteMetaStoreTest : public ::testing::Test {
 protected:
  std::filesystem::path db_path() const { return dir_.path() / "meta.db"; }

  std::unique_ptr<SqliteMetaStore> Open(const SqliteMetaStoreOptions& options = {}) {
    auto store = SqliteMetaStore::Open(db_path(), options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  void WriteFile(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }

  ScratchDir dir_;
};

TEST_F(SqliteMetaStoreTest, ReopenKeepsDataAndRevision) {
  int64_t last = 0;
  {
    auto store = Open();
    ASSERT_TRUE(store->Put("/a", "1").ok());
    ASSERT_TRUE(store->Put("/b", "2").ok());
    ASSERT_TRUE(store->Put("/a", "3").ok());
    auto del = store->Delete("/b");
    ASSERT_TRUE(del.ok());
    last = del->revision;
  }
  auto store = Open();
  EXPECT_EQ(*store->CurrentRevision(), last);
  auto a = store->Get("/a");
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ((*a)->value, "3");
  EXPECT_EQ((*a)->version, 2);
  EXPECT_FALSE(store->Get("/b")->has_value());
  EXPECT_EQ(*store->Put("/c", "x"), last + 1);

  // History survives too: a watch from revision 1 replays everything.
  WatchRecorder recorder;
  auto watch = store->Watch("", 1, recorder.Callback());
  ASSERT_TRUE(watch.ok());
  ASSERT_TRUE(recorder.WaitForRevision(last + 1));
  EXPECT_EQ(recorder.events().size(), 5u);
}

TEST_F(SqliteMetaStoreTest, RevisionStaysMonotonicWhenEverythingIsDeletedAndCompacted) {
  int64_t last = 0;
  {
    auto store = Open();
    ASSERT_TRUE(store->Put("/a", "1").ok());
    last = store->Delete("/a")->revision;
    ASSERT_TRUE(store->Compact(last).ok());
  }
  auto store = Open();
  EXPECT_EQ(*store->CurrentRevision(), last);
  EXPECT_EQ(*store->Put("/a", "2"), last + 1);
  WatchRecorder recorder;
  EXPECT_EQ(store->Watch("", 1, recorder.Callback()).status().code(), StatusCode::kOutOfRange);
}

TEST_F(SqliteMetaStoreTest, NonSqliteFileIsDataLoss) {
  WriteFile(db_path(), std::string(8192, 'x'));
  auto store = SqliteMetaStore::Open(db_path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kDataLoss) << store.status().ToString();
  EXPECT_NE(store.status().message().find(db_path().string()), std::string::npos) << store.status().ToString();
}

TEST_F(SqliteMetaStoreTest, CorruptPagesAreDataLoss) {
  {
    auto store = Open();
    for (int i = 0; i < 200; ++i) ASSERT_TRUE(store->Put("/k/" + std::to_string(i), std::string(200, 'v')).ok());
  }
  const auto size = std::filesystem::file_size(db_path());
  ASSERT_GT(size, 8 * 4096u);
  {
    // Keep the header page, scribble over every other page.
    std::fstream f(db_path(), std::ios::binary | std::ios::in | std::ios::out);
    const std::string garbage(size - 4096, '\x5a');
    f.seekp(4096);
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  auto store = SqliteMetaStore::Open(db_path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kDataLoss) << store.status().ToString();
  EXPECT_NE(store.status().message().find(db_path().string()), std::string::npos) << store.status().ToString();
}

TEST_F(SqliteMetaStoreTest, ForeignSqliteDatabaseIsRejected) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1);", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto store = SqliteMetaStore::Open(db_path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition) << store.status().ToString();
}

TEST_F(SqliteMetaStoreTest, SecondOpenIsRejectedWhileTheFirstIsOpen) {
  auto store = Open();
  auto second = SqliteMetaStore::Open(db_path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition) << second.status().ToString();
  store.reset();
  EXPECT_TRUE(SqliteMetaStore::Open(db_path()).ok());
}

TEST_F(SqliteMetaStoreTest, MissingDirectoryIsAnError) {
  auto store = SqliteMetaStore::Open(dir_.path() / "no" / "such" / "meta.db");
  EXPECT_FALSE(store.ok());
}

// Decision: a lease keeps its absolute (wall-clock) deadline across a restart, so it has its
// remaining TTL after reopen...
TEST_F(SqliteMetaStoreTest, LeaseSurvivesRestartWithRemainingTtl) {
  LeaseId lease = kNoLease;
  {
    auto store = Open();
    lease = *store->Grant(1500ms);
    ASSERT_TRUE(store->Put("/session", "n1", lease).ok());
  }
  auto store = Open();
  auto kv = store->Get("/session");
  ASSERT_TRUE(kv.ok() && kv->has_value());
  EXPECT_EQ((*kv)->lease, lease);
  auto ttl = store->TimeToLive(lease);
  ASSERT_TRUE(ttl.ok()) << ttl.status().ToString();
  EXPECT_GT(*ttl, 0ms);
  EXPECT_LE(*ttl, 1500ms);
  ASSERT_TRUE(store->KeepAlive(lease).ok());
  // Lease ids are never reused.
  EXPECT_NE(*store->Grant(1s), lease);
  ASSERT_TRUE(WaitFor([&] { return !store->Get("/session")->has_value(); }, 4s));
}

// ...and a lease whose deadline passed while the store was closed is revoked during Open,
// with DELETE events in the history.
TEST_F(SqliteMetaStoreTest, LeaseExpiredWhileClosedIsRevokedOnOpen) {
  int64_t before = 0;
  LeaseId lease = kNoLease;
  {
    auto store = Open();
    lease = *store->Grant(200ms);
    ASSERT_TRUE(store->Put("/session", "n1", lease).ok());
    before = *store->CurrentRevision();
  }
  std::this_thread::sleep_for(400ms);
  auto store = Open();
  EXPECT_FALSE(store->Get("/session")->has_value());
  EXPECT_EQ(*store->CurrentRevision(), before + 1);
  EXPECT_EQ(store->KeepAlive(lease).code(), StatusCode::kNotFound);
  WatchRecorder recorder;
  auto watch = store->Watch("/session", before + 1, recorder.Callback());
  ASSERT_TRUE(watch.ok());
  ASSERT_TRUE(recorder.WaitForRevision(before + 1));
  ASSERT_EQ(recorder.events().size(), 1u);
  EXPECT_EQ(recorder.events()[0].type, EventType::kDelete);
}

TEST_F(SqliteMetaStoreTest, HistoryIsBounded) {
  SqliteMetaStoreOptions options;
  options.history_retention_revisions = 16;
  auto store = Open(options);
  int64_t last = 0;
  for (int i = 0; i < 60; ++i) last = *store->Put("/k", std::to_string(i));
  WatchRecorder recorder;
  EXPECT_EQ(store->Watch("/k", 1, recorder.Callback()).status().code(), StatusCode::kOutOfRange);
  auto recent = store->Watch("/k", last - 15, recorder.Callback());
  ASSERT_TRUE(recent.ok()) << recent.status().ToString();
  ASSERT_TRUE(recorder.WaitForRevision(last));
  EXPECT_EQ(recorder.events().size(), 16u);
}

TEST_F(SqliteMetaStoreTest, WatcherThatFallsBehindCompactionGetsATerminalError) {
  SqliteMetaStoreOptions options;
  options.watch_batch_revisions = 1;
  auto store = Open(options);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  WatchRecorder recorder;
  auto record = recorder.Callback();
  auto watch = store->Watch("/k", 0, [&](const WatchResponse& response) {
    record(response);
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
  });
  ASSERT_TRUE(watch.ok());
  const int64_t first = *store->Put("/k", "0");
  ASSERT_TRUE(recorder.WaitForRevision(first));  // the watcher is now stuck in its callback
  int64_t last = 0;
  for (int i = 1; i <= 5; ++i) last = *store->Put("/k", std::to_string(i));
  ASSERT_TRUE(store->Compact(last).ok());
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(recorder.WaitForError());
  EXPECT_EQ(recorder.error().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(recorder.responses().back().compact_revision, last);
  EXPECT_EQ(recorder.responses().size(), 2u);
}

TEST_F(SqliteMetaStoreTest, WatchHandleMayOutliveTheStore) {
  auto store = Open();
  WatchRecorder recorder;
  auto watch = store->Watch("", 0, recorder.Callback());
  ASSERT_TRUE(watch.ok());
  store.reset();
  (*watch)->Cancel();
  watch->reset();
}

TEST_F(SqliteMetaStoreTest, WatchCallbackMayWriteToTheStore) {
  auto store = Open();
  std::atomic<int> echoes{0};
  auto watch = store->Watch("/ping", 0, [&](const WatchResponse& response) {
    for (const WatchEvent& e : response.events) {
      if (e.type == EventType::kPut && store->Put("/pong", e.kv.value).ok()) ++echoes;
    }
  });
  ASSERT_TRUE(watch.ok());
  ASSERT_TRUE(store->Put("/ping", "1").ok());
  ASSERT_TRUE(WaitFor([&] { return echoes.load() == 1; }));
  EXPECT_EQ((*store->Get("/pong"))->value, "1");
}

}  // namespace
}  // namespace tessera::storage
