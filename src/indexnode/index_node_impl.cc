#include "indexnode/index_node_impl.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <string_view>
#include <chrono>
#include <utility>

#include "common/check.h"
#include "common/crash_point.h"
#include "common/logging.h"
#include "common/thread_pool.h"
#include "coord/coordinator.h"
#include "core/column.h"
#include "index/index.h"
#include "index/metric.h"
#include "indexnode/index_node_metrics.h"
#include "common/retry.h"
#include "segment/binlog.h"
#include "storage/object/object_store.h"

namespace tessera::indexnode {

namespace {

std::string JobName(const BuildJob& job) {
  return fmt::format("index {} ({}) of segment {}", job.index.id, job.index.name, job.segment.id);
}

bool IsAutoIndex(std::string_view type) {
  constexpr std::string_view kAuto = "AUTOINDEX";
  return type.size() == kAuto.size() && std::equal(type.begin(), type.end(), kAuto.begin(), [](char a, char b) {
           return std::toupper(static_cast<unsigned char>(a)) == b;
         });
}

}  // namespace

IndexNodeImpl::IndexNodeImpl(IndexNodeOptions options, coord::Coordinator* coordinator,
                             storage::ObjectStore* objects)
    : coordinator_(coordinator),
      objects_(objects),
      build_pool_(std::make_unique<ThreadPool>(static_cast<size_t>(std::max(options.build_threads, 0)),
                                               "index-build")) {
  TESSERA_CHECK(coordinator_ != nullptr && objects_ != nullptr)
      << "CreateIndexNode: coordinator and object store are required";
  IndexNodeMetrics::Get();  // register the instruments so /metrics shows them from the start
  const int workers = std::max(options.parallel_builds, 1);
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

IndexNodeImpl::~IndexNodeImpl() { Stop(); }

std::unique_ptr<IndexNodeImpl> CreateIndexNode(IndexNodeOptions options, coord::Coordinator* coordinator,
                                               storage::ObjectStore* objects) {
  return std::make_unique<IndexNodeImpl>(options, coordinator, objects);
}

Status IndexNodeImpl::Submit(BuildJob job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Status::Unavailable("index node is stopping");
    queue_.push_back(std::move(job));
  }
  IndexNodeMetrics::Get().pending_builds.Add(1);
  cv_.notify_one();
  return Status::OK();
}

size_t IndexNodeImpl::PendingBuilds() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size() + running_;
}

void IndexNodeImpl::Stop() {
  std::lock_guard<std::mutex> stop_lock(stop_mu_);
  size_t dropped = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    dropped = queue_.size();
    queue_.clear();
  }
  cv_.notify_all();
  IndexNodeMetrics::Get().pending_builds.Add(-static_cast<double>(dropped));
  if (dropped > 0) TESSERA_LOG_INFO("index node: stopping, {} queued builds dropped", dropped);
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
}

bool IndexNodeImpl::SleepUnlessStopping(std::chrono::milliseconds duration) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, duration, [this] { return stopping_; });
}

void IndexNodeImpl::WorkerLoop() {
  while (true) {
    BuildJob job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    Run(job);
  }
}

void IndexNodeImpl::Run(const BuildJob& job) {
  auto& metrics = IndexNodeMetrics::Get();
  auto sleep = [this](std::chrono::milliseconds d) { return SleepUnlessStopping(d); };
  const auto start = std::chrono::steady_clock::now();
  const std::string name = JobName(job);
  auto key = Build(job);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics.build_seconds.Observe(seconds);
  // The build is over before it is reported, so PendingBuilds never counts a build the
  // coordinator already heard about.
  {
    std::lock_guard<std::mutex> lock(mu_);
    --running_;
  }
  metrics.pending_builds.Add(-1);
  if (key.ok()) {
    metrics.builds_ok.Inc();
    TESSERA_LOG_INFO("index node: built {} in {:.3f} s: {}", name, seconds, *key);
    crash_point::Reach(crash_point::Site::kIndexBeforeCommit);
    Status reported = RetryTransient(
        "index node: reporting " + name,
        [&] { return coordinator_->IndexBuilt(job.segment.id, job.index.id, *key); }, sleep);
    if (!reported.ok()) TESSERA_LOG_WARN("index node: the coordinator refused {}: {}", name, reported.ToString());
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Interrupted by Stop: not a failure of the index; the coordinator hands it out again.
    if (stopping_ && IsTransient(key.status())) return;
  }
  metrics.builds_failed.Inc();
  TESSERA_LOG_ERROR("index node: building {} failed: {}", name, key.status().ToString());
  Status reported = RetryTransient(
      "index node: reporting the failure of " + name,
      [&] { return coordinator_->IndexBuildFailed(job.segment.id, job.index.id, key.status().ToString()); },
      sleep);
  if (!reported.ok()) TESSERA_LOG_WARN("index node: could not report the failure of {}: {}", name, reported.ToString());
}

Result<std::string> IndexNodeImpl::Build(const BuildJob& job) {
  auto sleep = [this](std::chrono::milliseconds d) { return SleepUnlessStopping(d); };
  const coord::IndexInfo& info = job.index;
  const coord::SegmentInfo& segment = job.segment;
  if (job.dim < 1 || job.dim > core::kMaxVectorDim) {
    return Status::InvalidArgument(fmt::format("dim {} is out of range [1, {}]", job.dim, core::kMaxVectorDim));
  }
  TESSERA_ASSIGN_OR_RETURN(index::IndexType type, index::ParseIndexType(info.index_type));
  TESSERA_ASSIGN_OR_RETURN(index::MetricType metric, index::ParseMetricType(info.metric_type));
  // AUTOINDEX is HNSW with its default parameters, whatever was passed along.
  const nlohmann::json params = IsAutoIndex(info.index_type) ? nlohmann::json::object() : info.params;
  TESSERA_ASSIGN_OR_RETURN(auto built, index::CreateIndex(type, metric, static_cast<size_t>(job.dim), params));

  auto binlog = segment.binlogs.find(info.field_id);
  if (binlog == segment.binlogs.end()) {
    return Status::FailedPrecondition(
        fmt::format("segment {} has no binlog for field '{}' (id {})", segment.id, info.field_name, info.field_id));
  }
  const std::string& binlog_key = binlog->second;
  Result<std::string> bytes = Status::Unavailable("not attempted");
  TESSERA_RETURN_IF_ERROR(RetryTransient(
      "index node: reading " + binlog_key,
      [&] {
        bytes = objects_->Get(binlog_key);
        return bytes.status();
      },
      sleep));
  core::FieldSchema field;
  field.id = info.field_id;
  field.name = info.field_name;
  field.data_type = core::DataType::kFloatVector;
  field.dim = job.dim;
  TESSERA_ASSIGN_OR_RETURN(auto column, segment::ReadBinlog(field, *bytes, binlog_key));
  const auto& vectors = static_cast<const core::FloatVectorColumn&>(*column);
  if (vectors.size() != segment.num_rows) {
    return Status::DataLoss(fmt::format("binlog {} holds {} rows, segment {} has {}", binlog_key, vectors.size(),
                                        segment.id, segment.num_rows));
  }

  TESSERA_RETURN_IF_ERROR(built->Build(vectors.data().data(), vectors.size(), build_pool_.get()));
  TESSERA_ASSIGN_OR_RETURN(std::vector<uint8_t> blob, built->Serialize());

  int64_t build_id = 0;
  TESSERA_RETURN_IF_ERROR(RetryTransient(
      "index node: allocating a build id for " + JobName(job),
      [&] {
        auto id = coordinator_->AllocateIds(1);
        if (id.ok()) build_id = *id;
        return id.status();
      },
      sleep));
  const std::string key = fmt::format("collections/{}/{}/{}/index/{}/{}", job.collection_id, segment.channel,
                                      segment.id, info.id, build_id);
  const std::string_view data(reinterpret_cast<const char*>(blob.data()), blob.size());
  TESSERA_RETURN_IF_ERROR(RetryTransient(
      "index node: writing " + key, [&] { return objects_->Put(key, data); }, sleep));
  return key;
}

}  // namespace tessera::indexnode
