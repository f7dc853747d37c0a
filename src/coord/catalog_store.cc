#include "coord/catalog_store.h"

#include <charconv>
#include <utility>

#include "coord/meta_keys.h"

namespace tessera::coord {

namespace {

using storage::TxnOp;

Result<nlohmann::json> ParseValue(const storage::KeyValue& kv) {
  nlohmann::json j = nlohmann::json::parse(kv.value, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::DataLoss("meta key '" + kv.key + "' does not hold valid JSON");
  return j;
}

template <typename T>
Result<T> Decode(const storage::KeyValue& kv, Result<T> (*from_json)(const nlohmann::json&)) {
  TESSERA_ASSIGN_OR_RETURN(nlohmann::json j, ParseValue(kv));
  Result<T> value = from_json(j);
  if (!value.ok()) return Status::DataLoss("meta key '" + kv.key + "': " + value.status().message());
  return value;
}

// Never throws: a string that is not valid UTF-8 (a property value, say) is stored with
// U+FFFD replacements instead of failing the write.
std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

nlohmann::json DatabaseToJson(const DatabaseInfo& db) {
  return {{"id", db.id}, {"name", db.name}, {"properties", db.properties}};
}

Result<DatabaseInfo> DatabaseFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Status::InvalidArgument("database is not a JSON object");
  DatabaseInfo db;
  auto id = j.find("id");
  auto name = j.find("name");
  if (id == j.end() || !id->is_number_integer()) return Status::InvalidArgument("database: 'id' must be an integer");
  if (name == j.end() || !name->is_string()) return Status::InvalidArgument("database: 'name' must be a string");
  db.id = id->get<int64_t>();
  db.name = name->get<std::string>();
  if (auto props = j.find("properties"); props != j.end()) {
    if (!props->is_object()) return Status::InvalidArgument("database: 'properties' must be an object");
    for (const auto& [k, v] : props->items()) {
      if (!v.is_string()) return Status::InvalidArgument("database: property '" + k + "' must be a string");
      db.properties[k] = v.get<std::string>();
    }
  }
  return db;
}

Result<CatalogSnapshot> CatalogStore::Load() const {
  CatalogSnapshot snapshot;
  TESSERA_ASSIGN_OR_RETURN(storage::RangeResult dbs, store_->Range(keys::kDatabasePrefix));
  for (const storage::KeyValue& kv : dbs.kvs) {
    TESSERA_ASSIGN_OR_RETURN(DatabaseInfo db, Decode<DatabaseInfo>(kv, DatabaseFromJson));
    snapshot.databases[db.name] = std::move(db);
  }
  TESSERA_ASSIGN_OR_RETURN(storage::RangeResult collections, store_->Range(keys::kCollectionPrefix));
  for (const storage::KeyValue& kv : collections.kvs) {
    TESSERA_ASSIGN_OR_RETURN(CollectionInfo info, Decode<CollectionInfo>(kv, CollectionFromJson));
    if (kv.key != keys::Collection(info.id)) {
      return Status::DataLoss("meta key '" + kv.key + "' holds collection id " + std::to_string(info.id));
    }
    snapshot.collections[info.id] = std::move(info);
  }
  TESSERA_ASSIGN_OR_RETURN(storage::RangeResult segments, store_->Range(keys::kSegmentPrefix));
  for (const storage::KeyValue& kv : segments.kvs) {
    TESSERA_ASSIGN_OR_RETURN(SegmentInfo segment, Decode<SegmentInfo>(kv, SegmentFromJson));
    if (kv.key != keys::Segment(segment.collection_id, segment.id)) {
      return Status::DataLoss("meta key '" + kv.key + "' holds segment " + std::to_string(segment.id) +
                              " of collection " + std::to_string(segment.collection_id));
    }
    snapshot.segments[segment.id] = std::move(segment);
  }
  TESSERA_ASSIGN_OR_RETURN(storage::RangeResult checkpoints, store_->Range(keys::kCheckpointPrefix));
  for (const storage::KeyValue& kv : checkpoints.kvs) {
    uint64_t offset = 0;
    const std::string& text = kv.value;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), offset);
    if (ec != std::errc() || end != text.data() + text.size()) {
      return Status::DataLoss("meta key '" + kv.key + "' does not hold a WAL offset");
    }
    snapshot.checkpoints[kv.key.substr(keys::kCheckpointPrefix.size())] = offset;
  }
  return snapshot;
}

Status CatalogStore::Apply(std::vector<TxnOp> ops) const {
  if (ops.empty()) return Status::OK();
  if (ops.size() > kMaxOpsPerTxn) {
    return Status::InvalidArgument("catalog transaction of " + std::to_string(ops.size()) + " writes exceeds " +
                                   std::to_string(kMaxOpsPerTxn));
  }
  storage::Txn txn;
  for (TxnOp& op : ops) txn.Then(std::move(op));
  TESSERA_ASSIGN_OR_RETURN(storage::TxnResult result, store_->Commit(txn));
  if (!result.succeeded) return Status::Internal("catalog transaction without conditions did not apply");
  return Status::OK();
}

Status CatalogStore::ApplyChunked(std::vector<TxnOp> ops) const {
  for (size_t begin = 0; begin < ops.size(); begin += kMaxOpsPerTxn) {
    const size_t end = std::min(ops.size(), begin + kMaxOpsPerTxn);
    std::vector<TxnOp> chunk(std::make_move_iterator(ops.begin() + static_cast<ptrdiff_t>(begin)),
                             std::make_move_iterator(ops.begin() + static_cast<ptrdiff_t>(end)));
    TESSERA_RETURN_IF_ERROR(Apply(std::move(chunk)));
  }
  return Status::OK();
}

TxnOp CatalogStore::PutDatabase(const DatabaseInfo& db) {
  return TxnOp::Put(keys::Database(db.name), Dump(DatabaseToJson(db)));
}
TxnOp CatalogStore::DeleteDatabase(const std::string& name) { return TxnOp::Delete(keys::Database(name)); }
TxnOp CatalogStore::PutCollection(const CollectionInfo& info) {
  return TxnOp::Put(keys::Collection(info.id), Dump(ToJson(info)));
}
TxnOp CatalogStore::DeleteCollection(int64_t collection_id) {
  return TxnOp::Delete(keys::Collection(collection_id));
}
TxnOp CatalogStore::PutSegment(const SegmentInfo& segment) {
  return TxnOp::Put(keys::Segment(segment.collection_id, segment.id), Dump(ToJson(segment)));
}
TxnOp CatalogStore::DeleteSegment(int64_t collection_id, int64_t segment_id) {
  return TxnOp::Delete(keys::Segment(collection_id, segment_id));
}
TxnOp CatalogStore::PutCheckpoint(const std::string& channel, uint64_t offset) {
  return TxnOp::Put(keys::Checkpoint(channel), std::to_string(offset));
}
TxnOp CatalogStore::DeleteCheckpoint(const std::string& channel) { return TxnOp::Delete(keys::Checkpoint(channel)); }

}  // namespace tessera::coord
