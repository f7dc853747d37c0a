#pragma once
// Test-only: runs a real single-member etcd on loopback for the meta store tests.
// Not part of the library (linked into test binaries only).

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/result.h"
#include "common/status.h"

namespace tessera::storage::testing {

/// A private etcd server: a child process on free loopback ports with its data in a fresh
/// temporary directory (under /dev/shm when available, since etcd fsyncs every write).
/// Tuned for tests: 10 ms heartbeat and 100 ms election timeout (so the minimum lease TTL is
/// 1 s), and --max-request-bytes large enough for kMaxMetaValueSize.
///
/// The binary is $TESSERA_ETCD_BIN, else `etcd` on PATH, else /usr/bin/etcd. A server that
/// cannot start is an error saying why (with the tail of etcd's log), never a skipped test.
/// The child gets SIGKILL when the test process dies (PR_SET_PDEATHSIG).
///
/// Not thread-safe; one owner drives it.
class EtcdTestServer {
 public:
  /// Starts a server and waits (bounded, 20 s) until it serves requests.
  static Result<std::unique_ptr<EtcdTestServer>> Start();

  /// The per-process shared server, started on first use and stopped at exit. A failed
  /// start is remembered and returned to every later caller.
  static Result<EtcdTestServer*> Shared();

  /// Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its data directory.
  ~EtcdTestServer();
  EtcdTestServer(const EtcdTestServer&) = delete;
  EtcdTestServer& operator=(const EtcdTestServer&) = delete;

  /// "127.0.0.1:<client port>".
  std::string endpoint() const;

  /// SIGKILL, as in a crash; the data directory stays.
  Status Kill();
  /// SIGTERM, then SIGKILL after 5 s; the data directory stays.
  Status Stop();
  /// Starts the server again on the same ports and data directory and waits until ready.
  Status Restart();
  /// Empties the store between tests: revokes every lease and deletes every key. Revisions
  /// are global and keep counting, so tests must not assume they start at 1.
  Status Reset();

  pid_t pid() const { return pid_; }

 private:
  EtcdTestServer(std::filesystem::path binary, std::filesystem::path dir, int client_port, int peer_port);
  Status Launch();
  Status WaitReady();
  std::string LogTail() const;
  std::string LogSinceLaunch() const;

  const std::filesystem::path binary_;
  const std::filesystem::path dir_;
  const int client_port_;
  const int peer_port_;
  pid_t pid_ = -1;
  size_t log_offset_ = 0;  // size of etcd.log when the current process was launched
};

}  // namespace tessera::storage::testing
