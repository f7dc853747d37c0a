#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

#include "common/status.h"

namespace tessera::logging {

/// Sets the global level from a name (trace, debug, info, warn, error, critical, off).
/// An unknown name is InvalidArgument naming it.
Status SetLevel(std::string_view level);

/// Configures the default logger: one line per event, UTC time, level, thread id, to stderr,
/// written in batches (at 16 KiB, on warnings and worse, every second and at exit).
/// Safe to call more than once; call before starting threads.
void Init(std::string_view level = "info");

/// Writes out the lines not yet written (before an abort, for one).
void Flush();

/// Logs `message` at info level, in the same format, order and batches as TESSERA_LOG_INFO,
/// without spdlog's formatting: for the line written on every HTTP request, where that
/// formatting was 1% of a search's CPU. The caller builds the message itself.
void InfoLine(std::string_view message);

}  // namespace tessera::logging

// Thin aliases so call sites read the same everywhere and can be redirected later.
#define TESSERA_LOG_DEBUG(...) SPDLOG_DEBUG(__VA_ARGS__)
#define TESSERA_LOG_INFO(...) SPDLOG_INFO(__VA_ARGS__)
#define TESSERA_LOG_WARN(...) SPDLOG_WARN(__VA_ARGS__)
#define TESSERA_LOG_ERROR(...) SPDLOG_ERROR(__VA_ARGS__)
