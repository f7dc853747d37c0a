#include "querynode/query_node_impl.h"

#include <chrono>
#include <optional>

#include "common/logging.h"
#include "common/process_memory.h"
#include "querynode/loaded_collection.h"
#include "querynode/memory_guard.h"
#include "querynode/query_node_metrics.h"
#include "querynode/search_executor.h"
#include "querynode/segment_loader.h"
#include "storage/log/log.h"
#include "storage/object/object_store.h"

namespace tessera::querynode {
namespace {

constexpr int kDefaultLoadThreads = 4;

/// Counts a search or query as queued/running for QueueDepth and the gauge, and records
/// its outcome and latency when it ends.
class InFlight {
 public:
  InFlight(std::atomic<size_t>& counter, metrics::Counter& total, metrics::Counter& errors,
           metrics::Histogram& latency)
      : counter_(counter), total_(total), errors_(errors), latency_(latency),
        start_(std::chrono::steady_clock::now()) {
    counter_.fetch_add(1);
    QueryNodeMetrics::Get().queue_depth.Add(1);
  }
  ~InFlight() {
    counter_.fetch_sub(1);
    QueryNodeMetrics::Get().queue_depth.Add(-1);
    total_.Inc();
    if (failed_) errors_.Inc();
    latency_.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }
  template <typename T>
  Result<T> Done(Result<T> result) {
    failed_ = !result.ok();
    return result;
  }

 private:
  std::atomic<size_t>& counter_;
  metrics::Counter& total_;
  metrics::Counter& errors_;
  metrics::Histogram& latency_;
  std::chrono::steady_clock::time_point start_;
  bool failed_ = false;
};

std::string NotLoaded(int64_t collection_id) {
  return "collection not loaded: collection " + std::to_string(collection_id) + " is not loaded on this query node";
}

}  // namespace

std::unique_ptr<QueryNodeImpl> CreateQueryNode(QueryNodeOptions options, storage::Log* log,
                                               storage::ObjectStore* store) {
  return std::make_unique<QueryNodeImpl>(options, log, store);
}

QueryNodeImpl::QueryNodeImpl(QueryNodeOptions options, storage::Log* log, storage::ObjectStore* store)
    : options_(options),
      log_(log),
      store_(store),
      search_pool_(static_cast<size_t>(std::max(options.search_threads, 0)), "qn-search"),
      load_pool_(static_cast<size_t>(options.load_threads > 0 ? options.load_threads : kDefaultLoadThreads),
                 "qn-load"),
      memory_guard_(std::make_unique<MemoryGuard>(options.memory_limit, options.memory_in_use)) {
  lag_sampler_ = std::thread([this] { SampleWalLag(); });
}

QueryNodeImpl::~QueryNodeImpl() { Stop(); }

void QueryNodeImpl::Stop() {
  std::map<int64_t, std::shared_ptr<LoadedCollection>> collections;
  {
    std::lock_guard<std::mutex> l(mu_);
    stopped_ = true;
    collections.swap(collections_);
  }
  stop_cv_.notify_all();
  if (lag_sampler_.joinable()) lag_sampler_.join();
  for (auto& [id, collection] : collections) collection->StopTailing();
}

void QueryNodeImpl::SampleWalLag() {
  // The log is asked here, not when /metrics renders: on NATS each channel costs a request,
  // and the registry's lock is held while it renders.
  metrics::Gauge& gauge = QueryNodeMetrics::Get().wal_lag;
  double reported = 0;  // this node's share of the process-wide gauge
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_cv_.wait_for(l, std::chrono::seconds(1), [&] { return stopped_; })) {
    l.unlock();
    const double lag = static_cast<double>(WalLagRecords());
    gauge.Add(lag - reported);
    reported = lag;
    l.lock();
  }
  gauge.Add(-reported);
}

std::shared_ptr<LoadedCollection> QueryNodeImpl::Find(int64_t collection_id) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = collections_.find(collection_id);
  return it == collections_.end() ? nullptr : it->second;
}

Result<std::shared_ptr<LoadedCollection>> QueryNodeImpl::FindReady(int64_t collection_id) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = collections_.find(collection_id);
  if (it != collections_.end() && it->second->ready()) return it->second;
  if (it != collections_.end()) {
    // Milvus answers 103 while a load is under way.
    return Status::FailedPrecondition("collection not fully loaded: collection '" + it->second->schema().name +
                                      "' is still loading on this query node");
  }
  auto failure = load_failures_.find(collection_id);
  if (failure == load_failures_.end()) return Status::FailedPrecondition(NotLoaded(collection_id));
  return Status::FailedPrecondition(NotLoaded(collection_id) + "; its last load failed: " + failure->second.ToString());
}

bool QueryNodeImpl::IsLoaded(int64_t collection_id) const {
  std::shared_ptr<LoadedCollection> collection = Find(collection_id);
  return collection != nullptr && collection->ready();
}

Status QueryNodeImpl::LoadFailure(int64_t collection_id) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = load_failures_.find(collection_id);
  return it == load_failures_.end() ? Status::OK() : it->second;
}

std::map<std::string, uint64_t> QueryNodeImpl::TailPositions(int64_t collection_id) const {
  std::shared_ptr<LoadedCollection> collection = Find(collection_id);
  return collection == nullptr ? std::map<std::string, uint64_t>{} : collection->TailPositions();
}

uint64_t QueryNodeImpl::WalLagRecords() const {
  std::vector<std::shared_ptr<LoadedCollection>> collections;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [id, collection] : collections_) collections.push_back(collection);
  }
  uint64_t lag = 0;
  for (const auto& collection : collections) {
    for (const auto& [channel, position] : collection->TailPositions()) {
      auto last = log_->LastOffset(channel);
      if (last.ok() && last->has_value() && **last + 1 > position) lag += **last + 1 - position;
    }
  }
  return lag;
}

size_t QueryNodeImpl::NumSealedSegments(int64_t collection_id) const {
  std::shared_ptr<LoadedCollection> collection = Find(collection_id);
  return collection == nullptr ? 0 : collection->num_sealed();
}

size_t QueryNodeImpl::NumGrowingRows(int64_t collection_id) const {
  std::shared_ptr<LoadedCollection> collection = Find(collection_id);
  return collection == nullptr ? 0 : collection->num_growing_rows();
}

std::vector<SealedSegmentStatus> QueryNodeImpl::SealedSegments(int64_t collection_id) const {
  std::vector<SealedSegmentStatus> out;
  std::shared_ptr<LoadedCollection> collection = Find(collection_id);
  if (collection == nullptr) return out;
  collection->Read([&](const CollectionSnapshot& snapshot) {
    for (const Segment* segment : snapshot.segments) {
      if (!segment->sealed()) continue;
      SealedSegmentStatus status;
      status.id = segment->id();
      status.channel = segment->channel();
      status.num_rows = segment->num_rows();
      status.num_deleted = segment->num_deleted();
      for (const auto& [field_id, index] : segment->vector_indexes()) {
        status.indexes[field_id] = {std::string(index::IndexTypeName(index.index->type())), index.index_id};
      }
      out.push_back(std::move(status));
    }
    return 0;
  });
  return out;
}

Status QueryNodeImpl::LoadSegments(const std::shared_ptr<LoadedCollection>& collection,
                                   const std::vector<coord::SegmentInfo>& segments) {
  const coord::CollectionInfo info = collection->info();
  // Admission first: the whole collection fits, or nothing is read.
  std::vector<uint64_t> sizes(segments.size(), 0);
  load_pool_.ParallelFor(segments.size(), [&](size_t i) {
    if (!segments[i].dropped) sizes[i] = EstimateLoadedSize(segments[i], *store_);
  });
  uint64_t total = 0;
  size_t live = 0;
  for (size_t i = 0; i < segments.size(); ++i) {
    total += sizes[i];
    live += segments[i].dropped ? 0 : 1;
  }
  TESSERA_ASSIGN_OR_RETURN(
      MemoryGuard::Reservation reservation,
      memory_guard_->Reserve(total, std::to_string(live) + " sealed segments of collection " + std::to_string(info.id)));
  TESSERA_LOG_INFO("collection {}: loading {} sealed segments, about {}", info.id, live, HumanBytes(total));
  std::vector<std::optional<Result<LoadedSegment>>> loaded(segments.size());
  load_pool_.ParallelFor(segments.size(), [&](size_t i) {
    if (segments[i].dropped) return;
    loaded[i].emplace(LoadSealedSegment(info, segments[i], *store_));
  });
  for (size_t i = 0; i < segments.size(); ++i) {
    if (!loaded[i]) continue;
    if (!loaded[i]->ok()) return loaded[i]->status();
  }
  for (size_t i = 0; i < segments.size(); ++i) {
    if (!loaded[i]) continue;
    TESSERA_RETURN_IF_ERROR(collection->AddSealed(std::move(*loaded[i]).value()));
  }
  // The files were read whole and decoded; give the buffers back, so that the resident
  // size (what admission and the write watermark measure) is what the data takes.
  ReleaseFreeMemoryToKernel();
  return Status::OK();
}

Status QueryNodeImpl::LoadCollection(const coord::CollectionInfo& info, const std::vector<coord::SegmentInfo>& segments,
                                     const std::map<std::string, uint64_t>& checkpoints) {
  if (info.schema.PrimaryKey() == nullptr) {
    return Status::InvalidArgument("collection " + std::to_string(info.id) + " has no primary key");
  }
  for (const auto& segment : segments) {
    if (segment.collection_id != info.id) {
      return Status::InvalidArgument("segment " + std::to_string(segment.id) + " belongs to collection " +
                                     std::to_string(segment.collection_id) + ", not " + std::to_string(info.id));
    }
  }
  std::shared_ptr<LoadedCollection> collection;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopped_) return Status::Unavailable("query node is stopped");
    auto it = collections_.find(info.id);
    if (it != collections_.end()) {
      collection = it->second;
    } else {
      collection = std::make_shared<LoadedCollection>(info);
      collections_[info.id] = collection;
    }
  }
  if (collection->ready()) {
    collection->UpdateInfo(info);
    return Status::OK();
  }
  // Several LoadCollection calls for one collection: the first one loads.
  {
    std::lock_guard<std::mutex> l(mu_);
    if (loading_.count(info.id) != 0) {
      collection->UpdateInfo(info);
      return Status::Unavailable("collection " + std::to_string(info.id) + " is being loaded; retry later");
    }
    loading_.insert(info.id);
  }

  auto fail = [&](const Status& s) {
    collection->StopTailing();
    std::lock_guard<std::mutex> l(mu_);
    loading_.erase(info.id);
    auto it = collections_.find(info.id);
    if (it != collections_.end() && it->second == collection) collections_.erase(it);
    // The coordinator retries refused loads: the same failure again is not news.
    auto previous = load_failures_.find(info.id);
    if (previous != load_failures_.end() && previous->second.code() == s.code()) {
      TESSERA_LOG_DEBUG("loading collection {} failed again: {}", info.id, s.ToString());
    } else {
      TESSERA_LOG_ERROR("loading collection {} failed: {}", info.id, s.ToString());
    }
    load_failures_[info.id] = s;
    return s;
  };

  // The tails must reach what the channels hold now.
  WaitOffsets targets;
  for (const std::string& channel : info.Channels()) {
    auto last = log_->LastOffset(channel);
    if (!last.ok()) return fail(last.status().WithContext("loading collection " + std::to_string(info.id)));
    targets[channel] = last->has_value() ? **last + 1 : 0;
  }
  Status s = LoadSegments(collection, segments);
  if (!s.ok()) return fail(s.WithContext("loading collection " + std::to_string(info.id)));
  s = collection->StartTailing(*log_, checkpoints);
  if (!s.ok()) return fail(s.WithContext("loading collection " + std::to_string(info.id)));
  s = collection->WaitFor(targets, std::chrono::steady_clock::now() + std::chrono::hours(24 * 365));
  if (!s.ok()) return fail(s.WithContext("loading collection " + std::to_string(info.id)));

  std::lock_guard<std::mutex> l(mu_);
  loading_.erase(info.id);
  load_failures_.erase(info.id);
  auto it = collections_.find(info.id);
  if (it == collections_.end() || it->second != collection) {
    collection->StopTailing();
    return Status::Aborted("collection " + std::to_string(info.id) + " was released while it was loading");
  }
  collection->set_ready();
  TESSERA_LOG_INFO("collection {} loaded: {} sealed segments, {} growing rows", info.id, collection->num_sealed(),
                   collection->num_growing_rows());
  return Status::OK();
}

Status QueryNodeImpl::ReleaseCollection(int64_t collection_id) {
  std::shared_ptr<LoadedCollection> collection;
  {
    std::lock_guard<std::mutex> l(mu_);
    load_failures_.erase(collection_id);
    auto it = collections_.find(collection_id);
    if (it == collections_.end()) return Status::OK();
    collection = std::move(it->second);
    collections_.erase(it);
  }
  // In-flight searches keep their reference; the memory goes when the last one ends.
  collection->StopTailing();
  collection.reset();
  ReleaseFreeMemoryToKernel();
  return Status::OK();
}

Status QueryNodeImpl::AddSegment(const coord::SegmentInfo& segment) {
  std::shared_ptr<LoadedCollection> collection = Find(segment.collection_id);
  if (collection == nullptr) return Status::OK();
  if (segment.dropped) {
    collection->DropSegment(segment.id);
    return Status::OK();
  }
  if (collection->WasReplaced(segment.id)) return Status::OK();
  const coord::CollectionInfo info = collection->info();
  const std::string what = "segment " + std::to_string(segment.id) + " of collection " + std::to_string(info.id);
  if (collection->HasSegment(segment.id)) {
    const ServedIndexes served = collection->ServedIndexesOfSegment(segment.id);
    TESSERA_ASSIGN_OR_RETURN(MemoryGuard::Reservation reservation,
                             memory_guard_->Reserve(EstimateLoadedSize(segment, *store_, &served), "the index of " + what));
    auto indexes = LoadNewIndexes(info, segment, served, *store_);
    if (!indexes.ok()) return indexes.status();
    if (indexes->empty()) return Status::OK();
    return collection->AttachIndexes(segment.id, std::move(indexes).value());
  }
  // Refused, the segment's rows stay served from the growing segment of its channel.
  TESSERA_ASSIGN_OR_RETURN(MemoryGuard::Reservation reservation,
                           memory_guard_->Reserve(EstimateLoadedSize(segment, *store_), what));
  auto loaded = LoadSealedSegment(info, segment, *store_);
  if (!loaded.ok()) return loaded.status();
  Status added = collection->AddSealed(std::move(loaded).value());
  ReleaseFreeMemoryToKernel();  // the read buffers, and the growing rows it replaced
  return added;
}

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<SearchResponse> QueryNodeImpl::Search(const SearchRequest& request) {
  auto& m = QueryNodeMetrics::Get();
  InFlight in_flight(in_flight_, m.searches, m.search_errors, m.search_latency);
  return in_flight.Done([&]() -> Result<SearchResponse> {
    const auto deadline = std::chrono::steady_clock::now() + request.timeout;
    TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<LoadedCollection> collection, FindReady(request.collection_id));
    TESSERA_ASSIGN_OR_RETURN(PreparedFilter filter, PrepareFilter(request.filter, collection->schema()));
    TESSERA_RETURN_IF_ERROR(collection->WaitFor(request.wait, deadline));
    TESSERA_RETURN_IF_ERROR(collection->Health());
    return collection->Read([&](const CollectionSnapshot& snapshot) {
      filter.expired_before = snapshot.info->ExpiredBefore(NowMs());
      return ExecuteSearch(snapshot, request, filter, search_pool_, deadline);
    });
  }());
}

Result<QueryResponse> QueryNodeImpl::Query(const QueryRequest& request) {
  auto& m = QueryNodeMetrics::Get();
  InFlight in_flight(in_flight_, m.queries, m.query_errors, m.query_latency);
  return in_flight.Done([&]() -> Result<QueryResponse> {
    const auto deadline = std::chrono::steady_clock::now() + request.timeout;
    TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<LoadedCollection> collection, FindReady(request.collection_id));
    TESSERA_ASSIGN_OR_RETURN(PreparedFilter filter, PrepareFilter(request.filter, collection->schema()));
    TESSERA_RETURN_IF_ERROR(collection->WaitFor(request.wait, deadline));
    TESSERA_RETURN_IF_ERROR(collection->Health());
    return collection->Read([&](const CollectionSnapshot& snapshot) {
      filter.expired_before = snapshot.info->ExpiredBefore(NowMs());
      return ExecuteQuery(snapshot, request, filter, search_pool_, deadline);
    });
  }());
}

}  // namespace tessera::querynode
