#include "bench/http_load.h"

#include <httplib.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace tessera::bench {
namespace {

using ::testing::HasSubstr;

// A real HTTP server (cpp-httplib) on a loopback port. POST /echo answers "answer-<body>";
// a body "fail" gets HTTP 500; with `close_every` > 0, every close_every-th answer closes
// its connection.
class EchoServer {
 public:
  explicit EchoServer(int close_every = 0) {
    server_.Post("/echo", [this, close_every](const httplib::Request& request, httplib::Response& response) {
      const int served = ++served_;
      if (request.body == "fail") {
        response.status = 500;
        response.set_content("deliberate failure", "text/plain");
        return;
      }
      if (close_every > 0 && served % close_every == 0) response.set_header("Connection", "close");
      response.set_content("answer-" + request.body, "text/plain");
    });
    server_.set_keep_alive_max_count(1 << 20);  // httplib's default closes after 5 requests
    server_.set_tcp_nodelay(true);  // answers go out as head and body: no Nagle wait between
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // Connections queue on the bound socket already; stop() needs the loop running.
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~EchoServer() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }

 private:
  httplib::Server server_;
  std::atomic<int> served_{0};
  int port_ = 0;
  std::thread thread_;
};

std::vector<std::string> Requests(int port, size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back(HttpPostRequest("127.0.0.1", port, "/echo", std::to_string(i)));
  return out;
}

void ExpectEveryItemAnsweredOnce(bool spin) {
  EchoServer server;
  const size_t n = 200;
  const auto requests = Requests(server.port(), n);
  auto load = HttpLoad::Open({.port = server.port(), .connections = 3, .spin = spin});
  ASSERT_TRUE(load.ok()) << load.status().ToString();
  std::vector<int> answers(n, 0);
  auto timing = (*load)->Run(
      n, [&](size_t item) -> const std::string& { return requests[item]; },
      [&](size_t item, std::string_view body) {
        EXPECT_EQ(body, "answer-" + std::to_string(item));
        ++answers[item];
        return Status::OK();
      });
  ASSERT_TRUE(timing.ok()) << timing.status().ToString();
  EXPECT_EQ(timing->calls, n);
  EXPECT_GT(timing->per_second, 0);
  EXPECT_LE(timing->p50_ms, timing->p99_ms);
  EXPECT_EQ(answers, std::vector<int>(n, 1));
  EXPECT_EQ((*load)->reconnects(), 0u);
}

TEST(HttpLoadTest, AnswersEveryItemOnceSleeping) { ExpectEveryItemAnsweredOnce(/*spin=*/false); }
TEST(HttpLoadTest, AnswersEveryItemOnceSpinning) { ExpectEveryItemAnsweredOnce(/*spin=*/true); }

TEST(HttpLoadTest, ReopensConnectionsTheServerCloses) {
  EchoServer server(/*close_every=*/7);
  const size_t n = 60;
  const auto requests = Requests(server.port(), n);
  auto load = HttpLoad::Open({.port = server.port(), .connections = 2});
  ASSERT_TRUE(load.ok()) << load.status().ToString();
  size_t answered = 0;
  auto timing = (*load)->Run(
      n, [&](size_t item) -> const std::string& { return requests[item]; },
      [&](size_t, std::string_view) { return ++answered, Status::OK(); });
  ASSERT_TRUE(timing.ok()) << timing.status().ToString();
  EXPECT_EQ(answered, n);
  EXPECT_EQ((*load)->reconnects(), n / 7);
}

TEST(HttpLoadTest, AnErrorAnswerStopsTheRunNamingTheItem) {
  EchoServer server;
  std::vector<std::string> requests = Requests(server.port(), 10);
  requests[4] = HttpPostRequest("127.0.0.1", server.port(), "/echo", "fail");
  auto load = HttpLoad::Open({.port = server.port(), .connections = 1});
  ASSERT_TRUE(load.ok()) << load.status().ToString();
  auto timing = (*load)->Run(
      10, [&](size_t item) -> const std::string& { return requests[item]; },
      [&](size_t, std::string_view) { return Status::OK(); });
  ASSERT_FALSE(timing.ok());
  EXPECT_THAT(timing.status().ToString(), HasSubstr("item 4"));
  EXPECT_THAT(timing.status().ToString(), HasSubstr("HTTP 500"));
  EXPECT_THAT(timing.status().ToString(), HasSubstr("deliberate failure"));
}

TEST(HttpLoadTest, TheCallbacksErrorStopsTheRun) {
  EchoServer server;
  const auto requests = Requests(server.port(), 10);
  auto load = HttpLoad::Open({.port = server.port(), .connections = 2});
  ASSERT_TRUE(load.ok()) << load.status().ToString();
  auto timing = (*load)->Run(
      10, [&](size_t item) -> const std::string& { return requests[item]; },
      [&](size_t item, std::string_view) {
        return item == 3 ? Status::InvalidArgument("bad answer") : Status::OK();
      });
  ASSERT_FALSE(timing.ok());
  EXPECT_THAT(timing.status().ToString(), HasSubstr("item 3"));
  EXPECT_THAT(timing.status().ToString(), HasSubstr("bad answer"));
}

TEST(HttpLoadTest, NoServerIsUnavailable) {
  int port = 0;
  {
    EchoServer gone;
    port = gone.port();
  }
  auto load = HttpLoad::Open({.port = port, .connections = 1});
  ASSERT_FALSE(load.ok());
  EXPECT_EQ(load.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(load.status().ToString(), HasSubstr(std::to_string(port)));
}

}  // namespace
}  // namespace tessera::bench
