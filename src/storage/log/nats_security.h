#pragma once

// PRIVATE header of NatsLog (includes libnats): TLS and authentication settings of the
// connection, and the errors a secured connect can end in.

#include <nats/nats.h>

#include <string>

#include "common/status.h"
#include "storage/log/nats_log.h"

namespace tessera::storage::internal {

/// True when the connection must use TLS: a URL in the comma-separated `options.url` has
/// the tls:// scheme, or ca_file or cert_file is set.
bool NatsWantsTls(const NatsLogOptions& options);

/// Checks the TLS and credential options without touching the network: each file set must
/// exist and be readable, cert_file and key_file come together, username and token are
/// exclusive, a password needs a username. kInvalidArgument naming the config key and file.
Status ValidateNatsSecurity(const NatsLogOptions& options);

/// Applies TLS (secure mode, CA file, client certificate chain, expected hostname) and
/// credentials to `opts`. Call after ValidateNatsSecurity. A file libnats cannot load (not
/// PEM, key not matching the certificate) is kInvalidArgument naming it.
Status ApplyNatsSecurity(const NatsLogOptions& options, natsOptions* opts);

/// The Status for a failed natsConnection_Connect when the failure is about TLS or
/// credentials (naming the user, or the CA / certificate file with a TLS hint); an OK
/// Status when it is not (the caller reports it as unreachable). `detail` is libnats' text.
Status NatsConnectSecurityError(const NatsLogOptions& options, natsStatus s, const std::string& detail);

}  // namespace tessera::storage::internal
