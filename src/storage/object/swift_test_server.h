#pragma once
// PRIVATE test support: a throwaway OpenStack Swift (s3api) server for the S3 tests.

#include <atomic>
#include <memory>
#include <string>

#include "common/result.h"
#include "storage/object/s3_object_store.h"

namespace tessera::storage::testing {

/// How a SwiftTestServer listens.
struct SwiftTestServerOptions {
  /// Serve HTTPS only, with a throwaway CA made at start (tests/make-test-certs.sh, the
  /// openssl command) in the server's directory; ca_file() names the CA certificate. The
  /// server certificate names localhost, s3.localhost, *.s3.localhost and 127.0.0.1.
  bool tls = false;
};

/// Runs tests/swift-s3.sh in a fresh temporary directory on free loopback ports: `Start`
/// returns once an authenticated S3 request succeeds (a few seconds); the destructor runs
/// `swift-s3.sh stop` (by PID) and removes the directory. A failure to start is an error
/// carrying the script's output, so a test that needs the server fails and says why
/// (it never skips). The server takes path-style requests on any host name and
/// virtual-hosted ones on "<bucket>.s3.localhost" (kStorageDomain).
/// Thread-safe after Start (NewBucketStore may be called from any thread). Owns the
/// server processes and the directory.
class SwiftTestServer {
 public:
  /// Virtual-hosted buckets are "<bucket>.<kStorageDomain>". curl resolves every
  /// *.localhost name to loopback itself (no /etc/hosts entry needed); two labels, so
  /// that a wildcard certificate (*.s3.localhost) can match them.
  static constexpr const char* kStorageDomain = "s3.localhost";

  static Result<std::unique_ptr<SwiftTestServer>> Start(SwiftTestServerOptions options = {});
  /// One plain-HTTP server per process, started by the first call and stopped at exit.
  /// Later calls return the same server, or the same start error.
  static Result<SwiftTestServer*> Shared();
  /// The same for one HTTPS server (options.tls); independent of Shared().
  static Result<SwiftTestServer*> SharedTls();
  ~SwiftTestServer();
  SwiftTestServer(const SwiftTestServer&) = delete;
  SwiftTestServer& operator=(const SwiftTestServer&) = delete;

  /// Options pointing at this server: path style, endpoint http(s)://127.0.0.1:<port>,
  /// ca_file set when TLS, test:tester/testing, us-east-1, bucket left empty.
  S3Options BaseOptions() const;
  /// BaseOptions() with virtual-host addressing: endpoint
  /// http(s)://s3.localhost:<port>, path_style false.
  S3Options VirtualHostOptions() const;
  /// A bucket name not used before in this process.
  std::string NewBucketName();
  /// `options` with a new bucket, created on the server, and a store on it.
  Result<std::unique_ptr<S3ObjectStore>> NewBucketStore(S3Options options);
  Result<std::unique_ptr<S3ObjectStore>> NewBucketStore() { return NewBucketStore(BaseOptions()); }

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  bool tls() const { return !ca_file_.empty(); }
  /// PEM of the CA that signed the server's certificate; empty without TLS.
  const std::string& ca_file() const { return ca_file_; }

 private:
  SwiftTestServer() = default;
  std::string Script(const std::string& command) const;
  std::string scheme() const { return tls() ? "https" : "http"; }

  std::string dir_;
  std::string env_;  // SWIFT_S3_* assignments for the script
  std::string ca_file_;
  int port_ = 0;
  bool running_ = false;
  std::atomic<int> next_bucket_{0};
};

/// PEM files made by tests/make-test-certs.sh.
struct TestCertificates {
  std::string ca_file;    // the throwaway CA's certificate
  std::string cert_file;  // server certificate for localhost, *.s3.localhost, 127.0.0.1
  std::string key_file;   // its unencrypted private key
};

/// Makes a new throwaway CA and a server certificate signed by it in `dir` (created if
/// missing; needs the openssl command). FailedPrecondition with the script's output on
/// failure. Each call makes a different CA.
Result<TestCertificates> MakeTestCertificates(const std::string& dir);

/// A TCP port on 127.0.0.1 that was free a moment ago; 0 on failure.
int PickFreePort();

/// Runs `command` through /bin/sh; returns its exit status and stdout+stderr.
Result<std::pair<int, std::string>> RunCommand(const std::string& command);

}  // namespace tessera::storage::testing
