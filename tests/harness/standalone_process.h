#pragma once

#include <map>
#include <memory>
#include <string>

#include "common/result.h"
#include "harness/child_process.h"
#include "harness/rest_client.h"

namespace tessera::testing {

/// `tessera standalone` as a child process on a free loopback port and a given data
/// directory, for tests that need the real binary (kill -9, SIGTERM, the Node SDK).
class StandaloneProcess {
 public:
  /// Starts the server and waits (up to 60 s) until GET /readyz answers 200. `env` adds
  /// environment variables (TESSERA_<SECTION>_<KEY> overrides). The log goes to
  /// <data_dir>/../<basename>.log. Fails with the log tail when it never gets ready.
  static Result<std::unique_ptr<StandaloneProcess>> Start(const std::string& data_dir,
                                                          std::map<std::string, std::string> env = {});

  int port() const { return port_; }
  ChildProcess& process() { return *process_; }
  std::string LogTail() const { return process_->LogTail(); }

  /// SIGKILL, no cleanup at all.
  void Kill() { process_->Kill(); }
  /// SIGTERM and wait for the exit code (DeadlineExceeded after `timeout`).
  Result<int> Terminate(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  /// Starts again on the same data directory and port.
  Status Restart();
  /// Kills the process and starts it again without waiting for it to be ready (to kill it
  /// again during recovery).
  Status RestartWithoutWaiting();
  /// The environment additions the next Restart uses (Start's `env`, changeable).
  std::map<std::string, std::string>& env() { return env_; }

 private:
  StandaloneProcess() = default;
  Status Spawn();   // starts the process
  Status Launch();  // Spawn, then wait until ready

  std::string data_dir_;
  std::string log_path_;
  std::map<std::string, std::string> env_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace tessera::testing
