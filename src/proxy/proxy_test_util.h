#pragma once

// TEST-ONLY fixture pieces for driving a Proxy over real LocalLog + in-test roles.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "proxy/proxy.h"
#include "proxy/test_roles.h"
#include "storage/log/local_log.h"
#include "storage/log/log_test_util.h"

namespace tessera::proxy::testing {

/// A proxy over a LocalLog in a temp dir, a FakeCoordinator and a MiniQueryNode. Time
/// ticks are off unless `time_ticks` (they would add records at moments tests cannot
/// predict).
class ProxyHarness {
 public:
  explicit ProxyHarness(ProxyOptions options = {}, bool time_ticks = false) {
    if (!time_ticks) options.time_tick_interval = std::chrono::milliseconds(0);
    auto log = storage::LocalLog::Open(dir_.path() + "/wal");
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
    query_node_ = std::make_unique<MiniQueryNode>(log_.get());
    coordinator_ = std::make_unique<FakeCoordinator>(query_node_.get());
    proxy_ = std::make_unique<Proxy>(options, coordinator_.get(), query_node_.get(), log_.get());
  }

  /// POSTs `body` (raw text) to /v2/vectordb/<route>.
  HttpResponse Raw(const std::string& route, const std::string& body,
                   const std::map<std::string, std::string>& headers = {}, const std::string& method = "POST") {
    HttpRequest request;
    request.method = method;
    request.path = "/v2/vectordb/" + route;
    for (const auto& [k, v] : headers) request.SetHeader(k, v);
    request.body = body;
    request.request_id = "test";
    return proxy_->Handle(request);
  }

  /// The parsed response envelope of a JSON call (HTTP status checked to be 200).
  nlohmann::json Call(const std::string& route, const nlohmann::json& body,
                      const std::map<std::string, std::string>& headers = {}) {
    HttpResponse response = Raw(route, body.dump(), headers);
    EXPECT_EQ(response.status, 200) << route << ": " << response.body;
    return nlohmann::json::parse(response.body, nullptr, false);
  }

  /// Like Call but expects code 0 and returns the envelope.
  nlohmann::json Ok(const std::string& route, const nlohmann::json& body,
                    const std::map<std::string, std::string>& headers = {}) {
    nlohmann::json out = Call(route, body, headers);
    EXPECT_EQ(out.value("code", -1), 0) << route << " " << body.dump() << " -> " << out.dump();
    return out;
  }

  storage::Log& log() { return *log_; }
  /// The LocalLog's root directory: a channel's records are under <wal_dir>/<channel>.
  std::string wal_dir() const { return dir_.path() + "/wal"; }
  FakeCoordinator& coordinator() { return *coordinator_; }
  MiniQueryNode& query_node() { return *query_node_; }
  Proxy& proxy() { return *proxy_; }

 private:
  storage::testing::TempDir dir_;
  std::unique_ptr<storage::LocalLog> log_;
  std::unique_ptr<MiniQueryNode> query_node_;
  std::unique_ptr<FakeCoordinator> coordinator_;
  std::unique_ptr<Proxy> proxy_;
};

}  // namespace tessera::proxy::testing
