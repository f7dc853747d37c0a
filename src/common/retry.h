#pragma once

// Retrying operations against backends (object store, metadata store, other roles).

#include <atomic>
#include <chrono>
#include <functional>
#include <string_view>

#include "common/status.h"

namespace tessera {

/// True for codes that describe a passing condition of a backend (object store, meta store,
/// coordinator): Unavailable, DeadlineExceeded, Aborted, ResourceExhausted, Internal,
/// Unknown. Everything else (InvalidArgument, NotFound, DataLoss, ...) will not change by
/// retrying.
bool IsTransient(const Status& status);

/// Backoff of RetryTransient: the first wait, doubled after each failure up to `max`.
struct Backoff {
  std::chrono::milliseconds initial{20};
  std::chrono::milliseconds max{2000};
};

/// Runs `op` until it returns OK or a non-transient error, sleeping with exponential
/// backoff between attempts. `sleep` waits for the given time and returns false when the
/// caller is shutting down (the last error is returned then). `what` names the operation in
/// the warnings logged on each failed attempt.
Status RetryTransient(std::string_view what, const std::function<Status()>& op,
                      const std::function<bool(std::chrono::milliseconds)>& sleep, Backoff backoff = {});

}  // namespace tessera
