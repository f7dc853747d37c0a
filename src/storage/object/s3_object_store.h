#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "storage/object/object_store.h"

namespace tessera {
class ThreadPool;
namespace config {
class Config;
}
}  // namespace tessera

namespace tessera::storage {

namespace s3 {
class CurlHandlePool;
struct Request;
struct Response;
}  // namespace s3

/// Settings of an S3ObjectStore. Only bucket and the credentials are required.
struct S3Options {
  /// "http(s)://host[:port]" without a path. Empty: https://s3.<region>.amazonaws.com.
  std::string endpoint;
  std::string bucket;
  std::string region = "us-east-1";
  std::string access_key;
  std::string secret_key;
  /// Temporary credentials (STS): sent as x-amz-security-token when non-empty.
  std::string session_token;
  /// true: <endpoint>/<bucket>/<key>; false (virtual-host addressing, AWS's default):
  /// <scheme>://<bucket>.<host>[:port]/<key>, which needs a DNS host name in the endpoint
  /// (not an IP address) and a bucket name that is a valid DNS name (lowercase letters,
  /// digits, '-' and '.'); Open rejects other combinations.
  bool path_style = false;
  /// PEM file of the CA certificates that HTTPS endpoints are verified against (for a
  /// private CA); empty uses the system CA store. Open checks that the file can be read
  /// and holds at least one certificate. Certificates are always verified (peer and host
  /// name); there is no switch to turn that off.
  std::string ca_file;
  /// Prepended to every key (e.g. "tessera/"); List strips it again. Note that S3's
  /// 1024-byte key limit applies to prefix + key.
  std::string prefix;
  /// Whole-request timeout for small requests; large transfers get 1 s more per MiB.
  std::chrono::milliseconds request_timeout{30000};
  std::chrono::milliseconds connect_timeout{5000};
  /// Put uses a multipart upload at and above this size.
  uint64_t multipart_threshold = 64ULL << 20;
  /// Part size of multipart uploads and copies; S3 (and Swift s3api) require 5 MiB to
  /// 5 GiB (the last part may be smaller). Grown in whole MiB for an object that would
  /// otherwise need more than S3's 10000 parts.
  uint64_t part_size = 16ULL << 20;
  /// Copy of a source of at least this many bytes is a multipart upload of parts of
  /// part_size, each read with a ranged GET (through this node: curl 7.88 cannot sign
  /// UploadPartCopy), instead of one CopyObject, which S3 limits to 5 GiB sources. At most
  /// 5 GiB; lowered only by tests.
  uint64_t copy_part_threshold = 5ULL << 30;
  /// Parts uploaded at once (threads of the upload pool).
  size_t upload_concurrency = 4;
  /// Attempts per request (1 = no retry). Retried: 5xx, 429, RequestTimeout, timeouts,
  /// refused/reset connections. Backoff: full jitter over base * 2^attempt, capped.
  int max_attempts = 6;
  std::chrono::milliseconds retry_base_delay{50};
  std::chrono::milliseconds retry_max_delay{5000};
  /// Send x-amz-content-sha256: UNSIGNED-PAYLOAD for object bodies instead of hashing
  /// them (saves a SHA-256 pass over every upload; sensible only over HTTPS, where TLS
  /// protects the body). Small XML bodies are always hashed.
  bool unsigned_payload = false;
  /// Ask once more (after ~20 ms) before reporting a GET/HEAD 404. Swift (one replica)
  /// can answer 404 to a read that races an overwrite of the same key (the old file is
  /// unlinked between listing and open); AWS S3 never needs this.
  bool recheck_not_found = false;

  /// The object_store section (endpoint, bucket, region, access_key, secret_key,
  /// session_token, path_style, ca_file, prefix, request_timeout); other fields keep their
  /// defaults.
  static S3Options FromConfig(const config::Config& config);
};

/// ObjectStore on an S3-compatible service (AWS S3, MinIO, Ceph RGW, Swift s3api) over
/// libcurl. curl signs every request (CURLOPT_AWS_SIGV4); the payload hash is sent
/// explicitly as x-amz-content-sha256. Connections are reused through a pool of curl
/// handles. Put switches to a parallel multipart upload at options.multipart_threshold
/// and aborts the upload on any failure. Copy looks at the source first (HEAD: a missing
/// source is NotFound before anything is written): CopyObject (server-side), or at
/// options.copy_part_threshold a parallel multipart upload of ranged GETs of the source,
/// aborted on any failure and when the source's ETag changed while the parts were copied
/// (Aborted: the parts may mix two versions; an overwrite with identical bytes is not
/// noticed, nor needs to be). Errors: 404 NotFound, 416 OutOfRange,
/// 403 PermissionDenied (with the server's code and message, never retried), other 4xx
/// InvalidArgument/FailedPrecondition; 5xx, 429, timeouts and reset connections are
/// retried with backoff and end as Unavailable.
///
/// Thread-safe: every method may be called concurrently. Owns its curl handles and the
/// upload thread pool.
class S3ObjectStore final : public ObjectStore {
 public:
  /// Checks the options (nothing is sent). InvalidArgument for a missing bucket,
  /// credentials, bad endpoint or part size, and for a ca_file that cannot be read or
  /// holds no PEM certificate (the message names the file).
  /// Requests to an HTTPS endpoint whose certificate does not verify (against ca_file or
  /// the system store) fail with FailedPrecondition naming the certificate problem; they
  /// are not retried.
  static Result<std::unique_ptr<S3ObjectStore>> Open(S3Options options);
  ~S3ObjectStore() override;

  std::string_view name() const override { return "s3"; }
  Status Put(std::string_view key, std::string_view data) override;
  Result<std::string> Get(std::string_view key) override;
  Result<std::string> GetRange(std::string_view key, uint64_t offset,
                               std::optional<uint64_t> length) override;
  Result<ObjectInfo> Head(std::string_view key) override;
  Result<ListResult> List(const ListOptions& options) override;
  Status Delete(std::string_view key) override;
  Status DeleteMany(std::span<const std::string> keys) override;
  Status Copy(std::string_view src, std::string_view dst) override;

  /// Creates the bucket (PUT Bucket); OK if this account already owns it.
  Status CreateBucket();
  /// Keys (without the store prefix) that have unfinished multipart uploads.
  Result<std::vector<std::string>> ListMultipartUploads();

  /// Requests sent (every attempt counts) and attempts that were retries.
  uint64_t requests_sent() const { return requests_sent_.load(); }
  uint64_t retries() const { return retries_.load(); }

  const S3Options& options() const { return options_; }

 private:
  explicit S3ObjectStore(S3Options options);

  Result<s3::Response> Execute(const s3::Request& request);
  Result<s3::Response> ExecuteOnce(const s3::Request& request);
  std::string Url(const s3::Request& request) const;
  Status PutSingle(const std::string& full_key, std::string_view data);
  // The part length for an object of `object_size` bytes (options.part_size, grown to stay
  // within 10000 parts).
  uint64_t PartSize(uint64_t object_size) const;
  // Uploads one part: (part index from 0, upload id) -> that part's ETag as S3 gave it.
  using UploadPartFn = std::function<Result<std::string>(size_t part, const std::string& upload_id)>;
  // CreateMultipartUpload on full_key, `upload_part` for every part on the upload pool,
  // `before_complete` (if set; an error aborts), then CompleteMultipartUpload. Any
  // failure aborts the upload (nothing appears at full_key) and returns the first error.
  // `size`: the object's final size.
  Status MultipartUpload(const std::string& full_key, size_t parts, uint64_t size,
                         const UploadPartFn& upload_part,
                         const std::function<Status()>& before_complete = nullptr);
  Status PutMultipart(const std::string& full_key, std::string_view data);
  Status CopyMultipart(const std::string& full_src, const std::string& full_dst, const ObjectInfo& source);
  // The x-amz-copy-source value of full_src in this bucket.
  std::string CopySource(const std::string& full_src) const;
  Status AbortMultipart(const std::string& full_key, const std::string& upload_id);
  Result<std::string> GetImpl(std::string_view key, uint64_t offset,
                              std::optional<uint64_t> length, bool whole);
  Status DeleteBatch(std::span<const std::string> full_keys);

  const S3Options options_;
  std::string scheme_;  // "http" or "https"
  std::string host_;    // host[:port] of the endpoint
  std::string sigv4_;   // CURLOPT_AWS_SIGV4 parameter
  std::unique_ptr<s3::CurlHandlePool> handles_;
  std::unique_ptr<ThreadPool> upload_pool_;
  std::atomic<uint64_t> requests_sent_{0};
  std::atomic<uint64_t> retries_{0};
};

namespace s3 {
/// The Host of one request: `host` ("host[:port]" of the endpoint), or "<bucket>.<host>"
/// with virtual-host addressing.
std::string RequestHost(std::string_view host, std::string_view bucket, bool path_style);
/// The (encoded) path of one request: "/<bucket><resource>" in path style, else
/// `resource` ("/" when empty).
std::string RequestPath(std::string_view bucket, bool path_style, std::string_view resource);
/// The URL of one request. Path style: "<scheme>://<host>/<bucket><resource>"; virtual
/// host: "<scheme>://<bucket>.<host><resource>" ("/" when `resource` is empty); then
/// "?<query>" when `query` is non-empty. `host` is "host[:port]", `resource` is "" (the
/// bucket) or "/" + UriEncode(key, true), `query` is already encoded.
std::string RequestUrl(std::string_view scheme, std::string_view host, std::string_view bucket,
                       bool path_style, std::string_view resource, std::string_view query);
/// Percent-encodes per S3 (RFC 3986 unreserved characters kept, everything else %XX,
/// uppercase hex); '/' is kept when `keep_slash`.
std::string UriEncode(std::string_view text, bool keep_slash);
/// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);
/// Base64 of the binary MD5 of `data` (Content-MD5).
std::string Md5Base64(std::string_view data);
}  // namespace s3

}  // namespace tessera::storage
