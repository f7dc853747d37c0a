// Load and release.

#include <utility>

#include "common/logging.h"
#include "coord/coordinator_impl.h"
#include "coord/names.h"

namespace tessera::coord {

Status CoordinatorImpl::LoadCollection(const std::string& db_name, const std::string& collection,
                                       const std::vector<std::string>& partitions) {
  const std::string db = DbOrDefault(db_name);
  int64_t collection_id = 0;
  CollectionInfo before;
  {
    std::lock_guard lock(mu_);
    TESSERA_ASSIGN_OR_RETURN(CollectionInfo * info, ResolveLocked(db, collection));
    for (const core::FieldSchema& f : info->schema.fields) {
      if (core::IsVectorType(f.data_type) && info->IndexOnField(f.id) == nullptr) {
        return Status::FailedPrecondition("index not found[collection=" + info->schema.name + "][field=" + f.name +
                                          "]: create an index on every vector field before loading");
      }
    }
    for (const std::string& name : partitions) {
      if (info->FindPartition(name) == nullptr) {
        return Status::NotFound("partition not found[collection=" + info->schema.name + "][partition=" + name + "]");
      }
    }
    before = *info;
    CollectionInfo updated = *info;
    for (PartitionInfo& p : updated.partitions) {
      bool named = partitions.empty();
      for (const std::string& name : partitions) named = named || p.name == name;
      // Loading partitions adds to what is loaded already.
      p.loaded = named || (updated.loaded && p.loaded);
    }
    updated.loaded = true;
    TESSERA_RETURN_IF_ERROR(store_.Apply({CatalogStore::PutCollection(updated)}));
    *info = std::move(updated);
    collection_id = info->id;
  }
  Status loaded = PushLoad(collection_id);
  if (loaded.ok()) return Status::OK();
  // Put the flags back so the state does not claim a load that did not happen.
  std::lock_guard lock(mu_);
  auto it = collections_.find(collection_id);
  if (it != collections_.end()) {
    CollectionInfo reverted = it->second;
    reverted.loaded = before.loaded;
    for (PartitionInfo& p : reverted.partitions) {
      const PartitionInfo* old = before.FindPartition(p.name);
      p.loaded = old != nullptr && old->loaded;
    }
    if (store_.Apply({CatalogStore::PutCollection(reverted)}).ok()) it->second = std::move(reverted);
  }
  return loaded.WithContext("loading collection '" + before.schema.name + "'");
}

Status CoordinatorImpl::ReleaseCollection(const std::string& db_name, const std::string& collection,
                                          const std::vector<std::string>& partitions) {
  const std::string db = DbOrDefault(db_name);
  int64_t collection_id = 0;
  bool full_release = false;
  {
    std::lock_guard lock(mu_);
    TESSERA_ASSIGN_OR_RETURN(CollectionInfo * info, ResolveLocked(db, collection));
    for (const std::string& name : partitions) {
      if (info->FindPartition(name) == nullptr) {
        return Status::NotFound("partition not found[collection=" + info->schema.name + "][partition=" + name + "]");
      }
    }
    collection_id = info->id;
    CollectionInfo updated = *info;
    bool any_loaded = false;
    for (PartitionInfo& p : updated.partitions) {
      bool named = partitions.empty();
      for (const std::string& name : partitions) named = named || p.name == name;
      if (named) p.loaded = false;
      any_loaded = any_loaded || p.loaded;
    }
    full_release = partitions.empty() || !any_loaded || !info->loaded;
    if (full_release) {
      updated.loaded = false;
      for (PartitionInfo& p : updated.partitions) p.loaded = false;
    }
    TESSERA_RETURN_IF_ERROR(store_.Apply({CatalogStore::PutCollection(updated)}));
    *info = std::move(updated);
  }
  if (!full_release) return PushLoad(collection_id);
  if (query_node_ == nullptr) return Status::OK();
  std::shared_ptr<std::mutex> notify = NotifyMutex(collection_id);
  std::lock_guard notify_lock(*notify);
  return query_node_->ReleaseCollection(collection_id);
}

Result<LoadStatus> CoordinatorImpl::GetLoadState(int64_t collection_id) {
  {
    std::lock_guard lock(mu_);
    TESSERA_ASSIGN_OR_RETURN(CollectionInfo * info, CollectionByIdLocked(collection_id));
    if (!info->loaded) return LoadStatus{.state = LoadState::kNotLoad, .progress = 0, .failure = ""};
  }
  if (query_node_ == nullptr || query_node_->IsLoaded(collection_id)) {
    return LoadStatus{.state = LoadState::kLoaded, .progress = 100, .failure = ""};
  }
  // Loaded in the catalog, not on the node: still loading, or the load failed (then the
  // catalog keeps the flag, so a restart with more memory loads it again).
  Status failure = query_node_->LoadFailure(collection_id);
  if (!failure.ok()) return LoadStatus{.state = LoadState::kNotLoad, .progress = 0, .failure = failure.message()};
  return LoadStatus{.state = LoadState::kLoading, .progress = 0, .failure = ""};
}

}  // namespace tessera::coord
