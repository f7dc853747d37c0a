#include "server/http_request_reader.h"

#include <strings.h>

#include <algorithm>
#include <climits>
#include <string_view>
#include <utility>

namespace tessera::server {
namespace {

RequestReader* Self(http_parser* parser) { return static_cast<RequestReader*>(parser->data); }

// The value of a header ASCII case-insensitively equal to `expected` (surrounding blanks
// ignored).
bool ValueIs(std::string_view value, std::string_view expected) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return value.size() == expected.size() && strncasecmp(value.data(), expected.data(), value.size()) == 0;
}

}  // namespace

RequestReader::RequestReader(size_t max_body_size) : max_body_size_(max_body_size) {
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
}

const http_parser_settings& RequestReader::Settings() {
  static const http_parser_settings settings = [] {
    http_parser_settings s;
    http_parser_settings_init(&s);
    s.on_message_begin = &RequestReader::OnMessageBegin;
    s.on_url = &RequestReader::OnUrl;
    s.on_header_field = &RequestReader::OnHeaderField;
    s.on_header_value = &RequestReader::OnHeaderValue;
    s.on_headers_complete = &RequestReader::OnHeadersComplete;
    s.on_body = &RequestReader::OnBody;
    s.on_message_complete = &RequestReader::OnMessageComplete;
    return s;
  }();
  return settings;
}

size_t RequestReader::Feed(const char* data, size_t size) {
  if (state_ != State::kNeedMore) return 0;
  const size_t used = http_parser_execute(&parser_, &Settings(), data, size);
  const auto error = static_cast<http_errno>(parser_.http_errno);
  if (state_ == State::kReady || state_ == State::kError) return used;
  if (error == HPE_OK && used == size) return used;
  if (error == HPE_HEADER_OVERFLOW) {
    Fail(431, "request line and headers exceed 80 KiB");
  } else {
    Fail(400, std::string("malformed HTTP request: ") + http_errno_description(error));
  }
  return used;
}

bool RequestReader::TakeExpectContinue() { return std::exchange(expect_continue_, false); }

ParsedRequest RequestReader::TakeRequest() {
  ParsedRequest out = std::move(current_);
  current_ = ParsedRequest();
  state_ = State::kNeedMore;
  http_parser_pause(&parser_, 0);
  return out;
}

int RequestReader::Fail(int status, std::string message) {
  state_ = State::kError;
  error_status_ = status;
  error_message_ = std::move(message);
  return -1;
}

void RequestReader::CommitHeader() {
  if (!field_.empty()) current_.request.headers.emplace_back(std::move(field_), std::move(value_));
  field_.clear();
  value_.clear();
  in_value_ = false;
}

int RequestReader::OnMessageBegin(http_parser* parser) {
  RequestReader* self = Self(parser);
  self->current_ = ParsedRequest();
  self->url_.clear();
  self->field_.clear();
  self->value_.clear();
  self->in_value_ = false;
  self->expect_continue_ = false;
  return 0;
}

int RequestReader::OnUrl(http_parser* parser, const char* at, size_t length) {
  Self(parser)->url_.append(at, length);
  return 0;
}

int RequestReader::OnHeaderField(http_parser* parser, const char* at, size_t length) {
  RequestReader* self = Self(parser);
  if (self->in_value_) self->CommitHeader();
  self->field_.append(at, length);
  return 0;
}

int RequestReader::OnHeaderValue(http_parser* parser, const char* at, size_t length) {
  RequestReader* self = Self(parser);
  self->in_value_ = true;
  self->value_.append(at, length);
  return 0;
}

int RequestReader::OnHeadersComplete(http_parser* parser) {
  RequestReader* self = Self(parser);
  self->CommitHeader();
  if (parser->http_major != 1) {
    return self->Fail(505, "unsupported HTTP version " + std::to_string(parser->http_major) + "." +
                               std::to_string(parser->http_minor) + ": this server speaks HTTP/1.x");
  }
  proxy::HttpRequest& request = self->current_.request;
  request.method = http_method_str(static_cast<http_method>(parser->method));
  if (self->url_ == "*") {
    request.path = self->url_;  // "OPTIONS *"
  } else {
    http_parser_url url;
    http_parser_url_init(&url);
    if (http_parser_parse_url(self->url_.data(), self->url_.size(), /*is_connect=*/0, &url) != 0) {
      return self->Fail(400, "malformed request target: " + self->url_.substr(0, 200));
    }
    request.path = (url.field_set & (1 << UF_PATH)) != 0
                       ? self->url_.substr(url.field_data[UF_PATH].off, url.field_data[UF_PATH].len)
                       : "/";
  }
  // content_length is ULLONG_MAX when the request has no Content-Length header.
  const uint64_t announced = parser->content_length;
  const bool has_length = announced != ULLONG_MAX;
  if (has_length && announced > self->max_body_size_) {
    return self->Fail(413, "request body too large: the limit is " + std::to_string(self->max_body_size_) +
                               " bytes");
  }
  // Reserve for what is announced, but not more than 1 MiB before any of it arrived: a
  // client must not make the server hold memory by announcing bodies it never sends.
  if (has_length && announced > 0) request.body.reserve(std::min<uint64_t>(announced, 1u << 20));
  const std::string* expect = request.Header("Expect");
  if (expect != nullptr && ValueIs(*expect, "100-continue") && parser->http_minor >= 1) {
    self->expect_continue_ = (has_length && announced > 0) || (parser->flags & F_CHUNKED) != 0;
  }
  return 0;
}

int RequestReader::OnBody(http_parser* parser, const char* at, size_t length) {
  RequestReader* self = Self(parser);
  // The body is arriving, so the client no longer waits for "100 Continue".
  self->expect_continue_ = false;
  std::string& body = self->current_.request.body;
  if (length > self->max_body_size_ - body.size()) {
    return self->Fail(413, "request body too large: the limit is " + std::to_string(self->max_body_size_) +
                               " bytes");
  }
  body.append(at, length);
  return 0;
}

int RequestReader::OnMessageComplete(http_parser* parser) {
  RequestReader* self = Self(parser);
  self->expect_continue_ = false;
  self->current_.keep_alive = http_should_keep_alive(parser) != 0;
  self->state_ = State::kReady;
  // Stop after this request: the server answers it before parsing a pipelined next one.
  http_parser_pause(parser, 1);
  return 0;
}

}  // namespace tessera::server
