#include "storage/object/s3_object_store.h"

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include "common/config.h"
#include "common/logging.h"
#include "common/thread_pool.h"
#include "storage/object/curl_pool.h"
#include "storage/object/s3_request.h"
#include "storage/object/s3_xml.h"

namespace tessera::storage {
namespace s3 {

std::string UriEncode(std::string_view text, bool keep_slash) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string RequestHost(std::string_view host, std::string_view bucket, bool path_style) {
  return path_style ? std::string(host) : std::string(bucket) + "." + std::string(host);
}

std::string RequestPath(std::string_view bucket, bool path_style, std::string_view resource) {
  if (path_style) return "/" + std::string(bucket) + std::string(resource);
  return resource.empty() ? "/" : std::string(resource);
}

std::string RequestUrl(std::string_view scheme, std::string_view host, std::string_view bucket,
                       bool path_style, std::string_view resource, std::string_view query) {
  std::string url = std::string(scheme) + "://" + RequestHost(host, bucket, path_style) +
                    RequestPath(bucket, path_style, resource);
  if (!query.empty()) url.append("?").append(query);
  return url;
}

namespace {

std::string Digest(const EVP_MD* md, std::string_view data, unsigned int* len, unsigned char* out) {
  EVP_Digest(data.data(), data.size(), out, len, md, nullptr);
  return {};
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  Digest(EVP_sha256(), data, &len, digest);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

std::string Md5Base64(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  Digest(EVP_md5(), data, &len, digest);
  unsigned char b64[64];
  int n = EVP_EncodeBlock(b64, digest, static_cast<int>(len));
  return std::string(reinterpret_cast<char*>(b64), static_cast<size_t>(n));
}

namespace {

constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
// Our wrapper around S3's continuation token, so that a token we did not make is
// InvalidArgument here (Swift s3api answers 500 to a malformed token).
constexpr std::string_view kTokenPrefix = "s3:";

bool RetryableCurl(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
      return true;
    default:
      return false;
  }
}

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t WriteHeader(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<Response*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    response->headers.clear();  // a new response (after 100 Continue)
    return size * count;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  std::string name(line.substr(0, colon));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.remove_suffix(1);
  }
  response->headers[name] = std::string(value);
  return size * count;
}


// "2024-01-02T03:04:05.000Z" (ListObjectsV2) to a time point; epoch if unparsable.
std::chrono::system_clock::time_point ParseIso8601(const std::string& text) {
  std::tm tm{};
  int millis = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis) < 6) {
    return {};
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(timegm(&tm)) + std::chrono::milliseconds(millis);
}



// "host[:port]" names the host by an IP address ("127.0.0.1:9000", "[::1]:9000").
bool IsIpLiteral(std::string_view host) {
  if (host.starts_with("[")) return true;
  host = host.substr(0, host.rfind(':'));
  return !host.empty() && host.find_first_not_of("0123456789.") == std::string_view::npos;
}

// A CA file curl can use: a readable regular file with at least one PEM certificate.
// Checked by Open so that a wrong path fails at start-up naming the file, not later as a
// TLS error of the first request.
Status CheckCaFile(const std::string& path) {
  const std::string what = "S3: ca_file '" + path + "'";
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found) return Status::InvalidArgument(what + " does not exist");
  if (ec) return Status::InvalidArgument(what + " cannot be read: " + ec.message());
  if (status.type() != std::filesystem::file_type::regular) {
    return Status::InvalidArgument(what + " is not a regular file");
  }
  FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) return Status::InvalidArgument(what + " cannot be read: " + std::strerror(errno));
  int certificates = 0;
  while (X509* certificate = PEM_read_X509(file, nullptr, nullptr, nullptr)) {
    ++certificates;
    X509_free(certificate);
  }
  ERR_clear_error();  // the read that ended the loop left an error on this thread's queue
  std::fclose(file);
  if (certificates == 0) {
    return Status::InvalidArgument(what + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
  }
  return Status::OK();
}

// Virtual-host addressing puts the bucket into the host name: it must be a DNS name.
Status CheckVirtualHostBucket(const std::string& bucket) {
  const bool valid_chars = bucket.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-.") ==
                           std::string::npos;
  if (!valid_chars || bucket.front() == '.' || bucket.front() == '-' || bucket.back() == '.' ||
      bucket.back() == '-' || bucket.find("..") != std::string::npos || bucket.size() > 63) {
    return Status::InvalidArgument("S3: bucket '" + bucket +
                                   "' is not a valid DNS name, which virtual-host addressing "
                                   "needs; set path_style");
  }
  return Status::OK();
}

}  // namespace
}  // namespace s3

using s3::Request;
using s3::Response;

S3Options S3Options::FromConfig(const config::Config& config) {
  S3Options options;
  options.endpoint = config.GetString("object_store.endpoint");
  options.bucket = config.GetString("object_store.bucket");
  if (!config.GetString("object_store.region").empty()) {
    options.region = config.GetString("object_store.region");
  }
  options.access_key = config.GetString("object_store.access_key");
  options.secret_key = config.GetString("object_store.secret_key");
  options.session_token = config.GetString("object_store.session_token");
  options.path_style = config.GetBool("object_store.path_style");
  options.ca_file = config.GetString("object_store.ca_file");
  options.prefix = config.GetString("object_store.prefix");
  options.request_timeout = config.GetDuration("object_store.request_timeout");
  return options;
}

Result<std::unique_ptr<S3ObjectStore>> S3ObjectStore::Open(S3Options options) {
  if (options.bucket.empty()) return Status::InvalidArgument("S3: bucket is empty");
  if (options.access_key.empty() || options.secret_key.empty()) {
    return Status::InvalidArgument("S3: access_key and secret_key are required");
  }
  if (options.region.empty()) return Status::InvalidArgument("S3: region is empty");
  if (options.part_size < (5ULL << 20)) {
    return Status::InvalidArgument("S3: part_size " + std::to_string(options.part_size) +
                                   " is below S3's minimum of 5 MiB");
  }
  constexpr uint64_t kMaxPart = 5ULL << 30;  // S3's largest part and CopyObject source
  if (options.part_size > kMaxPart) {
    return Status::InvalidArgument("S3: part_size " + std::to_string(options.part_size) +
                                   " is above S3's maximum of 5 GiB");
  }
  if (options.copy_part_threshold > kMaxPart) {
    return Status::InvalidArgument("S3: copy_part_threshold " + std::to_string(options.copy_part_threshold) +
                                   " is above 5 GiB, the largest source S3's CopyObject takes");
  }
  if (options.multipart_threshold < options.part_size) {
    return Status::InvalidArgument("S3: multipart_threshold must be >= part_size");
  }
  if (options.max_attempts < 1) return Status::InvalidArgument("S3: max_attempts must be >= 1");
  if (options.upload_concurrency == 0) options.upload_concurrency = 1;
  if (options.endpoint.empty()) options.endpoint = "https://s3." + options.region + ".amazonaws.com";
  while (options.endpoint.ends_with("/")) options.endpoint.pop_back();
  const size_t sep = options.endpoint.find("://");
  if (sep == std::string::npos) {
    return Status::InvalidArgument("S3: endpoint '" + options.endpoint + "' has no scheme");
  }
  const std::string scheme = options.endpoint.substr(0, sep);
  const std::string host = options.endpoint.substr(sep + 3);
  if ((scheme != "http" && scheme != "https") || host.empty() || host.find('/') != std::string::npos) {
    return Status::InvalidArgument("S3: endpoint '" + options.endpoint +
                                   "' must be http(s)://host[:port] without a path");
  }
  if (!options.path_style) {
    if (s3::IsIpLiteral(host)) {
      return Status::InvalidArgument("S3: endpoint '" + options.endpoint +
                                     "' is an IP address; virtual-host addressing needs a host "
                                     "name (<bucket>.<host>): set path_style or use a DNS name");
    }
    TESSERA_RETURN_IF_ERROR(s3::CheckVirtualHostBucket(options.bucket));
  }
  if (!options.prefix.empty()) TESSERA_RETURN_IF_ERROR(ValidateObjectPrefix(options.prefix));
  if (!options.ca_file.empty()) TESSERA_RETURN_IF_ERROR(s3::CheckCaFile(options.ca_file));
  auto store = std::unique_ptr<S3ObjectStore>(new S3ObjectStore(std::move(options)));
  store->scheme_ = scheme;
  store->host_ = host;
  return store;
}

S3ObjectStore::S3ObjectStore(S3Options options)
    : options_(std::move(options)),
      sigv4_("aws:amz:" + options_.region + ":s3"),
      handles_(std::make_unique<s3::CurlHandlePool>(64)),
      upload_pool_(std::make_unique<ThreadPool>(options_.upload_concurrency, "s3-upload")) {}

S3ObjectStore::~S3ObjectStore() = default;

std::string S3ObjectStore::Url(const Request& request) const {
  return s3::RequestUrl(scheme_, host_, options_.bucket, options_.path_style, request.resource,
                        request.query);
}

Result<Response> S3ObjectStore::ExecuteOnce(const Request& request) {
  s3::CurlHandle handle = handles_->Acquire();
  CURL* curl = handle.get();
  if (curl == nullptr) return Status::ResourceExhausted("curl_easy_init failed");
  Response response;
  const std::string url = Url(request);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, s3::WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, s3::WriteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);

  const std::string method = request.method;
  const uint64_t body_size = request.body ? request.body->size() : 0;
  if (method == "GET") {
    // Downloads of unknown size: abort only when the transfer stalls.
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                     std::max<long>(1, static_cast<long>(options_.request_timeout.count() / 1000)));
  } else {
    const long timeout_ms = static_cast<long>(options_.request_timeout.count()) +
                            static_cast<long>(body_size >> 20) * 1000;
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  }
  if (method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.body) {
    // POSTFIELDS sends the caller's bytes without copying; CUSTOMREQUEST sets the verb.
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body_size));
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method);
  } else if (method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method);
  }

  std::string payload_hash;
  if (!request.body || request.body->empty()) {
    payload_hash = std::string(s3::kEmptySha256);
  } else if (request.sign_body) {
    payload_hash = s3::Sha256Hex(*request.body);
  } else {
    payload_hash = "UNSIGNED-PAYLOAD";
  }
  struct curl_slist* headers = nullptr;
  std::vector<std::string> lines = request.headers;
  lines.push_back("x-amz-content-sha256: " + payload_hash);
  if (request.body) lines.push_back("Content-Type: application/octet-stream");
  if (!options_.session_token.empty()) lines.push_back("x-amz-security-token: " + options_.session_token);
  curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4_.c_str());
  // USERNAME/PASSWORD separately: access keys may contain ':' (Swift's "account:user").
  curl_easy_setopt(curl, CURLOPT_USERNAME, options_.access_key.c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, options_.secret_key.c_str());
  for (const std::string& line : lines) headers = curl_slist_append(headers, line.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  ++requests_sent_;
  const CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (code != CURLE_OK) {
    std::string message = request.what + ": " + curl_easy_strerror(code);
    if (error_buffer[0] != '\0') message += std::string(" (") + error_buffer + ")";
    if (s3::RetryableCurl(code)) return Status::Unavailable(message);
    // Certificate problems are configuration problems: a retry cannot help.
    if (code == CURLE_PEER_FAILED_VERIFICATION) {
      return Status::FailedPrecondition(
          message + "; the TLS certificate of " + s3::RequestHost(host_, options_.bucket, options_.path_style) +
          " was not accepted (trusted CAs: " +
          (options_.ca_file.empty() ? "the system store" : "ca_file '" + options_.ca_file + "'") +
          "): set ca_file (object_store.ca_file) to the PEM of the CA that signed it, or use a "
          "host name the certificate names");
    }
    if (code == CURLE_SSL_CACERT_BADFILE) {
      return Status::FailedPrecondition(message + "; could not load " +
                                        (options_.ca_file.empty() ? "the system CA store"
                                                                  : "ca_file '" + options_.ca_file + "'"));
    }
    return Status::Internal(message);
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

Result<Response> S3ObjectStore::Execute(const Request& request) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  Status last;
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    if (attempt > 0) {
      ++retries_;
      const double cap = std::min<double>(static_cast<double>(options_.retry_max_delay.count()),
                                          static_cast<double>(options_.retry_base_delay.count()) *
                                              static_cast<double>(1ULL << std::min(attempt, 20)));
      std::uniform_real_distribution<double> jitter(0.0, cap);
      std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(jitter(rng)));
    }
    Result<Response> response = ExecuteOnce(request);
    if (!response.ok()) {
      last = response.status();
      if (last.code() != StatusCode::kUnavailable) return last;
      TESSERA_LOG_DEBUG("S3 retry {}/{}: {}", attempt + 1, options_.max_attempts, last.ToString());
      continue;
    }
    if (s3::RetryableHttp(*response)) {
      last = s3::ErrorStatus(*response, request.what);
      TESSERA_LOG_DEBUG("S3 retry {}/{}: {}", attempt + 1, options_.max_attempts, last.ToString());
      continue;
    }
    if (request.error_in_200 && response->status == 200) {
      // CopyObject and CompleteMultipartUpload may fail after sending 200 OK.
      const s3::S3Error error = s3::ParseError(response->body);
      if (!error.code.empty()) {
        Response as_error = std::move(*response);
        as_error.status = s3::RetryableCode(error.code) ? 500 : 400;
        last = s3::ErrorStatus(as_error, request.what);
        if (last.code() == StatusCode::kUnavailable) continue;
        return last;
      }
    }
    return response;
  }
  return Status::Unavailable("after " + std::to_string(options_.max_attempts) +
                             " attempts: " + last.message());
}

Status S3ObjectStore::Put(std::string_view key, std::string_view data) {
  TESSERA_RETURN_IF_ERROR(ValidateObjectKey(key));
  const std::string full_key = options_.prefix + std::string(key);
  if (data.size() >= options_.multipart_threshold) return PutMultipart(full_key, data);
  return PutSingle(full_key, data);
}

Status S3ObjectStore::PutSingle(const std::string& full_key, std::string_view data) {
  Request request;
  request.method = "PUT";
  request.resource = "/" + s3::UriEncode(full_key, true);
  request.body = data;
  request.sign_body = !options_.unsigned_payload;
  request.what = "S3 PUT " + internal::QuoteKey(full_key);
  TESSERA_ASSIGN_OR_RETURN(Response response, Execute(request));
  if (!s3::Is2xx(response)) return s3::ErrorStatus(response, request.what);
  return Status::OK();
}

Result<std::string> S3ObjectStore::Get(std::string_view key) { return GetImpl(key, 0, std::nullopt, true); }

Result<std::string> S3ObjectStore::GetRange(std::string_view key, uint64_t offset,
                                            std::optional<uint64_t> length) {
  return GetImpl(key, offset, length, false);
}

Result<std::string> S3ObjectStore::GetImpl(std::string_view key, uint64_t offset,
                                           std::optional<uint64_t> length, bool whole) {
  TESSERA_RETURN_IF_ERROR(ValidateObjectKey(key));
  if (length && *length == 0) {
    return Status::InvalidArgument("GetRange " + internal::QuoteKey(key) + ": length 0");
  }
  const std::string full_key = options_.prefix + std::string(key);
  Request request;
  request.method = "GET";
  request.resource = "/" + s3::UriEncode(full_key, true);
  request.what = "S3 GET " + internal::QuoteKey(full_key);
  if (!whole) {
    std::string range = "Range: bytes=" + std::to_string(offset) + "-";
    if (length) {
      const uint64_t last = *length - 1 > UINT64_MAX - offset ? UINT64_MAX : offset + *length - 1;
      range += std::to_string(last);
    }
    request.headers.push_back(range);
  }
  TESSERA_ASSIGN_OR_RETURN(Response response, Execute(request));
  if (response.status == 404 && options_.recheck_not_found) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    TESSERA_ASSIGN_OR_RETURN(response, Execute(request));
  }
  if (response.status == 206) return std::move(response.body);
  if (response.status == 200) {
    if (whole) return std::move(response.body);
    // The server ignored the Range header: cut the range out of the whole object.
    TESSERA_ASSIGN_OR_RETURN(uint64_t count,
                             internal::ResolveRange(key, response.body.size(), offset, length));
    return response.body.substr(offset, count);
  }
  return s3::ErrorStatus(response, request.what);
}

Result<ObjectInfo> S3ObjectStore::Head(std::string_view key) {
  TESSERA_RETURN_IF_ERROR(ValidateObjectKey(key));
  const std::string full_key = options_.prefix + std::string(key);
  Request request;
  request.method = "HEAD";
  request.resource = "/" + s3::UriEncode(full_key, true);
  request.what = "S3 HEAD " + internal::QuoteKey(full_key);
  TESSERA_ASSIGN_OR_RETURN(Response response, Execute(request));
  if (response.status == 404 && options_.recheck_not_found) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    TESSERA_ASSIGN_OR_RETURN(response, Execute(request));
  }
  if (!s3::Is2xx(response)) return s3::ErrorStatus(response, request.what);
  ObjectInfo info;
  info.key = std::string(key);
  const std::string length = response.Header("content-length");
  info.size = length.empty() ? 0 : std::strtoull(length.c_str(), nullptr, 10);
  info.etag = s3::StripQuotes(response.Header("etag"));
  const time_t mtime = curl_getdate(response.Header("last-modified").c_str(), nullptr);
  if (mtime > 0) info.mtime = std::chrono::system_clock::from_time_t(mtime);
  return info;
}

Result<ListResult> S3ObjectStore::List(const ListOptions& options) {
  TESSERA_ASSIGN_OR_RETURN(size_t max_keys, internal::CheckListOptions(options));
  std::string token;
  if (!options.continuation_token.empty()) {
    if (!options.continuation_token.starts_with(s3::kTokenPrefix) ||
        options.continuation_token.size() == s3::kTokenPrefix.size()) {
      return Status::InvalidArgument("List: malformed continuation token");
    }
    token = options.continuation_token.substr(s3::kTokenPrefix.size());
  }
  // Parameters in canonical (sorted) order.
  Request request;
  request.method = "GET";
  if (!token.empty()) request.query += s3::QueryParam("continuation-token", token) + "&";
  request.query += "list-type=2&max-keys=" + std::to_string(max_keys) + "&" +
                   s3::QueryParam("prefix", options_.prefix + options.prefix);
  request.what = "S3 ListObjectsV2 " + internal::QuoteKey(options_.prefix + options.prefix);
  TESSERA_ASSIGN_OR_RETURN(Response response, Execute(request));
  if (!s3::Is2xx(response)) return s3::ErrorStatus(response, request.what);
  auto xml = s3::ParseXml(response.body);
  if (!xml.ok()) return xml.status().WithContext(request.what);
  ListResult result;
  for (const s3::XmlElement* contents : (*xml)->Children("Contents")) {
    ObjectInfo info;
    std::string key = contents->ChildText("Key");
    if (!key.starts_with(options_.prefix)) {
      return Status::DataLoss(request.what + ": key outside the prefix: " + internal::QuoteKey(key));
    }
    info.key = key.substr(options_.prefix.size());
    info.size = std::strtoull(contents->ChildText("Size").c_str(), nullptr, 10);
    info.etag = s3::StripQuotes(contents->ChildText("ETag"));
    info.mtime = s3::ParseIso8601(contents->ChildText("LastModified"));
    result.objects.push_back(std::move(info));
  }
  if ((*xml)->ChildText("IsTruncated") == "true") {
    const std::string next = (*xml)->ChildText("NextContinuationToken");
    if (next.empty()) return Status::DataLoss(request.what + ": truncated listing without a token");
    result.next_token = std::string(s3::kTokenPrefix) + next;
  }
  return result;
}

Status S3ObjectStore::Delete(std::string_view key) {
  TESSERA_RETURN_IF_ERROR(ValidateObjectKey(key));
  const std::string full_key = options_.prefix + std::string(key);
  Request request;
  request.method = "DELETE";
  request.resource = "/" + s3::UriEncode(full_key, true);
  request.what = "S3 DELETE " + internal::QuoteKey(full_key);
  TESSERA_ASSIGN_OR_RETURN(Response response, Execute(request));
  if (s3::Is2xx(response) || response.status == 404) return Status::OK();
  return s3::ErrorStatus(response, request.what);
}

Status S3ObjectStore::DeleteMany(std::span<const std::string> keys) {
  for (const std::string& key : keys) TESSERA_RETURN_IF_ERROR(ValidateObjectKey(key));
  std::vector<std::string> full_keys;
  full_keys.reserve(keys.size());
  for (const std::string& key : keys) full_keys.push_back(options_.prefix + key);
  constexpr size_t kBatch = 1000;  // S3's limit per DeleteObjects
  for (size_t begin = 0; begin < full_keys.size(); begin += kBatch) {
    const size_t count = std::min(kBatch, full_keys.size() - begin);
    TESSERA_RETURN_IF_ERROR(DeleteBatch(std::span<const std::string>(full_keys).subspan(begin, count)));
  }
  return Status::OK();
}

Status S3ObjectStore::DeleteBatch(std::span<const std::string> full_keys) {
  std::string xml = "<Delete><Quiet>true</Quiet>";
  for (const std::string& key : full_keys) xml += "<Object><Key>" + s3::XmlEscape(key) + "</Key></Object>";
  xml += "</Delete>";
  Request request;
  request.method = "POST";
  request.query = "delete=";
  request.body = xml;
  request.headers.push_back("Content-MD5: " + s3::Md5Base64(xml));
  request.what = "S3 DeleteObjects (" + std::to_string(full_keys.size()) + " keys)";
  // Per-key errors come back inside a 200; retry those that are transient.
  for (int attempt = 0;; ++attempt) {
    TESSERA_ASSIGN_OR_RETURN(Response response, Execute(request));
    if (!s3::Is2xx(response)) return s3::ErrorStatus(response, request.what);
    auto parsed = s3::ParseXml(response.body);
    if (!parsed.ok()) return parsed.status().WithContext(request.what);
    Status first;
    for (const s3::XmlElement* error : (*parsed)->Children("Error")) {
      const std::string code = error->ChildText("Code");
      if (code == "NoSuchKey") continue;  // already gone: fine
      Response as_response;
      as_response.status = s3::RetryableCode(code) ? 503 : (code == "AccessDenied" ? 403 : 400);
      as_response.body = "<Error><Code>" + s3::XmlEscape(code) + "</Code><Message>" +
                         s3::XmlEscape(error->ChildText("Message")) + "</Message></Error>";
      first = s3::ErrorStatus(as_response, request.what + " " + internal::QuoteKey(error->ChildText("Key")));
      break;
    }
    if (first.ok()) return first;
    if (first.code() != StatusCode::kUnavailable || attempt + 1 >= options_.max_attempts) return first;
    ++retries_;
  }
}

Status S3ObjectStore::Copy(std::string_view src, std::string_view dst) {
  TESSERA_RETURN_IF_ERROR(ValidateObjectKey(src));
  TESSERA_RETURN_IF_ERROR(ValidateObjectKey(dst));
  const std::string full_src = options_.prefix + std::string(src);
  const std::string full_dst = options_.prefix + std::string(dst);
  const std::string what = "S3 Copy " + internal::QuoteKey(full_src) + " -> " + internal::QuoteKey(full_dst);
  // The source's size picks the method (and a missing source is NotFound before anything
  // is written).
  Result<ObjectInfo> source = Head(src);
  if (!source.ok()) return source.status().WithContext(what);
  // S3 refuses a copy onto itself without a metadata change; the contract says OK when
  // the source exists.
  if (src == dst) return Status::OK();
  if (source->size > 0 && source->size >= options_.copy_part_threshold) {
    return CopyMultipart(full_src, full_dst, *source);
  }
  Request request;
  request.method = "PUT";
  request.resource = "/" + s3::UriEncode(full_dst, true);
  request.body = std::string_view();
  request.headers.push_back("x-amz-copy-source: " + CopySource(full_src));
  request.error_in_200 = true;
  request.what = "S3 CopyObject " + internal::QuoteKey(full_src) + " -> " + internal::QuoteKey(full_dst);
  TESSERA_ASSIGN_OR_RETURN(Response response, Execute(request));
  if (!s3::Is2xx(response)) return s3::ErrorStatus(response, request.what);
  return Status::OK();
}

std::string S3ObjectStore::CopySource(const std::string& full_src) const {
  return "/" + options_.bucket + "/" + s3::UriEncode(full_src, true);
}

Status S3ObjectStore::CreateBucket() {
  Request request;
  request.method = "PUT";
  request.body = std::string_view();
  request.what = "S3 CreateBucket '" + options_.bucket + "'";
  TESSERA_ASSIGN_OR_RETURN(Response response, Execute(request));
  if (s3::Is2xx(response)) return Status::OK();
  const std::string code = s3::ParseError(response.body).code;
  if (code == "BucketAlreadyOwnedByYou") return Status::OK();
  return s3::ErrorStatus(response, request.what);
}

}  // namespace tessera::storage
