#include "proxy/test_roles.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <thread>

#include "core/filter/evaluator.h"
#include "core/filter/parser.h"
#include "msg/wal_message.h"
#include "proxy/sharding.h"

namespace tessera::proxy::testing {

using nlohmann::json;

// ---- FakeCoordinator ------------------------------------------------------------------

FakeCoordinator::FakeCoordinator(MiniQueryNode* query_node) : query_node_(query_node) {
  databases_["default"] = coord::DatabaseInfo{1, "default", {}};
}

Result<uint64_t> FakeCoordinator::AllocateTimestamp() {
  std::lock_guard<std::mutex> lock(mu_);
  return ++next_ts_;
}

Result<int64_t> FakeCoordinator::AllocateIds(uint32_t count) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t first = next_id_;
  next_id_ += count;
  return first;
}

Status FakeCoordinator::CheckDatabase(const std::string& db) const {
  if (databases_.count(db) == 0) return Status::NotFound("database not found[database=" + db + "]");
  return Status::OK();
}

Status FakeCoordinator::CreateDatabase(const std::string& name, const std::map<std::string, std::string>& properties) {
  std::lock_guard<std::mutex> lock(mu_);
  if (databases_.count(name) != 0) return Status::AlreadyExists("database already exists: " + name);
  databases_[name] = coord::DatabaseInfo{next_id_++, name, properties};
  return Status::OK();
}

Status FakeCoordinator::DropDatabase(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  TESSERA_RETURN_IF_ERROR(CheckDatabase(name));
  if (name == "default") return Status::InvalidArgument("can not drop default database");
  for (const auto& [id, c] : collections_) {
    if (c.db_name == name) return Status::FailedPrecondition("database " + name + " still has collections");
  }
  databases_.erase(name);
  return Status::OK();
}

Result<std::vector<coord::DatabaseInfo>> FakeCoordinator::ListDatabases() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<coord::DatabaseInfo> out;
  for (const auto& [name, info] : databases_) out.push_back(info);
  return out;
}

Result<coord::DatabaseInfo> FakeCoordinator::DescribeDatabase(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  TESSERA_RETURN_IF_ERROR(CheckDatabase(name));
  return databases_[name];
}

Status FakeCoordinator::AlterDatabase(const std::string& name, const std::map<std::string, std::string>& set,
                                      const std::vector<std::string>& drop_keys) {
  std::lock_guard<std::mutex> lock(mu_);
  TESSERA_RETURN_IF_ERROR(CheckDatabase(name));
  auto& props = databases_[name].properties;
  for (const auto& [k, v] : set) props[k] = v;
  for (const auto& k : drop_keys) props.erase(k);
  return Status::OK();
}

coord::CollectionInfo* FakeCoordinator::Find(const std::string& db, const std::string& name) {
  std::string target = name;
  auto alias = aliases_.find({db, name});
  if (alias != aliases_.end()) target = alias->second;
  for (auto& [id, c] : collections_) {
    if (c.db_name == db && c.schema.name == target) return &c;
  }
  return nullptr;
}

Result<coord::CollectionInfo> FakeCoordinator::CreateCollection(const coord::CreateCollectionRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  TESSERA_RETURN_IF_ERROR(CheckDatabase(request.db_name));
  if (Find(request.db_name, request.schema.name) != nullptr) {
    return Status::AlreadyExists("collection already exists: " + request.schema.name);
  }
  coord::CollectionInfo info;
  info.id = next_id_++;
  info.db_name = request.db_name;
  info.schema = request.schema;
  int64_t field_id = coord::kFirstUserFieldId;
  bool has_meta = false;
  bool has_key = false;
  for (auto& f : info.schema.fields) {
    f.id = field_id++;
    has_meta |= f.is_dynamic;
    has_key |= f.is_partition_key;
  }
  if (info.schema.enable_dynamic_field && !has_meta) {
    core::FieldSchema meta;
    meta.id = field_id++;
    meta.name = std::string(core::kDynamicFieldName);
    meta.data_type = core::DataType::kJSON;
    meta.is_dynamic = true;
    info.schema.fields.push_back(meta);
  }
  TESSERA_RETURN_IF_ERROR(info.schema.Validate());
  info.num_shards = request.num_shards;
  info.consistency = request.consistency;
  info.properties = request.properties;
  if (has_key) {
    info.num_partitions = request.num_partitions > 0 ? request.num_partitions : 16;
    for (int i = 0; i < info.num_partitions; ++i) {
      info.partitions.push_back({next_id_++, "_default_" + std::to_string(i), false});
    }
  } else {
    info.partitions.push_back({next_id_++, "_default", false});
  }
  info.created_ts = next_ts_;
  for (coord::IndexInfo index : request.indexes) {
    const core::FieldSchema* f = info.schema.FindField(index.field_name);
    if (f == nullptr) return Status::NotFound("field not found[field=" + index.field_name + "]");
    if (!core::IsVectorType(f->data_type)) return Status::InvalidArgument("only vector fields can be indexed");
    if (index.name.empty()) index.name = index.field_name;
    index.id = next_id_++;
    index.field_id = f->id;
    info.indexes.push_back(std::move(index));
  }
  collections_[info.id] = info;
  return info;
}

Result<coord::CollectionInfo> FakeCoordinator::DescribeCollection(const std::string& db, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  TESSERA_RETURN_IF_ERROR(CheckDatabase(db));
  coord::CollectionInfo* c = Find(db, name);
  if (c == nullptr) return Status::NotFound("collection not found[collection=" + name + "]");
  coord::CollectionInfo out = *c;
  out.aliases.clear();
  for (const auto& [key, target] : aliases_) {
    if (key.first == db && target == c->schema.name) out.aliases.push_back(key.second);
  }
  return out;
}

Result<coord::CollectionInfo> FakeCoordinator::GetCollection(int64_t collection_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = collections_.find(collection_id);
  if (it == collections_.end()) return Status::NotFound("collection not found[id=" + std::to_string(collection_id) + "]");
  return it->second;
}

Result<std::vector<std::string>> FakeCoordinator::ListCollections(const std::string& db) {
  std::lock_guard<std::mutex> lock(mu_);
  TESSERA_RETURN_IF_ERROR(CheckDatabase(db));
  std::vector<std::string> out;
  for (const auto& [id, c] : collections_) {
    if (c.db_name == db) out.push_back(c.schema.name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status FakeCoordinator::DropCollection(const std::string& db, const std::string& name) {
  int64_t id = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    TESSERA_RETURN_IF_ERROR(CheckDatabase(db));
    coord::CollectionInfo* c = Find(db, name);
    if (c == nullptr) return Status::NotFound("collection not found[collection=" + name + "]");
    id = c->id;
    collections_.erase(id);
  }
  if (query_node_ != nullptr) (void)query_node_->ReleaseCollection(id);
  return Status::OK();
}

Status FakeCoordinator::RenameCollection(const std::string& db, const std::string& name, const std::string& new_db,
                                         const std::string& new_name) {
  std::lock_guard<std::mutex> lock(mu_);
  TESSERA_RETURN_IF_ERROR(CheckDatabase(db));
  TESSERA_RETURN_IF_ERROR(CheckDatabase(new_db));
  coord::CollectionInfo* c = Find(db, name);
  if (c == nullptr) return Status::NotFound("collection not found[collection=" + name + "]");
  if (Find(new_db, new_name) != nullptr) return Status::AlreadyExists("collection already exists: " + new_name);
  c->db_name = new_db;
  c->schema.name = new_name;
  return Status::OK();
}

Status FakeCoordinator::AlterCollectionProperties(const std::string& db, const std::string& name,
                                                  const std::map<std::string, std::string>& set,
                                                  const std::vector<std::string>& drop_keys) {
  std::lock_guard<std::mutex> lock(mu_);
  coord::CollectionInfo* c = Find(db, name);
  if (c == nullptr) return Status::NotFound("collection not found[collection=" + name + "]");
  for (const auto& [k, v] : set) c->properties[k] = v;
  for (const auto& k : drop_keys) c->properties.erase(k);
  return Status::OK();
}

Status FakeCoordinator::CreatePartition(const std::string& db, const std::string& collection,
                                        const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  coord::CollectionInfo* c = Find(db, collection);
  if (c == nullptr) return Status::NotFound("collection not found[collection=" + collection + "]");
  for (const auto& p : c->partitions) {
    if (p.name == name) return Status::AlreadyExists("partition already exists: " + name);
  }
  c->partitions.push_back({next_id_++, name, false});
  return Status::OK();
}

Status FakeCoordinator::DropPartition(const std::string& db, const std::string& collection, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  coord::CollectionInfo* c = Find(db, collection);
  if (c == nullptr) return Status::NotFound("collection not found[collection=" + collection + "]");
  if (name == "_default") return Status::InvalidArgument("default partition cannot be deleted");
  auto it = std::find_if(c->partitions.begin(), c->partitions.end(), [&](auto& p) { return p.name == name; });
  if (it == c->partitions.end()) return Status::NotFound("partition not found[partition=" + name + "]");
  c->partitions.erase(it);
  return Status::OK();
}

Status FakeCoordinator::CreateAlias(const std::string& db, const std::string& alias, const std::string& collection) {
  std::lock_guard<std::mutex> lock(mu_);
  if (aliases_.count({db, alias}) != 0) return Status::AlreadyExists("alias already exists: " + alias);
  coord::CollectionInfo* c = Find(db, collection);
  if (c == nullptr) return Status::NotFound("collection not found[collection=" + collection + "]");
  aliases_[{db, alias}] = c->schema.name;
  return Status::OK();
}

Status FakeCoordinator::AlterAlias(const std::string& db, const std::string& alias, const std::string& collection) {
  std::lock_guard<std::mutex> lock(mu_);
  if (aliases_.count({db, alias}) == 0) return Status::NotFound("alias not found[alias=" + alias + "]");
  coord::CollectionInfo* c = Find(db, collection);
  if (c == nullptr) return Status::NotFound("collection not found[collection=" + collection + "]");
  aliases_[{db, alias}] = c->schema.name;
  return Status::OK();
}

Status FakeCoordinator::DropAlias(const std::string& db, const std::string& alias) {
  std::lock_guard<std::mutex> lock(mu_);
  if (aliases_.erase({db, alias}) == 0) return Status::NotFound("alias not found[alias=" + alias + "]");
  return Status::OK();
}

Result<std::string> FakeCoordinator::DescribeAlias(const std::string& db, const std::string& alias) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = aliases_.find({db, alias});
  if (it == aliases_.end()) return Status::NotFound("alias not found[alias=" + alias + "]");
  return it->second;
}

Result<std::vector<std::string>> FakeCoordinator::ListAliases(const std::string& db, const std::string& collection) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [key, target] : aliases_) {
    if (key.first == db && (collection.empty() || target == collection)) out.push_back(key.second);
  }
  return out;
}

Status FakeCoordinator::CreateIndex(const std::string& db, const std::string& collection, coord::IndexInfo index) {
  std::lock_guard<std::mutex> lock(mu_);
  coord::CollectionInfo* c = Find(db, collection);
  if (c == nullptr) return Status::NotFound("collection not found[collection=" + collection + "]");
  const core::FieldSchema* f = c->schema.FindField(index.field_name);
  if (f == nullptr) return Status::NotFound("field not found[field=" + index.field_name + "]");
  if (!core::IsVectorType(f->data_type)) return Status::InvalidArgument("only vector fields can be indexed");
  if (index.name.empty()) index.name = index.field_name;
  for (const auto& existing : c->indexes) {
    if (existing.name == index.name || existing.field_id == f->id) {
      return Status::AlreadyExists("index already exists on field " + index.field_name);
    }
  }
  index.id = next_id_++;
  index.field_id = f->id;
  c->indexes.push_back(std::move(index));
  return Status::OK();
}

Status FakeCoordinator::DropIndex(const std::string& db, const std::string& collection, const std::string& index_name) {
  std::lock_guard<std::mutex> lock(mu_);
  coord::CollectionInfo* c = Find(db, collection);
  if (c == nullptr) return Status::NotFound("collection not found[collection=" + collection + "]");
  if (c->loaded) return Status::FailedPrecondition("index cannot be dropped while the collection is loaded");
  auto it = std::find_if(c->indexes.begin(), c->indexes.end(), [&](auto& i) { return i.name == index_name; });
  if (it == c->indexes.end()) return Status::NotFound("index not found[index=" + index_name + "]");
  c->indexes.erase(it);
  return Status::OK();
}

Result<coord::IndexProgress> FakeCoordinator::DescribeIndexProgress(int64_t collection_id, int64_t index_id) {
  std::lock_guard<std::mutex> lock(mu_);
  coord::IndexProgress progress;
  progress.total_rows = 10;
  progress.indexed_rows = 10;
  progress.state = "Finished";
  return progress;
}

Status FakeCoordinator::LoadCollection(const std::string& db, const std::string& collection,
                                       const std::vector<std::string>& partitions) {
  coord::CollectionInfo copy;
  {
    std::lock_guard<std::mutex> lock(mu_);
    coord::CollectionInfo* c = Find(db, collection);
    if (c == nullptr) return Status::NotFound("collection not found[collection=" + collection + "]");
    for (const auto& f : c->schema.fields) {
      if (core::IsVectorType(f.data_type) && c->IndexOnField(f.id) == nullptr) {
        return Status::FailedPrecondition("index not found[field=" + f.name + "]");
      }
    }
    for (const auto& name : partitions) {
      auto it = std::find_if(c->partitions.begin(), c->partitions.end(), [&](auto& p) { return p.name == name; });
      if (it == c->partitions.end()) return Status::NotFound("partition not found[partition=" + name + "]");
    }
    for (auto& p : c->partitions) {
      if (partitions.empty() || std::find(partitions.begin(), partitions.end(), p.name) != partitions.end()) {
        p.loaded = true;
      }
    }
    c->loaded = true;
    copy = *c;
  }
  if (query_node_ != nullptr) return query_node_->LoadCollection(copy, {}, {});
  return Status::OK();
}

Status FakeCoordinator::ReleaseCollection(const std::string& db, const std::string& collection,
                                          const std::vector<std::string>& partitions) {
  int64_t id = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    coord::CollectionInfo* c = Find(db, collection);
    if (c == nullptr) return Status::NotFound("collection not found[collection=" + collection + "]");
    for (auto& p : c->partitions) {
      if (partitions.empty() || std::find(partitions.begin(), partitions.end(), p.name) != partitions.end()) {
        p.loaded = false;
      }
    }
    if (!partitions.empty()) return Status::OK();
    c->loaded = false;
    id = c->id;
  }
  if (query_node_ != nullptr) return query_node_->ReleaseCollection(id);
  return Status::OK();
}

Result<coord::LoadStatus> FakeCoordinator::GetLoadState(int64_t collection_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = collections_.find(collection_id);
  if (it == collections_.end()) return Status::NotFound("collection not found");
  if (!it->second.loaded) return coord::LoadStatus{coord::LoadState::kNotLoad, 0, ""};
  return coord::LoadStatus{coord::LoadState::kLoaded, 100, ""};
}

Status FakeCoordinator::Flush(int64_t collection_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (collections_.count(collection_id) == 0) return Status::NotFound("collection not found");
  ++flushes_;
  return Status::OK();
}

Result<uint64_t> FakeCoordinator::CountRows(int64_t collection_id, std::optional<int64_t> partition_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = row_counts_.find({collection_id, partition_id.value_or(-1)});
  return it == row_counts_.end() ? 0 : it->second;
}

Result<int64_t> FakeCoordinator::Compact(int64_t collection_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return next_id_++;
}

Result<coord::CompactionState> FakeCoordinator::GetCompactionState(int64_t compaction_id) {
  coord::CompactionState state;
  state.id = compaction_id;
  state.state = "Completed";
  state.completed_plans = 1;
  return state;
}

Status FakeCoordinator::SegmentFlushed(const coord::SegmentInfo&) { return Status::Unimplemented("fake"); }
Status FakeCoordinator::IndexBuilt(int64_t, int64_t, const std::string&) { return Status::Unimplemented("fake"); }
Status FakeCoordinator::IndexBuildFailed(int64_t, int64_t, const std::string&) { return Status::Unimplemented("fake"); }
Result<std::vector<coord::SegmentInfo>> FakeCoordinator::ListSegments(int64_t) { return std::vector<coord::SegmentInfo>{}; }
Result<uint64_t> FakeCoordinator::ChannelCheckpoint(const std::string&) { return uint64_t{0}; }

int FakeCoordinator::flushes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return flushes_;
}

void FakeCoordinator::SetRowCount(int64_t collection_id, int64_t partition_id, uint64_t rows) {
  std::lock_guard<std::mutex> lock(mu_);
  row_counts_[{collection_id, partition_id}] = rows;
}

// ---- MiniQueryNode ----------------------------------------------------------------------

Status MiniQueryNode::LoadCollection(const coord::CollectionInfo& collection, const std::vector<coord::SegmentInfo>&,
                                     const std::map<std::string, uint64_t>&) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = loaded_.find(collection.id);
  if (it != loaded_.end()) {
    it->second.info = collection;
    return Status::OK();
  }
  Loaded c;
  c.info = collection;
  TESSERA_ASSIGN_OR_RETURN(c.rows, core::ColumnSet::Create(collection.schema));
  loaded_.emplace(collection.id, std::move(c));
  return Status::OK();
}

Status MiniQueryNode::ReleaseCollection(int64_t collection_id) {
  std::lock_guard<std::mutex> lock(mu_);
  loaded_.erase(collection_id);
  return Status::OK();
}

bool MiniQueryNode::IsLoaded(int64_t collection_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return loaded_.count(collection_id) != 0;
}

std::optional<querynode::SearchRequest> MiniQueryNode::last_search() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_search_;
}

std::optional<querynode::QueryRequest> MiniQueryNode::last_query() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_query_;
}

Status MiniQueryNode::ApplyDeletes(Loaded& c, const std::vector<segment::PrimaryKey>& pks, uint64_t ts) {
  const core::FieldSchema* pk = c.info.schema.PrimaryKey();
  const core::Column* column = c.rows->FindColumn(pk->name);
  std::set<segment::PrimaryKey> doomed(pks.begin(), pks.end());
  for (size_t r = 0; r < c.rows->num_rows(); ++r) {
    if (c.row_ts[r] >= ts || c.rows->IsDeleted(r)) continue;
    json v = column->Get(r);
    segment::PrimaryKey key = v.is_string() ? segment::PrimaryKey(v.get<std::string>())
                                            : segment::PrimaryKey(v.get<int64_t>());
    if (doomed.count(key) != 0) c.rows->MarkDeleted(r);
  }
  return Status::OK();
}

Status MiniQueryNode::CatchUp(Loaded& c, const querynode::WaitOffsets& wait) {
  for (const std::string& channel : c.info.Channels()) {
    TESSERA_ASSIGN_OR_RETURN(std::optional<uint64_t> last, log_->LastOffset(channel));
    const uint64_t end = last.has_value() ? *last + 1 : 0;
    auto w = wait.find(channel);
    if (w != wait.end() && w->second > end) {
      return Status::DeadlineExceeded("channel " + channel + " has not reached offset " + std::to_string(w->second));
    }
    uint64_t& next = c.next_offset[channel];
    if (next >= end) continue;
    TESSERA_ASSIGN_OR_RETURN(auto sub, log_->Subscribe(channel, next));
    while (next < end) {
      TESSERA_ASSIGN_OR_RETURN(auto records, sub->Poll(1024, std::chrono::milliseconds(1000)));
      if (records.empty()) return Status::DeadlineExceeded("WAL poll timed out on " + channel);
      for (const storage::LogRecord& record : records) {
        TESSERA_ASSIGN_OR_RETURN(msg::WalMessage m, msg::DecodeWalMessage(record.payload, c.info.schema, channel));
        if (!m.deleted_pks.empty()) TESSERA_RETURN_IF_ERROR(ApplyDeletes(c, m.deleted_pks, m.timestamp));
        if (m.rows) {
          for (size_t r = 0; r < m.rows->num_rows(); ++r) {
            c.rows->AppendRowFrom(*m.rows, r);
            c.row_ts.push_back(m.timestamp);
            c.row_partition.push_back(m.partition_ids[r]);
          }
        }
        next = record.offset + 1;
      }
    }
  }
  return Status::OK();
}

std::map<std::string, uint64_t> MiniQueryNode::TailPositions(int64_t collection_id) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = loaded_.find(collection_id);
  return it == loaded_.end() ? std::map<std::string, uint64_t>{} : it->second.next_offset;
}

Result<std::vector<size_t>> MiniQueryNode::Candidates(const Loaded& c, const std::string& filter,
                                                      const std::vector<int64_t>& partitions) const {
  const size_t n = c.rows->num_rows();
  core::Bitset match(n, true);
  if (!filter.empty()) {
    TESSERA_ASSIGN_OR_RETURN(auto expr, core::filter::ParseFilter(filter, c.info.schema));
    TESSERA_ASSIGN_OR_RETURN(match, core::filter::EvaluateFilter(*expr, *c.rows));
  }
  std::vector<size_t> out;
  for (size_t r = 0; r < n; ++r) {
    if (!match.Test(r) || c.rows->IsDeleted(r)) continue;
    if (!partitions.empty() &&
        std::find(partitions.begin(), partitions.end(), c.row_partition[r]) == partitions.end()) {
      continue;
    }
    out.push_back(r);
  }
  return out;
}

Result<querynode::QueryResponse> MiniQueryNode::Query(const querynode::QueryRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  last_query_ = request;
  auto it = loaded_.find(request.collection_id);
  if (it == loaded_.end()) return Status::FailedPrecondition("collection not loaded[collection=" +
                                                             std::to_string(request.collection_id) + "]");
  Loaded& c = it->second;
  TESSERA_RETURN_IF_ERROR(CatchUp(c, request.wait));
  TESSERA_ASSIGN_OR_RETURN(std::vector<size_t> rows, Candidates(c, request.filter, request.partition_ids));
  querynode::QueryResponse response;
  if (request.count_only) {
    response.count = rows.size();
    return response;
  }
  const core::FieldSchema* pk = c.info.schema.PrimaryKey();
  const core::Column* pk_column = c.rows->FindColumn(pk->name);
  std::sort(rows.begin(), rows.end(), [&](size_t a, size_t b) { return pk_column->Get(a) < pk_column->Get(b); });
  std::vector<std::string> fields = request.output_fields;
  const bool all = fields.empty() || (fields.size() == 1 && fields[0] == "*");
  if (!all && std::find(fields.begin(), fields.end(), pk->name) == fields.end()) fields.push_back(pk->name);
  for (size_t i = request.offset; i < rows.size() && response.rows.size() < request.limit; ++i) {
    TESSERA_ASSIGN_OR_RETURN(json row, c.rows->GetRow(rows[i], all ? std::vector<std::string>{} : fields));
    response.rows.push_back(std::move(row));
  }
  response.count = response.rows.size();
  return response;
}

Result<querynode::SearchResponse> MiniQueryNode::Search(const querynode::SearchRequest& request) {
  if (const int64_t delay = search_delay_ms_.load(); delay > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
  }
  std::lock_guard<std::mutex> lock(mu_);
  last_search_ = request;
  auto it = loaded_.find(request.collection_id);
  if (it == loaded_.end()) return Status::FailedPrecondition("collection not loaded[collection=" +
                                                             std::to_string(request.collection_id) + "]");
  Loaded& c = it->second;
  TESSERA_RETURN_IF_ERROR(CatchUp(c, request.wait));
  const core::FieldSchema* field = nullptr;
  for (const auto& f : c.info.schema.fields) {
    if (f.id == request.field_id) field = &f;
  }
  if (field == nullptr) return Status::InvalidArgument("no field with id " + std::to_string(request.field_id));
  std::string metric = "L2";
  for (const auto& index : c.info.indexes) {
    if (index.field_id == field->id && !index.metric_type.empty()) metric = index.metric_type;
  }
  const auto* vectors = static_cast<const core::FloatVectorColumn*>(c.rows->FindColumn(field->name));
  TESSERA_ASSIGN_OR_RETURN(std::vector<size_t> rows, Candidates(c, request.filter, request.partition_ids));
  const core::FieldSchema* pk = c.info.schema.PrimaryKey();
  const size_t dim = static_cast<size_t>(field->dim);
  querynode::SearchResponse response;
  for (size_t q = 0; q < request.num_queries; ++q) {
    const float* query = request.vectors.data() + q * dim;
    std::vector<std::pair<float, size_t>> scored;
    for (size_t r : rows) {
      auto v = vectors->Row(r);
      float dot = 0, l2 = 0, nq = 0, nv = 0;
      for (size_t k = 0; k < dim; ++k) {
        dot += query[k] * v[k];
        l2 += (query[k] - v[k]) * (query[k] - v[k]);
        nq += query[k] * query[k];
        nv += v[k] * v[k];
      }
      float d = metric == "L2" ? l2 : metric == "IP" ? dot : dot / std::sqrt(std::max(nq * nv, 1e-30f));
      scored.emplace_back(d, r);
    }
    const bool smaller_better = metric == "L2";
    std::sort(scored.begin(), scored.end(), [&](const auto& a, const auto& b) {
      return smaller_better ? a.first < b.first : a.first > b.first;
    });
    std::vector<querynode::Hit> hits;
    for (size_t i = request.offset; i < scored.size() && hits.size() < request.limit; ++i) {
      std::vector<std::string> fields = request.output_fields;
      fields.push_back(pk->name);
      TESSERA_ASSIGN_OR_RETURN(json row, c.rows->GetRow(scored[i].second, fields));
      querynode::Hit hit;
      const json& key = row[pk->name];
      hit.pk = key.is_string() ? segment::PrimaryKey(key.get<std::string>()) : segment::PrimaryKey(key.get<int64_t>());
      hit.distance = scored[i].first;
      hit.row = std::move(row);
      hits.push_back(std::move(hit));
    }
    response.hits.push_back(std::move(hits));
  }
  return response;
}

}  // namespace tessera::proxy::testing
