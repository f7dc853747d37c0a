#include "server/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/logging.h"
#include "common/metrics.h"
#include "proxy/proxy.h"

namespace tessera::server {
namespace {

constexpr char kRequestIdHeader[] = "X-Request-Id";
constexpr char kJson[] = "application/json; charset=utf-8";

// When the current worker started on its current request (set before routing, read by the
// logger on the same thread: httplib serves a request on one worker from start to end).
thread_local std::optional<std::chrono::steady_clock::time_point> request_start;

std::string GenerateRequestId() {
  thread_local std::mt19937_64 rng(std::random_device{}() ^
                                   static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

// A client-supplied id is echoed in a header and in logs: keep it short and printable.
bool UsableRequestId(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

std::string ErrorJson(int code, const std::string& message) {
  return nlohmann::json{{"code", code}, {"message", message}}.dump(-1, ' ', false,
                                                                   nlohmann::json::error_handler_t::replace);
}

void SetCors(httplib::Response& res) {
  res.set_header("Access-Control-Allow-Origin", "*");
  res.set_header("Access-Control-Allow-Credentials", "true");
  res.set_header("Access-Control-Allow-Headers",
                 "Content-Type, Content-Length, Accept-Encoding, X-CSRF-Token, Authorization, accept, origin, "
                 "Cache-Control, X-Requested-With");
  res.set_header("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH");
  res.set_header("X-Content-Type-Options", "nosniff");
}

}  // namespace

HttpServer::HttpServer(proxy::Proxy* proxy, HttpServerOptions options)
    : proxy_(proxy), options_(std::move(options)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Install() {
  httplib::Server& s = *server_;
  const size_t threads = options_.threads == 0 ? 1 : options_.threads;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.set_payload_max_length(options_.max_body_size);
  s.set_keep_alive_max_count(1000);
  s.set_keep_alive_timeout(options_.keep_alive_timeout_s);
  s.set_tcp_nodelay(true);
  // Remember the listening socket: the packaged library listens with a backlog of 5
  // (CPPHTTPLIB_LISTEN_BACKLOG is fixed when it is compiled), which drops SYNs when a few
  // clients connect at once; Start() raises it.
  s.set_socket_options([this](socket_t sock) {
    httplib::default_socket_options(sock);
    listen_fd_ = sock;
  });

  s.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    request_start = std::chrono::steady_clock::now();
    std::string id = req.get_header_value("RequestId");
    if (!UsableRequestId(id)) id = req.get_header_value(kRequestIdHeader);
    if (!UsableRequestId(id)) id = GenerateRequestId();
    res.set_header(kRequestIdHeader, id);
    return httplib::Server::HandlerResponse::Unhandled;
  });

  s.Post(R"(/v2/vectordb/.+)", [this](const httplib::Request& req, httplib::Response& res) {
    proxy::HttpRequest request;
    request.method = req.method;
    request.path = req.path;
    for (const auto& [name, value] : req.headers) request.headers.emplace(name, value);
    request.body = req.body;
    request.request_id = res.get_header_value(kRequestIdHeader);
    proxy::HttpResponse response = proxy_->Handle(request);
    res.status = response.status;
    for (const auto& [name, value] : response.headers) res.set_header(name, value);
    res.set_content(std::move(response.body), response.content_type.c_str());
  });

  s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
  s.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    if (ready_.load(std::memory_order_acquire)) {
      res.set_content("ready", "text/plain");
    } else {
      res.status = 503;
      res.set_content("not ready", "text/plain");
    }
  });
  s.Get("/metrics", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics::Registry::Default().Render(), "text/plain; version=0.0.4");
  });
  s.Options(R"(.*)", [](const httplib::Request&, httplib::Response& res) { res.status = 204; });

  s.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req,
                                                                    httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (res.status == 404) {
      res.set_content(ErrorJson(404, "404 page not found: " + req.method + " " + req.path), kJson);
    } else if (res.status == 413) {
      res.set_content(ErrorJson(413, "request body too large: the limit is " +
                                         std::to_string(options_.max_body_size) + " bytes"),
                      kJson);
    } else {
      res.set_content(ErrorJson(res.status, "HTTP status " + std::to_string(res.status)), kJson);
    }
    return httplib::Server::HandlerResponse::Handled;
  }));
  s.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) { SetCors(res); });

  s.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    double ms = 0;
    if (request_start.has_value()) {
      ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - *request_start).count();
      request_start.reset();
    }
    TESSERA_LOG_INFO("http request_id={} method={} path={} status={} latency_ms={:.3f}",
                     res.get_header_value(kRequestIdHeader), req.method, req.path, res.status, ms);
  });
}

Status HttpServer::Start() {
  if (started_) return Status::FailedPrecondition("HttpServer already started");
  server_ = std::make_unique<httplib::Server>();
  Install();
  int port = options_.port;
  if (port == 0) {
    port = server_->bind_to_any_port(options_.address);
    if (port < 0) port = 0;
  } else if (!server_->bind_to_port(options_.address, port)) {
    port = 0;
  }
  if (port <= 0) {
    server_.reset();
    return Status::Unavailable("cannot bind HTTP server to " + options_.address + ":" +
                               std::to_string(options_.port));
  }
  if (listen_fd_ >= 0 && ::listen(listen_fd_, SOMAXCONN) != 0) {
    TESSERA_LOG_WARN("http server: raising the listen backlog failed: errno {}", errno);
  }
  port_ = port;
  started_ = true;
  auto done = std::make_shared<std::atomic<bool>>(false);
  thread_ = std::thread([this, done] {
    server_->listen_after_bind();
    done->store(true);
  });
  // stop() only takes effect once the loop runs: wait for it so an early Stop() works.
  while (!server_->is_running() && !done->load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  TESSERA_LOG_INFO("http server listening on {}:{} ({} threads)", options_.address, port_, options_.threads);
  return Status::OK();
}

void HttpServer::Stop() {
  if (!started_) return;
  started_ = false;
  ready_.store(false, std::memory_order_release);
  server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

}  // namespace tessera::server
