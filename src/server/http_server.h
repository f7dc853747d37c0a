#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "common/status.h"

namespace tessera::proxy {
class Proxy;
struct HttpRequest;
}

namespace tessera::server {

class WorkerGate;

struct HttpServerOptions {
  /// Address to bind ("0.0.0.0" = every interface; a host name or an IPv6 literal works too).
  std::string address = "0.0.0.0";
  /// Port to bind; 0 picks a free one (HttpServer::port() tells which).
  int port = 19530;
  /// Worker threads: the number of requests served at once. Connections do not hold a
  /// worker between requests, so any number of kept-alive clients share them.
  size_t threads = 16;
  /// Largest accepted request body; larger ones are answered 413.
  size_t max_body_size = 64u << 20;
  /// Seconds a connection may sit idle (between requests, or in a request that stopped
  /// arriving) before it is closed.
  int keep_alive_timeout_s = 5;
  /// Open connections beyond this are closed as soon as they are accepted.
  size_t max_connections = 10000;
  /// Asked by GET /healthz: OK, or why the process needs a restart (503 with the message).
  /// Empty: always healthy. Must be cheap and thread-safe.
  std::function<Status()> health;
};

/// The HTTP/1.1 front end of one process:
///   POST /v2/vectordb/<category>/<action>  -> Proxy::Handle (any other method there too:
///                                             the proxy answers 404)
///   GET  /healthz  -> 200 "ok" while options.health is OK, else 503 with its message
///   GET  /readyz   -> 200 "ready" after SetReady(true), else 503
///   GET  /metrics  -> metrics::Registry::Default() in the Prometheus text format
///   OPTIONS <any>  -> 204 (CORS preflight)
/// HEAD is answered like GET without the body. Anything else is 404 (JSON body). A body
/// over max_body_size is 413 with a JSON error, malformed requests 400, oversized headers
/// 431; after such an error the connection is closed. "Expect: 100-continue" is honoured
/// (curl sends it for large bodies). Every response carries the CORS headers of spec §1.1,
/// X-Content-Type-Options: nosniff and X-Request-Id (from the RequestId / X-Request-Id
/// request header, else generated); every request is logged with its id, method, path,
/// status and latency.
///
/// Design: one epoll set shared by `threads` workers. Each connection is registered
/// one-shot, so exactly one worker at a time owns it: that worker reads, parses
/// (libhttp-parser), runs the handler on its own thread and writes the answer with one
/// sendmsg, then re-arms the connection. Under load a worker that finishes a request finds
/// the next ready connection without sleeping, so a request costs no thread hand-off; a
/// handler that blocks (flush, a Strong read waiting for the WAL) holds only its own
/// worker. A WorkerGate keeps the workers waiting for events to one per CPU, so that a
/// busy CPU goes from request to request on one thread (see worker_gate.h). A housekeeping
/// thread runs the gate's monitor and closes connections idle past keep_alive_timeout_s.
///
/// Thread-safety: Start/Stop from one controlling thread; SetReady and port from any.
/// The proxy is borrowed and must outlive the server.
class HttpServer {
 public:
  HttpServer(proxy::Proxy* proxy, HttpServerOptions options);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Binds and starts serving on background threads. Unavailable when the address cannot
  /// be bound (naming it); FailedPrecondition when already started.
  Status Start();
  /// The bound port (valid after a successful Start).
  int port() const { return port_; }
  void SetReady(bool ready) { ready_.store(ready, std::memory_order_release); }
  /// Stops accepting connections and returns once in-flight requests have been answered
  /// (their connections are then closed, as are idle ones). Idempotent.
  void Stop();
  /// Stop() that waits at most `timeout` for in-flight requests. False when some still
  /// run then: they keep the server, which must then be neither restarted nor destroyed
  /// (the caller is expected to end the process).
  bool StopWithin(std::chrono::milliseconds timeout);

 private:
  struct Connection;

  Status Bind();
  void WorkerLoop(size_t index);
  // Every few milliseconds: the WorkerGate's monitor, idle connections, the CPU count.
  void HousekeepingLoop();
  void AcceptAll();
  // Serves a connection whose event this worker took, then re-arms or closes it.
  void Serve(Connection* connection);
  // Reads what has arrived and answers every whole request in it. False: close.
  bool ReadAndAnswer(Connection* connection);
  // Routes one request, sends the answer and logs it. False when sending failed.
  // *keep_alive: whether the client allows keeping the connection; cleared when the server
  // closes it after this answer (it is stopping).
  bool Answer(int fd, proxy::HttpRequest& request, bool* keep_alive);
  void Close(Connection* connection);

  proxy::Proxy* const proxy_;
  const HttpServerOptions options_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> stopping_{false};
  int port_ = 0;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: readable once Stop() wants the workers to exit
  bool started_ = false;
  std::unique_ptr<WorkerGate> gate_;
  std::vector<std::thread> workers_;
  std::thread housekeeper_;

  std::mutex mu_;  // guards connections_, each Connection's busy/last_active, live_workers_
  std::condition_variable housekeeper_cv_;
  std::condition_variable workers_done_;
  size_t live_workers_ = 0;
  std::unordered_set<Connection*> connections_;
};

}  // namespace tessera::server
