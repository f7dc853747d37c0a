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

// A channel to the server at `target` ("127.0.0.1:port") with the server's credentials.
std::shared_ptr<grpc::Channel> ChannelTo(const std::string& target, const EtcdTestServerOptions& options,
                                         const EtcdTestCertificates& certs, const grpc::ChannelArguments& args) {
  if (!options.tls) return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  auto read = [](const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = read(certs.ca_file);
  if (options.client_cert_auth) {
    ssl.pem_cert_chain = read(certs.client_cert_file);
    ssl.pem_private_key = read(certs.client_key_file);
  }
  return grpc::CreateCustomChannel(target, grpc::SslCredentials(ssl), args);
}

// Authenticates as root; "" when auth is off.
Result<std::string> RootToken(etcdserverpb::Auth::Stub& auth, const std::string& password, bool enabled) {
  if (!enabled) return std::string();
  grpc::ClientContext auth_ctx;
  auth_ctx.set_deadline(std::chrono::system_clock::now() + 5s);
  etcdserverpb::AuthenticateRequest request;
  request.set_name("root");
  request.set_password(password);
  etcdserverpb::AuthenticateResponse response;
  grpc::Status status = auth.Authenticate(&auth_ctx, request, &response);
  if (!status.ok()) return Status::Unavailable("etcd test server: authenticate as root: " + status.error_message());
  return response.token();
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

Result<EtcdTestCertificates> MakeEtcdTestCertificates(const std::filesystem::path& dir) {
  // popen runs the shell through posix_spawn (no fork handlers), like our vfork below.
  const std::string command = "bash '" TESSERA_TEST_CERTS_SCRIPT "' '" + dir.string() + "' 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return Status::Internal("etcd test server: popen failed: " + command);
  std::string output;
  char buffer[4096];
  for (size_t n; (n = ::fread(buffer, 1, sizeof(buffer), pipe)) > 0;) output.append(buffer, n);
  const int status = ::pclose(pipe);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::FailedPrecondition("etcd test server: tests/make-test-certs.sh failed (needs openssl): " +
                                      output);
  }
  const std::string d = dir.string() + "/";
  return EtcdTestCertificates{.ca_file = d + "ca.pem",
                              .server_cert_file = d + "server.pem",
                              .server_key_file = d + "server.key",
                              .client_cert_file = d + "client.pem",
                              .client_key_file = d + "client.key"};
}

EtcdTestServer::EtcdTestServer(std::filesystem::path binary, std::filesystem::path dir, int client_port,
                               int peer_port, EtcdTestServerOptions options)
    : binary_(std::move(binary)),
      dir_(std::move(dir)),
      client_port_(client_port),
      peer_port_(peer_port),
      options_(std::move(options)) {}

Result<std::unique_ptr<EtcdTestServer>> EtcdTestServer::Start(const EtcdTestServerOptions& options) {
  if (options.client_cert_auth && !options.tls) {
    return Status::InvalidArgument("etcd test server: client_cert_auth requires tls");
  }
  TESSERA_ASSIGN_OR_RETURN(std::filesystem::path binary, FindEtcd());
  Status last;
  // A port picked as free may be taken before etcd binds it; try a few times.
  for (int attempt = 0; attempt < 3; ++attempt) {
    TESSERA_ASSIGN_OR_RETURN(std::filesystem::path dir, MakeDataDir());
    TESSERA_ASSIGN_OR_RETURN(int client_port, FreePort());
    TESSERA_ASSIGN_OR_RETURN(int peer_port, FreePort());
    if (peer_port == client_port) continue;
    std::unique_ptr<EtcdTestServer> server(new EtcdTestServer(binary, dir, client_port, peer_port, options));
    if (options.tls) {
      TESSERA_ASSIGN_OR_RETURN(server->certs_, MakeEtcdTestCertificates(dir / "certs"));
    }
    last = server->Launch();
    if (last.ok() && !options.root_password.empty()) last = server->EnableAuth();
    if (last.ok()) return server;
  }
  return last;
}

namespace {

// One lazily started server per flavour and process; a failed start is remembered.
Result<EtcdTestServer*> SharedServer(const EtcdTestServerOptions& options, std::unique_ptr<EtcdTestServer>& server,
                                     Status& failure) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  if (server) return server.get();
  if (!failure.ok()) return failure;
  auto started = EtcdTestServer::Start(options);
  if (!started.ok()) {
    failure = started.status();
    return failure;
  }
  server = std::move(started).value();
  return server.get();
}

}  // namespace

Result<EtcdTestServer*> EtcdTestServer::SharedSecure() {
  static std::unique_ptr<EtcdTestServer> server;
  static Status failure;
  return SharedServer({.tls = true, .root_password = kSharedSecurePassword}, server, failure);
}

Result<EtcdTestServer*> EtcdTestServer::Shared() {
  static std::unique_ptr<EtcdTestServer> server;
  static Status failure;
  return SharedServer({}, server, failure);
}

EtcdTestServer::~EtcdTestServer() {
  (void)Stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string EtcdTestServer::endpoint() const {
  return (options_.tls ? "https://127.0.0.1:" : "127.0.0.1:") + std::to_string(client_port_);
}

EtcdMetaStoreOptions EtcdTestServer::StoreOptions() const {
  EtcdMetaStoreOptions options;
  options.ca_file = certs_.ca_file;
  if (options_.client_cert_auth) {
    options.cert_file = certs_.client_cert_file;
    options.key_file = certs_.client_key_file;
  }
  if (!options_.root_password.empty()) {
    options.username = "root";
    options.password = options_.root_password;
  }
  return options;
}

// etcd 3.4 turns authentication on only through its API: user root with the root role must
// exist first (what `etcdctl user add root && etcdctl auth enable` does).
Status EtcdTestServer::EnableAuth() {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto auth = etcdserverpb::Auth::NewStub(
      ChannelTo("127.0.0.1:" + std::to_string(client_port_), options_, certs_, args));
  auto call = [&](std::string_view what, auto method, const auto& request, auto response) -> Status {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    grpc::Status status = ((*auth).*method)(&ctx, request, &response);
    if (!status.ok()) {
      return Status::Unavailable("etcd test server: " + std::string(what) + ": " + status.error_message());
    }
    return Status::OK();
  };
  etcdserverpb::AuthUserAddRequest user;
  user.set_name("root");
  user.set_password(options_.root_password);
  TESSERA_RETURN_IF_ERROR(call("add user root", &etcdserverpb::Auth::Stub::UserAdd, user,
                               etcdserverpb::AuthUserAddResponse()));
  etcdserverpb::AuthRoleAddRequest role;
  role.set_name("root");
  TESSERA_RETURN_IF_ERROR(call("add role root", &etcdserverpb::Auth::Stub::RoleAdd, role,
                               etcdserverpb::AuthRoleAddResponse()));
  etcdserverpb::AuthUserGrantRoleRequest grant;
  grant.set_user("root");
  grant.set_role("root");
  TESSERA_RETURN_IF_ERROR(call("grant role root to root", &etcdserverpb::Auth::Stub::UserGrantRole, grant,
                               etcdserverpb::AuthUserGrantRoleResponse()));
  TESSERA_RETURN_IF_ERROR(call("enable authentication", &etcdserverpb::Auth::Stub::AuthEnable,
                               etcdserverpb::AuthEnableRequest(), etcdserverpb::AuthEnableResponse()));
  auth_enabled_ = true;
  return Status::OK();
}

Status EtcdTestServer::Launch() {
  const std::string client_url =
      (options_.tls ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(client_port_);
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
  if (options_.tls) {
    args.push_back("--cert-file=" + certs_.server_cert_file);
    args.push_back("--key-file=" + certs_.server_key_file);
  }
  if (options_.client_cert_auth) {
    args.push_back("--client-cert-auth");
    args.push_back("--trusted-ca-file=" + certs_.ca_file);
  }
  if (options_.auth_token_ttl_s > 0) args.push_back("--auth-token-ttl=" + std::to_string(options_.auth_token_ttl_s));
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
  auto channel = ChannelTo("127.0.0.1:" + std::to_string(client_port_), options_, certs_, args);
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
    // Any answer from etcd itself means it serves (with auth on, a probe without a token is
    // refused).
    if (status.ok() || (status.error_code() != grpc::StatusCode::UNAVAILABLE &&
                        status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED)) {
      return Status::OK();
    }
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
  auto channel = ChannelTo("127.0.0.1:" + std::to_string(client_port_), options_, certs_, grpc::ChannelArguments());
  auto kv = etcdserverpb::KV::NewStub(channel);
  auto lease = etcdserverpb::Lease::NewStub(channel);
  auto auth = etcdserverpb::Auth::NewStub(channel);
  TESSERA_ASSIGN_OR_RETURN(const std::string token, RootToken(*auth, options_.root_password, auth_enabled_));
  auto deadline = [] { return std::chrono::system_clock::now() + 5s; };
  etcdserverpb::LeaseLeasesResponse leases;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline());
    if (auth_enabled_) ctx.AddMetadata("token", token);
    grpc::Status status = lease->LeaseLeases(&ctx, etcdserverpb::LeaseLeasesRequest(), &leases);
    if (!status.ok()) return Status::Unavailable("etcd test server: list leases: " + status.error_message());
  }
  for (const etcdserverpb::LeaseStatus& l : leases.leases()) {
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline());
    if (auth_enabled_) ctx.AddMetadata("token", token);
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
  if (auth_enabled_) ctx.AddMetadata("token", token);
  etcdserverpb::DeleteRangeRequest request;
  request.set_key(std::string(1, '\0'));
  request.set_range_end(std::string(1, '\0'));
  etcdserverpb::DeleteRangeResponse response;
  grpc::Status status = kv->DeleteRange(&ctx, request, &response);
  if (!status.ok()) return Status::Unavailable("etcd test server: delete all keys: " + status.error_message());
  return Status::OK();
}

}  // namespace tessera::storage::testing
