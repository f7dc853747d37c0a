// EtcdMetaStore over TLS and with etcd authentication, against real etcd servers started by
// EtcdTestServer with a throwaway CA (tests/make-test-certs.sh): bad TLS configuration, a CA
// that did not sign etcd's certificate, mutual TLS, a wrong password, and auth tokens that
// expire (--auth-token-ttl) or vanish with an etcd restart while the store and a watch are in
// use. The conformance suite covers the full API over TLS + auth (EtcdTlsAuthMetaStoreFactory).

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "storage/meta/etcd_meta_store.h"
#include "storage/meta/etcd_test_server.h"
#include "storage/meta/meta_store_test_util.h"

namespace tessera::storage {
namespace {

using namespace std::chrono_literals;
using testing::EtcdTestServer;
using testing::EtcdTestServerOptions;
using testing::ScratchDir;
using testing::WatchRecorder;

bool Contains(const Status& status, std::string_view text) {
  return status.message().find(text) != std::string::npos;
}

TEST(EtcdTlsTest, BadTlsFilesAreInvalidArgumentNamingTheFile) {
  EtcdMetaStoreOptions options;
  options.ca_file = "/nonexistent/tessera-ca.pem";
  auto missing = EtcdMetaStore::Open({"https://127.0.0.1:1"}, options);
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(missing.status(), "/nonexistent/tessera-ca.pem")) << missing.status().ToString();

  ScratchDir dir;
  const std::string not_pem = (dir.path() / "not.pem").string();
  { std::ofstream(not_pem) << "hello"; }
  options.ca_file = not_pem;
  auto garbage = EtcdMetaStore::Open({"https://127.0.0.1:1"}, options);
  EXPECT_EQ(garbage.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(garbage.status(), not_pem)) << garbage.status().ToString();

  options.ca_file.clear();
  options.cert_file = "/nonexistent/client.pem";  // without key_file
  auto half = EtcdMetaStore::Open({"https://127.0.0.1:1"}, options);
  EXPECT_EQ(half.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(half.status(), "key_file")) << half.status().ToString();

  options.cert_file.clear();
  options.ca_file = not_pem;  // TLS settings with a plaintext endpoint
  auto plaintext = EtcdMetaStore::Open({"http://127.0.0.1:1"}, options);
  EXPECT_EQ(plaintext.status().code(), StatusCode::kInvalidArgument) << plaintext.status().ToString();
}

TEST(EtcdTlsTest, WorksWithTheRightCaAndFailsClearlyWithAnother) {
  auto server = EtcdTestServer::Start({.tls = true});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const std::string endpoint = (*server)->endpoint();
  ASSERT_EQ(endpoint.rfind("https://", 0), 0u) << endpoint;

  auto store = EtcdMetaStore::Open({endpoint}, (*server)->StoreOptions());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->Put("/tls/k", "v").ok());
  auto got = (*store)->Get("/tls/k");
  ASSERT_TRUE(got.ok() && got->has_value()) << got.status().ToString();
  EXPECT_EQ((*got)->value, "v");

  // Another throwaway CA did not sign etcd's certificate.
  ScratchDir other;
  auto other_certs = testing::MakeEtcdTestCertificates(other.path());
  ASSERT_TRUE(other_certs.ok()) << other_certs.status().ToString();
  EtcdMetaStoreOptions options;
  options.ca_file = other_certs->ca_file;
  options.dial_timeout = 2s;
  const auto start = std::chrono::steady_clock::now();
  auto refused = EtcdMetaStore::Open({endpoint}, options);
  ASSERT_FALSE(refused.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 8s);
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable) << refused.status().ToString();
  EXPECT_TRUE(Contains(refused.status(), "TLS")) << refused.status().ToString();
  EXPECT_TRUE(Contains(refused.status(), other_certs->ca_file)) << refused.status().ToString();
}

TEST(EtcdTlsTest, MutualTlsNeedsTheClientCertificate) {
  auto server = EtcdTestServer::Start({.tls = true, .client_cert_auth = true});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const std::string endpoint = (*server)->endpoint();

  const EtcdMetaStoreOptions with_cert = (*server)->StoreOptions();
  ASSERT_FALSE(with_cert.cert_file.empty());
  auto store = EtcdMetaStore::Open({endpoint}, with_cert);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->Put("/mtls/k", "v").ok());

  // Without a client certificate etcd refuses the handshake: Open (or, if the TLS 1.3
  // handshake completed on our side before etcd's refusal, the first call) fails.
  EtcdMetaStoreOptions without_cert = with_cert;
  without_cert.cert_file.clear();
  without_cert.key_file.clear();
  without_cert.dial_timeout = 2s;
  without_cert.request_timeout = 2s;
  const auto start = std::chrono::steady_clock::now();
  auto refused = EtcdMetaStore::Open({endpoint}, without_cert);
  Status status = refused.status();
  if (refused.ok()) status = (*refused)->Put("/mtls/k", "v2").status();
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(status.code() == StatusCode::kUnavailable || status.code() == StatusCode::kDeadlineExceeded)
      << status.ToString();
  EXPECT_TRUE(Contains(status, "TLS")) << status.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 8s);
}

TEST(EtcdAuthTest, WrongPasswordIsPermissionDeniedNamingTheUser) {
  auto server = EtcdTestServer::SharedSecure();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EtcdMetaStoreOptions options = (*server)->StoreOptions();
  options.password = "not-the-password";
  const auto start = std::chrono::steady_clock::now();
  auto store = EtcdMetaStore::Open({(*server)->endpoint()}, options);
  ASSERT_FALSE(store.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(store.status().code(), StatusCode::kPermissionDenied) << store.status().ToString();
  EXPECT_TRUE(Contains(store.status(), "'root'")) << store.status().ToString();

  // No credentials at all against an etcd that requires them.
  options.username.clear();
  options.password.clear();
  auto anonymous = EtcdMetaStore::Open({(*server)->endpoint()}, options);
  ASSERT_TRUE(anonymous.ok()) << anonymous.status().ToString();
  auto put = (*anonymous)->Put("/auth/k", "v");
  EXPECT_EQ(put.status().code(), StatusCode::kUnauthenticated) << put.status().ToString();
  EXPECT_TRUE(Contains(put.status(), "username")) << put.status().ToString();
}

// Simple tokens expire after --auth-token-ttl seconds unused. The store authenticates again
// (once per request), and a watch whose stream breaks resumes without a gap even when its
// token expired meanwhile.
TEST(EtcdAuthTest, ExpiredTokensAreRenewedForCallsAndWatches) {
  auto server = EtcdTestServer::Start({.tls = true, .root_password = "pw", .auth_token_ttl_s = 1});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EtcdMetaStoreOptions options = (*server)->StoreOptions();
  options.request_timeout = 5s;
  // A broken watch retries after 5 s: long enough for the token to expire first.
  options.watch_retry_min = 5s;
  options.watch_retry_max = 5s;
  auto opened = EtcdMetaStore::Open({(*server)->endpoint()}, options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto& store = *opened;

  WatchRecorder recorder;
  auto watch = store->Watch("/w/", 0, recorder.Callback());
  ASSERT_TRUE(watch.ok()) << watch.status().ToString();
  auto rev_a = store->Put("/w/a", "1");
  ASSERT_TRUE(rev_a.ok()) << rev_a.status().ToString();
  ASSERT_TRUE(recorder.WaitForRevision(*rev_a));

  // Past the token's TTL (etcd checks expiry once a second): each kind of call (unary, the
  // KeepAlive stream, a new watch) renews it.
  std::this_thread::sleep_for(2500ms);
  auto rev_b = store->Put("/w/b", "2");
  ASSERT_TRUE(rev_b.ok()) << rev_b.status().ToString();
  ASSERT_TRUE(recorder.WaitForRevision(*rev_b));
  std::this_thread::sleep_for(2500ms);
  auto lease = store->Grant(5s);
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  std::this_thread::sleep_for(2500ms);
  EXPECT_TRUE(store->KeepAlive(*lease).ok());
  auto ttl = store->TimeToLive(*lease);
  EXPECT_TRUE(ttl.ok()) << ttl.status().ToString();
  EXPECT_TRUE(store->Revoke(*lease).ok());
  auto txn = store->Commit(Txn().If(Compare::Exists("/w/a")).Then(TxnOp::Put("/w/t", "t")));
  ASSERT_TRUE(txn.ok()) << txn.status().ToString();
  EXPECT_TRUE(txn->succeeded);
  ASSERT_TRUE(recorder.WaitForRevision(txn->revision));
  auto range = store->Range("/w/");
  ASSERT_TRUE(range.ok()) << range.status().ToString();
  EXPECT_EQ(range->kvs.size(), 3u);
  std::this_thread::sleep_for(2500ms);
  WatchRecorder second;
  auto watch2 = store->Watch("/w/", 0, second.Callback());
  ASSERT_TRUE(watch2.ok()) << watch2.status().ToString();

  // Both watches break with the restart. etcd restores its tokens by replaying its log, with a
  // fresh TTL that runs out before the watches retry (5 s): their streams are refused with
  // "permission denied", they authenticate again (no other call runs meanwhile) and resume.
  const int64_t before = store->authentications();
  ASSERT_TRUE((*server)->Kill().ok());
  ASSERT_TRUE((*server)->Restart().ok());
  EXPECT_TRUE(testing::WaitFor([&] { return store->authentications() > before; }, 15s))
      << "the watches never re-authenticated";
  std::this_thread::sleep_for(500ms);
  auto rev_c = store->Put("/w/c", "3");
  ASSERT_TRUE(rev_c.ok()) << rev_c.status().ToString();
  ASSERT_TRUE(recorder.WaitForRevision(*rev_c, 10s));
  ASSERT_TRUE(second.WaitForRevision(*rev_c, 10s));

  std::vector<std::string> keys;
  for (const WatchEvent& event : recorder.events()) keys.push_back(event.kv.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"/w/a", "/w/b", "/w/t", "/w/c"}));
  std::vector<std::string> second_keys;
  for (const WatchEvent& event : second.events()) second_keys.push_back(event.kv.key);
  EXPECT_EQ(second_keys, (std::vector<std::string>{"/w/c"}));
}

}  // namespace
}  // namespace tessera::storage
