// S3ObjectStore over HTTPS: a Swift s3api server serving TLS with a certificate signed
// by a throwaway CA made at start (SwiftTestServer::SharedTls). The conformance suite runs
// over it too (object_store_conformance_test.cc); these cases cover verification.

#include <chrono>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/object/object_store_test_util.h"
#include "storage/object/s3_object_store.h"
#include "storage/object/swift_test_server.h"

namespace tessera::storage {
namespace {

using testing::PatternBytes;
using testing::SwiftTestServer;

class S3TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<SwiftTestServer*> server = SwiftTestServer::SharedTls();
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = *server;
    Result<std::unique_ptr<S3ObjectStore>> store = server_->NewBucketStore(server_->BaseOptions());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    trusted_ = std::move(*store);
  }
  // Options for the trusted store's bucket with `ca_file` and fast, few retries.
  S3Options WithCaFile(std::string ca_file) const {
    S3Options options = trusted_->options();
    options.ca_file = std::move(ca_file);
    options.retry_base_delay = std::chrono::milliseconds(2);
    return options;
  }

  SwiftTestServer* server_ = nullptr;
  std::unique_ptr<S3ObjectStore> trusted_;
};

TEST_F(S3TlsTest, PrivateCaVerifiesBothAddressingsUnsignedPayloadsAndPartCopies) {
  EXPECT_THAT(trusted_->options().endpoint, ::testing::StartsWith("https://"));
  S3Options options = server_->VirtualHostOptions();
  options.bucket = trusted_->options().bucket;
  options.unsigned_payload = true;  // TLS protects the body; the payload is not hashed
  options.multipart_threshold = 5 << 20;
  options.part_size = 5 << 20;
  options.copy_part_threshold = 5 << 20;  // a multipart copy
  auto vhost = S3ObjectStore::Open(options).value();
  const std::string big = PatternBytes((6 << 20) + 5, 11);
  ASSERT_TRUE(vhost->Put("small", "over tls").ok());
  ASSERT_TRUE(vhost->Put("big", big).ok());
  EXPECT_EQ("over tls", trusted_->Get("small").value());
  EXPECT_TRUE(trusted_->Get("big").value() == big);
  EXPECT_EQ(big.substr(5 << 20), vhost->GetRange("big", 5 << 20, std::nullopt).value());
  Status copied = vhost->Copy("big", "big/copy");
  ASSERT_TRUE(copied.ok()) << copied.ToString();
  EXPECT_TRUE(trusted_->Get("big/copy").value() == big);
}

// The system store does not know the test CA: the first request fails at once, says it
// is the certificate and what to do, and is not retried.
TEST_F(S3TlsTest, SystemStoreRejectsThePrivateCaWithoutRetrying) {
  auto store = S3ObjectStore::Open(WithCaFile("")).value();
  const auto start = std::chrono::steady_clock::now();
  Status status = store->Put("k", "v");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(StatusCode::kFailedPrecondition, status.code()) << status.ToString();
  EXPECT_THAT(status.message(), ::testing::AllOf(::testing::HasSubstr("certificate"),
                                                 ::testing::HasSubstr("system store"),
                                                 ::testing::HasSubstr("ca_file")));
  EXPECT_EQ(1u, store->requests_sent());
  EXPECT_EQ(StatusCode::kFailedPrecondition, store->Get("k").status().code());
  EXPECT_EQ(StatusCode::kNotFound, trusted_->Head("k").status().code());
}

TEST_F(S3TlsTest, AnotherCaIsRejected) {
  testing::ScratchDir scratch;
  Result<testing::TestCertificates> other = testing::MakeTestCertificates(scratch.path().string());
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  const std::string not_the_ca = other->ca_file;
  auto store = S3ObjectStore::Open(WithCaFile(not_the_ca)).value();
  Status status = store->Put("k", "v");
  EXPECT_EQ(StatusCode::kFailedPrecondition, status.code()) << status.ToString();
  EXPECT_THAT(status.message(), ::testing::HasSubstr("ca_file '" + not_the_ca + "'"));
  EXPECT_EQ(1u, store->requests_sent());
}

TEST_F(S3TlsTest, HostNameIsVerified) {
  // <bucket>.localhost resolves to the server, but the certificate's *.localhost is a
  // single-label wildcard, which curl does not accept: the host name does not match.
  S3Options options = WithCaFile(server_->ca_file());
  options.endpoint = "https://localhost:" + std::to_string(server_->port());
  options.path_style = false;
  auto store = S3ObjectStore::Open(options).value();
  Status status = store->Put("k", "v");
  EXPECT_EQ(StatusCode::kFailedPrecondition, status.code()) << status.ToString();
  EXPECT_THAT(status.message(), ::testing::HasSubstr(options.bucket + ".localhost"));
  EXPECT_EQ(1u, store->requests_sent());
}

TEST(S3TlsOptions, CaFileMustBeAReadablePemWithACertificate) {
  testing::ScratchDir scratch;
  const std::string dir = scratch.path().string();
  S3Options options;
  options.bucket = "b";
  options.access_key = "a";
  options.secret_key = "s";
  options.endpoint = "https://s3.example.com";
  auto open_error = [&](const std::string& ca_file) {
    options.ca_file = ca_file;
    return S3ObjectStore::Open(options).status();
  };
  Status missing = open_error(dir + "/no-such-ca.pem");
  EXPECT_EQ(StatusCode::kInvalidArgument, missing.code());
  EXPECT_THAT(missing.message(), ::testing::AllOf(::testing::HasSubstr("'" + dir + "/no-such-ca.pem'"),
                                                  ::testing::HasSubstr("does not exist")));
  Status directory = open_error(dir);
  EXPECT_EQ(StatusCode::kInvalidArgument, directory.code());
  EXPECT_THAT(directory.message(), ::testing::HasSubstr("not a regular file"));
  {
    std::ofstream(dir + "/junk.pem") << "not a certificate\n";
  }
  Status junk = open_error(dir + "/junk.pem");
  EXPECT_EQ(StatusCode::kInvalidArgument, junk.code());
  EXPECT_THAT(junk.message(), ::testing::AllOf(::testing::HasSubstr("junk.pem"),
                                               ::testing::HasSubstr("no PEM certificate")));
}

}  // namespace
}  // namespace tessera::storage
