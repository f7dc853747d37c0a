#include "server/http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <exception>
#include <random>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/logging.h"
#include "common/metrics.h"
#include "proxy/http_types.h"
#include "proxy/proxy.h"
#include "server/http_request_reader.h"
#include "server/worker_gate.h"

namespace tessera::server {

using Clock = std::chrono::steady_clock;

struct HttpServer::Connection {
  Connection(int socket, size_t max_body_size, std::string peer_address)
      : fd(socket), peer(std::move(peer_address)), reader(max_body_size) {}

  const int fd;
  const std::string peer;  // the client's address:port
  // Used only by the worker that owns the connection (one at a time: one-shot epoll).
  RequestReader reader;
  bool draining = false;  // an error was answered: discard input until the peer closes
  size_t drained = 0;
  // Written by the owning worker, read by the idle sweeper (which holds HttpServer::mu_, so
  // the connection cannot be closed and freed meanwhile): whether a worker owns it, and
  // when it last finished one. Atomics, not mu_: two lock round trips per request.
  std::atomic<bool> busy{false};
  std::atomic<Clock::rep> last_active{Clock::now().time_since_epoch().count()};
};

namespace {

constexpr char kJson[] = "application/json; charset=utf-8";
constexpr char kPrefix[] = "/v2/vectordb/";
constexpr int kWriteTimeoutMs = 30'000;
constexpr size_t kReadChunk = 64 * 1024;
constexpr uint32_t kConnectionEvents = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
// WorkerGate tuning: a request running longer than this is presumed blocked and frees its
// CPU for another worker; the gate is checked this often while requests run, and when idle.
constexpr auto kPresumedBlockedAfter = std::chrono::milliseconds(2);
constexpr auto kMonitorPeriodBusy = std::chrono::milliseconds(2);
constexpr auto kMonitorPeriodIdle = std::chrono::milliseconds(10);

// epoll_event.data.ptr values that are not connections.
char listen_tag;
char wake_tag;

// Sent with every response (spec §1.1).
constexpr std::string_view kCommonHeaders =
    "Access-Control-Allow-Origin: *\r\n"
    "Access-Control-Allow-Credentials: true\r\n"
    "Access-Control-Allow-Headers: Content-Type, Content-Length, Accept-Encoding, X-CSRF-Token, Authorization, "
    "accept, origin, Cache-Control, X-Requested-With\r\n"
    "Access-Control-Allow-Methods: GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH\r\n"
    "X-Content-Type-Options: nosniff\r\n";

// 16 random hex digits.
std::string GenerateRequestId() {
  thread_local std::mt19937_64 rng(std::random_device{}() ^
                                   static_cast<uint64_t>(Clock::now().time_since_epoch().count()));
  constexpr char kHex[] = "0123456789abcdef";
  uint64_t bits = rng();
  std::string id(16, '0');
  for (char& c : id) {
    c = kHex[bits & 0xf];
    bits >>= 4;
  }
  return id;
}

// A client-supplied id is echoed in a header and in logs: keep it short and printable.
bool UsableRequestId(const std::string* id) {
  if (id == nullptr || id->empty() || id->size() > 128) return false;
  return std::all_of(id->begin(), id->end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
}

std::string RequestIdOf(const proxy::HttpRequest& request) {
  if (const std::string* id = request.Header("RequestId"); UsableRequestId(id)) return *id;
  if (const std::string* id = request.Header("X-Request-Id"); UsableRequestId(id)) return *id;
  return GenerateRequestId();
}

std::string ErrorJson(int code, const std::string& message) {
  return nlohmann::json{{"code", code}, {"message", message}}.dump(-1, ' ', false,
                                                                   nlohmann::json::error_handler_t::replace);
}

proxy::HttpResponse Respond(int status, std::string body, std::string content_type) {
  proxy::HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.content_type = std::move(content_type);
  return response;
}

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Status";
  }
}

// Status line and headers of `response`, ending with the empty line.
std::string ResponseHead(const proxy::HttpResponse& response, std::string_view request_id, bool keep_alive) {
  std::string head;
  head.reserve(512);
  head += "HTTP/1.1 ";
  head += std::to_string(response.status);
  head += ' ';
  head += Reason(response.status);
  head += "\r\n";
  if (response.status != 204) {
    head += "Content-Type: ";
    head += response.content_type;
    head += "\r\nContent-Length: ";
    head += std::to_string(response.body.size());
    head += "\r\n";
  }
  head += "X-Request-Id: ";
  head += request_id;
  head += "\r\n";
  head += kCommonHeaders;
  for (const auto& [name, value] : response.headers) {
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  // Said either way: an HTTP/1.0 client keeps the connection only when told so.
  head += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  head += "\r\n";
  return head;
}

// Writes all of iov[0..count) with as few sendmsg calls as the socket allows, waiting up to
// kWriteTimeoutMs each time the peer's window is full. False when the peer is gone or slow.
bool SendAll(int fd, iovec* iov, int count) {
  while (count > 0) {
    msghdr message{};
    message.msg_iov = iov;
    message.msg_iovlen = static_cast<size_t>(count);
    const ssize_t sent = ::sendmsg(fd, &message, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
      pollfd writable{fd, POLLOUT, 0};
      const int ready = ::poll(&writable, 1, kWriteTimeoutMs);
      if (ready == 0 || (ready < 0 && errno != EINTR)) return false;
      continue;
    }
    auto left = static_cast<size_t>(sent);
    while (count > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return true;
}

bool SendResponse(int fd, const proxy::HttpResponse& response, std::string_view request_id, bool keep_alive,
                  bool with_body) {
  std::string head = ResponseHead(response, request_id, keep_alive);
  iovec iov[2] = {{head.data(), head.size()},
                  {const_cast<char*>(response.body.data()), with_body ? response.body.size() : 0}};
  return SendAll(fd, iov, 2);
}

// The CPUs this thread may run on (the process's, unless someone pinned threads apart).
size_t UsableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  return static_cast<size_t>(std::max(1, CPU_COUNT(&set)));
}

// The access log line: one per answered request (reliability test plan 9.11).
void LogRequest(std::string_view request_id, std::string_view remote, std::string_view method, std::string_view path,
                int status, std::string_view handler_fields, Clock::time_point start) {
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  // Built by hand: this line is written for every request (logging::InfoLine).
  std::string line;
  line.reserve(160 + path.size() + handler_fields.size());
  char number[32];
  line.append("http request_id=").append(request_id).append(" remote=").append(remote);
  line.append(" method=").append(method).append(" path=").append(path).append(" status=");
  line.append(number, std::to_chars(number, number + sizeof(number), status).ptr);
  line.append(handler_fields).append(" latency_ms=");
  line.append(number, std::to_chars(number, number + sizeof(number), ms, std::chars_format::fixed, 3).ptr);
  logging::InfoLine(line);
}

// "address:port" of the peer of a connected socket ("[v6]:port"); "-" when unknown.
std::string PeerAddress(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return "-";
  char host[INET6_ADDRSTRLEN] = "-";
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    ::inet_ntop(AF_INET, &v4->sin_addr, host, sizeof(host));
    return std::string(host) + ":" + std::to_string(ntohs(v4->sin_port));
  }
  if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof(host));
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(v6->sin6_port));
  }
  return "-";
}

}  // namespace

HttpServer::HttpServer(proxy::Proxy* proxy, HttpServerOptions options)
    : proxy_(proxy), options_(std::move(options)) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Bind() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  const std::string where = options_.address + ":" + std::to_string(options_.port);
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(options_.address.empty() ? nullptr : options_.address.c_str(),
                               std::to_string(options_.port).c_str(), &hints, &found);
  if (rc != 0) return Status::Unavailable("cannot bind HTTP server to " + where + ": " + ::gai_strerror(rc));
  std::string error = "no address";
  for (addrinfo* a = found; a != nullptr && listen_fd_ < 0; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      error = std::strerror(errno);
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) {
      listen_fd_ = fd;
    } else {
      error = std::strerror(errno);
      ::close(fd);
    }
  }
  ::freeaddrinfo(found);
  if (listen_fd_ < 0) return Status::Unavailable("cannot bind HTTP server to " + where + ": " + error);
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &length);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return Status::OK();
}

Status HttpServer::Start() {
  if (started_) return Status::FailedPrecondition("HttpServer already started");
  stopping_.store(false);
  TESSERA_RETURN_IF_ERROR(Bind());
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event wake{};
  wake.events = EPOLLIN;  // level-triggered: every worker sees it
  wake.data.ptr = &wake_tag;
  epoll_event listen{};
  listen.events = EPOLLIN | EPOLLONESHOT;
  listen.data.ptr = &listen_tag;
  if (epoll_fd_ < 0 || wake_fd_ < 0 || ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &wake) != 0 ||
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &listen) != 0) {
    const std::string error = std::strerror(errno);
    for (int* fd : {&epoll_fd_, &wake_fd_, &listen_fd_}) {
      if (*fd >= 0) ::close(*fd);
      *fd = -1;
    }
    return Status::Internal("HTTP server: setting up epoll failed: " + error);
  }
  started_ = true;
  const size_t threads = std::max<size_t>(1, options_.threads);
  gate_ = std::make_unique<WorkerGate>(threads);
  gate_->SetCpus(UsableCpus());
  {
    std::lock_guard lock(mu_);
    live_workers_ = threads;
  }
  for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
  housekeeper_ = std::thread([this] { HousekeepingLoop(); });
  TESSERA_LOG_INFO("http server listening on {}:{} ({} threads)", options_.address, port_, threads);
  return Status::OK();
}

void HttpServer::Stop() { (void)StopWithin(std::chrono::milliseconds::max()); }

bool HttpServer::StopWithin(std::chrono::milliseconds timeout) {
  if (!started_) return true;
  started_ = false;
  ready_.store(false, std::memory_order_release);
  stopping_.store(true);
  // No new connections: a worker in accept4 gets EINVAL, and connecting clients are refused.
  ::shutdown(listen_fd_, SHUT_RDWR);
  // The eventfd stays readable, so each worker exits when it next waits: after finishing
  // the request it is serving.
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t ignored = ::write(wake_fd_, &one, sizeof(one));
  gate_->Stop();
  bool finished = true;
  {
    std::unique_lock lock(mu_);
    const auto done = [this] { return live_workers_ == 0; };
    if (timeout == std::chrono::milliseconds::max()) {
      workers_done_.wait(lock, done);
    } else {
      finished = workers_done_.wait_for(lock, timeout, done);
    }
    if (!finished) {
      TESSERA_LOG_ERROR("http server: {} requests still running {} ms after the stop began; leaving them",
                        live_workers_, timeout.count());
    }
    housekeeper_cv_.notify_all();
  }
  housekeeper_.join();
  if (!finished) {
    // The running requests keep their workers, the gate, the epoll set and connections.
    for (std::thread& worker : workers_) worker.detach();
    workers_.clear();
    return false;
  }
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
  gate_.reset();
  // Workers are gone: what is left is idle and owned by nobody.
  for (Connection* connection : connections_) {
    ::close(connection->fd);
    delete connection;
  }
  connections_.clear();
  for (int* fd : {&listen_fd_, &epoll_fd_, &wake_fd_}) {
    ::close(*fd);
    *fd = -1;
  }
  return true;
}

void HttpServer::WorkerLoop(size_t index) {
  struct Exit {
    HttpServer* server;
    ~Exit() {
      std::lock_guard lock(server->mu_);
      if (--server->live_workers_ == 0) server->workers_done_.notify_all();
    }
  } on_exit{this};
  while (gate_->EnterWait()) {
    epoll_event event;
    // One event at a time: a worker blocked in a handler then holds no other ready connection.
    const int ready = ::epoll_wait(epoll_fd_, &event, 1, -1);
    const int error = errno;
    gate_->StartWork(index);
    if (ready == 1 && event.data.ptr == &listen_tag) {
      AcceptAll();
    } else if (ready == 1 && event.data.ptr != &wake_tag) {
      Serve(static_cast<Connection*>(event.data.ptr));
    }
    gate_->FinishWork(index);
    if (ready == 1 && event.data.ptr == &wake_tag) return;
    if (ready < 0 && error != EINTR) {
      TESSERA_LOG_ERROR("http server: epoll_wait failed: {}", std::strerror(error));
      return;
    }
  }
}

void HttpServer::AcceptAll() {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        TESSERA_LOG_WARN("http server: cannot accept connections: {}", std::strerror(errno));
        // Let some connections close before trying again.
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      break;  // EAGAIN: all accepted; EINVAL: Stop() shut the listener
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto* connection = new Connection(fd, options_.max_body_size, PeerAddress(fd));
    bool admitted = false;
    {
      std::lock_guard lock(mu_);
      if (connections_.size() < options_.max_connections) {
        connections_.insert(connection);
        admitted = true;
      }
    }
    if (!admitted) {
      TESSERA_LOG_WARN("http server: refusing a connection: {} are open (server max_connections)",
                       options_.max_connections);
      ::close(fd);
      delete connection;
      continue;
    }
    epoll_event event{};
    event.events = kConnectionEvents;
    event.data.ptr = connection;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) Close(connection);
  }
  if (stopping_.load()) return;
  epoll_event listen{};
  listen.events = EPOLLIN | EPOLLONESHOT;
  listen.data.ptr = &listen_tag;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &listen) != 0) {
    TESSERA_LOG_ERROR("http server: re-arming the listener failed: {}", std::strerror(errno));
  }
}

void HttpServer::Serve(Connection* connection) {
  connection->busy.store(true, std::memory_order_relaxed);
  if (!ReadAndAnswer(connection)) {
    Close(connection);
    return;
  }
  connection->last_active.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
  connection->busy.store(false, std::memory_order_relaxed);
  // Last touch: once re-armed, another worker may own the connection.
  epoll_event event{};
  event.events = kConnectionEvents;
  event.data.ptr = connection;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, connection->fd, &event) != 0) Close(connection);
}

bool HttpServer::ReadAndAnswer(Connection* connection) {
  RequestReader& reader = connection->reader;
  char buffer[kReadChunk];
  for (;;) {
    const ssize_t received = ::recv(connection->fd, buffer, sizeof(buffer), 0);
    if (received == 0) return false;  // the peer closed, or the sweeper shut the connection
    if (received < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    const auto size = static_cast<size_t>(received);
    if (connection->draining) {
      // Enough for the rest of a body somewhat over the limit; a client that sends far more
      // is cut off (and may see a reset instead of the answer).
      connection->drained += size;
      if (connection->drained > 2 * options_.max_body_size + (1u << 20)) return false;
    }
    size_t offset = 0;
    while (!connection->draining && offset < size) {
      const size_t used = reader.Feed(buffer + offset, size - offset);
      offset += used;
      if (reader.state() == RequestReader::State::kReady) {
        ParsedRequest parsed = reader.TakeRequest();
        parsed.request.remote_address = connection->peer;
        bool keep_alive = parsed.keep_alive;
        if (!Answer(connection->fd, parsed.request, &keep_alive) || !keep_alive) return false;
      } else if (reader.state() == RequestReader::State::kError || used == 0) {
        const int status = reader.state() == RequestReader::State::kError ? reader.error_status() : 400;
        const std::string message = status == 400 && reader.error_message().empty() ? "malformed HTTP request"
                                                                                    : reader.error_message();
        const auto start = Clock::now();
        const std::string id = GenerateRequestId();
        SendResponse(connection->fd, Respond(status, ErrorJson(status, message), kJson), id, false, true);
        LogRequest(id, connection->peer, "-", "-", status, "", start);
        // Let the client read the answer before the close: stop writing, read until it
        // hangs up (or the sweeper's timeout), and only then close.
        ::shutdown(connection->fd, SHUT_WR);
        connection->draining = true;
      } else if (reader.TakeExpectContinue()) {
        constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        iovec iov{const_cast<char*>(kContinue.data()), kContinue.size()};
        if (!SendAll(connection->fd, &iov, 1)) return false;
      }
    }
    // A short read emptied the socket; anything newer re-triggers the (level) re-arm.
    if (size < sizeof(buffer)) return true;
  }
}

bool HttpServer::Answer(int fd, proxy::HttpRequest& request, bool* keep_alive) {
  const auto start = Clock::now();
  request.request_id = RequestIdOf(request);
  const bool head = request.method == "HEAD";
  proxy::HttpResponse response;
  if (request.method == "OPTIONS") {
    response = Respond(204, "", "");
  } else if (request.path.compare(0, sizeof(kPrefix) - 1, kPrefix) == 0) {
    try {
      response = proxy_->Handle(request);
    } catch (const std::exception& e) {
      TESSERA_LOG_ERROR("request {} {}: failed: {}", request.request_id, request.path, e.what());
      response = Respond(500, R"({"code":500})", kJson);
    }
  } else if ((request.method == "GET" || head) && request.path == "/healthz") {
    const Status health = options_.health ? options_.health() : Status::OK();
    response = health.ok() ? Respond(200, "ok", "text/plain") : Respond(503, health.ToString(), "text/plain");
  } else if ((request.method == "GET" || head) && request.path == "/readyz") {
    response = ready_.load(std::memory_order_acquire) ? Respond(200, "ready", "text/plain")
                                                      : Respond(503, "not ready", "text/plain");
  } else if ((request.method == "GET" || head) && request.path == "/metrics") {
    response = Respond(200, metrics::Registry::Default().Render(), "text/plain; version=0.0.4");
  } else {
    response = Respond(404, ErrorJson(404, "404 page not found: " + request.method + " " + request.path), kJson);
  }
  // Decided after the handler: a stop that began meanwhile closes the connection.
  *keep_alive = *keep_alive && !stopping_.load();
  const bool sent = SendResponse(fd, response, request.request_id, *keep_alive, !head);
  LogRequest(request.request_id, request.remote_address, request.method, request.path, response.status,
             response.log_fields, start);
  return sent;
}

void HttpServer::Close(Connection* connection) {
  {
    std::lock_guard lock(mu_);
    connections_.erase(connection);
  }
  ::close(connection->fd);  // also leaves the epoll set
  delete connection;
}

void HttpServer::HousekeepingLoop() {
  const auto idle_limit = std::chrono::seconds(std::max(1, options_.keep_alive_timeout_s));
  auto next_sweep = Clock::now();
  bool working = false;
  std::unique_lock lock(mu_);
  while (!housekeeper_cv_.wait_for(lock, working ? kMonitorPeriodBusy : kMonitorPeriodIdle,
                                   [this] { return stopping_.load(); })) {
    working = gate_->Monitor(kPresumedBlockedAfter);
    const auto now = Clock::now();
    if (now < next_sweep) continue;
    next_sweep = now + std::chrono::milliseconds(250);
    gate_->SetCpus(UsableCpus());  // the process may have been moved to other CPUs
    for (Connection* connection : connections_) {
      // The worker that gets the resulting hang-up event closes it.
      const Clock::time_point last_active(Clock::duration(connection->last_active.load(std::memory_order_relaxed)));
      if (!connection->busy.load(std::memory_order_relaxed) && now - last_active > idle_limit) {
        ::shutdown(connection->fd, SHUT_RDWR);
      }
    }
  }
}

}  // namespace tessera::server
