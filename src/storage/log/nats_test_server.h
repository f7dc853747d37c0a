#pragma once

// Test-only (not part of the library): runs a private nats-server with JetStream.

#include <sys/types.h>

#include <string>

#include "common/result.h"
#include "common/status.h"

namespace tessera::storage::testing {

/// A nats-server child process with JetStream, listening on 127.0.0.1 on a free port, storing
/// into a fresh temporary directory (removed by the destructor, which also stops the server:
/// SIGTERM, then SIGKILL after 3 s). The child gets SIGKILL if the test process dies first.
///
/// The binary is $TESSERA_NATS_SERVER, else the one CMake found, else nats-server on PATH or in
/// /usr/sbin. max_payload is raised to 8 MiB so the suite's multi-MiB records fit.
///
/// Thread-compatible: one thread drives Start/Kill/Restart.
class NatsTestServer {
 public:
  /// Starts a server and waits (at most 10 s) until it accepts connections with JetStream
  /// on. kFailedPrecondition naming the cause when the binary is missing or will not start.
  /// With `jetstream` false the server runs without JetStream (for the error-path test).
  static Result<std::unique_ptr<NatsTestServer>> Start(bool jetstream = true);

  /// The server shared by every test of this binary, started on first use; the error is
  /// remembered so every test fails with the reason.
  static Result<NatsTestServer*> Shared();

  ~NatsTestServer();
  NatsTestServer(const NatsTestServer&) = delete;
  NatsTestServer& operator=(const NatsTestServer&) = delete;

  /// "nats://127.0.0.1:<port>".
  std::string url() const;
  int port() const { return port_; }
  const std::string& store_dir() const { return store_dir_; }

  /// SIGKILLs the server (no clean shutdown) and reaps it.
  void Kill();
  /// Starts the server again on the same port and store directory (after Kill).
  Status Restart();

  /// Why NATS tests would be skipped: always "" unless TESSERA_ALLOW_SKIP=1 is set and the
  /// shared server cannot start (in CI a missing server is a failure, not a skip).
  static std::string SkipReason();

 private:
  NatsTestServer() = default;
  Status Launch();
  std::string LogTail() const;

  std::string binary_;
  std::string dir_;        // temp root: config, log, store
  std::string store_dir_;  // JetStream store
  bool jetstream_ = true;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace tessera::storage::testing
