#include "msg/wal_message.h"

#include <cstring>
#include <utility>

#include "common/crc32c.h"
#include "segment/binlog.h"

namespace tessera::msg {
namespace {

// Layout (little-endian), documented in docs/format/wal_message.md:
//   u32 magic "TSWM" | u16 version | u8 type | u8 pk type | i64 collection id | u64 timestamp
//   | u64 row count | u32 column count | u32 delete count
//   | row count x i64 partition id
//   | column count x (u64 length, binlog bytes)        in schema field order
//   | delete count x (u8 tag, i64 | u32 length + bytes)  tag 0 = Int64, 1 = VarChar
//   | u32 CRC32C of everything before it
constexpr uint32_t kMagic = 0x4D575354;  // bytes "T S W M"
constexpr uint16_t kVersion = 1;
constexpr size_t kHeaderBytes = 4 + 2 + 1 + 1 + 8 + 8 + 8 + 4 + 4;

template <typename T>
void Put(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

class Reader {
 public:
  Reader(std::string_view bytes, std::string_view where) : bytes_(bytes), where_(where) {}
  template <typename T>
  Status Get(T* value, std::string_view what) {
    if (bytes_.size() - pos_ < sizeof(T)) return Truncated(what);
    std::memcpy(value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return Status::OK();
  }
  Status View(uint64_t size, std::string_view* out, std::string_view what) {
    if (bytes_.size() - pos_ < size) return Truncated(what);
    *out = bytes_.substr(pos_, size);
    pos_ += size;
    return Status::OK();
  }
  size_t remaining() const { return bytes_.size() - pos_; }
  Status Corrupt(std::string_view what) const {
    return Status::DataLoss("WAL record " + std::string(where_) + ": " + std::string(what) + " at byte " +
                            std::to_string(pos_));
  }

 private:
  Status Truncated(std::string_view what) const { return Corrupt(std::string(what) + " truncated"); }
  std::string_view bytes_;
  std::string_view where_;
  size_t pos_ = 0;
};

/// Checks magic, version and the trailing CRC; returns the body without the CRC.
Result<std::string_view> VerifiedBody(std::string_view bytes, std::string_view where) {
  auto corrupt = [&](std::string_view what) {
    return Status::DataLoss("WAL record " + std::string(where) + ": " + std::string(what));
  };
  if (bytes.size() < kHeaderBytes + 4) return corrupt("shorter than a header");
  uint32_t stored = 0;
  std::memcpy(&stored, bytes.data() + bytes.size() - 4, 4);
  std::string_view body = bytes.substr(0, bytes.size() - 4);
  if (crc32c::Value(body.data(), body.size()) != stored) return corrupt("checksum mismatch");
  uint32_t magic = 0;
  uint16_t version = 0;
  std::memcpy(&magic, body.data(), 4);
  std::memcpy(&version, body.data() + 4, 2);
  if (magic != kMagic) return corrupt("bad magic");
  if (version != kVersion) return corrupt("unsupported version " + std::to_string(version));
  return body;
}

struct Header {
  uint8_t type = 0;
  uint8_t pk_type = 0;
  int64_t collection_id = 0;
  uint64_t timestamp = 0;
  uint64_t rows = 0;
  uint32_t columns = 0;
  uint32_t deletes = 0;
};

Status ReadHeader(Reader& in, Header* h) {
  uint32_t magic = 0;
  uint16_t version = 0;
  TESSERA_RETURN_IF_ERROR(in.Get(&magic, "magic"));
  TESSERA_RETURN_IF_ERROR(in.Get(&version, "version"));
  TESSERA_RETURN_IF_ERROR(in.Get(&h->type, "type"));
  TESSERA_RETURN_IF_ERROR(in.Get(&h->pk_type, "pk type"));
  TESSERA_RETURN_IF_ERROR(in.Get(&h->collection_id, "collection id"));
  TESSERA_RETURN_IF_ERROR(in.Get(&h->timestamp, "timestamp"));
  TESSERA_RETURN_IF_ERROR(in.Get(&h->rows, "row count"));
  TESSERA_RETURN_IF_ERROR(in.Get(&h->columns, "column count"));
  TESSERA_RETURN_IF_ERROR(in.Get(&h->deletes, "delete count"));
  if (h->type < 1 || h->type > 4) return in.Corrupt("unknown message type " + std::to_string(h->type));
  return Status::OK();
}

}  // namespace

Result<std::string> EncodeWalMessage(const WalMessage& m) {
  const bool has_rows = HasRows(m.type);
  const bool has_deletes = HasDeletes(m.type);
  if (has_rows && m.rows == nullptr) return Status::InvalidArgument("WAL insert message without rows");
  if (!has_rows && m.rows != nullptr) return Status::InvalidArgument("WAL delete or time tick message with rows");
  if (!has_deletes && !m.deleted_pks.empty()) {
    return Status::InvalidArgument("WAL insert or time tick message with deletes");
  }
  const uint64_t rows = has_rows ? m.rows->num_rows() : 0;
  if (m.partition_ids.size() != rows) {
    return Status::InvalidArgument("WAL message: " + std::to_string(m.partition_ids.size()) +
                                   " partition ids for " + std::to_string(rows) + " rows");
  }
  uint8_t pk_type = 0;
  for (const auto& pk : m.deleted_pks) {
    const uint8_t t = std::holds_alternative<int64_t>(pk) ? 1 : 2;
    if (pk_type != 0 && pk_type != t) return Status::InvalidArgument("WAL message: mixed primary key types");
    pk_type = t;
  }
  std::string out;
  Put(out, kMagic);
  Put(out, kVersion);
  Put(out, static_cast<uint8_t>(m.type));
  Put(out, pk_type);
  Put(out, m.collection_id);
  Put(out, m.timestamp);
  Put(out, rows);
  Put(out, static_cast<uint32_t>(has_rows ? m.rows->schema().fields.size() : 0));
  Put(out, static_cast<uint32_t>(m.deleted_pks.size()));
  if (rows > 0) out.append(reinterpret_cast<const char*>(m.partition_ids.data()), rows * sizeof(int64_t));
  if (has_rows) {
    const auto& fields = m.rows->schema().fields;
    for (size_t i = 0; i < fields.size(); ++i) {
      TESSERA_ASSIGN_OR_RETURN(std::string binlog, segment::WriteBinlog(fields[i], m.rows->column(i)));
      Put(out, static_cast<uint64_t>(binlog.size()));
      out.append(binlog);
    }
  }
  for (const auto& pk : m.deleted_pks) {
    if (const auto* i = std::get_if<int64_t>(&pk)) {
      Put(out, uint8_t{0});
      Put(out, *i);
    } else {
      const auto& s = std::get<std::string>(pk);
      Put(out, uint8_t{1});
      Put(out, static_cast<uint32_t>(s.size()));
      out.append(s);
    }
  }
  Put(out, crc32c::Value(out.data(), out.size()));
  return out;
}

Result<WalMessage> DecodeWalHeader(std::string_view bytes, std::string_view where) {
  TESSERA_ASSIGN_OR_RETURN(std::string_view body, VerifiedBody(bytes, where));
  Reader in(body, where);
  Header h;
  TESSERA_RETURN_IF_ERROR(ReadHeader(in, &h));
  WalMessage m;
  m.type = static_cast<MessageType>(h.type);
  m.collection_id = h.collection_id;
  m.timestamp = h.timestamp;
  return m;
}

Result<WalMessage> DecodeWalMessage(std::string_view bytes, const core::CollectionSchema& schema,
                                    std::string_view where) {
  TESSERA_ASSIGN_OR_RETURN(std::string_view body, VerifiedBody(bytes, where));
  Reader in(body, where);
  Header h;
  TESSERA_RETURN_IF_ERROR(ReadHeader(in, &h));
  WalMessage m;
  m.type = static_cast<MessageType>(h.type);
  m.collection_id = h.collection_id;
  m.timestamp = h.timestamp;
  const bool has_rows = HasRows(m.type);
  if (h.rows > in.remaining() / sizeof(int64_t)) return in.Corrupt("row count " + std::to_string(h.rows));
  m.partition_ids.resize(h.rows);
  if (h.rows > 0) {
    std::string_view ids;
    TESSERA_RETURN_IF_ERROR(in.View(h.rows * sizeof(int64_t), &ids, "partition ids"));
    std::memcpy(m.partition_ids.data(), ids.data(), ids.size());
  }
  if (has_rows) {
    if (h.columns != schema.fields.size()) {
      return Status::FailedPrecondition("WAL record " + std::string(where) + " has " + std::to_string(h.columns) +
                                        " columns but the schema has " + std::to_string(schema.fields.size()) +
                                        " fields");
    }
    std::vector<std::unique_ptr<core::Column>> columns;
    for (const auto& field : schema.fields) {
      uint64_t length = 0;
      std::string_view binlog;
      TESSERA_RETURN_IF_ERROR(in.Get(&length, "column length"));
      TESSERA_RETURN_IF_ERROR(in.View(length, &binlog, "column"));
      TESSERA_ASSIGN_OR_RETURN(auto column, segment::ReadBinlog(field, binlog, where));
      if (column->size() != h.rows) return in.Corrupt("column '" + field.name + "' row count");
      columns.push_back(std::move(column));
    }
    auto set = core::ColumnSet::FromColumns(schema, std::move(columns), nullptr);
    if (!set.ok()) {
      return Status::FailedPrecondition("WAL record " + std::string(where) + ": " + set.status().message());
    }
    m.rows = std::move(set).value();
  } else if (h.columns != 0 || h.rows != 0) {
    return in.Corrupt("delete or time tick message with rows");
  }
  if (!HasDeletes(m.type) && h.deletes != 0) return in.Corrupt("insert or time tick message with deletes");
  if (h.deletes > in.remaining()) return in.Corrupt("delete count " + std::to_string(h.deletes));
  m.deleted_pks.reserve(h.deletes);
  for (uint32_t i = 0; i < h.deletes; ++i) {
    uint8_t tag = 0;
    TESSERA_RETURN_IF_ERROR(in.Get(&tag, "primary key tag"));
    if (tag == 0) {
      int64_t v = 0;
      TESSERA_RETURN_IF_ERROR(in.Get(&v, "primary key"));
      m.deleted_pks.emplace_back(v);
    } else if (tag == 1) {
      uint32_t length = 0;
      std::string_view s;
      TESSERA_RETURN_IF_ERROR(in.Get(&length, "primary key length"));
      TESSERA_RETURN_IF_ERROR(in.View(length, &s, "primary key"));
      m.deleted_pks.emplace_back(std::string(s));
    } else {
      return in.Corrupt("bad primary key tag " + std::to_string(tag));
    }
  }
  if (in.remaining() != 0) return in.Corrupt("trailing bytes");
  return m;
}

}  // namespace tessera::msg
