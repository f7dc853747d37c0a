#pragma once

// PRIVATE header of the index node. The same rule as the data node's retry helper
// (src/datanode/retry.h); kept separate so the roles do not depend on each other.

#include <chrono>
#include <functional>
#include <string_view>

#include "common/status.h"

namespace tessera::indexnode {

/// Unavailable, DeadlineExceeded, Aborted, ResourceExhausted, Internal, Unknown.
bool IsTransient(const Status& status);

/// Runs `op` until it returns OK or a non-transient error, waiting 20 ms, 40 ms, ... up to
/// 2 s between attempts. `sleep` returns false when shutting down; the last error is
/// returned then. Each failed attempt is logged as a warning naming `what`.
Status RetryTransient(std::string_view what, const std::function<Status()>& op,
                      const std::function<bool(std::chrono::milliseconds)>& sleep);

}  // namespace tessera::indexnode
