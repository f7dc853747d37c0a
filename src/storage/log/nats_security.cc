#include "storage/log/nats_security.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace tessera::storage::internal {

namespace {

std::vector<std::string> SplitUrls(const std::string& urls) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos <= urls.size();) {
    const size_t comma = std::min(urls.find(',', pos), urls.size());
    if (comma > pos) out.push_back(urls.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

// The host of "scheme://[user[:pass]@]host[:port]" ("[v6]" keeps its brackets off).
std::string UrlHost(std::string url) {
  if (const size_t scheme = url.find("://"); scheme != std::string::npos) url = url.substr(scheme + 3);
  if (const size_t at = url.rfind('@'); at != std::string::npos) url = url.substr(at + 1);
  if (!url.empty() && url.front() == '[') return url.substr(1, url.find(']') - 1);
  return url.substr(0, url.find(':'));
}

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 || ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

Status CheckReadable(const char* key, const std::string& file) {
  if (file.empty()) return Status::OK();
  if (::access(file.c_str(), R_OK) != 0) {
    return Status::InvalidArgument(std::string("NatsLog: ") + key + " \"" + file + "\" cannot be read: " +
                                   std::strerror(errno));
  }
  return Status::OK();
}

std::string LastNatsError() {
  const char* last = nats_GetLastError(nullptr);
  return last != nullptr ? last : "";
}

}  // namespace

bool NatsWantsTls(const NatsLogOptions& options) {
  if (!options.ca_file.empty() || !options.cert_file.empty()) return true;
  for (const std::string& url : SplitUrls(options.url)) {
    if (url.starts_with("tls://")) return true;
  }
  return false;
}

Status ValidateNatsSecurity(const NatsLogOptions& options) {
  if (options.cert_file.empty() != options.key_file.empty()) {
    return Status::InvalidArgument("NatsLog: log.cert_file and log.key_file must be set together (cert_file \"" +
                                   options.cert_file + "\", key_file \"" + options.key_file + "\")");
  }
  if (!options.username.empty() && !options.token.empty()) {
    return Status::InvalidArgument("NatsLog: set either log.username (with log.password) or log.token, not both");
  }
  if (options.username.empty() && !options.password.empty()) {
    return Status::InvalidArgument("NatsLog: log.password is set but log.username is empty");
  }
  TESSERA_RETURN_IF_ERROR(CheckReadable("log.ca_file", options.ca_file));
  TESSERA_RETURN_IF_ERROR(CheckReadable("log.cert_file", options.cert_file));
  TESSERA_RETURN_IF_ERROR(CheckReadable("log.key_file", options.key_file));
  return Status::OK();
}

Status ApplyNatsSecurity(const NatsLogOptions& options, natsOptions* opts) {
  if (NatsWantsTls(options)) {
    if (natsOptions_SetSecure(opts, true) != NATS_OK) {
      return Status::Internal("NatsLog: enabling TLS: " + LastNatsError());
    }
    if (!options.ca_file.empty() && natsOptions_LoadCATrustedCertificates(opts, options.ca_file.c_str()) != NATS_OK) {
      return Status::InvalidArgument("NatsLog: log.ca_file \"" + options.ca_file +
                                     "\" holds no usable PEM CA certificate: " + LastNatsError());
    }
    if (!options.cert_file.empty() &&
        natsOptions_LoadCertificatesChain(opts, options.cert_file.c_str(), options.key_file.c_str()) != NATS_OK) {
      return Status::InvalidArgument("NatsLog: cannot load the client certificate log.cert_file \"" +
                                     options.cert_file + "\" with log.key_file \"" + options.key_file +
                                     "\" (PEM, unencrypted key matching the certificate): " + LastNatsError());
    }
    // libnats checks the certificate's name only when told which one to expect, and only
    // as a DNS name: set it when every URL names the same host and it is not an IP literal.
    std::string host;
    bool one_host = true;
    for (const std::string& url : SplitUrls(options.url)) {
      const std::string h = UrlHost(url);
      if (!host.empty() && h != host) one_host = false;
      host = h;
    }
    if (one_host && !host.empty() && !IsIpLiteral(host) &&
        natsOptions_SetExpectedHostname(opts, host.c_str()) != NATS_OK) {
      return Status::Internal("NatsLog: setting the expected TLS hostname " + host + ": " + LastNatsError());
    }
  }
  natsStatus s = NATS_OK;
  if (!options.username.empty()) s = natsOptions_SetUserInfo(opts, options.username.c_str(), options.password.c_str());
  if (!options.token.empty()) s = natsOptions_SetToken(opts, options.token.c_str());
  if (s != NATS_OK) return Status::Internal("NatsLog: setting credentials: " + LastNatsError());
  return Status::OK();
}

Status NatsConnectSecurityError(const NatsLogOptions& options, natsStatus s, const std::string& detail) {
  const std::string at = "NatsLog: NATS at " + options.url;
  if (s == NATS_CONNECTION_AUTH_FAILED || s == NATS_NOT_PERMITTED) {
    if (!options.username.empty()) {
      return Status::PermissionDenied(at + " refused user \"" + options.username +
                                      "\" (check log.username and log.password): " + detail);
    }
    if (!options.token.empty()) return Status::PermissionDenied(at + " refused the token log.token: " + detail);
    return Status(StatusCode::kUnauthenticated, at + " requires authentication; set log.username and log.password, or log.token: " +
                                   detail);
  }
  if (s == NATS_SECURE_CONNECTION_REQUIRED) {
    return Status::FailedPrecondition(at + " requires TLS; use a tls:// URL and set log.ca_file: " + detail);
  }
  if (s == NATS_SECURE_CONNECTION_WANTED) {
    return Status::FailedPrecondition(at + " does not offer TLS, but TLS is configured (tls:// URL, log.ca_file or "
                                      "log.cert_file): " + detail);
  }
  // libnats switches to TLS by itself when the server requires it, so an SSL error can come
  // without TLS configured. With TLS on, a server that was reached but dropped us failed the
  // handshake too: our CA does not trust its certificate, or it refused (or wanted) ours.
  if (s != NATS_SSL_ERROR && (!NatsWantsTls(options) || s == NATS_NO_SERVER)) return Status::OK();
  const std::string ca = options.ca_file.empty() ? "the system trust store (log.ca_file is empty)"
                                                 : "log.ca_file \"" + options.ca_file + "\"";
  const std::string cert = options.cert_file.empty() ? "no client certificate is configured (log.cert_file)"
                                                     : "the client certificate is log.cert_file \"" +
                                                           options.cert_file + "\"";
  return Status::Unavailable(at + ": TLS handshake failed: " + detail + "; the server certificate must be signed by a CA in " +
                             ca + " and name the host, and if the server verifies clients, " + cert);
}

}  // namespace tessera::storage::internal
