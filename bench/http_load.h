#pragma once
// A closed-loop HTTP/1.1 load generator on one thread (as wrk and ab are): `connections`
// keep-alive connections driven by epoll, each with one request outstanding.
//
// Why not a thread per connection: on one machine the server's `send` runs the client's
// TCP receive path and wakes the client thread that waits for that answer, which costs the
// server's CPU an inter-processor interrupt per answer in a VM. A client on another machine
// costs the server none of that. One event loop, and in `spin` mode one that never sleeps,
// leaves the server only its own work.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench/concurrent.h"
#include "common/result.h"

namespace tessera::bench {

struct HttpLoadOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  size_t connections = 1;
  // Poll the sockets without sleeping (the loop takes a whole CPU): answers never have to
  // wake the client. Otherwise the loop sleeps in epoll_wait when nothing is ready.
  bool spin = false;
  int timeout_seconds = 60;  // no answer for this long on any busy connection is an error
};

/// The raw bytes of `POST <path>` with a JSON body, keep-alive. `extra_headers`: more
/// header lines, each ending in "\r\n".
std::string HttpPostRequest(const std::string& host, int port, const std::string& path, std::string_view body,
                            std::string_view extra_headers = {});

/// The connections and their event loop. Not thread-safe: one thread runs it.
class HttpLoad {
 public:
  /// Resolves the host and opens the connections. Unavailable when the server cannot be
  /// reached.
  static Result<std::unique_ptr<HttpLoad>> Open(const HttpLoadOptions& options);
  ~HttpLoad();
  HttpLoad(const HttpLoad&) = delete;
  HttpLoad& operator=(const HttpLoad&) = delete;

  /// Sends `request(item)` for every item in [0, n), each connection taking the next item
  /// when its previous answer is complete, and calls `on_answer(item, body)` with each 200
  /// answer's body (on the loop's thread, outside the item's latency). Times each request
  /// from its first byte sent to its last byte received, with the statistics
  /// RunConcurrently gives. Errors (the first stops the run, naming the item): a connection
  /// refused or closed before its answer, an answer other than 200 (with its status and the
  /// start of its body), a malformed answer, no answer on any connection for
  /// `timeout_seconds`, or `on_answer`'s error. A connection the server closes after an
  /// answer is reopened (counted in reconnects()).
  Result<Timing> Run(size_t n, const std::function<const std::string&(size_t item)>& request,
                     const std::function<Status(size_t item, std::string_view body)>& on_answer);

  /// Connections reopened because the server closed them after an answer.
  size_t reconnects() const { return reconnects_; }

 private:
  struct Connection;
  explicit HttpLoad(const HttpLoadOptions& options);
  Status Connect(Connection& c);
  Status Send(Connection& c, size_t item, const std::string& request);
  Status Flush(Connection& c);
  Status Watch(Connection& c, uint32_t events, bool add);
  Status Read(Connection& c);

  const HttpLoadOptions options_;
  int epoll_fd_ = -1;
  int family_ = 0;
  std::string address_;  // the resolved sockaddr's bytes
  std::vector<std::unique_ptr<Connection>> connections_;
  size_t reconnects_ = 0;
};

}  // namespace tessera::bench
