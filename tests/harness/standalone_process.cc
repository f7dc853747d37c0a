#include "harness/standalone_process.h"

#include <signal.h>

#include <filesystem>
#include <thread>

namespace tessera::testing {

Result<std::unique_ptr<StandaloneProcess>> StandaloneProcess::Start(const std::string& data_dir,
                                                                    std::map<std::string, std::string> env) {
  std::unique_ptr<StandaloneProcess> server(new StandaloneProcess());
  server->data_dir_ = data_dir;
  const std::filesystem::path dir(data_dir);
  server->log_path_ = (dir.parent_path() / (dir.filename().string() + ".log")).string();
  server->env_ = std::move(env);
  Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {  // a picked port can be taken before the server binds it
    TESSERA_ASSIGN_OR_RETURN(server->port_, FreePort());
    last = server->Launch();
    if (last.ok()) return server;
  }
  return last;
}

Status StandaloneProcess::Spawn() {
  const std::vector<std::string> argv = {TESSERA_BINARY, "standalone", "--data-dir", data_dir_, "--port",
                                         std::to_string(port_)};
  TESSERA_ASSIGN_OR_RETURN(process_, ChildProcess::Start(argv, env_, log_path_));
  return Status::OK();
}

Status StandaloneProcess::Launch() {
  TESSERA_RETURN_IF_ERROR(Spawn());
  RestClient client("127.0.0.1", port_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_->running()) {
      return Status::Unavailable("tessera standalone exited during start-up; log:\n" + process_->LogTail());
    }
    auto reply = client.Send("GET", "/readyz", "");
    if (reply.ok() && reply->status == 200) return Status::OK();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  process_->Kill();
  return Status::DeadlineExceeded("tessera standalone not ready within 60 s; log:\n" + process_->LogTail());
}

Result<int> StandaloneProcess::Terminate(std::chrono::milliseconds timeout) {
  process_->Signal(SIGTERM);
  return process_->Wait(timeout);
}

Status StandaloneProcess::Restart() {
  process_->Kill();
  return Launch();
}

Status StandaloneProcess::RestartWithoutWaiting() {
  process_->Kill();
  return Spawn();
}

}  // namespace tessera::testing
