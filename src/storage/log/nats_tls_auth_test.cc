// NatsLog over TLS and with NATS authentication, against real nats-servers: what each
// misconfiguration (missing file, wrong CA, missing client certificate, wrong password or
// token, no credentials) returns, and how fast. The Log contract over TLS + auth is the
// conformance suite's NatsTlsAuthLogHarness.

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "storage/log/log_test_util.h"
#include "storage/log/nats_log.h"
#include "storage/log/nats_test_server.h"

namespace tessera::storage {
namespace {

using namespace std::chrono_literals;
using testing::NatsTestServer;
using testing::NatsTestServerOptions;
using Clock = std::chrono::steady_clock;

// Every failure below must come back well within this (connect_timeout is 2 s, no retry).
constexpr auto kBound = 5s;

NatsTestServer* SecureServer() {
  auto server = NatsTestServer::SharedSecure();
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return server.ok() ? *server : nullptr;
}

// Opens `options`, expecting failure with `code` within kBound; returns the message.
std::string OpenFails(const NatsLogOptions& options, StatusCode code) {
  const auto start = Clock::now();
  auto log = NatsLog::Open(options);
  const auto took = Clock::now() - start;
  EXPECT_FALSE(log.ok());
  if (log.ok()) return "";
  EXPECT_EQ(log.status().code(), code) << log.status().ToString();
  EXPECT_LT(took, kBound) << log.status().ToString();
  return std::string(log.status().message());
}

void AppendAndRead(NatsLog& log) {
  const std::vector<std::string> records = {"one", "two"};
  auto offsets = log.Append("tls-auth", records, "key-1");
  ASSERT_TRUE(offsets.ok()) << offsets.status().ToString();
  auto sub = log.Subscribe("tls-auth", offsets->front());
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  auto batch = (*sub)->Poll(2, 5s);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_FALSE(batch->empty());
  EXPECT_EQ((*batch)[0].payload, "one");
  EXPECT_TRUE(log.DeleteChannel("tls-auth").ok());
}

TEST(NatsTlsAuthTest, MutualTlsWithPasswordAppendsAndReads) {
  NatsTestServer* server = SecureServer();
  ASSERT_NE(server, nullptr);
  NatsLogOptions options = server->LogOptions();
  options.stream_prefix = "TLSOK_";
  auto log = NatsLog::Open(options);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  AppendAndRead(**log);
}

TEST(NatsTlsAuthTest, MissingOrUnreadableFilesAreInvalidArgumentNamingTheFile) {
  NatsTestServer* server = SecureServer();
  ASSERT_NE(server, nullptr);
  const std::string missing = server->certificates().ca_file + ".missing";
  for (const char* key : {"log.ca_file", "log.cert_file", "log.key_file"}) {
    NatsLogOptions options = server->LogOptions();
    std::string& file = std::string(key) == "log.ca_file"     ? options.ca_file
                        : std::string(key) == "log.cert_file" ? options.cert_file
                                                              : options.key_file;
    file = missing;
    const std::string message = OpenFails(options, StatusCode::kInvalidArgument);
    EXPECT_NE(message.find(key), std::string::npos) << message;
    EXPECT_NE(message.find(missing), std::string::npos) << message;
  }
  NatsLogOptions not_pem = server->LogOptions();
  not_pem.ca_file = server->certificates().server_key_file;  // readable, but no certificate
  const std::string message = OpenFails(not_pem, StatusCode::kInvalidArgument);
  EXPECT_NE(message.find(not_pem.ca_file), std::string::npos) << message;
}

TEST(NatsTlsAuthTest, CertificateWithoutKeyIsInvalidArgument) {
  NatsTestServer* server = SecureServer();
  ASSERT_NE(server, nullptr);
  NatsLogOptions options = server->LogOptions();
  options.key_file.clear();
  const std::string message = OpenFails(options, StatusCode::kInvalidArgument);
  EXPECT_NE(message.find("log.key_file"), std::string::npos) << message;
}

TEST(NatsTlsAuthTest, UntrustedServerCertificateFailsNamingTheCaFile) {
  NatsTestServer* server = SecureServer();
  ASSERT_NE(server, nullptr);
  testing::TempDir other;
  auto other_certs = testing::MakeNatsTestCertificates(other.path());
  ASSERT_TRUE(other_certs.ok()) << other_certs.status().ToString();
  NatsLogOptions options = server->LogOptions();
  options.ca_file = other_certs->ca_file;  // a different CA: the server's certificate is not signed by it
  const std::string message = OpenFails(options, StatusCode::kUnavailable);
  EXPECT_NE(message.find("TLS"), std::string::npos) << message;
  EXPECT_NE(message.find(other_certs->ca_file), std::string::npos) << message;
}

TEST(NatsTlsAuthTest, MissingClientCertificateWhenTheServerVerifiesFails) {
  NatsTestServer* server = SecureServer();
  ASSERT_NE(server, nullptr);
  NatsLogOptions options = server->LogOptions();
  options.cert_file.clear();
  options.key_file.clear();
  const std::string message = OpenFails(options, StatusCode::kUnavailable);
  EXPECT_NE(message.find("TLS"), std::string::npos) << message;
  EXPECT_NE(message.find("log.cert_file"), std::string::npos) << message;
}

// libnats upgrades to TLS when the server requires it; without log.ca_file the test CA is
// not trusted (OpenSSL's default store), and the error says so.
TEST(NatsTlsAuthTest, TlsServerWithoutCaFileFailsNamingTheTrustStore) {
  NatsTestServer* server = SecureServer();
  ASSERT_NE(server, nullptr);
  NatsLogOptions options;
  options.url = server->url();  // nats://, no TLS files
  options.username = server->options().user;
  options.password = server->options().password;
  const std::string message = OpenFails(options, StatusCode::kUnavailable);
  EXPECT_NE(message.find("TLS"), std::string::npos) << message;
  EXPECT_NE(message.find("log.ca_file"), std::string::npos) << message;
}

TEST(NatsTlsAuthTest, WrongPasswordIsPermissionDeniedNamingTheUser) {
  NatsTestServer* server = SecureServer();
  ASSERT_NE(server, nullptr);
  NatsLogOptions options = server->LogOptions();
  options.password = "not-the-password";
  const std::string message = OpenFails(options, StatusCode::kPermissionDenied);
  EXPECT_NE(message.find("\"" + options.username + "\""), std::string::npos) << message;
  EXPECT_EQ(message.find(options.password), std::string::npos) << "the password leaked: " << message;
}

TEST(NatsTlsAuthTest, NoCredentialsIsUnauthenticated) {
  NatsTestServer* server = SecureServer();
  ASSERT_NE(server, nullptr);
  NatsLogOptions options = server->LogOptions();
  options.username.clear();
  options.password.clear();
  const std::string message = OpenFails(options, StatusCode::kUnauthenticated);
  EXPECT_NE(message.find("log.username"), std::string::npos) << message;
}

TEST(NatsTlsAuthTest, TokenAuthorization) {
  NatsTestServerOptions server_options;
  server_options.token = "wal-token-1";
  auto server = NatsTestServer::Start(server_options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  NatsLogOptions options = (*server)->LogOptions();
  auto log = NatsLog::Open(options);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  AppendAndRead(**log);

  options.token = "wrong-token";
  const std::string message = OpenFails(options, StatusCode::kPermissionDenied);
  EXPECT_NE(message.find("log.token"), std::string::npos) << message;
  EXPECT_EQ(message.find("wrong-token"), std::string::npos) << "the token leaked: " << message;

  options.username = "someone";
  OpenFails(options, StatusCode::kInvalidArgument);  // username and token together
}

}  // namespace
}  // namespace tessera::storage
