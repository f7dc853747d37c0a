#include "bench/rest_client.h"

#include <httplib.h>

#include <charconv>

namespace tessera::bench {

RestClient::RestClient(const std::string& endpoint, int timeout_seconds)
    : endpoint_(endpoint), client_(std::make_unique<httplib::Client>(endpoint)) {
  client_->set_keep_alive(true);
  // Headers and body go out in separate writes; without TCP_NODELAY, Nagle's algorithm and
  // delayed ACKs can add tens of milliseconds to a request.
  client_->set_tcp_nodelay(true);
  size_t* opened = connections_opened_.get();
  client_->set_socket_options([opened](auto /*socket*/) { ++*opened; });
  client_->set_connection_timeout(timeout_seconds, 0);
  client_->set_read_timeout(timeout_seconds, 0);
  client_->set_write_timeout(timeout_seconds, 0);
}

RestClient::~RestClient() = default;

Result<nlohmann::json> RestClient::Call(const std::string& route, const std::string& body) {
  const std::string path = "/v2/vectordb/" + route;
  const httplib::Headers headers = {{"Accept-Type-Allow-Int64", "true"}};
  httplib::Result reply = client_->Post(path, headers, body, "application/json");
  if (!reply) {
    return Status::Unavailable("POST " + endpoint_ + path + ": no answer (" + httplib::to_string(reply.error()) + ")");
  }
  return ParseEnvelope("POST " + path, reply->status, reply->body);
}

Result<nlohmann::json> ParseEnvelope(const std::string& what, int http_status, std::string_view body) {
  auto envelope = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (http_status != 200 || !envelope.is_object()) {
    return Status::Internal(what + ": HTTP " + std::to_string(http_status) + ", body " +
                            std::string(body.substr(0, 300)));
  }
  const auto code = envelope.find("code");
  if (code == envelope.end() || !code->is_number_integer() || code->get<int64_t>() != 0) {
    return Status::Internal(what + " failed: " + std::string(body.substr(0, 300)));
  }
  return envelope;
}

Result<int> RestClient::GetStatus(const std::string& path) {
  httplib::Result reply = client_->Get(path);
  if (!reply) {
    return Status::Unavailable("GET " + endpoint_ + path + ": no answer (" + httplib::to_string(reply.error()) + ")");
  }
  return reply->status;
}

Result<int64_t> JsonInt64(const nlohmann::json& value, const std::string& what) {
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    int64_t out = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && end == s.data() + s.size()) return out;
  }
  return Status::InvalidArgument(what + " is not an Int64: " + value.dump());
}

}  // namespace tessera::bench
