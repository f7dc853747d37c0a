#include "server/http_server.h"

#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "proxy/proxy_test_util.h"

namespace tessera::server {

// A server a test left to its requests (StopWithin gave up): it must not be destroyed, and
// a global keeps it reachable, so LeakSanitizer does not report it.
HttpServer* abandoned_server = nullptr;

namespace {

using nlohmann::json;
using ::testing::HasSubstr;

// A plain TCP client, for what httplib::Client cannot send: pipelining, Expect, bad bytes.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawConnection() { ::close(fd_); }
  bool connected() const { return connected_; }
  void Send(const std::string& bytes) { ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL), ssize_t(bytes.size())); }
  // Reads until `marker` has arrived (then returns everything read so far), the peer
  // closes, or `timeout_ms` passes.
  std::string ReadUntil(const std::string& marker, int timeout_ms = 5000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (buffer_.find(marker) == std::string::npos && !closed_) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      buffer_.append(chunk, static_cast<size_t>(n));
    }
    return buffer_;
  }
  // True once the server has closed the connection (waits up to `timeout_ms`).
  bool ClosedByPeer(int timeout_ms) {
    ReadUntil("\x01never\x01", timeout_ms);
    return closed_;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string buffer_;
};

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpServerOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.threads = 4;
    options.max_body_size = 4096;
    options.keep_alive_timeout_s = 1;
    options.health = [this] { return health_.load() ? Status::OK() : Status::Internal("channel c1 failed"); };
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

  // The same checks on a raw response.
  static void ExpectCommonHeadersIn(const std::string& raw) {
    EXPECT_THAT(raw, HasSubstr("Access-Control-Allow-Origin: *\r\n"));
    EXPECT_THAT(raw, HasSubstr("X-Content-Type-Options: nosniff\r\n"));
    EXPECT_THAT(raw, HasSubstr("X-Request-Id: "));
  }

  proxy::testing::ProxyHarness harness_;
  std::atomic<bool> health_{true};  // what options.health reports
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

  health_ = false;  // the health hook names what needs a restart
  auto unhealthy = client_->Get("/healthz");
  ASSERT_TRUE(unhealthy);
  EXPECT_EQ(unhealthy->status, 503);
  EXPECT_THAT(unhealthy->body, HasSubstr("channel c1 failed"));
  health_ = true;
  EXPECT_EQ(client_->Get("/healthz")->status, 200);
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
  // More kept-alive clients than worker threads (4): connections do not hold a worker.
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      httplib::Client c("127.0.0.1", server_->port());
      c.set_keep_alive(true);
      c.set_tcp_nodelay(true);
      for (int i = 0; i < 10; ++i) {
        auto res = c.Post("/v2/vectordb/collections/has", R"({"collectionName":"x"})", "application/json");
        if (res && res->status == 200 && json::parse(res->body)["data"]["has"] == false) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 160);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  RawConnection c(server_->port());
  ASSERT_TRUE(c.connected());
  const std::string body = R"({"collectionName":"p"})";
  c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\nRequestId: first\r\n\r\n"
         "POST /v2/vectordb/collections/has HTTP/1.1\r\nHost: x\r\nRequestId: second\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body +
         "GET /readyz HTTP/1.1\r\nHost: x\r\nRequestId: third\r\n\r\n");
  const std::string got = c.ReadUntil("not ready");
  const size_t first = got.find("X-Request-Id: first");
  const size_t second = got.find("X-Request-Id: second");
  const size_t third = got.find("X-Request-Id: third");
  ASSERT_NE(first, std::string::npos) << got;
  ASSERT_NE(second, std::string::npos) << got;
  ASSERT_NE(third, std::string::npos) << got;
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_THAT(got, HasSubstr(R"("has":false)"));
  EXPECT_EQ(Count(got, "HTTP/1.1 "), 3u);
}

TEST_F(HttpServerTest, ExpectContinueGets100BeforeTheBody) {
  RawConnection c(server_->port());
  const std::string body = R"({"collectionName":"e"})";
  c.Send("POST /v2/vectordb/collections/has HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n");
  EXPECT_THAT(c.ReadUntil("\r\n\r\n"), ::testing::StartsWith("HTTP/1.1 100 Continue\r\n\r\n"));
  c.Send(body);
  EXPECT_THAT(c.ReadUntil(R"("has":false)"), HasSubstr("HTTP/1.1 200 OK"));
}

TEST_F(HttpServerTest, ExpectContinueOverTheLimitIs413WithoutTheBody) {
  RawConnection c(server_->port());
  c.Send("POST /v2/vectordb/collections/has HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
         "Content-Length: 100000\r\n\r\n");
  const std::string got = c.ReadUntil("bytes\"}");
  EXPECT_THAT(got, ::testing::StartsWith("HTTP/1.1 413"));
  EXPECT_THAT(got, HasSubstr("Connection: close"));
  EXPECT_TRUE(c.ClosedByPeer(3000));
}

TEST_F(HttpServerTest, ChunkedBodiesReachTheProxy) {
  RawConnection c(server_->port());
  c.Send("POST /v2/vectordb/collections/has HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
         "5\r\n{\"col\r\n11\r\nlectionName\":\"c\"}\r\n0\r\n\r\n");
  EXPECT_THAT(c.ReadUntil(R"("has":false)"), HasSubstr("HTTP/1.1 200 OK"));
}

TEST_F(HttpServerTest, MalformedRequestIs400AndCloses) {
  RawConnection c(server_->port());
  c.Send("POST /v2/vectordb/collections/has HTTP/1.1\r\nContent-Length: nope\r\n\r\n");
  const std::string got = c.ReadUntil("}");
  EXPECT_THAT(got, ::testing::StartsWith("HTTP/1.1 400 Bad Request"));
  EXPECT_THAT(got, HasSubstr("malformed HTTP request"));
  ExpectCommonHeadersIn(got);
  EXPECT_TRUE(c.ClosedByPeer(3000));
}

TEST_F(HttpServerTest, HeadAnswersHeadersOnly) {
  RawConnection c(server_->port());
  c.Send("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string got = c.ReadUntil("\r\n\r\nok");
  EXPECT_EQ(Count(got, "Content-Length: 2\r\n"), 2u) << got;
  EXPECT_EQ(Count(got, "\r\n\r\nok"), 1u) << got;  // only the GET has a body
  EXPECT_EQ(Count(got, "HTTP/1.1 200 OK\r\n"), 2u) << got;
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  RawConnection c(server_->port());
  c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(c.ReadUntil("ok"), HasSubstr("Connection: close"));
  EXPECT_TRUE(c.ClosedByPeer(3000));
}

TEST_F(HttpServerTest, Http10KeepAliveIsConfirmed) {
  RawConnection c(server_->port());
  c.Send("GET /healthz HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  EXPECT_THAT(c.ReadUntil("\r\n\r\nok"), HasSubstr("Connection: keep-alive\r\n"));
  c.Send("GET /healthz HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  EXPECT_EQ(Count(c.ReadUntil("ok\x01never", 1000), "\r\n\r\nok"), 2u) << "the connection stayed open";
  c.Send("GET /healthz HTTP/1.0\r\n\r\n");  // no keep-alive: closed after the answer
  EXPECT_TRUE(c.ClosedByPeer(3000));
}

TEST_F(HttpServerTest, IdleConnectionsAreClosedAfterTheTimeout) {
  RawConnection idle(server_->port());
  RawConnection partial(server_->port());
  ASSERT_TRUE(idle.connected());
  partial.Send("POST /v2/vectordb/collections/has HTTP/1.1\r\nContent-Length: 50\r\n\r\n{");
  // keep_alive_timeout_s is 1 here; the sweeper looks every 250 ms.
  EXPECT_TRUE(idle.ClosedByPeer(4000));
  EXPECT_TRUE(partial.ClosedByPeer(4000));
  // The server still serves new clients.
  EXPECT_EQ(client_->Get("/healthz")->status, 200);
}

TEST_F(HttpServerTest, StopAnswersTheRequestsInFlight) {
  ASSERT_EQ(json::parse(client_->Post("/v2/vectordb/collections/create", R"({"collectionName":"slow","dimension":3})",
                                      "application/json")->body)["code"], 0);
  harness_.query_node().set_search_delay(std::chrono::milliseconds(300));
  RawConnection c(server_->port());
  const std::string body = R"({"collectionName":"slow","data":[[1,2,3]]})";
  c.Send("POST /v2/vectordb/entities/search HTTP/1.1\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the search is running
  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100)) << "Stop waited";
  const std::string got = c.ReadUntil("\"code\"");
  EXPECT_THAT(got, ::testing::StartsWith("HTTP/1.1 200 OK"));
  EXPECT_THAT(got, HasSubstr("Connection: close"));
  EXPECT_TRUE(c.ClosedByPeer(3000));
}

TEST(HttpServerLifecycle, StopWithinGivesUpOnRequestsThatOutliveIt) {
  proxy::testing::ProxyHarness harness;
  HttpServerOptions options;
  options.address = "127.0.0.1";
  options.port = 0;
  options.threads = 2;
  auto server = std::make_unique<HttpServer>(&harness.proxy(), options);
  ASSERT_TRUE(server->Start().ok());
  httplib::Client client("127.0.0.1", server->port());
  ASSERT_EQ(json::parse(client.Post("/v2/vectordb/collections/create", R"({"collectionName":"slow","dimension":3})",
                                    "application/json")->body)["code"], 0);
  harness.query_node().set_search_delay(std::chrono::milliseconds(1500));
  std::thread slow([&] {
    httplib::Client c("127.0.0.1", server->port());
    auto res = c.Post("/v2/vectordb/entities/search", R"({"collectionName":"slow","data":[[1,2,3]]})",
                      "application/json");
    EXPECT_TRUE(res && res->status == 200) << "the abandoned request still completes";
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(server->StopWithin(std::chrono::milliseconds(100)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000));
  slow.join();
  // The contract: a server left to its requests is not destroyed (its process would exit).
  abandoned_server = server.release();
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
