#pragma once

// Where a row goes: its shard (one WAL channel each) and, with a partition key, its
// partition. Both use one stable hash so every proxy, in every version, routes a key the
// same way:
//   HashKey(Int64 v)   = CRC-32C of the 8 little-endian bytes of v
//   HashKey(VarChar s) = CRC-32C of the UTF-8 bytes of s
//   shard     = HashKey(pk)  % num_shards
//   partition = collection.partitions[HashKey(partition key) % partitions.size()]
// Changing this breaks upsert/delete of existing rows (they would go to another channel),
// so it is part of the data format.

#include <cstdint>
#include <string>
#include <vector>

#include "coord/catalog_types.h"
#include "segment/deltalog.h"

namespace tessera::proxy {

uint32_t HashKey(const segment::PrimaryKey& key);
int32_t ShardOf(const segment::PrimaryKey& pk, int32_t num_shards);

/// WAL channel of a collection's shard: "c<collection id>_s<shard>", the same name as
/// coord::CollectionInfo::Channel.
std::string ShardChannel(int64_t collection_id, int32_t shard);
/// Every channel of `info`, in shard order.
std::vector<std::string> CollectionChannels(const coord::CollectionInfo& info);

}  // namespace tessera::proxy
