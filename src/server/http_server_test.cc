#include "server/http_server.h"

#include <httplib.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "proxy/proxy_test_util.h"

namespace tessera::server {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpServerOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.threads = 4;
    options.max_body_size = 4096;
    server_ = std::make_unique<HttpServer>(&harness_.proxy(), options);
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_GT(server_->port(), 0);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }
  void TearDown() override { server_->Stop(); }

  static void ExpectCommonHeaders(const httplib::Result& res) {
    ASSERT_TRUE(res);
    EXPECT_EQ(res->get_header_value("Access-Control-Allow-Origin"), "*");
    EXPECT_EQ(res->get_header_value("Access-Control-Allow-Credentials"), "true");
    EXPECT_THAT(res->get_header_value("Access-Control-Allow-Methods"), HasSubstr("POST"));
    EXPECT_THAT(res->get_header_value("Access-Control-Allow-Headers"), HasSubstr("Authorization"));
    EXPECT_EQ(res->get_header_value("X-Content-Type-Options"), "nosniff");
    EXPECT_FALSE(res->get_header_value("X-Request-Id").empty());
  }

  proxy::testing::ProxyHarness harness_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(HttpServerTest, HealthAndReadiness) {
  auto health = client_->Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok");
  ExpectCommonHeaders(health);

  auto not_ready = client_->Get("/readyz");
  ASSERT_TRUE(not_ready);
  EXPECT_EQ(not_ready->status, 503);
  server_->SetReady(true);
  auto ready = client_->Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  server_->SetReady(false);
  EXPECT_EQ(client_->Get("/readyz")->status, 503);
}

TEST_F(HttpServerTest, PostRoutesReachTheProxy) {
  auto res = client_->Post("/v2/vectordb/collections/create", R"({"collectionName":"web","dimension":3})",
                           "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body)["code"], 0);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json; charset=utf-8");
  ExpectCommonHeaders(res);
  // No Content-Type at all (the Node SDK sends "ContentType"): still JSON.
  httplib::Headers headers = {{"ContentType", "application/json"}};
  auto list = client_->Post("/v2/vectordb/collections/list", headers, "{}", "");
  ASSERT_TRUE(list);
  EXPECT_EQ(json::parse(list->body)["data"], json::parse(R"(["web"])"));
}

TEST_F(HttpServerTest, RequestIdIsEchoedOrGenerated) {
  httplib::Headers headers = {{"RequestId", "abc-123"}};
  auto res = client_->Get("/healthz", headers);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("X-Request-Id"), "abc-123");
  headers = {{"X-Request-Id", "xyz"}};
  EXPECT_EQ(client_->Get("/healthz", headers)->get_header_value("X-Request-Id"), "xyz");
  auto a = client_->Get("/healthz");
  auto b = client_->Get("/healthz");
  EXPECT_NE(a->get_header_value("X-Request-Id"), b->get_header_value("X-Request-Id"));
}

TEST_F(HttpServerTest, UnknownRoutesAndMethodsAre404) {
  auto unknown = client_->Post("/v2/vectordb/collections/nope", "{}", "application/json");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  ExpectCommonHeaders(unknown);
  auto get_on_post = client_->Get("/v2/vectordb/collections/list");
  ASSERT_TRUE(get_on_post);
  EXPECT_EQ(get_on_post->status, 404);
  EXPECT_EQ(json::parse(get_on_post->body)["code"], 404);
  auto elsewhere = client_->Post("/other", "{}", "application/json");
  ASSERT_TRUE(elsewhere);
  EXPECT_EQ(elsewhere->status, 404);
}

TEST_F(HttpServerTest, OptionsIs204WithCors) {
  auto res = client_->Options("/v2/vectordb/collections/list");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204);
  EXPECT_TRUE(res->body.empty());
  ExpectCommonHeaders(res);
}

TEST_F(HttpServerTest, OversizedBodyIs413WithJson) {
  std::string big = R"({"collectionName":")" + std::string(8000, 'a') + R"("})";
  auto res = client_->Post("/v2/vectordb/collections/describe", big, "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  json body = json::parse(res->body, nullptr, false);
  ASSERT_FALSE(body.is_discarded()) << res->body;
  EXPECT_THAT(body["message"].get<std::string>(), HasSubstr("4096"));
  ExpectCommonHeaders(res);
}

TEST_F(HttpServerTest, MetricsEndpoint) {
  client_->Post("/v2/vectordb/collections/list", "{}", "application/json");
  auto res = client_->Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4");
  EXPECT_THAT(res->body, HasSubstr("tessera_http_requests_total"));
}

TEST_F(HttpServerTest, KeepAliveAndConcurrentClients) {
  {
    httplib::Client keep("127.0.0.1", server_->port());
    keep.set_keep_alive(true);
    keep.set_tcp_nodelay(true);
    for (int i = 0; i < 20; ++i) {
      auto res = keep.Post("/v2/vectordb/collections/list", "{}", "application/json");
      ASSERT_TRUE(res) << i;
      EXPECT_EQ(res->status, 200);
    }
  }
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      httplib::Client c("127.0.0.1", server_->port());
      c.set_tcp_nodelay(true);
      for (int i = 0; i < 10; ++i) {
        auto res = c.Post("/v2/vectordb/collections/has", R"({"collectionName":"x"})", "application/json");
        if (res && res->status == 200 && json::parse(res->body)["data"]["has"] == false) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 80);
}

TEST(HttpServerLifecycle, StopIsIdempotentAndStartTwiceFails) {
  proxy::testing::ProxyHarness harness;
  HttpServerOptions options;
  options.address = "127.0.0.1";
  options.port = 0;
  HttpServer server(&harness.proxy(), options);
  ASSERT_TRUE(server.Start().ok());
  EXPECT_EQ(server.Start().code(), StatusCode::kFailedPrecondition);
  server.Stop();
  server.Stop();
  httplib::Client client("127.0.0.1", server.port());
  EXPECT_FALSE(client.Get("/healthz"));
}

}  // namespace
}  // namespace tessera::server
