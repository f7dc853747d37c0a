#include "bench/http_load.h"

#include <fcntl.h>
#include <http_parser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace tessera::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

// One keep-alive connection with at most one request outstanding.
struct HttpLoad::Connection {
  int fd = -1;
  http_parser parser{};
  size_t item = 0;
  bool busy = false;  // a request is outstanding
  const std::string* request = nullptr;
  size_t sent = 0;          // bytes of *request written so far
  bool want_write = false;  // watched for EPOLLOUT: the request did not fit at once
  bool complete = false;    // the answer's last byte has arrived
  std::string body;
  Clock::time_point start;

  ~Connection() {
    if (fd >= 0) ::close(fd);
  }

  static int OnBody(http_parser* parser, const char* at, size_t length) {
    static_cast<Connection*>(parser->data)->body.append(at, length);
    return 0;
  }
  static int OnMessageComplete(http_parser* parser) {
    static_cast<Connection*>(parser->data)->complete = true;
    return 0;
  }
  static const http_parser_settings& Settings() {
    static const http_parser_settings settings = [] {
      http_parser_settings s{};
      s.on_body = OnBody;
      s.on_message_complete = OnMessageComplete;
      return s;
    }();
    return settings;
  }
};

std::string HttpPostRequest(const std::string& host, int port, const std::string& path, std::string_view body,
                            std::string_view extra_headers) {
  std::string out = "POST " + path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
                    "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  out.append(extra_headers);
  out.append("\r\n");
  out.append(body);
  return out;
}

HttpLoad::HttpLoad(const HttpLoadOptions& options) : options_(options) {}

HttpLoad::~HttpLoad() {
  connections_.clear();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

Result<std::unique_ptr<HttpLoad>> HttpLoad::Open(const HttpLoadOptions& options) {
  if (options.connections == 0) return Status::InvalidArgument("HttpLoad needs at least one connection");
  std::unique_ptr<HttpLoad> load(new HttpLoad(options));
  load->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (load->epoll_fd_ < 0) return Status::Internal(Errno("epoll_create1"));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(options.host.c_str(), std::to_string(options.port).c_str(), &hints, &found);
  if (rc != 0) return Status::Unavailable("cannot resolve " + options.host + ": " + gai_strerror(rc));
  load->address_.assign(reinterpret_cast<const char*>(found->ai_addr), found->ai_addrlen);
  load->family_ = found->ai_family;
  freeaddrinfo(found);
  for (size_t i = 0; i < options.connections; ++i) {
    load->connections_.push_back(std::make_unique<Connection>());
    TESSERA_RETURN_IF_ERROR(load->Connect(*load->connections_.back()));
  }
  return load;
}

Status HttpLoad::Connect(Connection& c) {
  if (c.fd >= 0) ::close(c.fd);  // closing also takes it out of the epoll set
  c.fd = ::socket(family_, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c.fd < 0) return Status::Internal(Errno("socket"));
  const std::string peer = options_.host + ":" + std::to_string(options_.port);
  if (::connect(c.fd, reinterpret_cast<const sockaddr*>(address_.data()), static_cast<socklen_t>(address_.size())) != 0) {
    return Status::Unavailable(Errno("connect to " + peer));
  }
  const int one = 1;
  ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::fcntl(c.fd, F_SETFL, O_NONBLOCK) != 0) return Status::Internal(Errno("fcntl"));  // the loop never waits on one socket
  c.want_write = false;
  return Watch(c, EPOLLIN, /*add=*/true);
}

Status HttpLoad::Watch(Connection& c, uint32_t events, bool add) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = &c;
  if (epoll_ctl(epoll_fd_, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c.fd, &ev) != 0) return Status::Internal(Errno("epoll_ctl"));
  return Status::OK();
}

Status HttpLoad::Send(Connection& c, size_t item, const std::string& request) {
  c.item = item;
  c.request = &request;
  c.sent = 0;
  c.busy = true;
  c.complete = false;
  c.body.clear();
  http_parser_init(&c.parser, HTTP_RESPONSE);
  c.parser.data = &c;
  c.start = Clock::now();
  return Flush(c);
}

// Writes what the socket takes of the outstanding request, and watches the socket for
// room (EPOLLOUT) while some is left, for the answer (EPOLLIN) once all is out.
Status HttpLoad::Flush(Connection& c) {
  while (c.sent < c.request->size()) {
    const ssize_t w = ::send(c.fd, c.request->data() + c.sent, c.request->size() - c.sent, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (w < 0) return Status::Unavailable(Errno("sending item " + std::to_string(c.item)));
    c.sent += static_cast<size_t>(w);
  }
  const bool left = c.sent < c.request->size();
  if (left != c.want_write) {
    c.want_write = left;
    return Watch(c, left ? EPOLLOUT : EPOLLIN, /*add=*/false);
  }
  return Status::OK();
}

Status HttpLoad::Read(Connection& c) {
  char buffer[64 * 1024];
  for (;;) {
    const ssize_t r = ::recv(c.fd, buffer, sizeof(buffer), 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Status::OK();
    if (r < 0) return Status::Unavailable(Errno("receiving item " + std::to_string(c.item)));
    if (r == 0) return Status::Unavailable("the server closed the connection before answering");
    const size_t used = http_parser_execute(&c.parser, &Connection::Settings(), buffer, static_cast<size_t>(r));
    if (c.parser.http_errno != HPE_OK || used != static_cast<size_t>(r)) {
      return Status::Internal(std::string("malformed answer: ") +
                              http_errno_description(static_cast<http_errno>(c.parser.http_errno)));
    }
    if (c.complete) return Status::OK();
  }
}

Result<Timing> HttpLoad::Run(size_t n, const std::function<const std::string&(size_t item)>& request,
                             const std::function<Status(size_t item, std::string_view body)>& on_answer) {
  if (n == 0) return Status::InvalidArgument("HttpLoad::Run needs at least one item");
  std::vector<double> latency_ms(n);
  size_t next = 0, done = 0;
  const auto start = Clock::now();
  auto last_progress = start;
  for (auto& c : connections_) {
    if (next == n) break;
    TESSERA_RETURN_IF_ERROR(Send(*c, next, request(next)));
    ++next;
  }
  std::vector<epoll_event> events(connections_.size());
  while (done < n) {
    const int ready =
        epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), options_.spin ? 0 : 1000);
    if (ready < 0 && errno != EINTR) return Status::Internal(Errno("epoll_wait"));
    if (ready <= 0) {
      if (Clock::now() - last_progress > std::chrono::seconds(options_.timeout_seconds)) {
        return Status::DeadlineExceeded("no answer from " + options_.host + ":" + std::to_string(options_.port) +
                                        " for " + std::to_string(options_.timeout_seconds) + " s");
      }
      continue;
    }
    last_progress = Clock::now();
    for (int e = 0; e < ready; ++e) {
      Connection& c = *static_cast<Connection*>(events[e].data.ptr);
      const auto in_item = [&c](const Status& s) { return s.WithContext("item " + std::to_string(c.item)); };
      if (!c.busy) return Status::Internal("the server sent bytes on an idle connection");
      if (c.want_write) {
        if (Status s = Flush(c); !s.ok()) return in_item(s);
        continue;
      }
      if (Status s = Read(c); !s.ok()) return in_item(s);
      if (!c.complete) continue;
      latency_ms[c.item] = std::chrono::duration<double, std::milli>(Clock::now() - c.start).count();
      c.busy = false;
      if (c.parser.status_code != 200) {
        return in_item(Status::Internal("HTTP " + std::to_string(c.parser.status_code) + ": " + c.body.substr(0, 300)));
      }
      if (Status s = on_answer(c.item, c.body); !s.ok()) return in_item(s);
      ++done;
      if (!http_should_keep_alive(&c.parser)) {
        ++reconnects_;
        TESSERA_RETURN_IF_ERROR(Connect(c));
      }
      if (next < n) {
        TESSERA_RETURN_IF_ERROR(Send(c, next, request(next)));
        ++next;
      }
    }
  }
  return TimingOf(std::move(latency_ms), std::chrono::duration<double>(Clock::now() - start).count());
}

}  // namespace tessera::bench
