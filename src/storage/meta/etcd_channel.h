#pragma once
// PRIVATE header of the storage_meta library (included by etcd_meta_store.cc only): how
// EtcdMetaStore turns its endpoint list and TLS options into a gRPC target and credentials.

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/security/credentials.h>

#include "common/result.h"
#include "storage/meta/etcd_meta_store.h"

namespace tessera::storage::internal {

/// A parsed endpoint list.
struct EtcdTarget {
  std::string target;  // gRPC target: "host:port", or "ipv4:a:p,b:q" for several endpoints
  bool tls = false;    // every endpoint was https://
};

/// Parses "host:port", "http://host:port" or "https://host:port" endpoints (trailing '/'
/// allowed). kInvalidArgument, naming the endpoint, for an empty list, a malformed endpoint,
/// http and https mixed in one list, or several endpoints that are not literal IPv4 addresses.
Result<EtcdTarget> ParseEtcdEndpoints(const std::vector<std::string>& endpoints);

/// Channel credentials for `target`: insecure for plaintext; for TLS, grpc::SslCredentials
/// with `options.ca_file` as the roots (empty: gRPC's system roots) and, when
/// `options.cert_file` is set, that client certificate and `options.key_file`.
/// kInvalidArgument naming the file when a file is missing or unreadable or not PEM, when only
/// one of cert_file/key_file is set, or when TLS files are given for plaintext endpoints.
Result<std::shared_ptr<grpc::ChannelCredentials>> EtcdChannelCredentials(const EtcdTarget& target,
                                                                         const EtcdMetaStoreOptions& options);

}  // namespace tessera::storage::internal
