#include "bench/server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "bench/rest_client.h"

namespace tessera::bench {
namespace {

// A waitpid status in words.
std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace

Result<int> FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Status::Internal(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;  // the kernel picks a free one
  socklen_t len = sizeof(addr);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  const int err = errno;
  close(fd);
  if (!ok) return Status::Internal(std::string("finding a free port: ") + std::strerror(err));
  return static_cast<int>(ntohs(addr.sin_port));
}

Result<std::unique_ptr<ServerProcess>> ServerProcess::Start(const std::string& binary, const std::string& data_dir,
                                                            std::chrono::seconds ready_timeout) {
  if (access(binary.c_str(), X_OK) != 0) return Status::NotFound("server binary " + binary + " is not executable");
  std::unique_ptr<ServerProcess> server(new ServerProcess());
  TESSERA_ASSIGN_OR_RETURN(server->port_, FreePort());
  server->log_path_ = data_dir + "/server.log";
  std::vector<std::string> args = {binary, "standalone", "--data-dir", data_dir, "--port", std::to_string(server->port_)};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const int log_fd = open(server->log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) return Status::Internal("cannot create " + server->log_path_ + ": " + std::strerror(errno));
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return Status::Internal(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before prctl
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(log_fd);
  server->pid_ = pid;

  RestClient probe(server->endpoint(), 2);
  const auto deadline = std::chrono::steady_clock::now() + ready_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!server->Running()) {
      return Status::Internal(binary + " exited during startup (" + DescribeExit(server->exit_status_) +
                              "); log:\n" + server->LogTail());
    }
    auto status = probe.GetStatus("/readyz");
    if (status.ok() && *status == 200) return server;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Status::DeadlineExceeded(binary + " not ready after " + std::to_string(ready_timeout.count()) +
                                  " s; log:\n" + server->LogTail());
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0 && Running()) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

std::string ServerProcess::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

bool ServerProcess::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    exit_status_ = status;
    pid_ = -1;
    return false;
  }
  return true;
}

Status ServerProcess::Stop(std::chrono::seconds timeout) {
  if (!Running()) return Status::Internal("server had already exited (" + DescribeExit(exit_status_) + ")");
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Running()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
      return Status::Internal("server did not exit within " + std::to_string(timeout.count()) + " s of SIGTERM");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!WIFEXITED(exit_status_) || WEXITSTATUS(exit_status_) != 0) {
    return Status::Internal("server ended with " + DescribeExit(exit_status_) + " after SIGTERM");
  }
  return Status::OK();
}

std::string ServerProcess::LogTail(size_t max_bytes) const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string all = ss.str();
  return all.size() > max_bytes ? all.substr(all.size() - max_bytes) : all;
}

}  // namespace tessera::bench
