#include "storage/object/s3_sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <utility>

#include "storage/object/s3_object_store.h"

namespace tessera::storage::s3 {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// (lowercase name, value trimmed with inner runs of blanks collapsed to one space)
std::pair<std::string, std::string> SplitHeader(std::string_view line) {
  const size_t colon = line.find(':');
  std::string_view name = line.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
  while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
  std::string canonical;
  bool blank = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      blank = !canonical.empty();
      continue;
    }
    if (blank) canonical += ' ';
    blank = false;
    canonical += c;
  }
  return {Lower(name), canonical};
}

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string Hex(std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string FormatTime(std::chrono::system_clock::time_point now, const char* format) {
  const time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  const size_t n = std::strftime(buffer, sizeof(buffer), format, &tm);
  return std::string(buffer, n);
}

}  // namespace

bool CurlMisordersHeaders(const std::vector<std::string>& header_lines) {
  std::vector<std::string> names;
  for (const std::string& line : header_lines) names.push_back(SplitHeader(line).first);
  for (const std::string& a : names) {
    for (const std::string& b : names) {
      if (b.size() > a.size() && b.starts_with(a) && b[a.size()] == '-') return true;
    }
  }
  return false;
}

std::vector<std::string> SignV4(const SigV4Request& request, const SigV4Credentials& credentials,
                                std::chrono::system_clock::time_point now) {
  const std::string amz_date = FormatTime(now, "%Y%m%dT%H%M%SZ");
  const std::string date = amz_date.substr(0, 8);
  std::vector<std::pair<std::string, std::string>> headers;
  headers.emplace_back("host", std::string(request.host));
  headers.emplace_back("x-amz-date", amz_date);
  for (const std::string& line : request.headers) headers.push_back(SplitHeader(line));
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string canonical_headers, signed_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ":" + value + "\n";
    if (!signed_headers.empty()) signed_headers += ";";
    signed_headers += name;
  }
  const std::string canonical_request = std::string(request.method) + "\n" + std::string(request.path) + "\n" +
                                        std::string(request.query) + "\n" + canonical_headers + "\n" +
                                        signed_headers + "\n" + std::string(request.payload_hash);
  const std::string scope = date + "/" + std::string(credentials.region) + "/" +
                            std::string(credentials.service) + "/aws4_request";
  const std::string string_to_sign =
      "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + Sha256Hex(canonical_request);
  std::string key = Hmac("AWS4" + std::string(credentials.secret_key), date);
  key = Hmac(key, credentials.region);
  key = Hmac(key, credentials.service);
  key = Hmac(key, "aws4_request");
  const std::string signature = Hex(Hmac(key, string_to_sign));
  return {"Host: " + std::string(request.host), "X-Amz-Date: " + amz_date,
          "Authorization: AWS4-HMAC-SHA256 Credential=" + std::string(credentials.access_key) + "/" + scope +
              ", SignedHeaders=" + signed_headers + ", Signature=" + signature};
}

}  // namespace tessera::storage::s3
