#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace httplib {
class Client;
}

namespace tessera::bench {

/// One keep-alive HTTP connection to a Milvus REST v2 server (Tessera's or Milvus's).
/// Thread-compatible: give each concurrent client its own RestClient, so each has its own
/// connection (the benchmark measures one connection per client).
class RestClient {
 public:
  /// `endpoint` is "http://host:port". `timeout_seconds` bounds each read and write.
  explicit RestClient(const std::string& endpoint, int timeout_seconds = 300);
  ~RestClient();
  RestClient(const RestClient&) = delete;
  RestClient& operator=(const RestClient&) = delete;

  /// POST /v2/vectordb/<route> with a JSON `body` (already serialized, so callers can build
  /// large bodies once, outside the timed region). Returns the whole response envelope when
  /// the HTTP status is 200 and the envelope's `code` is 0. Errors: Unavailable when no
  /// HTTP answer came back; Internal naming the route, HTTP status, code and message
  /// otherwise.
  Result<nlohmann::json> Call(const std::string& route, const std::string& body);
  Result<nlohmann::json> Call(const std::string& route, const nlohmann::json& body) {
    return Call(route, body.dump());
  }

  /// GET `path`; the HTTP status, or Unavailable when nothing answered.
  Result<int> GetStatus(const std::string& path);

  /// TCP connections this client has opened so far: 1 when keep-alive held for every
  /// request, more when the server closed connections (e.g. a per-connection request cap).
  size_t connections_opened() const { return *connections_opened_; }

 private:
  std::string endpoint_;
  std::unique_ptr<httplib::Client> client_;
  // Heap-allocated so the socket callback's pointer stays valid; written only by the
  // thread using this client.
  std::unique_ptr<size_t> connections_opened_ = std::make_unique<size_t>(0);
};

/// A Milvus REST v2 answer's envelope: Internal naming `what`, the HTTP status and the start
/// of the body unless the status is 200, the body a JSON object and its `code` 0.
Result<nlohmann::json> ParseEnvelope(const std::string& what, int http_status, std::string_view body);

/// An Int64 from a response, which the server may encode as a number or a decimal string
/// (REST_API.md §3.3). InvalidArgument naming `what` otherwise.
Result<int64_t> JsonInt64(const nlohmann::json& value, const std::string& what);

}  // namespace tessera::bench
