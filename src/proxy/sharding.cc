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

std::string ShardChannel(int64_t collection_id, int32_t shard) {
  // Appended piecewise: GCC 12 flags `"c" + std::to_string(...)` with a false -Wrestrict.
  std::string name = "c";
  name.append(std::to_string(collection_id));
  name.append("_s");
  name.append(std::to_string(shard));
  return name;
}

std::vector<std::string> CollectionChannels(const coord::CollectionInfo& info) {
  std::vector<std::string> out;
  const int32_t shards = info.num_shards < 1 ? 1 : info.num_shards;
  out.reserve(static_cast<size_t>(shards));
  for (int32_t s = 0; s < shards; ++s) out.push_back(ShardChannel(info.id, s));
  return out;
}

}  // namespace tessera::proxy
