#pragma once

// Where a row goes: its shard (one WAL channel each) and, with a partition key, its
// partition. Both use one stable hash so every proxy, in every version, routes a key the
// same way:
//   HashKey(Int64 v)   = CRC-32C of the 8 little-endian bytes of v
//   HashKey(VarChar s) = CRC-32C of the UTF-8 bytes of s
//   shard     = HashKey(pk)  % num_shards
//   partition = collection.partitions[HashKey(partition key) % partitions.size()]
// Changing this breaks upsert/delete of existing rows (they would go to another channel),
// so it is part of the data format. Shard s of a collection is WAL channel
// coord::CollectionInfo::Channel(s).

#include <cstdint>
#include "segment/deltalog.h"

namespace tessera::proxy {

uint32_t HashKey(const segment::PrimaryKey& key);
int32_t ShardOf(const segment::PrimaryKey& pk, int32_t num_shards);

}  // namespace tessera::proxy
