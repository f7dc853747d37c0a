#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tessera::crc32c {

/// CRC-32C (Castagnoli), the checksum of every Tessera file block and WAL record.
/// Standard parameters: Crc32c("123456789") == 0xE3069283. Thread-safe.
uint32_t Value(const void* data, size_t size);

/// Extends `crc` (a previous Value()) with more bytes: Extend(Value(a), b) == Value(a+b).
uint32_t Extend(uint32_t crc, const void* data, size_t size);

inline uint32_t Value(std::span<const std::byte> bytes) { return Value(bytes.data(), bytes.size()); }

}  // namespace tessera::crc32c
