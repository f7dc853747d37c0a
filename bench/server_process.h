#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

#include "common/result.h"

namespace tessera::bench {

/// A `tessera standalone` server the benchmark starts itself (--spawn): its own data
/// directory and a free port on 127.0.0.1, output to `<data_dir>/server.log`. The child dies
/// with the benchmark (PR_SET_PDEATHSIG); the destructor SIGKILLs it if Stop() was not
/// called. Thread-compatible: one thread drives it.
class ServerProcess {
 public:
  /// Runs `binary standalone --data-dir <data_dir> --port <free port>`, then waits up to
  /// `ready_timeout` for GET /readyz to answer 200. Errors name the binary and carry the
  /// end of its log (it exited, or never became ready).
  static Result<std::unique_ptr<ServerProcess>> Start(const std::string& binary, const std::string& data_dir,
                                                      std::chrono::seconds ready_timeout);
  ~ServerProcess();

  pid_t pid() const { return pid_; }

  /// "http://127.0.0.1:<port>".
  std::string endpoint() const;

  /// SIGTERM, then waits up to `timeout` for a clean exit (SIGKILL after it). Internal when
  /// the server exited non-zero or had to be killed.
  Status Stop(std::chrono::seconds timeout);

  /// The last `max_bytes` of the server's log.
  std::string LogTail(size_t max_bytes = 3000) const;

 private:
  ServerProcess() = default;
  /// True while the child has not exited (reaps it when it has).
  bool Running();

  pid_t pid_ = -1;
  int port_ = 0;
  int exit_status_ = 0;  // waitpid status once reaped
  std::string log_path_;
};

/// A TCP port on 127.0.0.1 that nothing listens on right now.
Result<int> FreePort();

}  // namespace tessera::bench
