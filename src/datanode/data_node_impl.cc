#include "datanode/data_node_impl.h"

#include <utility>

#include "common/check.h"
#include "common/logging.h"
#include "coord/coordinator.h"
#include "datanode/channel_consumer.h"
#include "datanode/compactor.h"
#include "datanode/data_node_metrics.h"
#include "datanode/segment_layout.h"
#include "storage/log/log.h"
#include "storage/object/object_store.h"

namespace tessera::datanode {

namespace {

/// The schema checks the flush path relies on.
Status CheckCollection(const coord::CollectionInfo& collection) {
  const std::string what = "collection " + std::to_string(collection.id);
  Status valid = collection.schema.Validate();
  if (!valid.ok()) return Status::FailedPrecondition(what + ": " + valid.message());
  if (collection.num_shards < 1) {
    return Status::FailedPrecondition(what + " has " + std::to_string(collection.num_shards) + " shards");
  }
  if (collection.schema.enable_dynamic_field) {
    bool declared = false;
    for (const auto& field : collection.schema.fields) declared = declared || field.is_dynamic;
    if (!declared) {
      return Status::FailedPrecondition(what + " enables the dynamic field without declaring the \"$meta\" field");
    }
  }
  return Status::OK();
}

}  // namespace

DataNodeImpl::DataNodeImpl(DataNodeOptions options, coord::Coordinator* coordinator, storage::Log* log,
                           storage::ObjectStore* objects)
    : options_(options), coordinator_(coordinator), log_(log), objects_(objects) {
  TESSERA_CHECK(coordinator_ != nullptr && log_ != nullptr && objects_ != nullptr)
      << "CreateDataNode: coordinator, log and object store are required";
  DataNodeMetrics::Get();  // register the instruments so /metrics shows them from the start
}

DataNodeImpl::~DataNodeImpl() { Stop(); }

std::unique_ptr<DataNodeImpl> CreateDataNode(DataNodeOptions options, coord::Coordinator* coordinator,
                                             storage::Log* log, storage::ObjectStore* objects) {
  return std::make_unique<DataNodeImpl>(options, coordinator, log, objects);
}

void DataNodeImpl::Stop() {
  std::map<int64_t, std::shared_ptr<Watched>> collections;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    collections.swap(collections_);
  }
  stop_cv_.notify_all();
  for (auto& [id, watched] : collections) {
    for (auto& channel : watched->channels) channel->Stop();
  }
}

bool DataNodeImpl::SleepUnlessStopped(std::chrono::milliseconds duration) {
  std::unique_lock<std::mutex> lock(mu_);
  return !stop_cv_.wait_for(lock, duration, [this] { return stopped_; });
}

std::shared_ptr<DataNodeImpl::Watched> DataNodeImpl::Find(int64_t collection_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = collections_.find(collection_id);
  return it == collections_.end() ? nullptr : it->second;
}

Status DataNodeImpl::WatchCollection(const coord::CollectionInfo& collection) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return Status::Unavailable("data node is stopped");
  }
  if (Find(collection.id) != nullptr) return CollectionStatus(collection.id);
  TESSERA_RETURN_IF_ERROR(CheckCollection(collection));

  // Subscribe outside the lock: ChannelCheckpoint calls the coordinator.
  auto watched = std::make_shared<Watched>();
  watched->info = std::make_shared<const coord::CollectionInfo>(collection);
  ChannelDeps deps;
  deps.coordinator = coordinator_;
  deps.objects = objects_;
  deps.segment_size = options_.segment_size;
  deps.seal_idle_time = options_.seal_idle_time;
  for (const std::string& channel : collection.Channels()) {
    const std::string what = "watching channel " + channel;
    auto checkpoint = coordinator_->ChannelCheckpoint(channel);
    if (!checkpoint.ok()) return checkpoint.status().WithContext(what);
    auto subscription = log_->Subscribe(channel, *checkpoint);
    if (!subscription.ok()) return subscription.status().WithContext(what + " from checkpoint " + std::to_string(*checkpoint));
    auto consumer = ChannelConsumer::Create(deps, watched->info, channel, *checkpoint, std::move(subscription).value());
    if (!consumer.ok()) return consumer.status();
    watched->channels.push_back(std::move(consumer).value());
  }

  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return Status::Unavailable("data node is stopped");
  // A concurrent Watch of the same collection won; ours never started and is discarded.
  if (collections_.count(collection.id) != 0) return Status::OK();
  collections_[collection.id] = watched;
  for (auto& channel : watched->channels) channel->Start();
  TESSERA_LOG_INFO("data node: watching collection {} ({} channels)", collection.id, watched->channels.size());
  return Status::OK();
}

Status DataNodeImpl::UnwatchCollection(int64_t collection_id) {
  std::shared_ptr<Watched> watched;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = collections_.find(collection_id);
    if (it == collections_.end()) return Status::OK();
    watched = std::move(it->second);
    collections_.erase(it);
  }
  for (auto& channel : watched->channels) channel->Stop();
  TESSERA_LOG_INFO("data node: stopped watching collection {}", collection_id);
  return Status::OK();
}

Status DataNodeImpl::Flush(int64_t collection_id) {
  std::shared_ptr<Watched> watched = Find(collection_id);
  if (watched == nullptr) {
    return Status::NotFound("collection " + std::to_string(collection_id) + " is not watched by this data node");
  }
  const auto deadline = ChannelConsumer::Clock::now() + options_.flush_timeout;
  std::vector<uint64_t> tickets;
  for (auto& channel : watched->channels) {
    auto last = log_->LastOffset(channel->channel());
    if (!last.ok()) return last.status().WithContext("flushing channel " + channel->channel());
    const uint64_t target = last->has_value() ? **last + 1 : 0;
    auto ticket = channel->SealUpTo(target, deadline);
    if (!ticket.ok()) return ticket.status().WithContext("flushing collection " + std::to_string(collection_id));
    tickets.push_back(*ticket);
  }
  for (size_t i = 0; i < tickets.size(); ++i) {
    Status status = watched->channels[i]->WaitFlushed(tickets[i], deadline);
    if (!status.ok()) return status.WithContext("flushing collection " + std::to_string(collection_id));
  }
  return Status::OK();
}

uint64_t DataNodeImpl::GrowingRows(int64_t collection_id, std::optional<int64_t> partition_id) {
  std::shared_ptr<Watched> watched = Find(collection_id);
  if (watched == nullptr) return 0;
  uint64_t rows = 0;
  for (auto& channel : watched->channels) rows += channel->GrowingRows(partition_id);
  return rows;
}

Status DataNodeImpl::CollectionStatus(int64_t collection_id) const {
  std::shared_ptr<Watched> watched = Find(collection_id);
  if (watched == nullptr) {
    return Status::NotFound("collection " + std::to_string(collection_id) + " is not watched by this data node");
  }
  for (auto& channel : watched->channels) {
    Status status = channel->status();
    if (!status.ok()) return status;
  }
  return Status::OK();
}

Result<coord::SegmentInfo> DataNodeImpl::Compact(const coord::CollectionInfo& collection,
                                                 const std::vector<coord::SegmentInfo>& inputs,
                                                 const std::vector<std::string>& all_deltalogs,
                                                 int64_t new_segment_id, const coord::DeleteRetirement& retire) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return Status::Unavailable("data node is stopped");
  }
  TESSERA_RETURN_IF_ERROR(CheckCollection(collection));
  const auto start = std::chrono::steady_clock::now();
  auto result = CompactSegments(collection, inputs, all_deltalogs, new_segment_id, retire, *objects_,
                                [this](std::chrono::milliseconds d) { return SleepUnlessStopped(d); });
  if (!result.ok()) return result.status();
  auto& metrics = DataNodeMetrics::Get();
  metrics.compactions.Inc();
  metrics.compaction_seconds.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  metrics.deletes_retired.Inc(static_cast<double>(result->retired_deletes));
  const coord::SegmentInfo& out = result->segment;
  TESSERA_LOG_INFO("data node: compacted {} segments of channel {} into segment {} ({} rows, {} deletes retired)",
                   inputs.size(), out.channel, out.id, out.num_rows, result->retired_deletes);
  return std::move(result->segment);
}

}  // namespace tessera::datanode
