#pragma once

// Transport-independent HTTP request and response, so the proxy's handlers can be driven by
// the HTTP server, by tests and by the fuzzer alike.

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera::proxy {

/// True when `a` and `b` are equal ASCII case-insensitively: HTTP header names compare so,
/// and so do JSON body keys (Go's encoding/json matches them that way).
inline bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

/// One request as the proxy sees it. `path` has no query string. `request_id` is the id the
/// transport logs the request under (from a RequestId / X-Request-Id header or generated).
struct HttpRequest {
  std::string method;
  std::string path;
  /// In arrival order (a request has a handful: a list is cheaper than a map).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string request_id;
  /// The client's "address:port", as the server accepted the connection (for the log).
  std::string remote_address;

  /// The value of the first header named `name` (ASCII case-insensitively), or nullptr.
  const std::string* Header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (EqualsIgnoringCase(key, name)) return &value;
    }
    return nullptr;
  }
  /// Replaces the value of header `name`, or adds it.
  void SetHeader(std::string_view name, std::string value) {
    for (auto& [key, old] : headers) {
      if (EqualsIgnoringCase(key, name)) {
        old = std::move(value);
        return;
      }
    }
    headers.emplace_back(std::string(name), std::move(value));
  }
};

/// The answer. Business errors of the REST API are status 200 with a non-zero "code" in the
/// body; other statuses are transport-level outcomes (404 unknown route, 408 timeout, 500).
struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  /// " key=value" pairs the handler adds to the server's access log line (the proxy: the
  /// Milvus code, database and collection). Never sent to the client.
  std::string log_fields;
};

}  // namespace tessera::proxy
