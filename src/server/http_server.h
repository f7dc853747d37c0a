#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"

namespace httplib {
class Server;
}

namespace tessera::proxy {
class Proxy;
}

namespace tessera::server {

struct HttpServerOptions {
  /// Address to bind ("0.0.0.0" = every interface).
  std::string address = "0.0.0.0";
  /// Port to bind; 0 picks a free one (HttpServer::port() tells which).
  int port = 19530;
  /// Worker threads. A connection holds its worker while it is kept alive, so this is also
  /// the number of clients served at once.
  size_t threads = 16;
  /// Largest accepted request body; larger ones are answered 413.
  size_t max_body_size = 64u << 20;
  /// Seconds an idle keep-alive connection is kept (and the longest Stop() waits for one).
  int keep_alive_timeout_s = 5;
};

/// The HTTP front end (cpp-httplib) of one process:
///   POST /v2/vectordb/<category>/<action>  -> Proxy::Handle
///   GET  /healthz  -> 200 "ok" while the process runs
///   GET  /readyz   -> 200 "ready" after SetReady(true), else 503
///   GET  /metrics  -> metrics::Registry::Default() in the Prometheus text format
///   OPTIONS <any>  -> 204 (CORS preflight)
/// Anything else is 404 (JSON body). A body over max_body_size is 413 with a JSON error.
/// Every response carries the CORS headers of spec §1.1, X-Content-Type-Options: nosniff
/// and X-Request-Id (from the RequestId / X-Request-Id request header, else generated);
/// every request is logged with its id, method, path, status and latency.
///
/// Thread-safety: Start/Stop from one controlling thread; SetReady and port from any.
/// The proxy is borrowed and must outlive the server.
class HttpServer {
 public:
  HttpServer(proxy::Proxy* proxy, HttpServerOptions options);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Binds and starts serving on a background thread. Unavailable when the address cannot
  /// be bound (naming it); FailedPrecondition when already started.
  Status Start();
  /// The bound port (valid after a successful Start).
  int port() const { return port_; }
  void SetReady(bool ready) { ready_.store(ready, std::memory_order_release); }
  /// Stops accepting connections and returns once in-flight requests have been answered.
  /// Idempotent.
  void Stop();

 private:
  void Install();

  proxy::Proxy* const proxy_;
  const HttpServerOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> ready_{false};
  int port_ = 0;
  int listen_fd_ = -1;
  bool started_ = false;
};

}  // namespace tessera::server
