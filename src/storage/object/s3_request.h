#pragma once
// PRIVATE header of the S3 store: one HTTP exchange with S3 (what S3ObjectStore sends and
// gets back) and how S3's answers map to Status. Shared by s3_object_store.cc and
// s3_multipart.cc.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tessera::storage::s3 {

/// One HTTP exchange. `resource` is "" (the bucket) or "/" + UriEncode(full key, true);
/// `query` is already canonical: sorted by name, encoded, every parameter written
/// "name=value" (curl 7.88 signs the query string exactly as given).
struct Request {
  const char* method = "GET";
  std::string resource;
  std::string query;
  std::vector<std::string> headers;      // "Name: value"
  std::optional<std::string_view> body;  // set for PUT/POST (may be empty); not owned
  bool sign_body = true;                 // hash the body (else UNSIGNED-PAYLOAD)
  bool error_in_200 = false;             // CopyObject/CompleteMultipartUpload quirk
  std::string what;                      // for messages: "S3 PUT \"key\""
};

struct Response {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

inline bool Is2xx(const Response& response) { return response.status >= 200 && response.status < 300; }

/// `etag` without one pair of surrounding double quotes.
std::string StripQuotes(std::string etag);

/// The <Code> and <Message> of an S3 <Error> body; both empty if the body is not one.
struct S3Error {
  std::string code;
  std::string message;
};
S3Error ParseError(const std::string& body);

/// S3 error codes worth retrying (throttling, server-side trouble, timeouts).
bool RetryableCode(const std::string& code);
/// A response worth retrying: 5xx, 429, 400 RequestTimeout.
bool RetryableHttp(const Response& response);

/// The Status for a final non-2xx response: 404 NotFound, 416 OutOfRange, 401/403
/// PermissionDenied, 409/412 FailedPrecondition, 5xx/429/retryable codes Unavailable,
/// credential codes PermissionDenied, other 4xx InvalidArgument. The message is
/// "<what>: HTTP <status> <Code>: <Message>".
Status ErrorStatus(const Response& response, const std::string& what);

/// "name=" + UriEncode(value, false).
std::string QueryParam(std::string_view name, std::string_view value);

}  // namespace tessera::storage::s3
