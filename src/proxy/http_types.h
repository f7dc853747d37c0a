#pragma once

// Transport-independent HTTP request and response, so the proxy's handlers can be driven by
// the HTTP server, by tests and by the fuzzer alike.

#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera::proxy {

/// Orders strings ASCII case-insensitively: HTTP header names compare that way.
struct CaseInsensitiveLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
      return std::tolower(static_cast<unsigned char>(x)) < std::tolower(static_cast<unsigned char>(y));
    });
  }
};

/// One request as the proxy sees it. `path` has no query string. `request_id` is the id the
/// transport logs the request under (from a RequestId / X-Request-Id header or generated).
struct HttpRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string, CaseInsensitiveLess> headers;
  std::string body;
  std::string request_id;

  /// The header's value, or nullptr when absent.
  const std::string* Header(std::string_view name) const {
    auto it = headers.find(name);
    return it == headers.end() ? nullptr : &it->second;
  }
};

/// The answer. Business errors of the REST API are status 200 with a non-zero "code" in the
/// body; other statuses are transport-level outcomes (404 unknown route, 408 timeout, 500).
struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
};

}  // namespace tessera::proxy
