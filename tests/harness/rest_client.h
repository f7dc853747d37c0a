#pragma once

#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace httplib {
class Client;
}

namespace tessera::testing {

struct HttpReply {
  int status = 0;
  std::string body;
  std::multimap<std::string, std::string> headers;
};

/// A keep-alive HTTP client for tests of the REST API. Thread-compatible (one per thread).
class RestClient {
 public:
  RestClient(const std::string& host, int port);
  ~RestClient();

  /// Any request; Unavailable when no HTTP answer came back (connection refused, reset).
  Result<HttpReply> Send(const std::string& method, const std::string& path, const std::string& body,
                         const std::map<std::string, std::string>& headers = {});
  /// POST /v2/vectordb/<route> with a JSON body; the parsed response envelope. An HTTP
  /// status other than 200 or a body that is not JSON is an error naming both.
  Result<nlohmann::json> Call(const std::string& route, const nlohmann::json& body,
                              const std::map<std::string, std::string>& headers = {});

 private:
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace tessera::testing
