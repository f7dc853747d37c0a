#include "common/crc32c.h"

#include <isa-l/crc.h>

#include <climits>

namespace tessera::crc32c {

// ISA-L's crc32_iscsi takes and returns the raw register without the final inversion, so
// the standard CRC-32C is ~crc32_iscsi(data, len, ~init) with init = 0.
uint32_t Extend(uint32_t crc, const void* data, size_t size) {
  auto* bytes = static_cast<unsigned char*>(const_cast<void*>(data));
  uint32_t reg = ~crc;
  while (size > 0) {
    const int chunk = size > static_cast<size_t>(INT_MAX) ? INT_MAX : static_cast<int>(size);
    reg = crc32_iscsi(bytes, chunk, reg);
    bytes += chunk;
    size -= static_cast<size_t>(chunk);
  }
  return ~reg;
}

uint32_t Value(const void* data, size_t size) { return Extend(0, data, size); }

}  // namespace tessera::crc32c
