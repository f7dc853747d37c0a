#pragma once
// Test-only: runs a real single-member etcd on loopback for the meta store tests.
// Not part of the library (linked into test binaries only).

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/result.h"
#include "common/status.h"
#include "storage/meta/etcd_meta_store.h"

namespace tessera::storage::testing {

/// PEM files made by tests/make-test-certs.sh: a throwaway CA, a server certificate for
/// localhost/127.0.0.1 and a client certificate (CN=root), all signed by that CA.
struct EtcdTestCertificates {
  std::string ca_file;
  std::string server_cert_file, server_key_file;
  std::string client_cert_file, client_key_file;
};

/// Runs tests/make-test-certs.sh into `dir` (needs the openssl command). Each call makes a
/// new CA. FailedPrecondition with the script's output when it fails.
Result<EtcdTestCertificates> MakeEtcdTestCertificates(const std::filesystem::path& dir);

/// How to start the test etcd. The defaults are plaintext without authentication.
struct EtcdTestServerOptions {
  /// https client URLs (--cert-file/--key-file) with certificates from MakeEtcdTestCertificates.
  bool tls = false;
  /// Also --client-cert-auth --trusted-ca-file: clients must present a certificate signed by
  /// the test CA. Requires `tls`.
  bool client_cert_auth = false;
  /// Non-empty: after the first start, the harness adds user "root" with this password (and
  /// the root role) and enables authentication through the Auth API.
  std::string root_password = "";
  /// --auth-token-ttl in seconds (simple tokens expire after this long unused); 0: etcd's 300.
  int auth_token_ttl_s = 0;
};

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
  static Result<std::unique_ptr<EtcdTestServer>> Start(const EtcdTestServerOptions& options = {});

  /// The per-process shared server, started on first use and stopped at exit. A failed
  /// start is remembered and returned to every later caller.
  static Result<EtcdTestServer*> Shared();
  /// Like Shared(), a second per-process server over TLS with authentication on (user root,
  /// password kSharedSecurePassword).
  static Result<EtcdTestServer*> SharedSecure();
  static constexpr const char* kSharedSecurePassword = "tessera-test-password";

  /// Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its data directory.
  ~EtcdTestServer();
  EtcdTestServer(const EtcdTestServer&) = delete;
  EtcdTestServer& operator=(const EtcdTestServer&) = delete;

  /// "127.0.0.1:<client port>", or "https://127.0.0.1:<client port>" with TLS.
  std::string endpoint() const;

  /// Store options that reach this server: the test CA, the client certificate when the server
  /// requires one, user root and its password when authentication is on.
  EtcdMetaStoreOptions StoreOptions() const;

  /// The certificates of a TLS server (empty fields otherwise).
  const EtcdTestCertificates& certificates() const { return certs_; }

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
  EtcdTestServer(std::filesystem::path binary, std::filesystem::path dir, int client_port, int peer_port,
                 EtcdTestServerOptions options);
  Status Launch();
  Status WaitReady();
  Status EnableAuth();
  std::string LogTail() const;
  std::string LogSinceLaunch() const;

  const std::filesystem::path binary_;
  const std::filesystem::path dir_;
  const int client_port_;
  const int peer_port_;
  const EtcdTestServerOptions options_;
  EtcdTestCertificates certs_;
  bool auth_enabled_ = false;  // authentication turned on (requests need a token)
  pid_t pid_ = -1;
  size_t log_offset_ = 0;  // size of etcd.log when the current process was launched
};

}  // namespace tessera::storage::testing
