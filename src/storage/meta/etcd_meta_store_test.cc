// EtcdMetaStore behaviour beyond the conformance suite: prefix ends, an unreachable etcd,
// watches across an etcd crash and restart, a watch resuming into compacted history.
// Each test that kills etcd runs its own private server.

#include "storage/meta/etcd_meta_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "storage/meta/etcd_test_server.h"
#include "storage/meta/meta_store_test_util.h"

namespace tessera::storage {
namespace {

using namespace std::chrono_literals;
using testing::EtcdTestServer;
using testing::WaitFor;
using testing::WatchRecorder;

TEST(EtcdPrefixEndTest, IncrementsTheLastByteBelow0xFF) {
  EXPECT_EQ(EtcdPrefixEnd("/a/"), "/a0");
  EXPECT_EQ(EtcdPrefixEnd("a"), "b");
  EXPECT_EQ(EtcdPrefixEnd(std::string("p\xff", 2)), "q");
  EXPECT_EQ(EtcdPrefixEnd(std::string("p\xfe\xff\xff", 4)), "p\xff");
  EXPECT_EQ(EtcdPrefixEnd(std::string("\xff\xff", 2)), std::string(1, '\0'));
  EXPECT_EQ(EtcdPrefixEnd(""), std::string(1, '\0'));
}

TEST(EtcdMetaStoreTest, RejectsBadEndpoints) {
  EXPECT_EQ(EtcdMetaStore::Open({}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EtcdMetaStore::Open({"no-port"}).status().code(), StatusCode::kInvalidArgument);
  // http and https mixed in one list.
  auto mixed = EtcdMetaStore::Open({"https://127.0.0.1:2379", "http://127.0.0.2:2379"});
  EXPECT_EQ(mixed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(mixed.status().message().find("https"), std::string::npos) << mixed.status().ToString();
  EXPECT_EQ(EtcdMetaStore::Open({"host-a:1", "host-b:2"}).status().code(), StatusCode::kInvalidArgument);
}

TEST(EtcdMetaStoreTest, UnreachableEndpointIsUnavailableQuickly) {
  // A loopback port nobody listens on (bound by nothing: picked and released by the OS).
  EtcdMetaStoreOptions options;
  options.dial_timeout = 1s;
  options.request_timeout = 2s;
  const auto start = std::chrono::steady_clock::now();
  auto store = EtcdMetaStore::Open({"http://127.0.0.1:1"}, options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kUnavailable) << store.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(EtcdMetaStoreTest, CallsFailWithUnavailableWhenEtcdGoesAway) {
  auto server = EtcdTestServer::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EtcdMetaStoreOptions options;
  options.request_timeout = 2s;
  auto store = EtcdMetaStore::Open({(*server)->endpoint()}, options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->Put("/k", "v").ok());
  ASSERT_TRUE((*server)->Kill().ok());

  for (int i = 0; i < 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto put = (*store)->Put("/k", "v2");
    ASSERT_FALSE(put.ok());
    EXPECT_TRUE(put.status().code() == StatusCode::kUnavailable ||
                put.status().code() == StatusCode::kDeadlineExceeded)
        << put.status().ToString();
    EXPECT_NE(put.status().message().find("put"), std::string::npos) << put.status().ToString();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  }
  WatchRecorder recorder;
  const auto start = std::chrono::steady_clock::now();
  auto watch = (*store)->Watch("/k", 0, recorder.Callback());
  ASSERT_FALSE(watch.ok());
  EXPECT_TRUE(watch.status().code() == StatusCode::kUnavailable ||
              watch.status().code() == StatusCode::kDeadlineExceeded)
      << watch.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_FALSE((*store)->KeepAlive(LeaseId{1}).ok());
}

// A store on the per-process shared server, emptied first.
std::unique_ptr<EtcdMetaStore> OpenShared() {
  auto server = EtcdTestServer::Shared();
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  if (!server.ok()) return nullptr;
  EXPECT_TRUE((*server)->Reset().ok());
  auto store = EtcdMetaStore::Open({(*server)->endpoint()});
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

TEST(EtcdMetaStoreTest, WatchHandleMayOutliveTheStore) {
  auto store = OpenShared();
  ASSERT_NE(store, nullptr);
  WatchRecorder recorder;
  auto watch = store->Watch("", 0, recorder.Callback());
  ASSERT_TRUE(watch.ok()) << watch.status().ToString();
  store.reset();  // cancels the watch
  const size_t delivered = recorder.response_count();
  (*watch)->Cancel();
  watch->reset();
  EXPECT_EQ(recorder.response_count(), delivered);
}

TEST(EtcdMetaStoreTest, WatchCallbackMayWriteToTheStore) {
  auto store = OpenShared();
  ASSERT_NE(store, nullptr);
  std::atomic<int> echoes{0};
  auto watch = store->Watch("/ping", 0, [&](const WatchResponse& response) {
    for (const WatchEvent& e : response.events) {
      if (e.type == EventType::kPut && store->Put("/pong", e.kv.value).ok()) ++echoes;
    }
  });
  ASSERT_TRUE(watch.ok()) << watch.status().ToString();
  ASSERT_TRUE(store->Put("/ping", "1").ok());
  ASSERT_TRUE(WaitFor([&] { return echoes.load() == 1; }));
  EXPECT_EQ((*store->Get("/pong"))->value, "1");
}

TEST(EtcdMetaStoreTest, LeaseTtlIsRoundedUpToWholeSeconds) {
  auto store = OpenShared();
  ASSERT_NE(store, nullptr);
  auto lease = store->Grant(1500ms);
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  auto ttl = store->TimeToLive(*lease);
  ASSERT_TRUE(ttl.ok()) << ttl.status().ToString();
  EXPECT_GE(*ttl, 1000ms);  // etcd reports the remaining TTL truncated to seconds
  EXPECT_LE(*ttl, 2000ms);
  EXPECT_TRUE(store->Revoke(*lease).ok());
  EXPECT_EQ(store->TimeToLive(*lease).status().code(), StatusCode::kNotFound);
}

// Retries a put until etcd is back (the channel reconnects with backoff).
int64_t PutWhenBack(MetaStore& store, const std::string& key, const std::string& value) {
  int64_t revision = -1;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto r = store.Put(key, value);
        if (r.ok()) revision = *r;
        return r.ok();
      },
      10s));
  return revision;
}

TEST(EtcdMetaStoreTest, WatchSurvivesEtcdCrashAndRestartWithoutGap) {
  auto server = EtcdTestServer::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto store = EtcdMetaStore::Open({(*server)->endpoint()});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  MetaStore& s = **store;

  WatchRecorder recorder;
  auto watch = s.Watch("/w/", 0, recorder.Callback());
  ASSERT_TRUE(watch.ok()) << watch.status().ToString();
  int64_t last = 0;
  for (int i = 0; i < 5; ++i) last = *s.Put("/w/" + std::to_string(i), "before");
  ASSERT_TRUE(recorder.WaitForRevision(last));

  ASSERT_TRUE((*server)->Kill().ok());
  ASSERT_TRUE((*server)->Restart().ok());
  // Writes right after the restart, most likely before the watch has reconnected: they must
  // come from the resumed watch's replay.
  for (int i = 0; i < 5; ++i) last = PutWhenBack(s, "/w/" + std::to_string(i), "after");
  ASSERT_TRUE(recorder.WaitForRevision(last, 10s));
  last = *s.Put("/w/tail", "x");
  ASSERT_TRUE(recorder.WaitForRevision(last));

  std::vector<WatchEvent> events = recorder.events();
  ASSERT_EQ(events.size(), 11u);
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_EQ(events[i].kv.mod_revision, events[i - 1].kv.mod_revision + 1) << "gap or duplicate at " << i;
  }
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(events[i].kv.value, "before");
  for (size_t i = 5; i < 10; ++i) EXPECT_EQ(events[i].kv.value, "after");
  EXPECT_TRUE(recorder.error().ok());
}

TEST(EtcdMetaStoreTest, ResumingIntoCompactedHistoryIsATerminalOutOfRange) {
  auto server = EtcdTestServer::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EtcdMetaStoreOptions options;
  // Keep the watch away long enough to write and compact while it is disconnected.
  options.watch_retry_min = 3s;
  options.watch_retry_max = 3s;
  auto store = EtcdMetaStore::Open({(*server)->endpoint()}, options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  MetaStore& s = **store;

  WatchRecorder recorder;
  auto watch = s.Watch("/c/", 0, recorder.Callback());
  ASSERT_TRUE(watch.ok()) << watch.status().ToString();
  const int64_t seen = *s.Put("/c/1", "x");
  ASSERT_TRUE(recorder.WaitForRevision(seen));

  ASSERT_TRUE((*server)->Kill().ok());
  ASSERT_TRUE((*server)->Restart().ok());
  PutWhenBack(s, "/c/2", "x");
  PutWhenBack(s, "/c/3", "x");
  const int64_t compact_to = PutWhenBack(s, "/c/4", "x");
  ASSERT_TRUE(s.Compact(compact_to).ok());

  ASSERT_TRUE(recorder.WaitForError(10s));
  std::vector<WatchResponse> responses = recorder.responses();
  ASSERT_GE(responses.size(), 2u);
  const WatchResponse& final_response = responses.back();
  EXPECT_EQ(final_response.status.code(), StatusCode::kOutOfRange) << final_response.status.ToString();
  EXPECT_EQ(final_response.compact_revision, compact_to);
  EXPECT_TRUE(final_response.events.empty());
  // Nothing after the terminal response.
  s.Put("/c/5", "x").value();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(recorder.response_count(), responses.size());
}

}  // namespace
}  // namespace tessera::storage
