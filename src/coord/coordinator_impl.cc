#include "coord/coordinator_impl.h"

#include <utility>

#include "common/logging.h"
#include "common/metrics.h"
#include "coord/coord_metrics.h"
#include "coord/meta_keys.h"

namespace tessera::coord {

namespace {

metrics::Gauge& SegmentGauge(const std::string& state) {
  return metrics::Registry::Default().GetGauge("tessera_coord_segments",
                                               "Segments known to the coordinator, by state.", {{"state", state}});
}

}  // namespace

CoordinatorImpl::CoordinatorImpl(CoordinatorOptions options, storage::MetaStore* meta, storage::ObjectStore* objects)
    : options_(options), meta_(meta), objects_(objects), store_(meta) {}

Result<std::unique_ptr<CoordinatorImpl>> CoordinatorImpl::Open(CoordinatorOptions options, storage::MetaStore* meta,
                                                               storage::ObjectStore* objects) {
  if (meta == nullptr || objects == nullptr) {
    return Status::InvalidArgument("CoordinatorImpl::Open needs a MetaStore and an ObjectStore");
  }
  std::unique_ptr<CoordinatorImpl> coord(new CoordinatorImpl(options, meta, objects));
  TESSERA_ASSIGN_OR_RETURN(CatalogSnapshot snapshot, coord->store_.Load());
  // Every catalog has the default database from its first open on; without it the
  // catalog is new, and so must be the data.
  if (snapshot.databases.empty()) TESSERA_RETURN_IF_ERROR(CheckNoDataWithoutCatalog(*objects));
  TESSERA_ASSIGN_OR_RETURN(coord->tso_, TimestampOracle::Open(meta));
  TESSERA_ASSIGN_OR_RETURN(coord->ids_, IdAllocator::Open(meta));
  TESSERA_RETURN_IF_ERROR(coord->Recover(std::move(snapshot)));
  coord->compaction_pool_ = std::make_unique<ThreadPool>(1, "coord-compact");
  RegisterCoordMetrics();
  return coord;
}

Status CoordinatorImpl::CheckNoDataWithoutCatalog(storage::ObjectStore& objects) {
  storage::ListOptions list;
  list.prefix = std::string(kCollectionDataPrefix);
  list.max_keys = 1;
  TESSERA_ASSIGN_OR_RETURN(storage::ListResult page, objects.List(list));
  if (page.objects.empty()) return Status::OK();
  return Status::FailedPrecondition(
      "the metadata store holds no catalog, but the object store (" + std::string(objects.name()) +
      ") already holds collection data (" + page.objects.front().key +
      " and maybe more): the metadata was lost, or the object store belongs to another deployment. Refusing to "
      "start, so that garbage collection cannot delete data no catalog knows; restore the metadata store, or point "
      "object_store at an empty bucket, prefix or path");
}

Status CoordinatorImpl::Recover(CatalogSnapshot snapshot) {
  std::lock_guard lock(mu_);
  databases_ = std::move(snapshot.databases);
  collections_ = std::move(snapshot.collections);
  segments_ = std::move(snapshot.segments);
  checkpoints_ = std::move(snapshot.checkpoints);

  std::vector<storage::TxnOp> repairs;
  if (databases_.find(std::string(kDefaultDatabase)) == databases_.end()) {
    TESSERA_ASSIGN_OR_RETURN(const int64_t id, ids_->Allocate(1));
    DatabaseInfo db{.id = id, .name = std::string(kDefaultDatabase), .properties = {}};
    repairs.push_back(CatalogStore::PutDatabase(db));
    databases_[db.name] = std::move(db);
  }
  // Multi-key changes that are not one transaction (dropping a collection's segments,
  // dropping an index's files) write the decisive key first; finish them here.
  for (auto& [id, segment] : segments_) {
    auto coll = collections_.find(segment.collection_id);
    bool changed = false;
    if (coll == collections_.end()) {
      if (!segment.dropped) {
        segment.dropped = true;
        changed = true;
      }
    } else {
      for (auto it = segment.index_files.begin(); it != segment.index_files.end();) {
        bool known = false;
        for (const IndexInfo& index : coll->second.indexes) known = known || index.id == it->first;
        if (known) {
          ++it;
        } else {
          it = segment.index_files.erase(it);
          changed = true;
        }
      }
    }
    if (changed) repairs.push_back(CatalogStore::PutSegment(segment));
  }
  TESSERA_RETURN_IF_ERROR(store_.ApplyChunked(std::move(repairs)));
  UpdateGaugesLocked();
  return Status::OK();
}

CoordinatorImpl::~CoordinatorImpl() { Stop(); }

void CoordinatorImpl::AttachNodes(datanode::DataNode* data_node, indexnode::IndexNode* index_node,
                                  querynode::QueryNode* query_node) {
  data_node_ = data_node;
  index_node_ = index_node;
  query_node_ = query_node;
}

Status CoordinatorImpl::Start() {
  {
    std::lock_guard lock(bg_mu_);
    if (started_) return Status::FailedPrecondition("coordinator already started");
    if (stopping_) return Status::FailedPrecondition("coordinator stopped");
    started_ = true;
  }
  std::vector<CollectionInfo> collections;
  std::vector<indexnode::BuildJob> builds;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, info] : collections_) collections.push_back(info);
    for (const auto& [id, segment] : segments_) {
      if (segment.dropped) continue;
      auto coll = collections_.find(segment.collection_id);
      if (coll == collections_.end()) continue;
      for (auto& job : PlanBuildsLocked(coll->second, segment)) builds.push_back(std::move(job));
    }
    UpdateGaugesLocked();
  }
  if (data_node_ != nullptr) {
    for (const CollectionInfo& info : collections) {
      Status s = data_node_->WatchCollection(info);
      if (!s.ok()) return s.WithContext("recovery: watching collection " + std::to_string(info.id));
    }
  }
  SubmitBuilds(std::move(builds));
  for (const CollectionInfo& info : collections) {
    if (!info.loaded) continue;
    Status s = PushLoad(info.id);
    if (!s.ok()) TESSERA_LOG_ERROR("recovery: loading collection {} failed: {}", info.id, s.ToString());
  }
  std::lock_guard lock(bg_mu_);
  if (stopping_) return Status::OK();
  if (options_.compaction_interval.count() > 0) compaction_thread_ = std::thread([this] { CompactionLoop(); });
  if (options_.gc_interval.count() > 0) gc_thread_ = std::thread([this] { GcLoop(); });
  if (options_.load_retry_interval.count() > 0) retry_thread_ = std::thread([this] { RetryLoop(); });
  return Status::OK();
}

void CoordinatorImpl::Stop() {
  std::unique_ptr<ThreadPool> pool;
  {
    std::lock_guard lock(bg_mu_);
    stopping_ = true;
    pool = std::move(compaction_pool_);
  }
  bg_cv_.notify_all();
  if (compaction_thread_.joinable()) compaction_thread_.join();
  if (gc_thread_.joinable()) gc_thread_.join();
  if (retry_thread_.joinable()) retry_thread_.join();
  // Finishes queued tasks; they see stopping_ and give up their plans.
  pool.reset();
}

bool CoordinatorImpl::SleepFor(std::chrono::milliseconds interval) {
  std::unique_lock lock(bg_mu_);
  bg_cv_.wait_for(lock, interval, [this] { return stopping_.load(); });
  return !stopping_;
}

// ---- TSO and ids -----------------------------------------------------------------------

Result<uint64_t> CoordinatorImpl::AllocateTimestamp() { return tso_->Allocate(); }

Result<int64_t> CoordinatorImpl::AllocateIds(uint32_t count) { return ids_->Allocate(count); }

// ---- lookups -----------------------------------------------------------------------------

Status CoordinatorImpl::CheckDatabaseLocked(const std::string& db) const {
  if (databases_.find(db) == databases_.end()) return Status::NotFound("database not found[database=" + db + "]");
  return Status::OK();
}

CollectionInfo* CoordinatorImpl::FindByNameLocked(const std::string& db, const std::string& name) {
  for (auto& [id, info] : collections_) {
    if (info.db_name == db && info.schema.name == name) return &info;
  }
  return nullptr;
}

CollectionInfo* CoordinatorImpl::FindByAliasLocked(const std::string& db, const std::string& alias) {
  for (auto& [id, info] : collections_) {
    if (info.db_name != db) continue;
    for (const std::string& a : info.aliases) {
      if (a == alias) return &info;
    }
  }
  return nullptr;
}

Result<CollectionInfo*> CoordinatorImpl::ResolveLocked(const std::string& db, const std::string& name) {
  TESSERA_RETURN_IF_ERROR(CheckDatabaseLocked(db));
  if (CollectionInfo* info = FindByNameLocked(db, name)) return info;
  if (CollectionInfo* info = FindByAliasLocked(db, name)) return info;
  return Status::NotFound("collection not found[database=" + db + "][collection=" + name + "]");
}

Result<CollectionInfo*> CoordinatorImpl::CollectionByIdLocked(int64_t collection_id) {
  auto it = collections_.find(collection_id);
  if (it == collections_.end()) {
    return Status::NotFound("collection not found[collection_id=" + std::to_string(collection_id) + "]");
  }
  return &it->second;
}

std::vector<SegmentInfo> CoordinatorImpl::LiveSegmentsLocked(int64_t collection_id) const {
  std::vector<SegmentInfo> live;
  for (const auto& [id, segment] : segments_) {
    if (segment.collection_id == collection_id && !segment.dropped) live.push_back(segment);
  }
  return live;
}

std::map<std::string, uint64_t> CoordinatorImpl::CheckpointsLocked(const CollectionInfo& info) const {
  std::map<std::string, uint64_t> checkpoints;
  for (const std::string& channel : info.Channels()) {
    auto it = checkpoints_.find(channel);
    checkpoints[channel] = it == checkpoints_.end() ? 0 : it->second;
  }
  return checkpoints;
}

void CoordinatorImpl::UpdateGaugesLocked() {
  int64_t live = 0;
  int64_t dropped = 0;
  for (const auto& [id, segment] : segments_) (segment.dropped ? dropped : live) += 1;
  SegmentGauge("flushed").Set(static_cast<double>(live));
  SegmentGauge("dropped").Set(static_cast<double>(dropped));
  SegmentGauge("compacting").Set(static_cast<double>(compaction_outputs_.size()));
  metrics::Registry::Default()
      .GetGauge("tessera_coord_pending_index_builds", "Index builds submitted and not reported back yet.")
      .Set(static_cast<double>(pending_builds_.size()));
  metrics::Registry::Default()
      .GetGauge("tessera_coord_deferred_index_builds",
                "Segments, mostly deleted when written, whose index builds wait for their compaction.")
      .Set(static_cast<double>(deferred_builds_.size()));
}

size_t CoordinatorImpl::PendingIndexBuilds() const {
  std::lock_guard lock(mu_);
  return pending_builds_.size();
}

// ---- query node notifications --------------------------------------------------------

std::shared_ptr<std::mutex> CoordinatorImpl::NotifyMutex(int64_t collection_id) {
  std::lock_guard lock(mu_);
  auto& m = notify_mu_[collection_id];
  if (!m) m = std::make_shared<std::mutex>();
  return m;
}

bool CoordinatorImpl::PushSegment(int64_t collection_id, int64_t segment_id) {
  if (query_node_ == nullptr) return true;
  std::shared_ptr<std::mutex> notify = NotifyMutex(collection_id);
  std::lock_guard notify_lock(*notify);
  SegmentInfo segment;
  bool refused_before = false;
  {
    std::lock_guard lock(mu_);
    refused_before = refused_segments_.erase({collection_id, segment_id}) > 0;
    auto coll = collections_.find(collection_id);
    if (coll == collections_.end() || !coll->second.loaded) return true;
    auto it = segments_.find(segment_id);
    if (it == segments_.end() || it->second.dropped) return true;
    segment = it->second;
  }
  Status s = query_node_->AddSegment(segment);
  if (s.ok()) return true;
  if (refused_before) {  // a retry: said once already
    TESSERA_LOG_DEBUG("query node rejected segment {} of collection {} again: {}", segment_id, collection_id,
                      s.ToString());
  } else {
    TESSERA_LOG_WARN("query node rejected segment {} of collection {}: {}", segment_id, collection_id, s.ToString());
  }
  std::lock_guard lock(mu_);
  refused_segments_.insert({collection_id, segment_id});
  return false;
}

size_t CoordinatorImpl::RetryRefusedLoads() {
  if (query_node_ == nullptr) return 0;
  std::vector<int64_t> collections;
  std::set<std::pair<int64_t, int64_t>> segments;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, info] : collections_) {
      if (info.loaded) collections.push_back(id);
    }
    segments = refused_segments_;
  }
  size_t taken = 0;
  for (int64_t id : collections) {
    // Only loads that failed: one in progress or never tried is not this loop's business.
    if (query_node_->IsLoaded(id) || query_node_->LoadFailure(id).ok()) continue;
    Status s = PushLoad(id);
    if (s.ok()) {
      TESSERA_LOG_INFO("collection {} loaded on a retry", id);
      ++taken;
    }
  }
  for (const auto& [collection_id, segment_id] : segments) {
    // A reload above brought every live segment along; PushSegment then has nothing new
    // to say, and AddSegment of a segment already served is cheap.
    if (PushSegment(collection_id, segment_id)) ++taken;
  }
  return taken;
}

Status CoordinatorImpl::PushLoad(int64_t collection_id) {
  if (query_node_ == nullptr) return Status::OK();
  std::shared_ptr<std::mutex> notify = NotifyMutex(collection_id);
  std::lock_guard notify_lock(*notify);
  CollectionInfo info;
  std::vector<SegmentInfo> segments;
  std::map<std::string, uint64_t> checkpoints;
  {
    std::lock_guard lock(mu_);
    auto coll = collections_.find(collection_id);
    if (coll == collections_.end() || !coll->second.loaded) return Status::OK();
    info = coll->second;
    segments = LiveSegmentsLocked(collection_id);
    checkpoints = CheckpointsLocked(info);
  }
  return query_node_->LoadCollection(info, segments, checkpoints);
}

// ---- background loops --------------------------------------------------------------------

void CoordinatorImpl::CompactionLoop() {
  while (SleepFor(options_.compaction_interval)) {
    auto jobs = CompactAll();
    if (!jobs.ok()) TESSERA_LOG_WARN("background compaction: {}", jobs.status().ToString());
  }
}

void CoordinatorImpl::RetryLoop() {
  while (SleepFor(options_.load_retry_interval)) {
    RetryRefusedLoads();
  }
}

void CoordinatorImpl::GcLoop() {
  while (SleepFor(options_.gc_interval)) {
    Status s = RunGarbageCollection();
    if (!s.ok()) TESSERA_LOG_WARN("garbage collection: {}", s.ToString());
    s = TruncateWal();
    if (!s.ok()) TESSERA_LOG_WARN("WAL retention: {}", s.ToString());
  }
}

}  // namespace tessera::coord
