#pragma once

// Parsers for the textual value forms the configuration accepts. They are shared by the
// YAML file, environment variables and command-line flags, so one spelling works everywhere.
// Errors are InvalidArgument with a message that does NOT name a key ("cannot parse 'ten'
// as a size (expected ...)"); Config prefixes the key and the source.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tessera::config {

/// A whole decimal number, optionally signed ("19530", "-1"). No units, no spaces.
Result<int64_t> ParseInt(std::string_view text);

/// A finite decimal floating-point number ("0.9", "1e3").
Result<double> ParseDouble(std::string_view text);

/// true/false, yes/no, on/off, 1/0; case-insensitive.
Result<bool> ParseBool(std::string_view text);

/// A byte count: a number with an optional unit, optionally separated by spaces. Units are
/// case-insensitive: B; KB, MB, GB, TB, PB (powers of 1000, as SI); KiB, MiB, GiB, TiB, PiB
/// (powers of 1024, as IEC). "10GiB" = 10737418240, "100KB" = 100000, "4096" = 4096. A
/// fraction is allowed when the result is a whole number of bytes ("1.5KiB" = 1536).
/// Negative values and results above INT64_MAX are errors.
Result<uint64_t> ParseByteSize(std::string_view text);

/// A duration: one or more <whole number><unit> terms, units ms, s, m, h, d
/// ("500ms", "10s", "5m", "1h30m"). A bare "0" is allowed; any other bare number is an error
/// because its unit would be a guess. Results above INT64_MAX milliseconds are errors.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

/// A comma-separated list ("a, b,c"): items are trimmed, empty items dropped; "" is [].
std::vector<std::string> ParseStringList(std::string_view text);

/// Renders a byte count with the largest IEC unit that divides it ("10GiB", "1000B").
std::string FormatByteSize(uint64_t bytes);

/// Renders a duration with the largest unit that divides it ("30s", "1500ms").
std::string FormatDuration(std::chrono::milliseconds duration);

}  // namespace tessera::config
