#include "common/retry.h"

#include <algorithm>

#include "common/logging.h"

namespace tessera {

bool IsTransient(const Status& status) {
  switch (status.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kAborted:
    case StatusCode::kResourceExhausted:
    case StatusCode::kInternal:
    case StatusCode::kUnknown:
      return true;
    default:
      return false;
  }
}

Status RetryTransient(std::string_view what, const std::function<Status()>& op,
                      const std::function<bool(std::chrono::milliseconds)>& sleep, Backoff backoff) {
  std::chrono::milliseconds wait = backoff.initial;
  for (int attempt = 1;; ++attempt) {
    Status status = op();
    if (status.ok() || !IsTransient(status)) return status;
    TESSERA_LOG_WARN("{} failed (attempt {}), retrying in {} ms: {}", what, attempt, wait.count(),
                     status.ToString());
    if (!sleep(wait)) return status;
    wait = std::min(wait * 2, backoff.max);
  }
}

}  // namespace tessera
