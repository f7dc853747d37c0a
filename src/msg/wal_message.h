#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "core/column_set.h"
#include "segment/deltalog.h"

namespace tessera::msg {

/// What a WAL record of a shard channel does. Values are serialized.
enum class MessageType : uint8_t {
  kInsert = 1,  // rows
  kDelete = 2,  // primary keys
  kUpsert = 3,  // primary keys deleted and rows inserted at one timestamp, applied together
  /// Neither rows nor deletes: a promise that every later record of the channel has a
  /// timestamp of at least this record's (the proxy's time tick, docs/format/wal_message.md).
  kTimeTick = 4,
};

/// Whether records of `type` carry rows (insert, upsert) and deletes (delete, upsert).
inline bool HasRows(MessageType type) { return type == MessageType::kInsert || type == MessageType::kUpsert; }
inline bool HasDeletes(MessageType type) { return type == MessageType::kDelete || type == MessageType::kUpsert; }

/// One record of a collection's shard channel (docs/format/wal_message.md). Every row and
/// every delete carries `timestamp`; a delete hides rows of that primary key whose
/// timestamp is older.
struct WalMessage {
  MessageType type = MessageType::kInsert;
  int64_t collection_id = 0;
  uint64_t timestamp = 0;
  /// kInsert / kUpsert: the rows, with the collection's schema (every field declared,
  /// including "$meta" when the dynamic field is on). Null otherwise.
  std::unique_ptr<core::ColumnSet> rows;
  /// kInsert / kUpsert: partition id of each row (rows->num_rows() entries).
  std::vector<int64_t> partition_ids;
  /// kDelete / kUpsert: primary keys deleted.
  std::vector<segment::PrimaryKey> deleted_pks;
};

/// Serializes `message`; each column becomes a binlog (segment/binlog.h), so every part is
/// checksummed. InvalidArgument when the message is inconsistent (rows missing for an
/// insert, partition ids not one per row, mixed primary key types).
Result<std::string> EncodeWalMessage(const WalMessage& message);

/// Parses a record written by EncodeWalMessage. `schema` is the collection's schema (the
/// one the rows were written with); `where` names the record in errors (channel and
/// offset). DataLoss for a damaged or truncated record; FailedPrecondition when the
/// record's collection or columns do not match `schema`.
Result<WalMessage> DecodeWalMessage(std::string_view bytes, const core::CollectionSchema& schema,
                                    std::string_view where);

/// Reads only the header (type, collection id, timestamp) without decoding the rows.
Result<WalMessage> DecodeWalHeader(std::string_view bytes, std::string_view where);

}  // namespace tessera::msg
