#pragma once

#include <cstdio>

#include "common/config.h"

namespace tessera::cli {

/// `tessera check`: opens each configured backend (object store, metadata store, log), does
/// a small write/read/delete round trip under a scratch name it cleans up, and prints one
/// line per backend to `out`: "OK" with the round-trip latency, or the error with a hint.
/// Returns the process exit code: 0 only when every backend passed.
int RunCheck(const config::Config& config, std::FILE* out);

}  // namespace tessera::cli
