#include "storage/log/nats_test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

namespace tessera::storage::testing {

namespace {

using Clock = std::chrono::steady_clock;

bool IsExecutable(const std::string& path) { return !path.empty() && ::access(path.c_str(), X_OK) == 0; }

std::string FindBinary() {
  if (const char* env = std::getenv("TESSERA_NATS_SERVER"); env != nullptr && *env != '\0') return env;
#ifdef TESSERA_NATS_SERVER_PATH
  if (IsExecutable(TESSERA_NATS_SERVER_PATH)) return TESSERA_NATS_SERVER_PATH;
#endif
  std::string path = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/usr/local/sbin:/usr/bin";
  std::stringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (!dir.empty() && IsExecutable(dir + "/nats-server")) return dir + "/nats-server";
  }
  return "";
}

// A port nobody listens on right now: bind port 0 and read what the kernel picked.
Result<int> FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Status::Internal(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int e = errno;
    ::close(fd);
    return Status::Internal(std::string("bind 127.0.0.1:0: ") + std::strerror(e));
  }
  ::close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

// Connects to 127.0.0.1:port and reads the server's INFO line; true once it advertises JetStream.
bool ServerReady(int port, bool jetstream) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  timeval tv{0, 500000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ready = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    std::string info;
    char buf[4096];
    while (info.find('\n') == std::string::npos && info.size() < 65536) {
      const ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n <= 0) break;
      info.append(buf, static_cast<size_t>(n));
    }
    ready = info.starts_with("INFO") && (!jetstream || info.find("\"jetstream\":true") != std::string::npos);
  }
  ::close(fd);
  return ready;
}

}  // namespace

Result<NatsTestCertificates> MakeNatsTestCertificates(const std::string& dir) {
  const std::string command = "bash '" TESSERA_TEST_CERTS_SCRIPT "' '" + dir + "' 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return Status::Internal("nats test server: popen failed: " + command);
  std::string output;
  char buffer[4096];
  for (size_t n; (n = ::fread(buffer, 1, sizeof(buffer), pipe)) > 0;) output.append(buffer, n);
  const int status = ::pclose(pipe);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::FailedPrecondition("nats test server: tests/make-test-certs.sh failed (needs openssl): " + output);
  }
  const std::string d = dir + "/";
  return NatsTestCertificates{.ca_file = d + "ca.pem",
                              .server_cert_file = d + "server.pem",
                              .server_key_file = d + "server.key",
                              .client_cert_file = d + "client.pem",
                              .client_key_file = d + "client.key"};
}

Result<std::unique_ptr<NatsTestServer>> NatsTestServer::Start(bool jetstream) {
  NatsTestServerOptions options;
  options.jetstream = jetstream;
  return Start(options);
}

Result<std::unique_ptr<NatsTestServer>> NatsTestServer::Start(const NatsTestServerOptions& options) {
  if (options.verify_client && !options.tls) return Status::InvalidArgument("nats test server: verify_client requires tls");
  if (!options.user.empty() && !options.token.empty()) {
    return Status::InvalidArgument("nats test server: user and token are exclusive");
  }
  std::unique_ptr<NatsTestServer> server(new NatsTestServer());
  server->options_ = options;
  server->binary_ = FindBinary();
  if (server->binary_.empty()) {
    return Status::FailedPrecondition(
        "nats-server not found ($TESSERA_NATS_SERVER, PATH, /usr/sbin); install it with scripts/install-deps.sh "
        "(Debian package nats-server)");
  }
  std::error_code ec;
  std::string templ = (std::filesystem::temp_directory_path(ec) / "tessera_nats_XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) {
    return Status::Internal("mkdtemp " + templ + ": " + std::strerror(errno));
  }
  server->dir_ = templ;
  server->store_dir_ = templ + "/store";
  if (options.tls) {
    TESSERA_ASSIGN_OR_RETURN(server->certs_, MakeNatsTestCertificates(templ + "/certs"));
  }
  Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {  // a picked port can be taken before the server binds it
    TESSERA_ASSIGN_OR_RETURN(server->port_, FreePort());
    last = server->Launch();
    if (last.ok()) return server;
  }
  return last;
}

Status NatsTestServer::Launch() {
  const std::string config = dir_ + "/nats.conf";
  const std::string log = dir_ + "/nats.log";
  {
    std::ofstream out(config, std::ios::trunc);
    out << "listen: 127.0.0.1:" << port_ << "\n"
        << "max_payload: 8388608\n";
    if (options_.jetstream) out << "jetstream {\n  store_dir: \"" << store_dir_ << "\"\n}\n";
    if (options_.tls) {
      out << "tls {\n  cert_file: \"" << certs_.server_cert_file << "\"\n  key_file: \"" << certs_.server_key_file
          << "\"\n  ca_file: \"" << certs_.ca_file << "\"\n  verify: " << (options_.verify_client ? "true" : "false")
          << "\n  timeout: 2\n}\n";
    }
    if (!options_.user.empty()) {
      out << "authorization {\n  user: \"" << options_.user << "\"\n  password: \"" << options_.password << "\"\n}\n";
    } else if (!options_.token.empty()) {
      out << "authorization {\n  token: \"" << options_.token << "\"\n}\n";
    }
    if (!out) return Status::Internal("writing " + config);
  }
  std::vector<std::string> args = {binary_, "-c", config};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return Status::Internal(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    int wstatus = 0;
    if (::waitpid(pid_, &wstatus, WNOHANG) == pid_) {
      pid_ = -1;
      return Status::FailedPrecondition(binary_ + " exited during startup (status " + std::to_string(wstatus) +
                                        "); its log: " + LogTail());
    }
    if (ServerReady(port_, options_.jetstream)) return Status::OK();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Kill();
  return Status::FailedPrecondition(binary_ + " did not accept JetStream connections on port " +
                                    std::to_string(port_) + " within 10 s; its log: " + LogTail());
}

std::string NatsTestServer::LogTail() const {
  std::ifstream in(dir_ + "/nats.log");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
}

NatsTestServer::~NatsTestServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + std::chrono::seconds(3);
    int wstatus = 0;
    while (::waitpid(pid_, &wstatus, WNOHANG) == 0) {
      if (Clock::now() >= deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &wstatus, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
  }
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

std::string NatsTestServer::url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

void NatsTestServer::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int wstatus = 0;
  ::waitpid(pid_, &wstatus, 0);
  pid_ = -1;
}

Status NatsTestServer::Restart() {
  Kill();
  // The old listening socket is gone with the process; retry briefly in case the port lingers.
  Status status;
  for (int attempt = 0; attempt < 3; ++attempt) {
    status = Launch();
    if (status.ok()) return status;
  }
  return status;
}

namespace {

// One lazily started server per flavour and process; a failed start is remembered.
Result<NatsTestServer*> SharedServer(const NatsTestServerOptions& options, std::unique_ptr<NatsTestServer>& server,
                                     Status& failure) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  if (server) return server.get();
  if (!failure.ok()) return failure;
  auto started = NatsTestServer::Start(options);
  if (!started.ok()) {
    failure = started.status();
    return failure;
  }
  server = std::move(started).value();
  return server.get();
}

}  // namespace

Result<NatsTestServer*> NatsTestServer::Shared() {
  static std::unique_ptr<NatsTestServer> server;
  static Status failure;
  return SharedServer({}, server, failure);
}

Result<NatsTestServer*> NatsTestServer::SharedSecure() {
  static std::unique_ptr<NatsTestServer> server;
  static Status failure;
  NatsTestServerOptions options;
  options.tls = true;
  options.verify_client = true;
  options.user = "tessera";
  options.password = "s3cret-wal";
  return SharedServer(options, server, failure);
}

NatsLogOptions NatsTestServer::LogOptions() const {
  NatsLogOptions log;
  if (options_.tls) {
    log.url = "tls://localhost:" + std::to_string(port_);
    log.ca_file = certs_.ca_file;
    if (options_.verify_client) {
      log.cert_file = certs_.client_cert_file;
      log.key_file = certs_.client_key_file;
    }
  } else {
    log.url = url();
  }
  log.username = options_.user;
  log.password = options_.password;
  log.token = options_.token;
  return log;
}

std::string NatsTestServer::SkipReason() {
  const char* allow = std::getenv("TESSERA_ALLOW_SKIP");
  if (allow == nullptr || std::string(allow) != "1") return "";
  auto shared = Shared();
  return shared.ok() ? "" : "TESSERA_ALLOW_SKIP=1 and no nats-server: " + shared.status().ToString();
}

}  // namespace tessera::storage::testing
