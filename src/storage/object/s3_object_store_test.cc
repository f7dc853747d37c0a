// S3ObjectStore against a real S3 endpoint: Swift s3api, started once for this binary
// (the conformance cases in the same binary share it). Fault tests put a small loopback
// proxy between the store and Swift that answers 503/500 or resets chosen requests.
// HTTPS cases are in s3_tls_test.cc.

#include "storage/object/s3_object_store.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/config.h"
#include "storage/object/object_store_test_util.h"
#include "storage/object/swift_test_server.h"

namespace tessera::storage {
namespace {

using testing::PatternBytes;
using testing::SwiftTestServer;

TEST(S3UriEncode, KeepsUnreservedAndSlash) {
  EXPECT_EQ("a/b-c_d.e~f", s3::UriEncode("a/b-c_d.e~f", true));
  EXPECT_EQ("a%2Fb", s3::UriEncode("a/b", false));
  EXPECT_EQ("sp%20ace%2Bplus%3D%26%25%3F%23", s3::UriEncode("sp ace+plus=&%?#", true));
  EXPECT_EQ("%C3%A9", s3::UriEncode("\xc3\xa9", true));
}

TEST(S3Digests, KnownValues) {
  EXPECT_EQ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", s3::Sha256Hex(""));
  EXPECT_EQ("1B2M2Y8AsgTpgAmY7PhCfg==", s3::Md5Base64(""));
}

TEST(S3RequestUrl, PathStyleAndVirtualHost) {
  const std::string key = "/" + s3::UriEncode("pre/fix/a b+c%d/\xc3\xa9?", true);
  EXPECT_EQ("http://127.0.0.1:9000/bkt/pre/fix/a%20b%2Bc%25d/%C3%A9%3F",
            s3::RequestUrl("http", "127.0.0.1:9000", "bkt", true, key, ""));
  EXPECT_EQ("https://bkt.s3.example.com/pre/fix/a%20b%2Bc%25d/%C3%A9%3F",
            s3::RequestUrl("https", "s3.example.com", "bkt", false, key, ""));
  // The bucket itself: no trailing slash in path style, "/" after a virtual host.
  EXPECT_EQ("http://h:1/bkt?list-type=2", s3::RequestUrl("http", "h:1", "bkt", true, "", "list-type=2"));
  EXPECT_EQ("http://bkt.h:1/?list-type=2", s3::RequestUrl("http", "h:1", "bkt", false, "", "list-type=2"));
  EXPECT_EQ("http://bkt.h:1/", s3::RequestUrl("http", "h:1", "bkt", false, "", ""));
  EXPECT_EQ("http://bkt.h:1/k?partNumber=1&uploadId=x",
            s3::RequestUrl("http", "h:1", "bkt", false, "/k", "partNumber=1&uploadId=x"));
}

TEST(S3Options, OpenRejectsBadOptions) {
  S3Options options;
  options.access_key = "a";
  options.secret_key = "s";
  EXPECT_EQ(StatusCode::kInvalidArgument, S3ObjectStore::Open(options).status().code());  // no bucket
  options.bucket = "b";
  options.part_size = 1 << 20;
  EXPECT_EQ(StatusCode::kInvalidArgument, S3ObjectStore::Open(options).status().code());
  options.part_size = 8 << 20;
  options.path_style = true;
  options.endpoint = "127.0.0.1:9000";
  EXPECT_EQ(StatusCode::kInvalidArgument, S3ObjectStore::Open(options).status().code());
  options.endpoint = "http://127.0.0.1:9000";
  EXPECT_TRUE(S3ObjectStore::Open(options).ok());
  options.part_size = (5ULL << 30) + 1;
  options.multipart_threshold = options.part_size;
  EXPECT_EQ(StatusCode::kInvalidArgument, S3ObjectStore::Open(options).status().code());
  options.part_size = 8 << 20;
  options.copy_part_threshold = (5ULL << 30) + 1;  // CopyObject cannot take such a source
  Status status = S3ObjectStore::Open(options).status();
  EXPECT_EQ(StatusCode::kInvalidArgument, status.code());
  EXPECT_THAT(status.message(), ::testing::HasSubstr("copy_part_threshold"));
}

TEST(S3Options, FromConfigReadsTheObjectStoreSection) {
  config::Config config;
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"object_store.endpoint", "https://s3.example.com"}, {"object_store.bucket", "b"},
           {"object_store.region", "eu-west-1"},                {"object_store.access_key", "a"},
           {"object_store.secret_key", "s"},                    {"object_store.session_token", "t"},
           {"object_store.path_style", "true"},                 {"object_store.ca_file", "ca.pem"},
           {"object_store.prefix", "p/"},                       {"object_store.request_timeout", "5s"}}) {
    ASSERT_TRUE(config.Set(key, value).ok()) << key;
  }
  const S3Options options = S3Options::FromConfig(config);
  EXPECT_EQ("https://s3.example.com", options.endpoint);
  EXPECT_EQ("b", options.bucket);
  EXPECT_EQ("eu-west-1", options.region);
  EXPECT_EQ("a", options.access_key);
  EXPECT_EQ("s", options.secret_key);
  EXPECT_EQ("t", options.session_token);
  EXPECT_TRUE(options.path_style);
  EXPECT_EQ("ca.pem", options.ca_file);
  EXPECT_EQ("p/", options.prefix);
  EXPECT_EQ(std::chrono::milliseconds(5000), options.request_timeout);
  EXPECT_EQ(5ULL << 30, options.copy_part_threshold);  // not configurable
}

TEST(S3Options, VirtualHostNeedsHostNameAndDnsBucket) {
  S3Options options;
  options.access_key = "a";
  options.secret_key = "s";
  options.bucket = "my-bucket.v2";
  options.path_style = false;
  EXPECT_TRUE(S3ObjectStore::Open(options).ok()) << "the AWS default endpoint";
  options.endpoint = "http://minio.local:9000";
  EXPECT_TRUE(S3ObjectStore::Open(options).ok());
  for (const std::string endpoint : {"http://127.0.0.1:9000", "http://10.0.0.1", "https://[::1]:9000"}) {
    options.endpoint = endpoint;
    Status status = S3ObjectStore::Open(options).status();
    EXPECT_EQ(StatusCode::kInvalidArgument, status.code()) << endpoint;
    EXPECT_THAT(status.message(), ::testing::AllOf(::testing::HasSubstr(endpoint),
                                                   ::testing::HasSubstr("path_style")));
  }
  options.endpoint = "http://minio.local:9000";
  for (const std::string& bucket : std::vector<std::string>{"Upper", "under_score", ".dot", "dash-", "a..b",
                                                           std::string(64, 'b')}) {
    options.bucket = bucket;
    Status status = S3ObjectStore::Open(options).status();
    EXPECT_EQ(StatusCode::kInvalidArgument, status.code()) << bucket;
    EXPECT_THAT(status.message(), ::testing::HasSubstr("'" + bucket + "'"));
    options.path_style = true;  // path style takes any bucket name S3 itself accepts
    EXPECT_TRUE(S3ObjectStore::Open(options).ok()) << bucket;
    options.path_style = false;
  }
}

// ---- A fault-injecting HTTP/1.1 proxy ---------------------------------------------------

// One request per client connection (it adds "Connection: close" upstream and closes the
// client after the answer), so every request can get its own fate.
class FaultProxy {
 public:
  enum class Action { kForward, kReply503, kReply500, kResetBeforeForward, kResetAfterForward, kReplyDeleteOk };
  // rule(request index from 0, request line) -> what to do.
  using Rule = std::function<Action(int, const std::string&)>;

  FaultProxy(int upstream_port, Rule rule) : upstream_port_(upstream_port), rule_(std::move(rule)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    TESSERA_CHECK(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    TESSERA_CHECK(::listen(listen_fd_, 64) == 0);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~FaultProxy() {
    stop_ = true;
    acceptor_.join();
    ::close(listen_fd_);
    std::lock_guard<std::mutex> lock(mu_);
    for (std::thread& t : handlers_) t.join();
  }
  int port() const { return port_; }
  int faults() const { return faults_.load(); }
  int requests() const { return next_index_.load(); }
  int answered_deletes() const { return bodies_.load(); }
  int max_body_keys() const { return max_body_keys_.load(); }
  // The request line and headers of every request so far, in arrival order.
  std::vector<std::string> heads() {
    std::lock_guard<std::mutex> lock(mu_);
    return heads_;
  }

 private:
  void AcceptLoop() {
    while (!stop_) {
      pollfd pfd{listen_fd_, POLLIN, 0};
      if (::poll(&pfd, 1, 50) <= 0) continue;
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      std::lock_guard<std::mutex> lock(mu_);
      handlers_.emplace_back([this, fd] { Handle(fd); });
    }
  }

  static bool SendAll(int fd, std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  static void Reset(int fd) {
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    ::close(fd);
  }
  static size_t Count(const std::string& text, const std::string& needle) {
    size_t count = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
    return count;
  }
  static std::string Lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }

  void Handle(int fd) {
    std::string buffer;
    char chunk[65536];
    size_t head_end;
    while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) { ::close(fd); return; }
      buffer.append(chunk, static_cast<size_t>(n));
    }
    std::string head = buffer.substr(0, head_end + 2);  // through the last header's CRLF
    std::string body = buffer.substr(head_end + 4);
    {
      std::lock_guard<std::mutex> lock(mu_);
      heads_.push_back(head);
    }
    const std::string lower = Lower(head);
    size_t content_length = 0;
    if (size_t at = lower.find("\r\ncontent-length:"); at != std::string::npos) {
      content_length = std::strtoull(lower.c_str() + at + 17, nullptr, 10);
    }
    std::string upstream_head;
    size_t pos = 0;
    while (pos < head.size()) {  // drop Expect (answered here) and Connection
      size_t eol = head.find("\r\n", pos);
      std::string line = head.substr(pos, eol + 2 - pos);
      std::string l = Lower(line);
      if (l.starts_with("expect:")) {
        SendAll(fd, "HTTP/1.1 100 Continue\r\n\r\n");
      } else if (!l.starts_with("connection:")) {
        upstream_head += line;
      }
      pos = eol + 2;
    }
    upstream_head += "Connection: close\r\n\r\n";
    while (body.size() < content_length) {
      ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) { ::close(fd); return; }
      body.append(chunk, static_cast<size_t>(n));
    }
    const std::string request_line = head.substr(0, head.find("\r\n"));
    const Action action = rule_(next_index_++, request_line);
    if (action != Action::kForward && action != Action::kReplyDeleteOk) ++faults_;
    if (action == Action::kReplyDeleteOk) {
      bodies_.fetch_add(1);
      max_body_keys_ = std::max<int>(max_body_keys_.load(), static_cast<int>(Count(body, "<Object>")));
      const std::string xml = "<?xml version=\"1.0\"?><DeleteResult></DeleteResult>";
      SendAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(xml.size()) +
                      "\r\nConnection: close\r\n\r\n" + xml);
      ::close(fd);
      return;
    }
    if (action == Action::kReply503 || action == Action::kReply500) {
      const bool is503 = action == Action::kReply503;
      const std::string xml = std::string("<?xml version=\"1.0\"?><Error><Code>") +
                              (is503 ? "SlowDown" : "InternalError") + "</Code><Message>injected</Message></Error>";
      SendAll(fd, std::string(is503 ? "HTTP/1.1 503 Slow Down" : "HTTP/1.1 500 Internal Server Error") +
                      "\r\nContent-Type: application/xml\r\nContent-Length: " + std::to_string(xml.size()) +
                      "\r\nConnection: close\r\n\r\n" + xml);
      ::close(fd);
      return;
    }
    if (action == Action::kResetBeforeForward) { Reset(fd); return; }
    int up = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(upstream_port_));
    if (::connect(up, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        !SendAll(up, upstream_head) || !SendAll(up, body)) {
      ::close(up);
      Reset(fd);
      return;
    }
    std::string response;
    ssize_t n;
    while ((n = ::recv(up, chunk, sizeof(chunk), 0)) > 0) response.append(chunk, static_cast<size_t>(n));
    ::close(up);
    if (action == Action::kResetAfterForward) { Reset(fd); return; }  // done, but unseen
    SendAll(fd, response);
    ::close(fd);
  }

  int upstream_port_;
  Rule rule_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> next_index_{0};
  std::atomic<int> faults_{0};
  std::atomic<int> bodies_{0};
  std::atomic<int> max_body_keys_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> handlers_;  // guarded by mu_
  std::vector<std::string> heads_;     // guarded by mu_
};

// ---- Tests against Swift ----------------------------------------------------------------

// Every case runs with path-style and with virtual-host addressing.
enum class Addressing { kPathStyle, kVirtualHost };

std::string AddressingName(const ::testing::TestParamInfo<Addressing>& info) {
  return info.param == Addressing::kPathStyle ? "PathStyle" : "VirtualHost";
}

// A fresh bucket on the shared plain-HTTP server, and `direct_`, a store on it.
class S3StoreFixture : public ::testing::Test {
 protected:
  void SetUpStore(Addressing addressing) {
    Result<SwiftTestServer*> server = SwiftTestServer::Shared();
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = *server;
    S3Options options =
        addressing == Addressing::kPathStyle ? server_->BaseOptions() : server_->VirtualHostOptions();
    options.multipart_threshold = 5 << 20;
    options.part_size = 5 << 20;
    Result<std::unique_ptr<S3ObjectStore>> store = server_->NewBucketStore(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    direct_ = std::move(*store);
  }
  // A store on the same bucket through `proxy`, with fast retries.
  std::unique_ptr<S3ObjectStore> Through(const FaultProxy& proxy, int max_attempts = 8) {
    S3Options options = direct_->options();
    options.endpoint = std::string("http://") +
                       (options.path_style ? "127.0.0.1" : SwiftTestServer::kStorageDomain) + ":" +
                       std::to_string(proxy.port());
    options.max_attempts = max_attempts;
    options.retry_base_delay = std::chrono::milliseconds(2);
    options.retry_max_delay = std::chrono::milliseconds(20);
    return S3ObjectStore::Open(options).value();
  }
  std::vector<std::string> Keys(ObjectStore& store) {
    std::vector<std::string> keys;
    ListOptions options;
    while (true) {
      Result<ListResult> page = store.List(options);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      for (const ObjectInfo& info : page->objects) keys.push_back(info.key);
      if (page->next_token.empty()) break;
      options.continuation_token = page->next_token;
    }
    return keys;
  }

  SwiftTestServer* server_ = nullptr;
  std::unique_ptr<S3ObjectStore> direct_;
};

class S3StoreTest : public S3StoreFixture, public ::testing::WithParamInterface<Addressing> {
 protected:
  void SetUp() override { SetUpStore(GetParam()); }
};

class S3VirtualHostTest : public S3StoreFixture {
 protected:
  void SetUp() override { SetUpStore(Addressing::kVirtualHost); }
};

TEST_P(S3StoreTest, MultipartUploadInParallelParts) {
  const std::string data = PatternBytes((12 << 20) + 7, 3);  // parts of 5, 5 and 2 MiB
  const uint64_t before = direct_->requests_sent();
  ASSERT_TRUE(direct_->Put("mp/obj", data).ok());
  EXPECT_EQ(5u, direct_->requests_sent() - before);  // create, 3 parts, complete
  Result<std::string> back = direct_->Get("mp/obj");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == data);
  EXPECT_EQ(data.size(), direct_->Head("mp/obj")->size);
  EXPECT_EQ(data.substr(6 << 20, 100), direct_->GetRange("mp/obj", 6 << 20, 100).value());
  EXPECT_THAT(direct_->ListMultipartUploads().value(), ::testing::IsEmpty());
}

TEST_P(S3StoreTest, FailedMultipartUploadIsAborted) {
  FaultProxy proxy(server_->port(), [](int, const std::string& line) {
    return line.find("partNumber=2&") != std::string::npos ? FaultProxy::Action::kReply503
                                                            : FaultProxy::Action::kForward;
  });
  auto store = Through(proxy, /*max_attempts=*/2);
  Status status = store->Put("mp/failed", PatternBytes(11 << 20, 5));
  EXPECT_EQ(StatusCode::kUnavailable, status.code()) << status.ToString();
  EXPECT_EQ(2, proxy.faults());
  EXPECT_THAT(direct_->ListMultipartUploads().value(), ::testing::IsEmpty());
  EXPECT_EQ(StatusCode::kNotFound, direct_->Head("mp/failed").status().code());
}

TEST_P(S3StoreTest, RetriesRideThroughErrorsAndResetsWithoutLossOrDuplicates) {
  using Action = FaultProxy::Action;
  FaultProxy proxy(server_->port(), [](int index, const std::string&) {
    switch (index % 5) {
      case 1: return Action::kReply503;
      case 2: return index % 2 ? Action::kResetAfterForward : Action::kReply500;
      case 3: return index % 3 ? Action::kForward : Action::kResetBeforeForward;
      default: return Action::kForward;
    }
  });
  auto store = Through(proxy);
  std::vector<std::string> expected;
  for (int i = 0; i < 20; ++i) {
    const std::string key = "f/" + std::to_string(100 + i);
    ASSERT_TRUE(store->Put(key, PatternBytes(1000 + i, i)).ok()) << key;
    expected.push_back(key);
  }
  const std::string big = PatternBytes((10 << 20) + 1, 9);
  ASSERT_TRUE(store->Put("f/big", big).ok());
  ASSERT_TRUE(store->Copy("f/100", "f/copy").ok());
  std::vector<std::string> victims = {"f/101", "f/102", "f/missing"};
  ASSERT_TRUE(store->DeleteMany(victims).ok());
  expected.erase(expected.begin() + 1, expected.begin() + 3);
  expected.push_back("f/big");
  expected.push_back("f/copy");
  std::sort(expected.begin(), expected.end());
  for (int i = 0; i < 20; ++i) {
    if (i == 1 || i == 2) continue;
    Result<std::string> data = store->Get("f/" + std::to_string(100 + i));
    ASSERT_TRUE(data.ok()) << data.status().ToString();
    EXPECT_EQ(PatternBytes(1000 + i, i), *data);
  }
  EXPECT_TRUE(store->Get("f/big").value() == big);
  EXPECT_EQ(expected, Keys(*store));
  EXPECT_EQ(expected, Keys(*direct_));  // what is really there
  EXPECT_THAT(direct_->ListMultipartUploads().value(), ::testing::IsEmpty());
  EXPECT_GT(proxy.faults(), 15);
  EXPECT_GE(store->retries(), static_cast<uint64_t>(proxy.faults()));
}

TEST_P(S3StoreTest, RetriesGiveUpAsUnavailable) {
  FaultProxy proxy(server_->port(), [](int, const std::string&) { return FaultProxy::Action::kReply503; });
  auto store = Through(proxy, 3);
  Status status = store->Put("x", "y");
  EXPECT_EQ(StatusCode::kUnavailable, status.code());
  EXPECT_THAT(status.message(), ::testing::HasSubstr("SlowDown"));
  EXPECT_EQ(3, proxy.requests());
}

TEST_P(S3StoreTest, WrongSecretIsPermissionDeniedWithoutRetry) {
  S3Options options = direct_->options();
  options.secret_key = "wrong";
  auto store = S3ObjectStore::Open(options).value();
  Status status = store->Put("k", "v");
  EXPECT_EQ(StatusCode::kPermissionDenied, status.code());
  EXPECT_THAT(status.message(), ::testing::HasSubstr("SignatureDoesNotMatch"));
  EXPECT_EQ(1u, store->requests_sent());
  EXPECT_EQ(StatusCode::kPermissionDenied, store->Get("k").status().code());
  options.access_key = "nobody:none";
  auto unknown = S3ObjectStore::Open(options).value();
  Status unknown_status = unknown->Put("k", "v");
  EXPECT_EQ(StatusCode::kPermissionDenied, unknown_status.code()) << unknown_status.ToString();
  // AWS answers InvalidAccessKeyId; Swift's tempauth answers SignatureDoesNotMatch.
  EXPECT_THAT(unknown_status.message(), ::testing::AnyOf(::testing::HasSubstr("InvalidAccessKeyId"),
                                                         ::testing::HasSubstr("SignatureDoesNotMatch")));
}

// Copy at copy_part_threshold: a multipart upload of ranged GETs of the source (8 MiB parts,
// not aligned with a multipart source's 5 MiB segments), byte-identical, nothing left over.
TEST_P(S3StoreTest, LargeCopyIsAMultipartUploadOfCopiedRanges) {
  S3Options options = direct_->options();
  options.copy_part_threshold = 16 << 20;
  options.part_size = 8 << 20;
  options.multipart_threshold = 64 << 20;  // sources up to 64 MiB in one PUT
  auto store = S3ObjectStore::Open(options).value();
  const std::string data = PatternBytes((20 << 20) + 3, 21);
  ASSERT_TRUE(direct_->Put("src/multipart", data).ok());  // 5 MiB parts
  ASSERT_TRUE(store->Put("src/single", data).ok());
  for (const std::string src : {"src/multipart", "src/single"}) {
    SCOPED_TRACE(src);
    const uint64_t before = store->requests_sent();
    Status status = store->Copy(src, src + "/copy");
    ASSERT_TRUE(status.ok()) << status.ToString();
    // HEAD, create, 3 x (ranged GET + UploadPart), HEAD (source unchanged?), complete
    EXPECT_EQ(10u, store->requests_sent() - before);
    Result<std::string> back = direct_->Get(src + "/copy");
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_TRUE(*back == data);
    EXPECT_EQ(data.size(), direct_->Head(src + "/copy")->size);
  }
  // Below the threshold: one CopyObject after the HEAD.
  ASSERT_TRUE(store->Put("small", PatternBytes(1000, 1)).ok());
  const uint64_t before = store->requests_sent();
  ASSERT_TRUE(store->Copy("small", "small/copy").ok());
  EXPECT_EQ(2u, store->requests_sent() - before);
  EXPECT_EQ(PatternBytes(1000, 1), direct_->Get("small/copy").value());
  EXPECT_THAT(direct_->ListMultipartUploads().value(), ::testing::IsEmpty());
}

TEST_P(S3StoreTest, FailedLargeCopyIsAborted) {
  ASSERT_TRUE(direct_->Put("src", PatternBytes(11 << 20, 4)).ok());
  FaultProxy proxy(server_->port(), [](int, const std::string& line) {
    return line.find("partNumber=2&") != std::string::npos ? FaultProxy::Action::kReply503
                                                            : FaultProxy::Action::kForward;
  });
  S3Options options = Through(proxy, /*max_attempts=*/2)->options();
  options.copy_part_threshold = 5 << 20;
  auto store = S3ObjectStore::Open(options).value();
  Status status = store->Copy("src", "dst");
  EXPECT_EQ(StatusCode::kUnavailable, status.code()) << status.ToString();
  EXPECT_THAT(status.message(), ::testing::HasSubstr("UploadPart 2/3 of Copy"));
  EXPECT_EQ(2, proxy.faults());
  EXPECT_THAT(direct_->ListMultipartUploads().value(), ::testing::IsEmpty());
  EXPECT_EQ(StatusCode::kNotFound, direct_->Head("dst").status().code());
}

// A source overwritten while its parts are copied fails the copy (Aborted) instead of
// splicing two versions together; nothing appears at the destination.
TEST_P(S3StoreTest, LargeCopyOfASourceOverwrittenMidwayIsAborted) {
  const std::string original = PatternBytes(11 << 20, 5);
  ASSERT_TRUE(direct_->Put("src", original).ok());
  std::atomic<bool> overwritten{false};
  FaultProxy proxy(server_->port(), [&](int, const std::string& line) {
    if (line.find("partNumber=") != std::string::npos && !overwritten.exchange(true)) {
      EXPECT_TRUE(direct_->Put("src", PatternBytes(11 << 20, 6)).ok());
    }
    return FaultProxy::Action::kForward;
  });
  S3Options options = Through(proxy)->options();
  options.copy_part_threshold = 5 << 20;
  auto store = S3ObjectStore::Open(options).value();
  Status status = store->Copy("src", "dst");
  EXPECT_EQ(StatusCode::kAborted, status.code()) << status.ToString();
  EXPECT_THAT(status.message(), ::testing::HasSubstr("source changed"));
  EXPECT_THAT(direct_->ListMultipartUploads().value(), ::testing::IsEmpty());
  EXPECT_EQ(StatusCode::kNotFound, direct_->Head("dst").status().code());
}

// The session token travels as x-amz-security-token and is covered by curl's signature
// (plain and multipart requests). Swift ignores the token itself but checks the signature
// over every signed header.
TEST_P(S3StoreTest, SessionTokenIsSentAndSigned) {
  FaultProxy proxy(server_->port(), [](int, const std::string&) { return FaultProxy::Action::kForward; });
  S3Options options = Through(proxy)->options();
  options.session_token = "FwoGZXIvYXdzEXAMPLE/token+=";
  options.copy_part_threshold = 5 << 20;
  auto store = S3ObjectStore::Open(options).value();
  ASSERT_TRUE(store->Put("k", PatternBytes(6 << 20, 8)).ok());
  Status copied = store->Copy("k", "k2");
  ASSERT_TRUE(copied.ok()) << copied.ToString();
  EXPECT_TRUE(direct_->Get("k2").value() == PatternBytes(6 << 20, 8));
  const std::vector<std::string> heads = proxy.heads();
  ASSERT_FALSE(heads.empty());
  int copied_parts = 0;
  for (const std::string& head : heads) {
    SCOPED_TRACE(head);
    EXPECT_THAT(head, ::testing::HasSubstr("x-amz-security-token: FwoGZXIvYXdzEXAMPLE/token+=\r\n"));
    EXPECT_THAT(head, ::testing::ContainsRegex("SignedHeaders=[a-z0-9;-]*x-amz-security-token"));
    if (head.rfind("PUT ", 0) == 0 && head.find("partNumber=") != std::string::npos) ++copied_parts;
  }
  EXPECT_EQ(4, copied_parts);  // 2 parts of the multipart Put (5 MiB parts here), 2 of the Copy
}

TEST_P(S3StoreTest, PrefixIsAppliedToEveryKey) {
  S3Options options = direct_->options();
  options.prefix = "tenant/a/";
  auto store = S3ObjectStore::Open(options).value();
  ASSERT_TRUE(store->Put("x/1", "one").ok());
  ASSERT_TRUE(store->Copy("x/1", "x/2").ok());
  ASSERT_TRUE(direct_->Put("outside", "o").ok());
  EXPECT_THAT(Keys(*store), ::testing::ElementsAre("x/1", "x/2"));
  EXPECT_THAT(Keys(*direct_), ::testing::ElementsAre("outside", "tenant/a/x/1", "tenant/a/x/2"));
  EXPECT_EQ("x/2", store->Head("x/2")->key);
  ASSERT_TRUE(store->DeleteMany(std::vector<std::string>{"x/1", "x/2"}).ok());
  EXPECT_THAT(Keys(*direct_), ::testing::ElementsAre("outside"));
}

TEST_P(S3StoreTest, DeleteManyBatchesOf1000) {
  // Swift deletes ~60 keys/s, so the proxy answers the DeleteObjects calls itself.
  FaultProxy proxy(server_->port(), [](int, const std::string& line) {
    return line.find("?delete=") != std::string::npos ? FaultProxy::Action::kReplyDeleteOk
                                                       : FaultProxy::Action::kForward;
  });
  auto store = Through(proxy);
  std::vector<std::string> keys;
  for (int i = 0; i < 2500; ++i) keys.push_back("gone/" + std::to_string(i));
  ASSERT_TRUE(store->DeleteMany(keys).ok());
  EXPECT_EQ(3, proxy.answered_deletes());
  EXPECT_EQ(1000, proxy.max_body_keys());
  // And for real, a small batch with a missing key.
  ASSERT_TRUE(direct_->Put("a", "x").ok());
  ASSERT_TRUE(direct_->DeleteMany(std::vector<std::string>{"a", "b"}).ok());
  EXPECT_THAT(Keys(*direct_), ::testing::IsEmpty());
}

// The bucket travels in the Host header, never in the path, and the server files the
// objects under that bucket (a path-style store on the same bucket sees them).
TEST_F(S3VirtualHostTest, BucketOnlyInTheHostAndKeysEscapedInThePath) {
  std::mutex mu;
  std::vector<std::string> lines;
  FaultProxy proxy(server_->port(), [&](int, const std::string& line) {
    std::lock_guard<std::mutex> lock(mu);
    lines.push_back(line);
    return FaultProxy::Action::kForward;
  });
  auto store = Through(proxy);
  S3Options path_options = server_->BaseOptions();
  path_options.bucket = direct_->options().bucket;
  path_options.prefix = "pre fix/";
  auto path_store = S3ObjectStore::Open(path_options).value();
  S3Options prefixed = store->options();
  prefixed.prefix = "pre fix/";
  store = S3ObjectStore::Open(prefixed).value();
  ASSERT_TRUE(store->Put("a b/c+d%e", "v").ok());
  EXPECT_EQ("v", path_store->Get("a b/c+d%e").value());
  ASSERT_TRUE(store->Copy("a b/c+d%e", "copy").ok());
  EXPECT_THAT(Keys(*store), ::testing::ElementsAre("a b/c+d%e", "copy"));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_THAT(lines, ::testing::ElementsAre(
                         "PUT /pre%20fix/a%20b/c%2Bd%25e HTTP/1.1", "HEAD /pre%20fix/a%20b/c%2Bd%25e HTTP/1.1",
                         "PUT /pre%20fix/copy HTTP/1.1",
                         "GET /?list-type=2&max-keys=1000&prefix=pre%20fix%2F HTTP/1.1"));
}

INSTANTIATE_TEST_SUITE_P(Addressing, S3StoreTest,
                         ::testing::Values(Addressing::kPathStyle, Addressing::kVirtualHost), AddressingName);

}  // namespace
}  // namespace tessera::storage
