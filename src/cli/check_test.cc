// Runs the real `tessera check` binary against embedded backends in a temp directory.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "storage/log/nats_test_server.h"
#include "storage/meta/etcd_test_server.h"
#include "storage/object/s3_object_store.h"
#include "storage/object/swift_test_server.h"

namespace {

struct RunResult {
  int exit_code;
  std::string output;
};

RunResult RunTessera(const std::string& args) {
  const std::string command = std::string(TESSERA_BINARY) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  EXPECT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

class CheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tessera_check_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string WriteConfig(const std::string& yaml) {
    const auto path = dir_ / "tessera.yaml";
    std::ofstream(path) << yaml;
    return path.string();
  }

  // `check` on local meta and log and the S3 store of `options` (path style), without the
  // bucket and secret, which the tests vary.
  std::string S3CheckArgs(const tessera::storage::S3Options& options) const {
    const std::string d = dir_.string();
    return "check --set meta.path=" + d + "/meta.db --set log.path=" + d + "/wal" +
           " --set object_store.type=s3 --set object_store.endpoint=" + options.endpoint +
           " --set object_store.region=" + options.region +
           " --set object_store.path_style=true --set object_store.access_key=" + options.access_key;
  }

  std::filesystem::path dir_;
};

TEST_F(CheckTest, EmbeddedBackendsPass) {
  const std::string d = dir_.string();
  const std::string config = WriteConfig("object_store: {type: local, path: " + d + "/objects}\n" +
                                         "meta: {type: sqlite, path: " + d + "/meta/meta.db}\n" +
                                         "log: {type: local, path: " + d + "/wal}\n");
  RunResult r = RunTessera("check --config " + config);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("object_store"), std::string::npos) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 3) << r.output;
  EXPECT_EQ(r.output.find("FAILED"), std::string::npos) << r.output;
  // The scratch object is gone again (the store may keep its own bookkeeping files).
  RunResult again = RunTessera("check --config " + config);
  EXPECT_EQ(again.exit_code, 0) << again.output;
}

// --data-dir (or server.data_dir from any source) places the embedded backends as the
// standalone does, and the check leaves nothing behind in the log.
TEST_F(CheckTest, DataDirPlacesTheEmbeddedBackends) {
  const std::string d = (dir_ / "dd").string();
  RunResult r = RunTessera("check --data-dir " + d);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(d + "/objects"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(d + "/wal"), std::string::npos) << r.output;
  ASSERT_TRUE(std::filesystem::is_directory(d + "/wal"));
  for (const auto& entry : std::filesystem::directory_iterator(d + "/wal")) {
    EXPECT_FALSE(entry.is_directory()) << "a scratch channel was left: " << entry.path();
  }
  RunResult via_set = RunTessera("check --set server.data_dir=" + d);
  EXPECT_NE(via_set.output.find(d + "/meta.db"), std::string::npos) << via_set.output;
}

TEST_F(CheckTest, FlagOverridesAndFailureExitCode) {
  const std::string d = dir_.string();
  // object_store.path is a regular file: the local store cannot open there.
  std::ofstream(dir_ / "not_a_dir") << "x";
  RunResult r = RunTessera("check --set object_store.path=" + d + "/not_a_dir --set meta.path=" + d +
                    "/meta.db --set log.path=" + d + "/wal");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("object_store"), std::string::npos);
  EXPECT_NE(r.output.find("FAILED"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("hint:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("meta         sqlite"), std::string::npos) << r.output;
}

// Real backends: a nats-server started for the test (the harness fails, never skips, when
// the server cannot start).
TEST_F(CheckTest, NatsLogPassesAndUnreachableNatsFails) {
  auto server = tessera::storage::testing::NatsTestServer::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const std::string d = dir_.string();
  const std::string local = " --set object_store.path=" + d + "/objects --set meta.path=" + d + "/meta.db";
  RunResult r = RunTessera("check" + local + " --set log.type=nats --set log.url=" + (*server)->url());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("log          nats nats://127.0.0.1"), std::string::npos) << r.output;
  const std::string url = (*server)->url();
  server->reset();  // stops the server: the same URL is now unreachable
  r = RunTessera("check" + local + " --set log.type=nats --set log.url=" + url);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("UNAVAILABLE"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("unreachable"), std::string::npos) << r.output;
}

// S3 against a Swift s3api server started for the test: a good configuration passes, a
// wrong secret is PermissionDenied with a credentials hint, a missing bucket is NotFound.
TEST_F(CheckTest, S3ObjectStoreCredentialsAndBucket) {
  auto server = tessera::storage::testing::SwiftTestServer::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto store = (*server)->NewBucketStore();
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const auto& options = (*store)->options();
  const std::string base = S3CheckArgs(options);
  RunResult r = RunTessera(base + " --set object_store.bucket=" + options.bucket +
                           " --set object_store.secret_key=" + options.secret_key);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = RunTessera(base + " --set object_store.bucket=" + options.bucket + " --set object_store.secret_key=wrong");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("PERMISSION_DENIED"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("credentials"), std::string::npos) << r.output;
  r = RunTessera(base + " --set object_store.bucket=no-such-bucket-here --set object_store.secret_key=" +
                 options.secret_key);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("NOT_FOUND"), std::string::npos) << r.output;
}

// S3 over HTTPS (Swift with a throwaway CA): trusted through object_store.ca_file it passes;
// with the system CA store the certificate is refused, with a TLS hint and no retry loop.
TEST_F(CheckTest, S3OverTlsNeedsTheRightCaFile) {
  tessera::storage::testing::SwiftTestServerOptions tls;
  tls.tls = true;
  auto server = tessera::storage::testing::SwiftTestServer::Start(tls);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto store = (*server)->NewBucketStore();
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const auto& options = (*store)->options();
  const std::string base = S3CheckArgs(options) + " --set object_store.secret_key=" + options.secret_key +
                           " --set object_store.bucket=" + options.bucket;
  RunResult r = RunTessera(base + " --set object_store.ca_file=" + (*server)->ca_file());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const auto start = std::chrono::steady_clock::now();
  r = RunTessera(base);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("FAILED_PRECONDITION"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("TLS certificate is not trusted"), std::string::npos) << r.output;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

// etcd over TLS with authentication: the meta.* TLS and credential keys reach the store; a
// wrong password is PermissionDenied with a credentials hint.
TEST_F(CheckTest, EtcdOverTlsWithAuth) {
  tessera::storage::testing::EtcdTestServerOptions secure;
  secure.tls = true;
  secure.root_password = "check-secret";
  auto server = tessera::storage::testing::EtcdTestServer::Start(secure);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const std::string d = dir_.string();
  const std::string base = "check --set object_store.path=" + d + "/objects --set log.path=" + d + "/wal" +
                           " --set meta.type=etcd --set meta.endpoints=" + (*server)->endpoint() +
                           " --set meta.ca_file=" + (*server)->certificates().ca_file + " --set meta.username=root";
  RunResult r = RunTessera(base + " --set meta.password=check-secret");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = RunTessera(base + " --set meta.password=wrong");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("PERMISSION_DENIED"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("root"), std::string::npos) << r.output;
}

// NATS over mutual TLS with user/password authorization: the log.* TLS and credential keys
// reach NatsLog; a wrong password is PermissionDenied naming the user, with a credentials
// hint; a CA that did not sign the server's certificate is a TLS error with a TLS hint.
TEST_F(CheckTest, NatsOverTlsWithAuth) {
  tessera::storage::testing::NatsTestServerOptions secure;
  secure.tls = true;
  secure.verify_client = true;
  secure.user = "waluser";
  secure.password = "check-secret";
  auto server = tessera::storage::testing::NatsTestServer::Start(secure);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const tessera::storage::NatsLogOptions log = (*server)->LogOptions();
  const std::string d = dir_.string();
  const std::string local = "check --set object_store.path=" + d + "/objects --set meta.path=" + d + "/meta.db";
  const std::string base = local + " --set log.type=nats --set log.url=" + log.url +
                           " --set log.cert_file=" + log.cert_file + " --set log.key_file=" + log.key_file +
                           " --set log.username=waluser";
  RunResult r = RunTessera(base + " --set log.ca_file=" + log.ca_file + " --set log.password=check-secret");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = RunTessera(base + " --set log.ca_file=" + log.ca_file + " --set log.password=wrong");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("PERMISSION_DENIED"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("waluser"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("log.username"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("check-secret"), std::string::npos) << "the password leaked: " << r.output;
  // The client certificate is not a CA: the server's certificate does not chain to it.
  r = RunTessera(base + " --set log.ca_file=" + log.cert_file + " --set log.password=check-secret");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("TLS handshake failed"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("log.ca_file"), std::string::npos) << r.output;
  r = RunTessera(base + " --set log.ca_file=" + d + "/missing-ca.pem --set log.password=check-secret");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("INVALID_ARGUMENT"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(d + "/missing-ca.pem"), std::string::npos) << r.output;
}

TEST_F(CheckTest, EtcdMetaStorePassesAndUnreachableEtcdFails) {
  auto server = tessera::storage::testing::EtcdTestServer::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const std::string d = dir_.string();
  const std::string local = " --set object_store.path=" + d + "/objects --set log.path=" + d + "/wal";
  const std::string endpoint = (*server)->endpoint();
  RunResult r = RunTessera("check" + local + " --set meta.type=etcd --set meta.endpoints=" + endpoint);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("meta         etcd"), std::string::npos) << r.output;
  server->reset();  // stops etcd: the endpoint is now unreachable
  const auto start = std::chrono::steady_clock::now();
  r = RunTessera("check" + local + " --set meta.type=etcd --set meta.endpoints=" + endpoint);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(15));  // bounded, no hang
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("UNAVAILABLE"), std::string::npos) << r.output;
}

TEST_F(CheckTest, BadConfigNamesTheKey) {
  const std::string config = WriteConfig("cache: {size: ten}\n");
  RunResult r = RunTessera("check --config " + config);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("cache.size"), std::string::npos) << r.output;
  r = RunTessera("check --set log.type=kafka");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("log.type"), std::string::npos) << r.output;
  r = RunTessera("check --config " + (dir_ / "missing.yaml").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("NOT_FOUND"), std::string::npos) << r.output;
}

}  // namespace
