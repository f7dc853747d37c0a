#include "server/http_request_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tessera::server {
namespace {

using State = RequestReader::State;
using ::testing::HasSubstr;

constexpr char kPost[] =
    "POST /v2/vectordb/entities/search?x=1 HTTP/1.1\r\n"
    "Host: localhost\r\n"
    "content-type: application/json\r\n"
    "DB-Name: db1\r\n"
    "Content-Length: 13\r\n"
    "\r\n"
    "{\"limit\": 10}";

// Feeds all of `bytes` in pieces of `step` and returns the requests, in order.
std::vector<ParsedRequest> ParseAll(RequestReader& reader, const std::string& bytes, size_t step) {
  std::vector<ParsedRequest> out;
  size_t offset = 0;
  while (offset < bytes.size()) {
    const size_t piece = std::min(step, bytes.size() - offset);
    size_t used_in_piece = 0;
    while (used_in_piece < piece) {
      used_in_piece += reader.Feed(bytes.data() + offset + used_in_piece, piece - used_in_piece);
      if (reader.state() == State::kReady) {
        out.push_back(reader.TakeRequest());
      } else {
        EXPECT_NE(reader.state(), State::kError) << reader.error_message();
        if (reader.state() == State::kError) return out;
      }
    }
    offset += piece;
  }
  return out;
}

TEST(RequestReaderTest, ParsesMethodPathHeadersAndBody) {
  RequestReader reader(1 << 20);
  auto requests = ParseAll(reader, kPost, sizeof(kPost));
  ASSERT_EQ(requests.size(), 1u);
  const proxy::HttpRequest& r = requests[0].request;
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/v2/vectordb/entities/search");  // no query string
  ASSERT_NE(r.Header("Content-Type"), nullptr);        // names compare case-insensitively
  EXPECT_EQ(*r.Header("Content-Type"), "application/json");
  EXPECT_EQ(*r.Header("db-name"), "db1");
  EXPECT_EQ(r.body, "{\"limit\": 10}");
  EXPECT_TRUE(requests[0].keep_alive);
  EXPECT_EQ(reader.state(), State::kNeedMore);
}

TEST(RequestReaderTest, ByteByByteGivesTheSameRequest) {
  RequestReader reader(1 << 20);
  auto requests = ParseAll(reader, kPost, 1);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].request.path, "/v2/vectordb/entities/search");
  EXPECT_EQ(*requests[0].request.Header("DB-Name"), "db1");
  EXPECT_EQ(requests[0].request.body, "{\"limit\": 10}");
}

TEST(RequestReaderTest, PipelinedRequestsComeOutOneAtATime) {
  RequestReader reader(1 << 20);
  const std::string two = std::string(kPost) + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  const size_t used = reader.Feed(two.data(), two.size());
  ASSERT_EQ(reader.state(), State::kReady);
  EXPECT_EQ(used, sizeof(kPost) - 1);  // stops at the end of the first request
  EXPECT_EQ(reader.TakeRequest().request.method, "POST");
  reader.Feed(two.data() + used, two.size() - used);
  ASSERT_EQ(reader.state(), State::kReady);
  ParsedRequest second = reader.TakeRequest();
  EXPECT_EQ(second.request.method, "GET");
  EXPECT_EQ(second.request.path, "/healthz");
  EXPECT_TRUE(second.request.body.empty());
}

TEST(RequestReaderTest, ChunkedBodyIsAssembled) {
  RequestReader reader(1 << 20);
  auto requests = ParseAll(reader,
                           "POST /v2/vectordb/collections/list HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "3\r\n{\"a\r\n5\r\n\": 1}\r\n0\r\n\r\n",
                           7);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].request.body, "{\"a\": 1}");
}

TEST(RequestReaderTest, KeepAliveFollowsVersionAndConnectionHeader) {
  {
    RequestReader reader(1024);
    auto r = ParseAll(reader, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 100);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_FALSE(r[0].keep_alive);
  }
  {
    RequestReader reader(1024);
    auto r = ParseAll(reader, "GET / HTTP/1.0\r\n\r\n", 100);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_FALSE(r[0].keep_alive);
  }
  {
    RequestReader reader(1024);
    auto r = ParseAll(reader, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 100);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_TRUE(r[0].keep_alive);
  }
}

TEST(RequestReaderTest, AnnouncedBodyOverTheLimitIs413BeforeTheBody) {
  RequestReader reader(100);
  const std::string head = "POST /x HTTP/1.1\r\nContent-Length: 101\r\n\r\n";
  reader.Feed(head.data(), head.size());
  ASSERT_EQ(reader.state(), State::kError);
  EXPECT_EQ(reader.error_status(), 413);
  EXPECT_THAT(reader.error_message(), HasSubstr("100 bytes"));
}

TEST(RequestReaderTest, ChunkedBodyOverTheLimitIs413) {
  RequestReader reader(8);
  const std::string bytes = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n12345\r\n5\r\n67890\r\n0\r\n\r\n";
  reader.Feed(bytes.data(), bytes.size());
  ASSERT_EQ(reader.state(), State::kError);
  EXPECT_EQ(reader.error_status(), 413);
}

TEST(RequestReaderTest, ExpectContinueIsFlaggedOnlyWhileTheBodyIsMissing) {
  RequestReader reader(1024);
  const std::string head = "POST /x HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 4\r\n\r\n";
  reader.Feed(head.data(), head.size());
  EXPECT_EQ(reader.state(), State::kNeedMore);
  EXPECT_TRUE(reader.TakeExpectContinue());
  EXPECT_FALSE(reader.TakeExpectContinue());  // once
  reader.Feed("abcd", 4);
  ASSERT_EQ(reader.state(), State::kReady);
  EXPECT_EQ(reader.TakeRequest().request.body, "abcd");

  // Headers and body in one piece: the client is not waiting for "100 Continue".
  const std::string whole = head + "abcd";
  reader.Feed(whole.data(), whole.size());
  ASSERT_EQ(reader.state(), State::kReady);
  EXPECT_FALSE(reader.TakeExpectContinue());
}

TEST(RequestReaderTest, MalformedRequestsAre400) {
  for (const std::string bad : {"GARBAGE\r\n\r\n", "POST /x HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
                                "GET /x HTTP/1.1\r\nBad Header\r\n\r\n"}) {
    RequestReader reader(1024);
    reader.Feed(bad.data(), bad.size());
    ASSERT_EQ(reader.state(), State::kError) << bad;
    EXPECT_EQ(reader.error_status(), 400) << bad;
    EXPECT_THAT(reader.error_message(), HasSubstr("malformed")) << bad;
  }
}

TEST(RequestReaderTest, OversizedHeadersAre431AndOtherVersions505) {
  RequestReader big(1024);
  const std::string huge = "GET /x HTTP/1.1\r\nX-Big: " + std::string(100 * 1024, 'a') + "\r\n\r\n";
  big.Feed(huge.data(), huge.size());
  ASSERT_EQ(big.state(), State::kError);
  EXPECT_EQ(big.error_status(), 431);

  RequestReader v2(1024);
  const std::string http2 = "GET /x HTTP/2.0\r\n\r\n";
  v2.Feed(http2.data(), http2.size());
  ASSERT_EQ(v2.state(), State::kError);
  EXPECT_EQ(v2.error_status(), 505);
}

}  // namespace
}  // namespace tessera::server
