#pragma once
// PRIVATE header of the S3 store: AWS Signature Version 4 computed here, for the requests
// that curl's own signer (CURLOPT_AWS_SIGV4) gets wrong.
//
// curl before 8.10 sorts the canonical headers as whole "name:value" lines instead of by
// name, so a header whose name extends another's with '-' sorts first ("x-amz-copy-source-
// range:" < "x-amz-copy-source:" because '-' < ':'), the signature does not match and S3
// answers 403 SignatureDoesNotMatch (curl PR #14370). Debian 12 ships curl 7.88.
// UploadPartCopy needs exactly such a pair, so S3ObjectStore signs those requests itself
// and leaves every other request to curl.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::storage::s3 {

/// True when two of `header_lines` ("Name: value") have names where one is the other
/// followed by '-' and more (case-insensitive): the case curl < 8.10 signs wrongly.
bool CurlMisordersHeaders(const std::vector<std::string>& header_lines);

/// What a signature covers. Every field is used as sent on the wire.
struct SigV4Request {
  std::string_view method;        // "PUT"
  std::string_view host;          // the Host header: "host" or "host:port"
  std::string_view path;          // percent-encoded path, e.g. "/bucket/a%20b"
  std::string_view query;         // canonical query: sorted, encoded, "name=value" joined by '&'
  std::vector<std::string> headers;  // "Name: value" lines to sign besides Host and X-Amz-Date;
                                     // must include x-amz-content-sha256
  std::string_view payload_hash;  // lowercase hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

struct SigV4Credentials {
  std::string_view access_key;
  std::string_view secret_key;
  std::string_view region;
  std::string_view service = "s3";
};

/// The header lines that sign `request` at `now`: "Host: ...", "X-Amz-Date: ..." and
/// "Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...".
/// Header names are lowercased and sorted by name, values trimmed with inner runs of
/// spaces collapsed, as the SigV4 specification says. Pure function; thread-safe.
std::vector<std::string> SignV4(const SigV4Request& request, const SigV4Credentials& credentials,
                                std::chrono::system_clock::time_point now);

}  // namespace tessera::storage::s3
