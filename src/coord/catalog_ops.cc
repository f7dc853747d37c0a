// Databases, collections, partitions and aliases.

#include <algorithm>
#include <utility>

#include "common/crash_point.h"
#include "common/logging.h"
#include "coord/coordinator_impl.h"
#include "coord/names.h"
#include "coord/properties.h"

namespace tessera::coord {

namespace {

constexpr int32_t kMaxShards = 16;
constexpr int32_t kDefaultPartitionKeyPartitions = 16;
constexpr int32_t kMaxPartitions = 1024;

std::string CollectionTag(const std::string& db, const std::string& name) {
  return "[database=" + db + "][collection=" + name + "]";
}

void ApplyProperties(std::map<std::string, std::string>* properties, const std::map<std::string, std::string>& set,
                     const std::vector<std::string>& drop_keys) {
  for (const std::string& key : drop_keys) properties->erase(key);
  for (const auto& [key, value] : set) (*properties)[key] = value;
}

// Assigns field ids and adds the explicit dynamic field; InvalidArgument for a schema the
// coordinator would not store.
Result<core::CollectionSchema> PrepareSchema(const core::CollectionSchema& given, const std::string& name) {
  core::CollectionSchema schema = given;
  schema.name = name;
  bool has_dynamic = false;
  for (const core::FieldSchema& f : schema.fields) has_dynamic = has_dynamic || f.is_dynamic;
  if (schema.enable_dynamic_field && !has_dynamic) {
    core::FieldSchema meta;
    meta.name = std::string(core::kDynamicFieldName);
    meta.data_type = core::DataType::kJSON;
    meta.is_dynamic = true;
    schema.fields.push_back(std::move(meta));
  }
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    schema.fields[i].id = kFirstUserFieldId + static_cast<int64_t>(i);
  }
  TESSERA_RETURN_IF_ERROR(schema.Validate());
  return schema;
}

// Whether `created` (not yet stored) defines what `existing` does: schema, shards,
// partition-key partitions, and every index `created` asks for (ids aside).
bool SameDefinition(const CollectionInfo& existing, const CollectionInfo& created) {
  if (ToJson(existing.schema) != ToJson(created.schema) || existing.num_shards != created.num_shards ||
      existing.num_partitions != created.num_partitions) {
    return false;
  }
  for (const IndexInfo& wanted : created.indexes) {
    const IndexInfo* have = existing.IndexOnField(wanted.field_id);
    if (have == nullptr || have->name != wanted.name || have->index_type != wanted.index_type ||
        have->metric_type != wanted.metric_type || have->params != wanted.params) {
      return false;
    }
  }
  return true;
}

bool HasPartitionKey(const core::CollectionSchema& schema) {
  for (const core::FieldSchema& f : schema.fields) {
    if (f.is_partition_key) return true;
  }
  return false;
}

}  // namespace

// ---- databases -----------------------------------------------------------------------------

Status CoordinatorImpl::CreateDatabase(const std::string& name, const std::map<std::string, std::string>& properties) {
  TESSERA_RETURN_IF_ERROR(ValidateName("database", name));
  TESSERA_RETURN_IF_ERROR(ValidateDatabaseProperties(properties));
  TESSERA_ASSIGN_OR_RETURN(const int64_t id, ids_->Allocate(1));
  std::lock_guard lock(mu_);
  if (databases_.count(name) > 0) return Status::AlreadyExists("database already exists[database=" + name + "]");
  DatabaseInfo db{.id = id, .name = name, .properties = properties};
  TESSERA_RETURN_IF_ERROR(store_.Apply({CatalogStore::PutDatabase(db)}));
  databases_[name] = std::move(db);
  return Status::OK();
}

Status CoordinatorImpl::CheckRoomForCollectionLocked(const std::string& db) const {
  const std::optional<int64_t> limit = MaxCollections(databases_.at(db).properties);
  if (!limit) return Status::OK();
  const auto count = std::count_if(collections_.begin(), collections_.end(),
                                   [&](const auto& entry) { return entry.second.db_name == db; });
  if (count < *limit) return Status::OK();
  return Status::FailedPrecondition("exceeded the limit number of collections[database=" + db + "][limit=" +
                                    std::to_string(*limit) + "]: the database's " + kMaxCollectionsProperty +
                                    " property allows no more");
}

Status CoordinatorImpl::DropDatabase(const std::string& name) {
  if (name == kDefaultDatabase) return Status::FailedPrecondition("the default database cannot be dropped");
  std::lock_guard lock(mu_);
  TESSERA_RETURN_IF_ERROR(CheckDatabaseLocked(name));
  for (const auto& [id, info] : collections_) {
    if (info.db_name == name) {
      return Status::FailedPrecondition("database is not empty[database=" + name + "]: it still has collection '" +
                                        info.schema.name + "'");
    }
  }
  TESSERA_RETURN_IF_ERROR(store_.Apply({CatalogStore::DeleteDatabase(name)}));
  databases_.erase(name);
  return Status::OK();
}

Result<std::vector<DatabaseInfo>> CoordinatorImpl::ListDatabases() {
  std::lock_guard lock(mu_);
  std::vector<DatabaseInfo> out;
  for (const auto& [name, db] : databases_) out.push_back(db);
  return out;
}

Result<DatabaseInfo> CoordinatorImpl::DescribeDatabase(const std::string& name) {
  std::lock_guard lock(mu_);
  TESSERA_RETURN_IF_ERROR(CheckDatabaseLocked(name));
  return databases_.at(name);
}

Status CoordinatorImpl::AlterDatabase(const std::string& name, const std::map<std::string, std::string>& set,
                                      const std::vector<std::string>& drop_keys) {
  std::lock_guard lock(mu_);
  TESSERA_RETURN_IF_ERROR(CheckDatabaseLocked(name));
  TESSERA_RETURN_IF_ERROR(ValidateDatabaseProperties(set));
  DatabaseInfo updated = databases_.at(name);
  ApplyProperties(&updated.properties, set, drop_keys);
  TESSERA_RETURN_IF_ERROR(store_.Apply({CatalogStore::PutDatabase(updated)}));
  databases_[name] = std::move(updated);
  return Status::OK();
}

// ---- collections ---------------------------------------------------------------------------

Result<CollectionInfo> CoordinatorImpl::CreateCollection(const CreateCollectionRequest& request) {
  const std::string db = DbOrDefault(request.db_name);
  const std::string& name = request.schema.name;
  TESSERA_RETURN_IF_ERROR(ValidateName("collection", name));
  TESSERA_RETURN_IF_ERROR(ValidateCollectionProperties(request.properties));
  int32_t shards = request.num_shards == 0 ? 1 : request.num_shards;
  if (shards < 1 || shards > kMaxShards) {
    return Status::InvalidArgument("invalid shard number " + std::to_string(request.num_shards) +
                                   ": must be in [1, 16]");
  }
  {
    std::lock_guard lock(mu_);
    TESSERA_RETURN_IF_ERROR(CheckDatabaseLocked(db));
  }
  TESSERA_ASSIGN_OR_RETURN(core::CollectionSchema schema, PrepareSchema(request.schema, name));
  int32_t num_partitions = 0;
  if (HasPartitionKey(schema)) {
    num_partitions = request.num_partitions == 0 ? kDefaultPartitionKeyPartitions : request.num_partitions;
    if (num_partitions < 1 || num_partitions > kMaxPartitions) {
      return Status::InvalidArgument("invalid num_partitions " + std::to_string(request.num_partitions) +
                                     ": must be in [1, 1024]");
    }
  } else if (request.num_partitions != 0) {
    return Status::InvalidArgument("num_partitions is only allowed when the schema has a partition key field");
  }
  std::vector<IndexInfo> indexes = request.indexes;
  for (size_t i = 0; i < indexes.size(); ++i) {
    TESSERA_RETURN_IF_ERROR(NormalizeIndexDefinition(schema, indexes[i]));
    for (size_t j = 0; j < i; ++j) {
      if (indexes[j].field_id == indexes[i].field_id || indexes[j].name == indexes[i].name) {
        return Status::InvalidArgument("indexParams define two indexes on field '" + indexes[i].field_name +
                                       "' or named '" + indexes[i].name + "': at most one index per field");
      }
    }
  }

  // Ids first (outside the lock); a failed create wastes them, which is harmless.
  const uint32_t partition_count = num_partitions > 0 ? static_cast<uint32_t>(num_partitions) : 1;
  TESSERA_ASSIGN_OR_RETURN(const int64_t collection_id, ids_->Allocate(1));
  TESSERA_ASSIGN_OR_RETURN(const int64_t first_partition_id, ids_->Allocate(partition_count));
  TESSERA_ASSIGN_OR_RETURN(const uint64_t created_ts, tso_->Allocate());
  if (!indexes.empty()) {
    TESSERA_ASSIGN_OR_RETURN(const int64_t first_index_id, ids_->Allocate(static_cast<uint32_t>(indexes.size())));
    for (size_t i = 0; i < indexes.size(); ++i) indexes[i].id = first_index_id + static_cast<int64_t>(i);
  }

  CollectionInfo info;
  info.id = collection_id;
  info.db_name = db;
  info.schema = std::move(schema);
  info.num_shards = shards;
  info.num_partitions = num_partitions;
  info.consistency = request.consistency;
  info.properties = request.properties;
  info.created_ts = created_ts;
  info.indexes = indexes;
  if (num_partitions == 0) {
    info.partitions.push_back(PartitionInfo{.id = first_partition_id, .name = std::string(kDefaultPartition)});
  } else {
    for (int32_t i = 0; i < num_partitions; ++i) {
      info.partitions.push_back(PartitionInfo{.id = first_partition_id + i,
                                              .name = std::string(kDefaultPartition) + "_" + std::to_string(i)});
    }
  }
  {
    std::lock_guard lock(mu_);
    TESSERA_RETURN_IF_ERROR(CheckDatabaseLocked(db));
    if (const CollectionInfo* existing = FindByNameLocked(db, name)) {
      // Milvus makes create idempotent: the same definition again succeeds, so a client
      // whose first attempt timed out can retry.
      if (SameDefinition(*existing, info)) return *existing;
      return Status::AlreadyExists("collection already exists, defined differently" + CollectionTag(db, name));
    }
    if (FindByAliasLocked(db, name) != nullptr) {
      return Status::AlreadyExists("collection name conflicts with an existing alias" + CollectionTag(db, name));
    }
    TESSERA_RETURN_IF_ERROR(CheckRoomForCollectionLocked(db));
    TESSERA_RETURN_IF_ERROR(store_.Apply({CatalogStore::PutCollection(info)}));
    collections_[info.id] = info;
  }
  if (data_node_ != nullptr) {
    Status watched = data_node_->WatchCollection(info);
    if (!watched.ok()) {
      // Nothing was written to the collection yet: undo, so a retry can succeed.
      std::lock_guard lock(mu_);
      Status undone = store_.Apply({CatalogStore::DeleteCollection(info.id)});
      if (undone.ok()) {
        collections_.erase(info.id);
      } else {
        TESSERA_LOG_ERROR("could not undo collection {} after a failed watch: {}", info.id, undone.ToString());
      }
      return watched.WithContext("creating collection '" + name + "': the data node could not watch its channels");
    }
  }
  return info;
}

Result<CollectionInfo> CoordinatorImpl::DescribeCollection(const std::string& db, const std::string& name) {
  std::lock_guard lock(mu_);
  TESSERA_ASSIGN_OR_RETURN(CollectionInfo * info, ResolveLocked(DbOrDefault(db), name));
  return *info;
}

Result<CollectionInfo> CoordinatorImpl::GetCollection(int64_t collection_id) {
  std::lock_guard lock(mu_);
  TESSERA_ASSIGN_OR_RETURN(CollectionInfo * info, CollectionByIdLocked(collection_id));
  return *info;
}

Result<std::vector<std::string>> CoordinatorImpl::ListCollections(const std::string& db_name) {
  const std::string db = DbOrDefault(db_name);
  std::lock_guard lock(mu_);
  TESSERA_RETURN_IF_ERROR(CheckDatabaseLocked(db));
  std::vector<std::string> names;
  for (const auto& [id, info] : collections_) {
    if (info.db_name == db) names.push_back(info.schema.name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Status CoordinatorImpl::DropCollection(const std::string& db_name, const std::string& name) {
  const std::string db = DbOrDefault(db_name);
  int64_t collection_id = 0;
  {
    std::lock_guard lock(mu_);
    TESSERA_RETURN_IF_ERROR(CheckDatabaseLocked(db));
    CollectionInfo* info = FindByNameLocked(db, name);
    if (info == nullptr) {
      if (FindByAliasLocked(db, name) != nullptr) {
        return Status::InvalidArgument("cannot drop a collection through its alias[database=" + db + "][alias=" +
                                       name + "]");
      }
      return Status::NotFound("collection not found" + CollectionTag(db, name));
    }
    collection_id = info->id;
  }
  // Stop serving and consuming first: if either fails, the collection is still whole and
  // the drop can be retried.
  if (query_node_ != nullptr) {
    std::shared_ptr<std::mutex> notify = NotifyMutex(collection_id);
    std::lock_guard notify_lock(*notify);
    TESSERA_RETURN_IF_ERROR(query_node_->ReleaseCollection(collection_id));
  }
  if (data_node_ != nullptr) TESSERA_RETURN_IF_ERROR(data_node_->UnwatchCollection(collection_id));

  std::lock_guard lock(mu_);
  auto it = collections_.find(collection_id);
  if (it == collections_.end()) return Status::NotFound("collection not found" + CollectionTag(db, name));
  std::vector<storage::TxnOp> ops = {CatalogStore::DeleteCollection(collection_id)};
  const std::vector<std::string> channels = it->second.Channels();
  for (const std::string& channel : channels) ops.push_back(CatalogStore::DeleteCheckpoint(channel));
  TESSERA_RETURN_IF_ERROR(store_.Apply(std::move(ops)));
  collections_.erase(it);
  for (const std::string& channel : channels) checkpoints_.erase(channel);
  notify_mu_.erase(collection_id);

  // Hand the segments to GC. The collection key is gone already, so a crash here is
  // finished by Open (segments of unknown collections are marked dropped).
  crash_point::Reach(crash_point::Site::kDropBeforeSegments);
  std::vector<storage::TxnOp> segment_ops;
  for (auto& [id, segment] : segments_) {
    if (segment.collection_id != collection_id || segment.dropped) continue;
    segment.dropped = true;
    segment_ops.push_back(CatalogStore::PutSegment(segment));
  }
  const auto owned = [&](int64_t segment_id) {
    if (auto seg = segments_.find(segment_id); seg != segments_.end()) return seg->second.collection_id == collection_id;
    auto out = compaction_outputs_.find(segment_id);
    return out != compaction_outputs_.end() && out->second.segment.collection_id == collection_id;
  };
  std::erase_if(pending_builds_, [&](const BuildKey& key) { return owned(key.first); });
  std::erase_if(failed_builds_, [&](const auto& entry) { return owned(entry.first.first); });
  for (auto out = compaction_outputs_.begin(); out != compaction_outputs_.end();) {
    if (out->second.segment.collection_id == collection_id) {
      FailPlanLocked(out->second.job_id, out->second.plan, "collection dropped");
      out = compaction_outputs_.erase(out);
    } else {
      ++out;
    }
  }
  Status marked = store_.ApplyChunked(std::move(segment_ops));
  if (!marked.ok()) {
    TESSERA_LOG_WARN("collection {} dropped; marking its segments dropped failed (finished at next start): {}",
                     collection_id, marked.ToString());
  }
  UpdateGaugesLocked();
  return Status::OK();
}

Status CoordinatorImpl::RenameCollection(const std::string& db_name, const std::string& name,
                                         const std::string& new_db_name, const std::string& new_name) {
  const std::string db = DbOrDefault(db_name);
  const std::string new_db = DbOrDefault(new_db_name);
  TESSERA_RETURN_IF_ERROR(ValidateName("collection", new_name));
  int64_t collection_id = 0;
  bool loaded = false;
  {
    std::lock_guard lock(mu_);
    TESSERA_RETURN_IF_ERROR(CheckDatabaseLocked(db));
    TESSERA_RETURN_IF_ERROR(CheckDatabaseLocked(new_db));
    CollectionInfo* info = FindByNameLocked(db, name);
    if (info == nullptr) return Status::NotFound("collection not found" + CollectionTag(db, name));
    if (FindByNameLocked(new_db, new_name) != nullptr) {
      return Status::AlreadyExists("collection already exists" + CollectionTag(new_db, new_name));
    }
    if (FindByAliasLocked(new_db, new_name) != nullptr) {
      return Status::AlreadyExists("collection name conflicts with an existing alias" + CollectionTag(new_db, new_name));
    }
    if (new_db != db && !info->aliases.empty()) {
      return Status::FailedPrecondition("collection" + CollectionTag(db, name) +
                                        " has aliases; drop them before moving it to another database");
    }
    if (new_db != db) TESSERA_RETURN_IF_ERROR(CheckRoomForCollectionLocked(new_db));
    CollectionInfo updated = *info;
    updated.db_name = new_db;
    updated.schema.name = new_name;
    TESSERA_RETURN_IF_ERROR(store_.Apply({CatalogStore::PutCollection(updated)}));
    *info = std::move(updated);
    collection_id = info->id;
    loaded = info->loaded;
  }
  if (loaded) {
    Status s = PushLoad(collection_id);
    if (!s.ok()) TESSERA_LOG_WARN("renamed collection {}: query node refresh failed: {}", collection_id, s.ToString());
  }
  return Status::OK();
}

Status CoordinatorImpl::AlterCollectionProperties(const std::string& db, const std::string& name,
                                                  const std::map<std::string, std::string>& set,
                                                  const std::vector<std::string>& drop_keys) {
  TESSERA_RETURN_IF_ERROR(ValidateCollectionProperties(set));
  int64_t collection_id = 0;
  bool loaded = false;
  {
    std::lock_guard lock(mu_);
    TESSERA_ASSIGN_OR_RETURN(CollectionInfo * info, ResolveLocked(DbOrDefault(db), name));
    CollectionInfo updated = *info;
    ApplyProperties(&updated.properties, set, drop_keys);
    TESSERA_RETURN_IF_ERROR(store_.Apply({CatalogStore::PutCollection(updated)}));
    *info = std::move(updated);
    collection_id = info->id;
    loaded = info->loaded;
  }
  // The query node reads some of them (collection.ttl.seconds): it gets the new info.
  if (loaded) {
    Status s = PushLoad(collection_id);
    if (!s.ok()) {
      TESSERA_LOG_WARN("properties of collection {} changed: query node refresh failed: {}", collection_id,
                       s.ToString());
    }
  }
  return Status::OK();
}

// ---- partitions ----------------------------------------------------------------------------

Status CoordinatorImpl::CreatePartition(const std::string& db, const std::string& collection,
                                        const std::string& name) {
  TESSERA_RETURN_IF_ERROR(ValidateName("partition", name));
  TESSERA_ASSIGN_OR_RETURN(const int64_t partition_id, ids_->Allocate(1));
  int64_t collection_id = 0;
  bool loaded = false;
  {
    std::lock_guard lock(mu_);
    TESSERA_ASSIGN_OR_RETURN(CollectionInfo * info, ResolveLocked(DbOrDefault(db), collection));
    if (info->num_partitions > 0) {
      return Status::FailedPrecondition("partitions cannot be created in a collection with a partition key[collection=" +
                                        info->schema.name + "]");
    }
    if (info->FindPartition(name) != nullptr) {
      return Status::AlreadyExists("partition already exists[collection=" + info->schema.name + "][partition=" +
                                   name + "]");
    }
    if (info->partitions.size() >= static_cast<size_t>(kMaxPartitions)) {
      return Status::FailedPrecondition("collection " + info->schema.name + " already has the maximum of 1024 partitions");
    }
    // A partition created in a fully loaded collection is loaded with it (as in Milvus); in a
    // partially loaded one it waits for an explicit load like the other unloaded ones.
    const bool fully_loaded = info->loaded && std::all_of(info->partitions.begin(), info->partitions.end(),
                                                          [](const PartitionInfo& p) { return p.loaded; });
    CollectionInfo updated = *info;
    updated.partitions.push_back(PartitionInfo{.id = partition_id, .name = name, .loaded = fully_loaded});
    TESSERA_RETURN_IF_ERROR(store_.Apply({CatalogStore::PutCollection(updated)}));
    *info = std::move(updated);
    collection_id = info->id;
    loaded = info->loaded;
  }
  if (loaded) {
    Status s = PushLoad(collection_id);
    if (!s.ok()) TESSERA_LOG_WARN("new partition of collection {}: query node refresh failed: {}", collection_id, s.ToString());
  }
  return Status::OK();
}

Status CoordinatorImpl::DropPartition(const std::string& db, const std::string& collection, const std::string& name) {
  int64_t collection_id = 0;
  bool loaded = false;
  {
    std::lock_guard lock(mu_);
    TESSERA_ASSIGN_OR_RETURN(CollectionInfo * info, ResolveLocked(DbOrDefault(db), collection));
    if (name == kDefaultPartition) return Status::FailedPrecondition("the default partition cannot be dropped");
    if (info->num_partitions > 0) {
      return Status::FailedPrecondition("partitions cannot be dropped from a collection with a partition key[collection=" +
                                        info->schema.name + "]");
    }
    const PartitionInfo* partition = info->FindPartition(name);
    if (partition == nullptr) {
      return Status::NotFound("partition not found[collection=" + info->schema.name + "][partition=" + name + "]");
    }
    if (info->loaded && partition->loaded) {
      return Status::FailedPrecondition("partition is loaded, release it first[collection=" + info->schema.name +
                                        "][partition=" + name + "]");
    }
    CollectionInfo updated = *info;
    std::erase_if(updated.partitions, [&](const PartitionInfo& p) { return p.name == name; });
    TESSERA_RETURN_IF_ERROR(store_.Apply({CatalogStore::PutCollection(updated)}));
    *info = std::move(updated);
    collection_id = info->id;
    loaded = info->loaded;
  }
  if (loaded) {
    Status s = PushLoad(collection_id);
    if (!s.ok()) TESSERA_LOG_WARN("dropped partition of collection {}: query node refresh failed: {}", collection_id, s.ToString());
  }
  return Status::OK();
}

// ---- aliases -------------------------------------------------------------------------------

Status CoordinatorImpl::CreateAlias(const std::string& db_name, const std::string& alias,
                                    const std::string& collection) {
  const std::string db = DbOrDefault(db_name);
  TESSERA_RETURN_IF_ERROR(ValidateName("alias", alias));
  std::lock_guard lock(mu_);
  TESSERA_RETURN_IF_ERROR(CheckDatabaseLocked(db));
  CollectionInfo* target = FindByNameLocked(db, collection);
  if (target == nullptr) return Status::NotFound("collection not found" + CollectionTag(db, collection));
  if (FindByNameLocked(db, alias) != nullptr) {
    return Status::AlreadyExists("alias conflicts with an existing collection name[database=" + db + "][alias=" +
                                 alias + "]");
  }
  if (CollectionInfo* owner = FindByAliasLocked(db, alias)) {
    if (owner == target) return Status::OK();
    return Status::AlreadyExists("alias already exists[database=" + db + "][alias=" + alias + "][collection=" +
                                 owner->schema.name + "]");
  }
  CollectionInfo updated = *target;
  updated.aliases.push_back(alias);
  std::sort(updated.aliases.begin(), updated.aliases.end());
  TESSERA_RETURN_IF_ERROR(store_.Apply({CatalogStore::PutCollection(updated)}));
  *target = std::move(updated);
  return Status::OK();
}

Status CoordinatorImpl::AlterAlias(const std::string& db_name, const std::string& alias,
                                   const std::string& collection) {
  const std::string db = DbOrDefault(db_name);
  TESSERA_RETURN_IF_ERROR(ValidateName("alias", alias));
  std::lock_guard lock(mu_);
  TESSERA_RETURN_IF_ERROR(CheckDatabaseLocked(db));
  CollectionInfo* owner = FindByAliasLocked(db, alias);
  if (owner == nullptr) return Status::NotFound("alias not found[database=" + db + "][alias=" + alias + "]");
  CollectionInfo* target = FindByNameLocked(db, collection);
  if (target == nullptr) return Status::NotFound("collection not found" + CollectionTag(db, collection));
  if (owner == target) return Status::OK();
  CollectionInfo old_owner = *owner;
  std::erase(old_owner.aliases, alias);
  CollectionInfo new_owner = *target;
  new_owner.aliases.push_back(alias);
  std::sort(new_owner.aliases.begin(), new_owner.aliases.end());
  // Both collections change together: the alias is never on both, nor on neither.
  TESSERA_RETURN_IF_ERROR(
      store_.Apply({CatalogStore::PutCollection(old_owner), CatalogStore::PutCollection(new_owner)}));
  *owner = std::move(old_owner);
  *target = std::move(new_owner);
  return Status::OK();
}

Status CoordinatorImpl::DropAlias(const std::string& db_name, const std::string& alias) {
  const std::string db = DbOrDefault(db_name);
  std::lock_guard lock(mu_);
  TESSERA_RETURN_IF_ERROR(CheckDatabaseLocked(db));
  CollectionInfo* owner = FindByAliasLocked(db, alias);
  if (owner == nullptr) return Status::NotFound("alias not found[database=" + db + "][alias=" + alias + "]");
  CollectionInfo updated = *owner;
  std::erase(updated.aliases, alias);
  TESSERA_RETURN_IF_ERROR(store_.Apply({CatalogStore::PutCollection(updated)}));
  *owner = std::move(updated);
  return Status::OK();
}

Result<std::string> CoordinatorImpl::DescribeAlias(const std::string& db_name, const std::string& alias) {
  const std::string db = DbOrDefault(db_name);
  std::lock_guard lock(mu_);
  TESSERA_RETURN_IF_ERROR(CheckDatabaseLocked(db));
  CollectionInfo* owner = FindByAliasLocked(db, alias);
  if (owner == nullptr) return Status::NotFound("alias not found[database=" + db + "][alias=" + alias + "]");
  return owner->schema.name;
}

Result<std::vector<std::string>> CoordinatorImpl::ListAliases(const std::string& db_name,
                                                               const std::string& collection) {
  const std::string db = DbOrDefault(db_name);
  std::lock_guard lock(mu_);
  TESSERA_RETURN_IF_ERROR(CheckDatabaseLocked(db));
  std::vector<std::string> aliases;
  if (!collection.empty()) {
    TESSERA_ASSIGN_OR_RETURN(CollectionInfo * info, ResolveLocked(db, collection));
    aliases = info->aliases;
  } else {
    for (const auto& [id, info] : collections_) {
      if (info.db_name == db) aliases.insert(aliases.end(), info.aliases.begin(), info.aliases.end());
    }
  }
  std::sort(aliases.begin(), aliases.end());
  return aliases;
}

}  // namespace tessera::coord
