#include "harness/rest_client.h"

#include <httplib.h>

namespace tessera::testing {

RestClient::RestClient(const std::string& host, int port) : client_(std::make_unique<httplib::Client>(host, port)) {
  client_->set_keep_alive(true);
  client_->set_connection_timeout(5, 0);
  client_->set_read_timeout(120, 0);
  client_->set_write_timeout(120, 0);
}

RestClient::~RestClient() = default;

Result<HttpReply> RestClient::Send(const std::string& method, const std::string& path, const std::string& body,
                                   const std::map<std::string, std::string>& headers) {
  httplib::Headers h(headers.begin(), headers.end());
  if (method != "POST" && method != "GET" && method != "OPTIONS") {
    return Status::InvalidArgument("RestClient: unsupported method " + method);
  }
  httplib::Result r = method == "POST" ? client_->Post(path, h, body, "application/json")
                      : method == "GET" ? client_->Get(path, h)
                                        : client_->Options(path, h);
  if (!r) return Status::Unavailable("HTTP " + method + " " + path + ": " + httplib::to_string(r.error()));
  HttpReply reply;
  reply.status = r->status;
  reply.body = r->body;
  for (const auto& [k, v] : r->headers) reply.headers.emplace(k, v);
  return reply;
}

Result<nlohmann::json> RestClient::Call(const std::string& route, const nlohmann::json& body,
                                        const std::map<std::string, std::string>& headers) {
  TESSERA_ASSIGN_OR_RETURN(HttpReply reply, Send("POST", "/v2/vectordb/" + route, body.dump(), headers));
  if (reply.status != 200) {
    return Status::Internal("POST " + route + ": HTTP " + std::to_string(reply.status) + ": " + reply.body);
  }
  auto parsed = nlohmann::json::parse(reply.body, nullptr, false);
  if (parsed.is_discarded()) return Status::Internal("POST " + route + ": response is not JSON: " + reply.body);
  return parsed;
}

}  // namespace tessera::testing
