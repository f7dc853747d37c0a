#include "storage/meta/etcd_test_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "etcd/rpc.grpc.pb.h"

namespace tessera::storage::testing {

namespace {

using namespace std::chrono_literals;

Result<int> FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Status::Internal(std::string("etcd test server: socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const std::string error = std::strerror(errno);
    ::close(fd);
    return Status::Internal("etcd test server: cannot pick a free port: " + error);
  }
  ::close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

Result<std::filesystem::path> FindEtcd() {
  if (const char* env = std::getenv("TESSERA_ETCD_BIN"); env != nullptr && *env != '\0') {
    if (::access(env, X_OK) == 0) return std::filesystem::path(env);
    return Status::FailedPrecondition(std::string("etcd test server: $TESSERA_ETCD_BIN=") + env +
                                      " is not an executable");
  }
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    for (std::string dir; std::getline(ss, dir, ':');) dirs.push_back(dir);
  }
  dirs.push_back("/usr/bin");
  dirs.push_back("/usr/local/bin");
  for (const std::string& dir : dirs) {
    const std::filesystem::path candidate = std::filesystem::path(dir) / "etcd";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return Status::FailedPrecondition(
      "etcd test server: no etcd binary found (set $TESSERA_ETCD_BIN or install the Debian package "
      "etcd-server, see scripts/install-deps.sh)");
}

Result<std::filesystem::path> MakeDataDir() {
  std::filesystem::path base = "/dev/shm";
  if (::access(base.c_str(), W_OK) != 0) base = std::filesystem::temp_directory_path();
  std::string pattern = (base / "tessera_etcd_XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Status::Internal("etcd test server: mkdtemp " + pattern + ": " + std::strerror(errno));
  }
  return std::filesystem::path(pattern);
}

bool WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

}  // namespace

EtcdTestServer::EtcdTestServer(std::filesystem::path binary, std::filesystem::path dir, int client_port,
                               int peer_port)
    : binary_(std::move(binary)), dir_(std::move(dir)), client_port_(client_port), peer_port_(peer_port) {}

Result<std::unique_ptr<EtcdTestServer>> EtcdTestServer::Start() {
  TESSERA_ASSIGN_OR_RETURN(std::filesystem::path binary, FindEtcd());
  Status last;
  // A port picked as free may be taken before etcd binds it; try a few times.
  for (int attempt = 0; attempt < 3; ++attempt) {
    TESSERA_ASSIGN_OR_RETURN(std::filesystem::path dir, MakeDataDir());
    TESSERA_ASSIGN_OR_RETURN(int client_port, FreePort());
    TESSERA_ASSIGN_OR_RETURN(int peer_port, FreePort());
    if (peer_port == client_port) continue;
    std::unique_ptr<EtcdTestServer> server(new EtcdTestServer(binary, dir, client_port, peer_port));
    last = server->Launch();
    if (last.ok()) return server;
  }
  return last;
}

Result<EtcdTestServer*> EtcdTestServer::Shared() {
  static std::mutex mu;
  static std::unique_ptr<EtcdTestServer> server;
  static Status failure;
  std::lock_guard<std::mutex> lock(mu);
  if (server) return server.get();
  if (!failure.ok()) return failure;
  auto started = Start();
  if (!started.ok()) {
    failure = started.status();
    return failure;
  }
  server = std::move(started).value();
  return server.get();
}

EtcdTestServer::~EtcdTestServer() {
  (void)Stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string EtcdTestServer::endpoint() const { return "127.0.0.1:" + std::to_string(client_port_); }

Status EtcdTestServer::Launch() {
  const std::string client_url = "http://127.0.0.1:" + std::to_string(client_port_);
  const std::string peer_url = "http://127.0.0.1:" + std::to_string(peer_port_);
  std::vector<std::string> args = {
      binary_.string(),
      "--name=default",
      "--data-dir=" + (dir_ / "data").string(),
      "--listen-client-urls=" + client_url,
      "--advertise-client-urls=" + client_url,
      "--listen-peer-urls=" + peer_url,
      "--initial-advertise-peer-urls=" + peer_url,
      "--initial-cluster=default=" + peer_url,
      "--heartbeat-interval=10",
      "--election-timeout=100",
      // kMaxMetaValueSize (16 MiB) plus room for the key and the request framing.
      "--max-request-bytes=" + std::to_string(24 * 1024 * 1024),
      "--logger=zap",
      "--log-outputs=stderr",
      "--log-level=info",
  };
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log = (dir_ / "etcd.log").string();
  std::error_code ec;
  log_offset_ = std::filesystem::exists(log, ec) ? std::filesystem::file_size(log, ec) : 0;
  const pid_t parent = ::getpid();
  // vfork, not fork: gRPC's pthread_atfork handlers (fork support) stall fork() for seconds
  // and disturb the parent's open channels. The child only makes syscalls before execv.
  const pid_t pid = ::vfork();
  if (pid < 0) return Status::Internal(std::string("etcd test server: vfork: ") + std::strerror(errno));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    // A clean slate for etcd: no inherited blocked or ignored signals (gRPC ignores SIGPIPE,
    // test threads block signals), none of our descriptors.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig = 1; sig < NSIG; ++sig) {
      if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
    }
    ::close_range(3, ~0U, 0);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      ::close(fd);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  Status ready = WaitReady();
  if (!ready.ok()) {
    (void)Kill();
    return ready;
  }
  return Status::OK();
}

Status EtcdTestServer::WaitReady() {
  // Probe with a private subchannel and short reconnect backoff: gRPC's default backoff
  // (1 s growing to 2 min, shared process-wide between channels to the same address) would
  // otherwise stretch a sub-second start into many seconds.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 20);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 100);
  // Also the connection attempt timeout: etcd accepts connections on its client port before
  // it serves them, and an attempt caught in that window waits for the HTTP/2 SETTINGS
  // frame until this timeout (default 20 s).
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 1000);
  auto channel = grpc::CreateCustomChannel(endpoint(), grpc::InsecureChannelCredentials(), args);
  auto kv = etcdserverpb::KV::NewStub(channel);
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  std::string last_error;
  while (std::chrono::steady_clock::now() < deadline) {
    int wstatus = 0;
    if (::waitpid(pid_, &wstatus, WNOHANG) == pid_) {
      pid_ = -1;
      return Status::Unavailable("etcd test server: " + binary_.string() + " exited (status " +
                                 std::to_string(wstatus) + ") before serving; log tail:\n" + LogTail());
    }
    // etcd binds its client port before it serves it, and a gRPC connection attempt made in
    // that window stalls; so first wait for etcd to say it serves clients.
    if (LogSinceLaunch().find("serving client traffic") == std::string::npos) {
      std::this_thread::sleep_for(20ms);
      continue;
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 500ms);
    etcdserverpb::RangeRequest request;
    request.set_key("tessera-ready-probe");
    etcdserverpb::RangeResponse response;
    grpc::Status status = kv->Range(&ctx, request, &response);
    if (status.ok()) return Status::OK();
    last_error = status.error_message();
    std::this_thread::sleep_for(50ms);
  }
  return Status::Unavailable("etcd test server: " + endpoint() + " not serving after 20 s (last error: " +
                             last_error + "); log tail:\n" + LogTail());
}

std::string EtcdTestServer::LogSinceLaunch() const {
  std::ifstream in(dir_ / "etcd.log");
  in.seekg(static_cast<std::streamoff>(log_offset_));
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string EtcdTestServer::LogTail() const {
  std::ifstream in(dir_ / "etcd.log");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (content.size() > 4000) content = "..." + content.substr(content.size() - 4000);
  return content;
}

Status EtcdTestServer::Kill() {
  if (pid_ <= 0) return Status::OK();
  ::kill(pid_, SIGKILL);
  WaitExit(pid_, 10s);
  pid_ = -1;
  return Status::OK();
}

Status EtcdTestServer::Stop() {
  if (pid_ <= 0) return Status::OK();
  ::kill(pid_, SIGTERM);
  if (!WaitExit(pid_, 5s)) {
    ::kill(pid_, SIGKILL);
    WaitExit(pid_, 10s);
  }
  pid_ = -1;
  return Status::OK();
}

Status EtcdTestServer::Restart() {
  if (pid_ > 0) return Status::FailedPrecondition("etcd test server: still running");
  return Launch();
}

Status EtcdTestServer::Reset() {
  auto channel = grpc::CreateChannel(endpoint(), grpc::InsecureChannelCredentials());
  auto kv = etcdserverpb::KV::NewStub(channel);
  auto lease = etcdserverpb::Lease::NewStub(channel);
  auto deadline = [] { return std::chrono::system_clock::now() + 5s; };
  etcdserverpb::LeaseLeasesResponse leases;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline());
    grpc::Status status = lease->LeaseLeases(&ctx, etcdserverpb::LeaseLeasesRequest(), &leases);
    if (!status.ok()) return Status::Unavailable("etcd test server: list leases: " + status.error_message());
  }
  for (const etcdserverpb::LeaseStatus& l : leases.leases()) {
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline());
    etcdserverpb::LeaseRevokeRequest request;
    request.set_id(l.id());
    etcdserverpb::LeaseRevokeResponse response;
    grpc::Status status = lease->LeaseRevoke(&ctx, request, &response);
    if (!status.ok() && status.error_code() != grpc::StatusCode::NOT_FOUND) {
      return Status::Unavailable("etcd test server: revoke lease: " + status.error_message());
    }
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(deadline());
  etcdserverpb::DeleteRangeRequest request;
  request.set_key(std::string(1, '\0'));
  request.set_range_end(std::string(1, '\0'));
  etcdserverpb::DeleteRangeResponse response;
  grpc::Status status = kv->DeleteRange(&ctx, request, &response);
  if (!status.ok()) return Status::Unavailable("etcd test server: delete all keys: " + status.error_message());
  return Status::OK();
}

}  // namespace tessera::storage::testing
