#pragma once
// PRIVATE test support: a throwaway OpenStack Swift (s3api) server for the S3 tests.

#include <atomic>
#include <memory>
#include <string>

#include "common/result.h"
#include "storage/object/s3_object_store.h"

namespace tessera::storage::testing {

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
  /// *.localhost name to loopback itself (no /etc/hosts entry needed).
  static constexpr const char* kStorageDomain = "s3.localhost";

  static Result<std::unique_ptr<SwiftTestServer>> Start();
  /// One server per process, started by the first call and stopped at exit. Later calls
  /// return the same server, or the same start error.
  static Result<SwiftTestServer*> Shared();
  ~SwiftTestServer();
  SwiftTestServer(const SwiftTestServer&) = delete;
  SwiftTestServer& operator=(const SwiftTestServer&) = delete;

  /// Options pointing at this server: path style, endpoint http://127.0.0.1:<port>,
  /// test:tester/testing, us-east-1, bucket left empty.
  S3Options BaseOptions() const;
  /// BaseOptions() with virtual-host addressing: endpoint
  /// http://s3.localhost:<port>, path_style false.
  S3Options VirtualHostOptions() const;
  /// A bucket name not used before in this process.
  std::string NewBucketName();
  /// `options` with a new bucket, created on the server, and a store on it.
  Result<std::unique_ptr<S3ObjectStore>> NewBucketStore(S3Options options);
  Result<std::unique_ptr<S3ObjectStore>> NewBucketStore() { return NewBucketStore(BaseOptions()); }

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }

 private:
  SwiftTestServer() = default;
  std::string Script(const std::string& command) const;

  std::string dir_;
  std::string env_;  // SWIFT_S3_* assignments for the script
  int port_ = 0;
  bool running_ = false;
  std::atomic<int> next_bucket_{0};
};

/// A TCP port on 127.0.0.1 that was free a moment ago; 0 on failure.
int PickFreePort();

/// Runs `command` through /bin/sh; returns its exit status and stdout+stderr.
Result<std::pair<int, std::string>> RunCommand(const std::string& command);

}  // namespace tessera::storage::testing
