#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace tessera::testing {

/// A port on 127.0.0.1 nobody listens on right now (bind port 0, read what the kernel picked).
Result<int> FreePort();

/// A child process started by a test: stdout and stderr go to `log_path`; it dies with the
/// test (PR_SET_PDEATHSIG), and is SIGKILLed by the destructor if still running.
/// Thread-compatible: one thread drives it.
class ChildProcess {
 public:
  /// Starts `argv[0]` (a path) with `argv`, the current environment plus `env`.
  static Result<std::unique_ptr<ChildProcess>> Start(const std::vector<std::string>& argv,
                                                     const std::map<std::string, std::string>& env,
                                                     const std::string& log_path);
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool running();
  /// Sends `signal` (no-op when it has exited).
  void Signal(int signal);
  /// Waits for exit up to `timeout`; the exit code (128 + signal when killed), or
  /// DeadlineExceeded when still running.
  Result<int> Wait(std::chrono::milliseconds timeout);
  /// SIGKILL and reap.
  void Kill();
  /// The last `max_bytes` of the log, for failure messages.
  std::string LogTail(size_t max_bytes = 4000) const;

 private:
  ChildProcess() = default;
  pid_t pid_ = -1;
  int exit_code_ = -1;
  std::string log_path_;
};

}  // namespace tessera::testing
