#pragma once

#include <memory>

#include "common/config.h"
#include "common/result.h"
#include "common/status.h"

namespace tessera::server {

/// Every role in one process on the backends the configuration names (embedded by
/// default: LocalObjectStore, SqliteMetaStore, LocalLog under server.data_dir), with the
/// REST API, /healthz, /readyz and /metrics on server.port.
///
/// Storage paths left at their defaults are placed under server.data_dir
/// (objects/, meta.db, wal/, cache/); explicitly configured ones are used as given.
class Standalone {
 public:
  /// Opens storage, starts the roles (recovering from the metadata store and the WAL), and
  /// starts serving. /readyz turns 200 once recovery is complete.
  static Result<std::unique_ptr<Standalone>> Start(config::Config config);
  ~Standalone();

  /// The port actually bound (server.port 0 picks a free one).
  int port() const;

  /// Graceful stop: /readyz goes 503, the listener stops accepting, in-flight requests
  /// finish, every collection is flushed, roles stop, storage closes. Idempotent.
  Status Shutdown();

  struct Parts;  // defined in standalone.cc

 private:
  explicit Standalone(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

/// Resolves server.data_dir into the storage path keys that were left at their defaults,
/// and (with `create`) creates the directory.
Status ApplyDataDir(config::Config& config, bool create = true);

/// Runs until SIGTERM or SIGINT, then shuts down gracefully. Returns the exit code
/// (0 after a clean shutdown).
int RunStandalone(config::Config config);

}  // namespace tessera::server
