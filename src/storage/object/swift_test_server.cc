#include "storage/object/swift_test_server.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>

namespace tessera::storage::testing {

int PickFreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

Result<std::pair<int, std::string>> RunCommand(const std::string& command) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return Status::Internal("popen failed: " + command);
  std::string output;
  char buffer[4096];
  size_t n;
  while ((n = ::fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  const int status = ::pclose(pipe);
  const int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return std::make_pair(rc, output);
}

Result<TestCertificates> MakeTestCertificates(const std::string& dir) {
  TESSERA_ASSIGN_OR_RETURN(auto made, RunCommand("bash '" TESSERA_TEST_CERTS_SCRIPT "' '" + dir + "'"));
  if (made.first != 0) {
    return Status::FailedPrecondition("could not make a test CA (tests/make-test-certs.sh, exit " +
                                      std::to_string(made.first) + "; needs openssl): " + made.second);
  }
  return TestCertificates{.ca_file = dir + "/ca.pem", .cert_file = dir + "/server.pem", .key_file = dir + "/server.key"};
}

std::string SwiftTestServer::Script(const std::string& command) const {
  return env_ + " bash '" TESSERA_SWIFT_S3_SCRIPT "' " + command;
}

Result<std::unique_ptr<SwiftTestServer>> SwiftTestServer::Start(SwiftTestServerOptions options) {
  auto server = std::unique_ptr<SwiftTestServer>(new SwiftTestServer());
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/tessera-swift-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) return Status::Internal("mkdtemp " + templ + " failed");
  server->dir_ = templ;
  int ports[5];
  for (int& port : ports) {
    port = PickFreePort();
    if (port == 0) return Status::Internal("SwiftTestServer: no free port");
  }
  server->port_ = ports[0];
  server->env_ = "SWIFT_S3_DIR='" + server->dir_ + "' SWIFT_S3_PORT=" + std::to_string(ports[0]) +
                 " SWIFT_S3_ACCOUNT_PORT=" + std::to_string(ports[1]) +
                 " SWIFT_S3_CONTAINER_PORT=" + std::to_string(ports[2]) +
                 " SWIFT_S3_OBJECT_PORT=" + std::to_string(ports[3]) +
                 " SWIFT_S3_MEMCACHE_PORT=" + std::to_string(ports[4]) +
                 " SWIFT_S3_STORAGE_DOMAIN=" + kStorageDomain;
  if (options.tls) {
    TESSERA_ASSIGN_OR_RETURN(TestCertificates certificates, MakeTestCertificates(server->dir_ + "/tls"));
    server->ca_file_ = certificates.ca_file;
    server->env_ += " SWIFT_S3_CERT_FILE='" + certificates.cert_file + "' SWIFT_S3_KEY_FILE='" +
                    certificates.key_file + "'";
  }
  server->running_ = true;  // from here on the destructor stops whatever started
  TESSERA_ASSIGN_OR_RETURN(auto result, RunCommand(server->Script("start")));
  if (result.first != 0) {
    return Status::FailedPrecondition("could not start Swift s3api (tests/swift-s3.sh start, exit " +
                                      std::to_string(result.first) + "; needs python3-swift, curl): " +
                                      result.second);
  }
  return server;
}

namespace {

// The process-wide server of one kind (index 0: HTTP, 1: HTTPS), started on first use.
Result<SwiftTestServer*> SharedServer(bool tls) {
  static std::mutex mu;
  static std::unique_ptr<SwiftTestServer> servers[2];
  static Status errors[2];
  static bool tried[2] = {false, false};
  std::lock_guard<std::mutex> lock(mu);
  const int kind = tls ? 1 : 0;
  if (!tried[kind]) {
    tried[kind] = true;
    Result<std::unique_ptr<SwiftTestServer>> started = SwiftTestServer::Start({.tls = tls});
    if (started.ok()) {
      servers[kind] = std::move(*started);
    } else {
      errors[kind] = started.status();
    }
  }
  if (!servers[kind]) return errors[kind];
  return servers[kind].get();
}

}  // namespace

Result<SwiftTestServer*> SwiftTestServer::Shared() { return SharedServer(false); }

Result<SwiftTestServer*> SwiftTestServer::SharedTls() { return SharedServer(true); }

SwiftTestServer::~SwiftTestServer() {
  if (running_) (void)RunCommand(Script("stop"));
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

S3Options SwiftTestServer::BaseOptions() const {
  S3Options options;
  options.endpoint = scheme() + "://127.0.0.1:" + std::to_string(port_);
  options.ca_file = ca_file_;
  options.region = "us-east-1";
  options.access_key = "test:tester";
  options.secret_key = "testing";
  options.path_style = true;
  options.recheck_not_found = true;  // Swift's read-during-overwrite 404 (see S3Options)
  options.request_timeout = std::chrono::seconds(20);
  return options;
}

S3Options SwiftTestServer::VirtualHostOptions() const {
  S3Options options = BaseOptions();
  options.endpoint = scheme() + "://" + kStorageDomain + ":" + std::to_string(port_);
  options.path_style = false;
  return options;
}

std::string SwiftTestServer::NewBucketName() {
  return "tessera-test-" + std::to_string(::getpid()) + "-" + std::to_string(next_bucket_++);
}

Result<std::unique_ptr<S3ObjectStore>> SwiftTestServer::NewBucketStore(S3Options options) {
  options.bucket = NewBucketName();
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<S3ObjectStore> store, S3ObjectStore::Open(options));
  TESSERA_RETURN_IF_ERROR(store->CreateBucket());
  return store;
}

}  // namespace tessera::storage::testing
