#pragma once

// Incremental HTTP/1.x request parsing for the HTTP server, on Debian's libhttp-parser
// (the nodejs parser): bytes go in as they arrive, whole requests come out one at a time.

#include <http_parser.h>

#include <cstddef>
#include <string>

#include "proxy/http_types.h"

namespace tessera::server {

/// One parsed request: `request.path` is the target's path without the query string;
/// `request.request_id` is left empty for the server to fill.
struct ParsedRequest {
  proxy::HttpRequest request;
  /// Whether the connection may stay open after the answer (HTTP/1.1 without
  /// "Connection: close", or HTTP/1.0 with "Connection: keep-alive").
  bool keep_alive = true;
};

/// Parses the requests of one connection. Feed() stops after each whole request, so that
/// pipelined requests are answered in order: take the request, then feed the rest.
///
/// Limits: a body over `max_body_size` (announced by Content-Length or reached by chunks)
/// is an error with status 413 before any more of it is buffered; a request line plus
/// headers over libhttp-parser's 80 KiB is 431; anything malformed is 400. A request with
/// neither Content-Length nor chunked encoding has an empty body.
///
/// Not thread-safe: one connection, one worker at a time.
class RequestReader {
 public:
  enum class State { kNeedMore, kReady, kError };

  explicit RequestReader(size_t max_body_size);
  RequestReader(const RequestReader&) = delete;
  RequestReader& operator=(const RequestReader&) = delete;

  /// Parses from `data` and returns how many bytes were used: all of them with kNeedMore,
  /// up to the end of a request with kReady (feed the rest after TakeRequest), and an
  /// unspecified count with kError (the connection is done).
  size_t Feed(const char* data, size_t size);
  State state() const { return state_; }

  /// True once per request whose headers carry "Expect: 100-continue" while its body has
  /// not fully arrived: the server then sends "100 Continue".
  bool TakeExpectContinue();
  /// The finished request (state kReady); the reader then waits for the next one.
  ParsedRequest TakeRequest();

  /// With kError: the HTTP status to answer (400, 413, 431 or 505) and why.
  int error_status() const { return error_status_; }
  const std::string& error_message() const { return error_message_; }

 private:
  static int OnMessageBegin(http_parser* parser);
  static int OnUrl(http_parser* parser, const char* at, size_t length);
  static int OnHeaderField(http_parser* parser, const char* at, size_t length);
  static int OnHeaderValue(http_parser* parser, const char* at, size_t length);
  static int OnHeadersComplete(http_parser* parser);
  static int OnBody(http_parser* parser, const char* at, size_t length);
  static int OnMessageComplete(http_parser* parser);
  static const http_parser_settings& Settings();

  void CommitHeader();
  int Fail(int status, std::string message);

  const size_t max_body_size_;
  http_parser parser_;
  State state_ = State::kNeedMore;
  ParsedRequest current_;
  std::string url_;
  std::string field_;
  std::string value_;
  bool in_value_ = false;
  bool expect_continue_ = false;
  int error_status_ = 0;
  std::string error_message_;
};

}  // namespace tessera::server
