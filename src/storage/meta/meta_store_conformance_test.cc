// The MetaStore conformance suite: the same cases run against every implementation.
//
// To add an implementation, write a factory like SqliteMetaStoreFactory below (a default
// constructor that prepares an empty store, `Result<std::unique_ptr<MetaStore>> Make()`,
// and `kShortTtl`, the shortest lease TTL the backend honours) and add it to
// `MetaStoreImplementations`. A backend that cannot be started or reached makes Make() fail,
// so the test fails and says why; no storage test is ever skipped.
//
// Revisions are global to a store and the etcd server is shared by the tests of a process,
// so cases compare revisions relative to CurrentRevision(), never to absolute numbers.

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

#include "storage/meta/etcd_meta_store.h"
#include "storage/meta/etcd_test_server.h"
#include "storage/meta/meta_store.h"
#include "storage/meta/meta_store_test_util.h"
#include "storage/meta/sqlite_meta_store.h"

namespace tessera::storage {
namespace {

using namespace std::chrono_literals;
using testing::ScratchDir;
using testing::WaitFor;
using testing::WatchRecorder;

struct SqliteMetaStoreFactory {
  static constexpr std::chrono::milliseconds kShortTtl{1000};
  Result<std::unique_ptr<MetaStore>> Make() {
    TESSERA_ASSIGN_OR_RETURN(auto store, SqliteMetaStore::Open(dir.path() / "meta.db"));
    return std::unique_ptr<MetaStore>(std::move(store));
  }
  ScratchDir dir;
};

// A real etcd (one per test process, see EtcdTestServer), emptied before each test: every
// lease revoked and every key deleted, so each case starts from an empty key space. Its
// minimum lease TTL is 1 s (the test server runs with a 100 ms election timeout).
struct EtcdMetaStoreFactory {
  static constexpr std::chrono::milliseconds kShortTtl{1000};
  Result<std::unique_ptr<MetaStore>> Make() {
    TESSERA_ASSIGN_OR_RETURN(testing::EtcdTestServer * server, testing::EtcdTestServer::Shared());
    TESSERA_RETURN_IF_ERROR(server->Reset());
    TESSERA_ASSIGN_OR_RETURN(auto store, EtcdMetaStore::Open({server->endpoint()}));
    return std::unique_ptr<MetaStore>(std::move(store));
  }
};

// The same over TLS (https endpoint, the test CA as ca_file) with etcd authentication on
// (user root): a second per-process server, emptied before each test.
struct EtcdTlsAuthMetaStoreFactory {
  static constexpr std::chrono::milliseconds kShortTtl{1000};
  Result<std::unique_ptr<MetaStore>> Make() {
    TESSERA_ASSIGN_OR_RETURN(testing::EtcdTestServer * server, testing::EtcdTestServer::SharedSecure());
    TESSERA_RETURN_IF_ERROR(server->Reset());
    TESSERA_ASSIGN_OR_RETURN(auto store, EtcdMetaStore::Open({server->endpoint()}, server->StoreOptions()));
    return std::unique_ptr<MetaStore>(std::move(store));
  }
};

// One line per implementation.
using MetaStoreImplementations =
    ::testing::Types<SqliteMetaStoreFactory, EtcdMetaStoreFactory, EtcdTlsAuthMetaStoreFactory>;

template <typename Factory>
class MetaStoreConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = factory_.Make();
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  // Helper verbs, so the cases read as a story.
  int64_t Put(const std::string& key, const std::string& value, LeaseId lease = kNoLease) {
    auto r = store_->Put(key, value, lease);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : -1;
  }
  std::optional<KeyValue> Get(const std::string& key) {
    auto r = store_->Get(key);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::nullopt;
  }
  std::string Value(const std::string& key) {
    auto kv = Get(key);
    return kv ? kv->value : "<missing>";
  }
  int64_t Revision() {
    auto r = store_->CurrentRevision();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : -1;
  }
  std::vector<std::string> Keys(const std::string& prefix, int64_t limit = 0) {
    auto r = store_->Range(prefix, limit);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> keys;
    if (r.ok()) {
      for (const KeyValue& kv : r->kvs) keys.push_back(kv.key);
    }
    return keys;
  }
  TxnResult Commit(const Txn& txn) {
    auto r = store_->Commit(txn);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : TxnResult{};
  }
  std::unique_ptr<WatchHandle> Watch(const std::string& prefix, int64_t from, WatchRecorder& recorder) {
    auto r = store_->Watch(prefix, from, recorder.Callback());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }
  LeaseId Grant(std::chrono::milliseconds ttl) {
    auto r = store_->Grant(ttl);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : kNoLease;
  }

  Factory factory_;
  std::unique_ptr<MetaStore> store_;
};

TYPED_TEST_SUITE(MetaStoreConformanceTest, MetaStoreImplementations);

TYPED_TEST(MetaStoreConformanceTest, PutGetDelete) {
  EXPECT_EQ(this->Get("/a"), std::nullopt);
  this->Put("/a", "one");
  EXPECT_EQ(this->Value("/a"), "one");
  this->Put("/a", "two");
  EXPECT_EQ(this->Value("/a"), "two");
  auto del = this->store_->Delete("/a");
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->deleted, 1);
  EXPECT_EQ(this->Get("/a"), std::nullopt);
  // Binary keys and values, including NUL bytes and an empty value.
  const std::string key("\x00\x01\xff k", 5);
  const std::string value("\x00\xfe\x00", 3);
  this->Put(key, value);
  EXPECT_EQ(this->Value(key), value);
  this->Put("/empty", "");
  ASSERT_TRUE(this->Get("/empty").has_value());
  EXPECT_EQ(this->Value("/empty"), "");
}

TYPED_TEST(MetaStoreConformanceTest, VersionsAndRevisions) {
  const int64_t base = this->Revision();
  EXPECT_EQ(this->Put("/a", "1"), base + 1);
  KeyValue a = *this->Get("/a");
  EXPECT_EQ(a.create_revision, base + 1);
  EXPECT_EQ(a.mod_revision, base + 1);
  EXPECT_EQ(a.version, 1);
  EXPECT_EQ(a.lease, kNoLease);

  EXPECT_EQ(this->Put("/a", "2"), base + 2);
  a = *this->Get("/a");
  EXPECT_EQ(a.create_revision, base + 1);
  EXPECT_EQ(a.mod_revision, base + 2);
  EXPECT_EQ(a.version, 2);

  EXPECT_EQ(this->Put("/b", "x"), base + 3);
  auto del = this->store_->Delete("/a");
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->revision, base + 4);
  // Deleting a missing key changes nothing and consumes no revision.
  del = this->store_->Delete("/a");
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->deleted, 0);
  EXPECT_EQ(del->revision, base + 4);
  EXPECT_EQ(this->Revision(), base + 4);
  // A new incarnation starts over.
  EXPECT_EQ(this->Put("/a", "3"), base + 5);
  a = *this->Get("/a");
  EXPECT_EQ(a.create_revision, base + 5);
  EXPECT_EQ(a.version, 1);
}

TYPED_TEST(MetaStoreConformanceTest, RangeWithPrefixAndLimit) {
  for (const char* key : {"/a/3", "/a/1", "/b", "/a/2", "/ab", "/a"}) this->Put(key, key);
  EXPECT_EQ(this->Keys("/a/"), (std::vector<std::string>{"/a/1", "/a/2", "/a/3"}));
  EXPECT_EQ(this->Keys("/a"), (std::vector<std::string>{"/a", "/a/1", "/a/2", "/a/3", "/ab"}));
  EXPECT_EQ(this->Keys(""), (std::vector<std::string>{"/a", "/a/1", "/a/2", "/a/3", "/ab", "/b"}));
  EXPECT_TRUE(this->Keys("/c").empty());

  auto limited = this->store_->Range("/a/", 2);
  ASSERT_TRUE(limited.ok());
  ASSERT_EQ(limited->kvs.size(), 2u);
  EXPECT_EQ(limited->kvs[0].key, "/a/1");
  EXPECT_EQ(limited->kvs[1].key, "/a/2");
  EXPECT_TRUE(limited->more);
  EXPECT_EQ(limited->revision, this->Revision());
  EXPECT_EQ(limited->kvs[0].value, "/a/1");

  auto exact = this->store_->Range("/a/", 3);
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->kvs.size(), 3u);
  EXPECT_FALSE(exact->more);
  EXPECT_EQ(this->store_->Range("/a/", -1).status().code(), StatusCode::kInvalidArgument);
}

TYPED_TEST(MetaStoreConformanceTest, RangePrefixEndingIn0xFF) {
  const std::string ff("\xff", 1);
  const std::vector<std::string> keys = {"p" + ff, "p" + ff + std::string(1, '\0'), "p" + ff + ff,
                                         "p" + ff + ff + "z", "p\xfe", "q", ff, ff + ff};
  for (const std::string& key : keys) this->Put(key, "v");
  // Bytewise order: 0xFF sorts after every other byte.
  EXPECT_EQ(this->Keys("p" + ff),
            (std::vector<std::string>{"p" + ff, "p" + ff + std::string(1, '\0'), "p" + ff + ff,
                                      "p" + ff + ff + "z"}));
  EXPECT_EQ(this->Keys("p" + ff + ff), (std::vector<std::string>{"p" + ff + ff, "p" + ff + ff + "z"}));
  EXPECT_EQ(this->Keys(ff), (std::vector<std::string>{ff, ff + ff}));
  EXPECT_EQ(this->Keys(ff + ff), (std::vector<std::string>{ff + ff}));
  EXPECT_EQ(this->Keys("p").size(), 5u);
}

TYPED_TEST(MetaStoreConformanceTest, RejectsBadKeysAndValues) {
  EXPECT_EQ(this->store_->Put("", "v").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(this->store_->Get("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(this->store_->Put(std::string(kMaxMetaKeySize + 1, 'k'), "v").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(this->store_->Put("/big", std::string(kMaxMetaValueSize + 1, 'v')).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(this->store_->Commit(Txn().Then(TxnOp::Put("", "v"))).status().code(),
            StatusCode::kInvalidArgument);
  // The limits themselves are accepted.
  const std::string max_key(kMaxMetaKeySize, 'k');
  this->Put(max_key, "v");
  EXPECT_EQ(this->Value(max_key), "v");
  const std::string max_value(kMaxMetaValueSize, 'v');
  this->Put("/max", max_value);
  EXPECT_EQ(this->Get("/max")->value.size(), kMaxMetaValueSize);
}

TYPED_TEST(MetaStoreConformanceTest, TxnModRevisionCompares) {
  const int64_t rev = this->Put("/k", "v1");
  struct Case {
    CompareOp op;
    int64_t operand;
    bool expected;
  };
  const Case cases[] = {
      {CompareOp::kEqual, rev, true},     {CompareOp::kEqual, rev - 1, false},
      {CompareOp::kNotEqual, rev - 1, true}, {CompareOp::kNotEqual, rev, false},
      {CompareOp::kLess, rev + 1, true},  {CompareOp::kLess, rev, false},
      {CompareOp::kGreater, rev - 1, true}, {CompareOp::kGreater, rev, false},
  };
  for (const Case& c : cases) {
    const int64_t before = this->Revision();
    const int64_t mod = this->Get("/k")->mod_revision;
    // Compare against the key's current mod revision shifted like the case's operand.
    const int64_t operand = mod + (c.operand - rev);
    TxnResult r = this->Commit(Txn()
                                   .If(Compare::ModRevision("/k", c.op, operand))
                                   .Then(TxnOp::Put("/then", "yes"))
                                   .Else(TxnOp::Put("/else", "yes")));
    EXPECT_EQ(r.succeeded, c.expected) << static_cast<int>(c.op) << " " << operand;
    EXPECT_EQ(r.revision, before + 1);
    EXPECT_EQ(this->Get(c.expected ? "/then" : "/else")->mod_revision, before + 1);
  }
  // A missing key has mod revision 0.
  EXPECT_TRUE(this->Commit(Txn().If(Compare::ModRevision("/missing", CompareOp::kEqual, 0))).succeeded);
  EXPECT_FALSE(this->Commit(Txn().If(Compare::ModRevision("/missing", CompareOp::kGreater, 0))).succeeded);
}

TYPED_TEST(MetaStoreConformanceTest, TxnExistenceAndValueCompares) {
  this->Put("/k", "b");
  EXPECT_TRUE(this->Commit(Txn().If(Compare::Exists("/k"))).succeeded);
  EXPECT_FALSE(this->Commit(Txn().If(Compare::Exists("/nope"))).succeeded);
  EXPECT_TRUE(this->Commit(Txn().If(Compare::NotExists("/nope"))).succeeded);
  EXPECT_FALSE(this->Commit(Txn().If(Compare::NotExists("/k"))).succeeded);
  EXPECT_TRUE(this->Commit(Txn().If(Compare::Value("/k", CompareOp::kEqual, "b"))).succeeded);
  EXPECT_FALSE(this->Commit(Txn().If(Compare::Value("/k", CompareOp::kEqual, "a"))).succeeded);
  EXPECT_TRUE(this->Commit(Txn().If(Compare::Value("/k", CompareOp::kNotEqual, "a"))).succeeded);
  EXPECT_TRUE(this->Commit(Txn().If(Compare::Value("/k", CompareOp::kGreater, "a"))).succeeded);
  EXPECT_TRUE(this->Commit(Txn().If(Compare::Value("/k", CompareOp::kLess, "c"))).succeeded);
  EXPECT_FALSE(this->Commit(Txn().If(Compare::Value("/nope", CompareOp::kNotEqual, "x"))).succeeded);
  // All compares must hold.
  EXPECT_FALSE(this->Commit(Txn().If(Compare::Exists("/k")).If(Compare::Exists("/nope"))).succeeded);

  // Create-if-absent, the building block of leader election and sessions.
  TxnResult first = this->Commit(Txn().If(Compare::NotExists("/leader")).Then(TxnOp::Put("/leader", "n1")));
  TxnResult second = this->Commit(Txn().If(Compare::NotExists("/leader")).Then(TxnOp::Put("/leader", "n2")));
  EXPECT_TRUE(first.succeeded);
  EXPECT_FALSE(second.succeeded);
  EXPECT_EQ(this->Value("/leader"), "n1");
}

TYPED_TEST(MetaStoreConformanceTest, TxnIsAtomicAtOneRevision) {
  this->Put("/x", "old");
  const int64_t before = this->Revision();
  TxnResult r = this->Commit(Txn()
                                 .If(Compare::Exists("/x"))
                                 .Then(TxnOp::Put("/a", "1"))
                                 .Then(TxnOp::Put("/b", "2"))
                                 .Then(TxnOp::Delete("/x"))
                                 .Else(TxnOp::Put("/failed", "1")));
  EXPECT_TRUE(r.succeeded);
  EXPECT_EQ(r.revision, before + 1);
  EXPECT_EQ(this->Get("/a")->mod_revision, before + 1);
  EXPECT_EQ(this->Get("/b")->mod_revision, before + 1);
  EXPECT_FALSE(this->Get("/x").has_value());
  EXPECT_FALSE(this->Get("/failed").has_value());

  // A failed compare with no Else ops changes nothing and consumes no revision.
  r = this->Commit(Txn().If(Compare::Exists("/x")).Then(TxnOp::Put("/a", "2")));
  EXPECT_FALSE(r.succeeded);
  EXPECT_EQ(r.revision, before + 1);
  EXPECT_EQ(this->Revision(), before + 1);
  EXPECT_EQ(this->Value("/a"), "1");

  // A key twice in one branch is rejected up front.
  EXPECT_EQ(this->store_->Commit(Txn().Then(TxnOp::Put("/a", "1")).Then(TxnOp::Delete("/a"))).status().code(),
            StatusCode::kInvalidArgument);
  // A put naming an unknown lease fails the whole transaction.
  EXPECT_EQ(this->store_
                ->Commit(Txn().Then(TxnOp::Put("/c", "1")).Then(TxnOp::Put("/d", "1", LeaseId{987654})))
                .status()
                .code(),
            StatusCode::kNotFound);
  EXPECT_FALSE(this->Get("/c").has_value());
  EXPECT_EQ(this->Revision(), before + 1);
}

TYPED_TEST(MetaStoreConformanceTest, ConcurrentCasCountersLoseNoUpdate) {
  constexpr int kThreads = 4;
  constexpr int kIncrements = 20;
  this->Put("/counter", "0");
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        while (true) {
          auto kv = this->store_->Get("/counter");
          ASSERT_TRUE(kv.ok() && kv->has_value());
          const int next = std::stoi((*kv)->value) + 1;
          auto r = this->store_->Commit(Txn()
                                            .If(Compare::ModRevision("/counter", CompareOp::kEqual,
                                                                     (*kv)->mod_revision))
                                            .Then(TxnOp::Put("/counter", std::to_string(next))));
          ASSERT_TRUE(r.ok()) << r.status().ToString();
          if (r->succeeded) break;
          ++conflicts;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(this->Value("/counter"), std::to_string(kThreads * kIncrements));
  EXPECT_EQ(this->Get("/counter")->version, kThreads * kIncrements + 1);
}

TYPED_TEST(MetaStoreConformanceTest, WatchIsOrderedWithoutGapsWhileWritersRun) {
  constexpr int kWriters = 3;
  constexpr int kPuts = 25;
  WatchRecorder recorder;
  const int64_t start = this->Revision();
  auto watch = this->Watch("/w/", 0, recorder);
  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kPuts; ++i) {
        ASSERT_TRUE(this->store_->Put("/w/" + std::to_string(t), std::to_string(i)).ok());
        ASSERT_TRUE(this->store_->Put("/other/" + std::to_string(t), std::to_string(i)).ok());
      }
    });
  }
  for (auto& t : writers) t.join();
  const int64_t end = this->Put("/w/last", "x");
  ASSERT_TRUE(recorder.WaitForRevision(end));

  std::vector<WatchEvent> events = recorder.events();
  ASSERT_EQ(events.size(), static_cast<size_t>(kWriters * kPuts + 1));
  int64_t previous = start;
  std::vector<int> last_value(kWriters, -1);
  for (const WatchEvent& e : events) {
    EXPECT_GT(e.kv.mod_revision, previous);
    previous = e.kv.mod_revision;
    ASSERT_EQ(e.kv.key.rfind("/w/", 0), 0u) << e.kv.key;
    if (e.kv.key == "/w/last") continue;
    // Per key, values arrive in the order they were written.
    const int writer = std::stoi(e.kv.key.substr(3));
    EXPECT_EQ(std::stoi(e.kv.value), last_value[writer] + 1);
    last_value[writer] = std::stoi(e.kv.value);
  }
  EXPECT_EQ(previous, end);
  // Every revision touching /w/ was delivered: compare with the full history.
  WatchRecorder all;
  auto all_watch = this->Watch("", start + 1, all);
  ASSERT_TRUE(all.WaitForRevision(end));
  size_t matching = 0;
  for (const WatchEvent& e : all.events()) matching += e.kv.key.rfind("/w/", 0) == 0 ? 1 : 0;
  EXPECT_EQ(matching, events.size());
  EXPECT_EQ(all.events().size(), static_cast<size_t>(2 * kWriters * kPuts + 1));
}

TYPED_TEST(MetaStoreConformanceTest, WatchFromPastRevisionReplaysThenStreams) {
  const int64_t r1 = this->Put("/k", "v1");
  this->Put("/k", "v2");
  auto del = this->store_->Delete("/k");
  ASSERT_TRUE(del.ok());
  this->Put("/unrelated", "x");

  WatchRecorder recorder;
  auto watch = this->Watch("/k", r1, recorder);
  ASSERT_TRUE(recorder.WaitForRevision(del->revision));
  const int64_t r4 = this->Put("/k", "v3");
  ASSERT_TRUE(recorder.WaitForRevision(r4));

  std::vector<WatchEvent> events = recorder.events();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].type, EventType::kPut);
  EXPECT_EQ(events[0].kv.value, "v1");
  EXPECT_EQ(events[0].kv.version, 1);
  EXPECT_FALSE(events[0].prev_kv.has_value());
  EXPECT_EQ(events[1].type, EventType::kPut);
  EXPECT_EQ(events[1].kv.value, "v2");
  ASSERT_TRUE(events[1].prev_kv.has_value());
  EXPECT_EQ(events[1].prev_kv->value, "v1");
  EXPECT_EQ(events[1].prev_kv->mod_revision, r1);
  EXPECT_EQ(events[2].type, EventType::kDelete);
  EXPECT_EQ(events[2].kv.key, "/k");
  EXPECT_EQ(events[2].kv.mod_revision, del->revision);
  ASSERT_TRUE(events[2].prev_kv.has_value());
  EXPECT_EQ(events[2].prev_kv->value, "v2");
  EXPECT_EQ(events[3].kv.value, "v3");
  EXPECT_EQ(events[3].kv.create_revision, r4);
}

TYPED_TEST(MetaStoreConformanceTest, WatchGroupsATxnIntoOneResponse) {
  WatchRecorder recorder;
  auto watch = this->Watch("/t/", 0, recorder);
  TxnResult r = this->Commit(
      Txn().Then(TxnOp::Put("/t/b", "1")).Then(TxnOp::Put("/t/a", "2")).Then(TxnOp::Put("/t/c", "3")));
  ASSERT_TRUE(recorder.WaitForRevision(r.revision));
  std::vector<WatchResponse> responses = recorder.responses();
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].revision, r.revision);
  ASSERT_EQ(responses[0].events.size(), 3u);
  // In the order the transaction applied them.
  EXPECT_EQ(responses[0].events[0].kv.key, "/t/b");
  EXPECT_EQ(responses[0].events[1].kv.key, "/t/a");
  EXPECT_EQ(responses[0].events[2].kv.key, "/t/c");
}

TYPED_TEST(MetaStoreConformanceTest, ReconnectingFromLastRevisionLeavesNoGap) {
  // The pattern a client uses after a disconnect: watch again from last seen + 1.
  std::vector<int64_t> seen;
  int64_t resume = this->Revision() + 1;
  const int64_t first = resume;
  for (int round = 0; round < 3; ++round) {
    WatchRecorder recorder;
    auto watch = this->Watch("/r/", resume, recorder);
    int64_t last = 0;
    for (int i = 0; i < 5; ++i) last = this->Put("/r/" + std::to_string(i), std::to_string(round));
    ASSERT_TRUE(recorder.WaitForRevision(last));
    watch->Cancel();
    for (const WatchEvent& e : recorder.events()) seen.push_back(e.kv.mod_revision);
    resume = seen.back() + 1;
    // Writes while disconnected.
    for (int i = 0; i < 3; ++i) this->Put("/r/gap" + std::to_string(i), "x");
  }
  WatchRecorder tail;
  auto watch = this->Watch("/r/", resume, tail);
  ASSERT_TRUE(tail.WaitForRevision(this->Revision()));
  for (const WatchEvent& e : tail.events()) seen.push_back(e.kv.mod_revision);
  ASSERT_EQ(seen.size(), 3u * 8u);
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], first + static_cast<int64_t>(i));
}

TYPED_TEST(MetaStoreConformanceTest, CancelStopsDelivery) {
  WatchRecorder recorder;
  auto watch = this->Watch("/c/", 0, recorder);
  const int64_t r = this->Put("/c/1", "x");
  ASSERT_TRUE(recorder.WaitForRevision(r));
  watch->Cancel();
  watch->Cancel();  // idempotent
  this->Put("/c/2", "x");
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(recorder.response_count(), 1u);

  // Cancelling from inside the callback: the current call is the last one.
  std::atomic<int> calls{0};
  std::unique_ptr<WatchHandle> self;
  std::mutex self_mu;
  auto result = this->store_->Watch("/c/", 0, [&](const WatchResponse&) {
    ++calls;
    std::lock_guard<std::mutex> lock(self_mu);
    self->Cancel();
  });
  ASSERT_TRUE(result.ok());
  {
    std::lock_guard<std::mutex> lock(self_mu);
    self = std::move(result).value();
  }
  this->Put("/c/3", "x");
  ASSERT_TRUE(WaitFor([&] { return calls.load() == 1; }));
  this->Put("/c/4", "x");
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(calls.load(), 1);
  self.reset();
}

TYPED_TEST(MetaStoreConformanceTest, LeaseExpiryDeletesAttachedKeysWithDeleteEvents) {
  const LeaseId lease = this->Grant(TypeParam::kShortTtl);
  ASSERT_NE(lease, kNoLease);
  this->Put("/s/node1", "addr1", lease);
  this->Put("/s/node2", "addr2", lease);
  this->Put("/s/static", "kept");
  EXPECT_EQ(this->Get("/s/node1")->lease, lease);
  auto ttl = this->store_->TimeToLive(lease);
  ASSERT_TRUE(ttl.ok());
  EXPECT_LE(*ttl, TypeParam::kShortTtl);

  WatchRecorder recorder;
  auto watch = this->Watch("/s/", 0, recorder);
  ASSERT_TRUE(WaitFor([&] { return !this->Get("/s/node1").has_value(); }, TypeParam::kShortTtl + 3s));
  EXPECT_FALSE(this->Get("/s/node2").has_value());
  EXPECT_EQ(this->Value("/s/static"), "kept");
  ASSERT_TRUE(recorder.WaitForRevision(this->Revision()));

  std::vector<WatchResponse> responses = recorder.responses();
  ASSERT_EQ(responses.size(), 1u);  // both keys at one revision
  ASSERT_EQ(responses[0].events.size(), 2u);
  for (const WatchEvent& e : responses[0].events) {
    EXPECT_EQ(e.type, EventType::kDelete);
    ASSERT_TRUE(e.prev_kv.has_value());
    EXPECT_EQ(e.prev_kv->lease, lease);
  }
  EXPECT_EQ(this->store_->KeepAlive(lease).code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store_->TimeToLive(lease).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store_->Put("/s/late", "x", lease).status().code(), StatusCode::kNotFound);
}

TYPED_TEST(MetaStoreConformanceTest, KeepAliveExtendsLease) {
  const auto ttl = TypeParam::kShortTtl;
  const LeaseId lease = this->Grant(ttl);
  this->Put("/ka", "x", lease);
  const auto until = std::chrono::steady_clock::now() + ttl * 2;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_TRUE(this->store_->KeepAlive(lease).ok());
    std::this_thread::sleep_for(ttl / 4);
  }
  EXPECT_TRUE(this->Get("/ka").has_value()) << "kept alive for twice the TTL";
  ASSERT_TRUE(WaitFor([&] { return !this->Get("/ka").has_value(); }, ttl + 3s));
}

TYPED_TEST(MetaStoreConformanceTest, RevokeDeletesKeysNow) {
  const LeaseId lease = this->Grant(60s);
  const LeaseId other = this->Grant(60s);
  EXPECT_NE(lease, other);
  this->Put("/rv/1", "x", lease);
  this->Put("/rv/2", "x", lease);
  this->Put("/rv/3", "x", other);
  // A put without a lease detaches the key.
  this->Put("/rv/detached", "x", lease);
  this->Put("/rv/detached", "y");
  const int64_t before = this->Revision();
  ASSERT_TRUE(this->store_->Revoke(lease).ok());
  EXPECT_EQ(this->Revision(), before + 1);
  EXPECT_EQ(this->Keys("/rv/"), (std::vector<std::string>{"/rv/3", "/rv/detached"}));
  EXPECT_EQ(this->store_->Revoke(lease).code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store_->KeepAlive(lease).code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store_->Put("/rv/4", "x", lease).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store_->Put("/rv/4", "x", LeaseId{424242}).status().code(), StatusCode::kNotFound);
  // Revoking a lease without keys consumes no revision.
  ASSERT_TRUE(this->store_->Revoke(this->Grant(60s)).ok());
  EXPECT_EQ(this->Revision(), before + 1);
  EXPECT_EQ(this->store_->Grant(0ms).status().code(), StatusCode::kInvalidArgument);
}

TYPED_TEST(MetaStoreConformanceTest, CompactedRevisionIsAnError) {
  int64_t last = 0;
  for (int i = 0; i < 10; ++i) last = this->Put("/h/" + std::to_string(i % 3), std::to_string(i));
  const int64_t compact_to = last - 4;
  ASSERT_TRUE(this->store_->Compact(compact_to).ok());
  ASSERT_TRUE(this->store_->Compact(compact_to - 1).ok());  // already compacted: no-op
  EXPECT_EQ(this->store_->Compact(last + 1).code(), StatusCode::kOutOfRange);

  WatchRecorder recorder;
  auto old = this->store_->Watch("/h/", compact_to - 1, recorder.Callback());
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(old.status().message().find("compacted"), std::string::npos) << old.status().ToString();

  // The compaction point itself is still watchable.
  auto from_compact = this->Watch("/h/", compact_to, recorder);
  ASSERT_TRUE(recorder.WaitForRevision(last));
  EXPECT_EQ(recorder.events().size(), 5u);
  EXPECT_EQ(recorder.events().front().kv.mod_revision, compact_to);

  // Recovery: re-list, then watch from the list's revision + 1.
  auto listed = this->store_->Range("/h/");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->kvs.size(), 3u);
  WatchRecorder resumed;
  auto watch = this->Watch("/h/", listed->revision + 1, resumed);
  const int64_t next = this->Put("/h/new", "x");
  ASSERT_TRUE(resumed.WaitForRevision(next));
  ASSERT_EQ(resumed.events().size(), 1u);
  EXPECT_EQ(resumed.events()[0].kv.mod_revision, listed->revision + 1);
}

}  // namespace
}  // namespace tessera::storage
