#include "storage/meta/etcd_channel.h"

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tessera::storage::internal {

namespace {

// Reads a whole PEM file; `key` names the option for the message.
Result<std::string> ReadPem(const std::string& path, std::string_view key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument("etcd meta store: " + std::string(key) + " '" + path +
                                   "' cannot be read: " + std::strerror(errno));
  }
  std::stringstream contents;
  contents << in.rdbuf();
  std::string pem = contents.str();
  if (pem.find("-----BEGIN ") == std::string::npos) {
    return Status::InvalidArgument("etcd meta store: " + std::string(key) + " '" + path +
                                   "' is not a PEM file (no -----BEGIN line)");
  }
  return pem;
}

}  // namespace

Result<EtcdTarget> ParseEtcdEndpoints(const std::vector<std::string>& endpoints) {
  if (endpoints.empty()) return Status::InvalidArgument("etcd meta store: no endpoints given");
  std::vector<std::string> addresses;
  int https = 0;
  for (const std::string& original : endpoints) {
    std::string endpoint = original;
    if (endpoint.rfind("https://", 0) == 0) {
      endpoint = endpoint.substr(8);
      ++https;
    } else if (endpoint.rfind("http://", 0) == 0) {
      endpoint = endpoint.substr(7);
    }
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    const size_t colon = endpoint.rfind(':');
    if (endpoint.empty() || colon == std::string::npos || colon + 1 == endpoint.size() ||
        endpoint.find('/') != std::string::npos) {
      return Status::InvalidArgument("etcd meta store: endpoint '" + original +
                                     "' is not host:port, http://host:port or https://host:port");
    }
    addresses.push_back(endpoint);
  }
  if (https != 0 && https != static_cast<int>(endpoints.size())) {
    return Status::InvalidArgument("etcd meta store: endpoints mix https:// and plaintext schemes; use "
                                   "https:// for all of them or for none");
  }
  EtcdTarget out;
  out.tls = https != 0;
  if (addresses.size() == 1) {
    out.target = addresses[0];
    return out;
  }
  out.target = "ipv4:";
  for (size_t i = 0; i < addresses.size(); ++i) {
    const std::string host = addresses[i].substr(0, addresses[i].rfind(':'));
    in_addr addr{};
    if (inet_pton(AF_INET, host.c_str(), &addr) != 1) {
      return Status::InvalidArgument("etcd meta store: with several endpoints each must be a literal IPv4 "
                                     "address, got '" + endpoints[i] + "'");
    }
    out.target += (i ? "," : "") + addresses[i];
  }
  return out;
}

Result<std::shared_ptr<grpc::ChannelCredentials>> EtcdChannelCredentials(const EtcdTarget& target,
                                                                         const EtcdMetaStoreOptions& options) {
  if (!target.tls) {
    if (!options.ca_file.empty() || !options.cert_file.empty() || !options.key_file.empty()) {
      return Status::InvalidArgument("etcd meta store: a CA file or client certificate is configured but the "
                                     "endpoints are not https:// (" + target.target + ")");
    }
    return grpc::InsecureChannelCredentials();
  }
  if (options.cert_file.empty() != options.key_file.empty()) {
    return Status::InvalidArgument("etcd meta store: a client certificate needs both cert_file and key_file (got " +
                                   std::string(options.cert_file.empty() ? "only key_file '" + options.key_file
                                                                         : "only cert_file '" + options.cert_file) +
                                   "')");
  }
  grpc::SslCredentialsOptions ssl;
  if (!options.ca_file.empty()) {
    TESSERA_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadPem(options.ca_file, "ca_file"));
  }
  if (!options.cert_file.empty()) {
    TESSERA_ASSIGN_OR_RETURN(ssl.pem_cert_chain, ReadPem(options.cert_file, "cert_file"));
    TESSERA_ASSIGN_OR_RETURN(ssl.pem_private_key, ReadPem(options.key_file, "key_file"));
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace tessera::storage::internal
