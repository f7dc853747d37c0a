#pragma once

// Test-only (not part of the library): runs a private nats-server with JetStream.

#include <sys/types.h>

#include <memory>
#include <string>

#include "common/result.h"
#include "common/status.h"
#include "storage/log/nats_log.h"

namespace tessera::storage::testing {

/// PEM files made by tests/make-test-certs.sh: a throwaway CA, a server certificate for
/// localhost/127.0.0.1 and a client certificate, all signed by that CA.
struct NatsTestCertificates {
  std::string ca_file;
  std::string server_cert_file, server_key_file;
  std::string client_cert_file, client_key_file;
};

/// Runs tests/make-test-certs.sh into `dir` (needs openssl); each call makes a new CA.
/// kFailedPrecondition with the script's output when it fails.
Result<NatsTestCertificates> MakeNatsTestCertificates(const std::string& dir);

/// How to start the test server. The defaults: plaintext, JetStream, no authorization.
struct NatsTestServerOptions {
  bool jetstream = true;
  /// A `tls {}` block with a certificate from MakeNatsTestCertificates (clients must use TLS).
  bool tls = false;
  /// Also `verify: true` with the test CA: clients must present a certificate it signed.
  /// Requires `tls`.
  bool verify_client = false;
  /// Non-empty: an `authorization {}` block with this user and password.
  std::string user, password;
  /// Non-empty: an `authorization {}` block with this token (exclusive with user).
  std::string token;
};

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
  /// As above with TLS / authorization per `options` (certificates made in its temp dir).
  static Result<std::unique_ptr<NatsTestServer>> Start(const NatsTestServerOptions& options);

  /// The server shared by every test of this binary, started on first use; the error is
  /// remembered so every test fails with the reason.
  static Result<NatsTestServer*> Shared();
  /// A second shared server over TLS with client verification and user/password
  /// authorization (user "tessera"); connect with LogOptions().
  static Result<NatsTestServer*> SharedSecure();

  ~NatsTestServer();
  NatsTestServer(const NatsTestServer&) = delete;
  NatsTestServer& operator=(const NatsTestServer&) = delete;

  /// "nats://127.0.0.1:<port>".
  std::string url() const;
  int port() const { return port_; }
  const std::string& store_dir() const { return store_dir_; }
  const NatsTestServerOptions& options() const { return options_; }
  /// Empty unless started with `tls`.
  const NatsTestCertificates& certificates() const { return certs_; }
  /// NatsLog options that connect to this server: url (tls://localhost:<port> with `tls`, so
  /// the certificate's name is checked), CA file, client certificate when the server verifies
  /// clients, and the credentials. Prefixes are left at their defaults.
  NatsLogOptions LogOptions() const;

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
  NatsTestServerOptions options_;
  NatsTestCertificates certs_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace tessera::storage::testing
