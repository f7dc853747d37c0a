#include "proxy/sharding.h"

#include <cstring>
#include <type_traits>

#include "common/crc32c.h"

namespace tessera::proxy {

uint32_t HashKey(const segment::PrimaryKey& key) {
  if (const int64_t* v = std::get_if<int64_t>(&key)) {
    unsigned char bytes[8];
    const uint64_t u = static_cast<uint64_t>(*v);
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(u >> (8 * i));
    return crc32c::Value(bytes, sizeof(bytes));
  }
  const std::string& s = std::get<std::string>(key);
  return crc32c::Value(s.data(), s.size());
}

int32_t ShardOf(const segment::PrimaryKey& pk, int32_t num_shards) {
  if (num_shards <= 1) return 0;
  return static_cast<int32_t>(HashKey(pk) % static_cast<uint32_t>(num_shards));
}

}  // namespace tessera::proxy
