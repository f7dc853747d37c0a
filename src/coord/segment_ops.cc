// Flushed segments, channel checkpoints, flush and row counts.

#include <algorithm>
#include <set>
#include <utility>

#include "common/logging.h"
#include "coord/coord_metrics.h"
#include "coord/coordinator_impl.h"

namespace tessera::coord {

namespace {

// What the catalog could not load back: bad object keys, more deleted rows than rows.
Status ValidateReportedSegment(const SegmentInfo& segment) {
  if (segment.deleted_rows > segment.num_rows) {
    return Status::InvalidArgument("segment " + std::to_string(segment.id) + " reports " +
                                   std::to_string(segment.deleted_rows) + " deleted rows of " +
                                   std::to_string(segment.num_rows));
  }
  const auto check = [&](const std::string& key, std::string_view what) -> Status {
    Status s = storage::ValidateObjectKey(key);
    if (!s.ok()) return s.WithContext("segment " + std::to_string(segment.id) + " " + std::string(what));
    return Status::OK();
  };
  for (const auto& [field_id, key] : segment.binlogs) TESSERA_RETURN_IF_ERROR(check(key, "binlog"));
  for (const std::string& key : segment.deltalogs) TESSERA_RETURN_IF_ERROR(check(key, "deltalog"));
  if (!segment.stats.empty()) TESSERA_RETURN_IF_ERROR(check(segment.stats, "stats"));
  for (const auto& [index_id, key] : segment.index_files) TESSERA_RETURN_IF_ERROR(check(key, "index file"));
  return Status::OK();
}

}  // namespace

Status CoordinatorImpl::SegmentFlushed(const SegmentInfo& reported) {
  if (reported.id <= 0) return Status::InvalidArgument("SegmentFlushed: segment id must be positive");
  if (reported.end_offset < reported.start_offset) {
    return Status::InvalidArgument("SegmentFlushed: segment " + std::to_string(reported.id) +
                                   " ends before it starts (" + std::to_string(reported.start_offset) + ", " +
                                   std::to_string(reported.end_offset) + ")");
  }
  if (reported.compacted_from.size() + 2 > kMaxOpsPerTxn) {
    return Status::InvalidArgument("SegmentFlushed: segment " + std::to_string(reported.id) + " replaces " +
                                   std::to_string(reported.compacted_from.size()) + " segments, more than " +
                                   std::to_string(kMaxOpsPerTxn - 2));
  }
  TESSERA_RETURN_IF_ERROR(ValidateReportedSegment(reported));
  SegmentInfo segment = reported;
  segment.dropped = false;
  std::vector<indexnode::BuildJob> jobs;
  bool loaded = false;
  {
    std::lock_guard lock(mu_);
    // Idempotent: a retried report (or one racing with compaction) changes nothing.
    if (segments_.count(segment.id) > 0 || compaction_outputs_.count(segment.id) > 0) return Status::OK();
    TESSERA_ASSIGN_OR_RETURN(CollectionInfo * info, CollectionByIdLocked(segment.collection_id));
    const std::vector<std::string> channels = info->Channels();
    if (std::find(channels.begin(), channels.end(), segment.channel) == channels.end()) {
      return Status::InvalidArgument("segment " + std::to_string(segment.id) + ": channel '" + segment.channel +
                                     "' is not a channel of collection " + std::to_string(info->id));
    }
    std::vector<storage::TxnOp> ops = {CatalogStore::PutSegment(segment)};
    const uint64_t checkpoint = checkpoints_.count(segment.channel) > 0 ? checkpoints_[segment.channel] : 0;
    const bool advance = segment.end_offset > checkpoint;
    if (advance) ops.push_back(CatalogStore::PutCheckpoint(segment.channel, segment.end_offset));
    // A compaction result registered by its writer: it replaces its inputs in the same step.
    std::vector<SegmentInfo> replaced;
    for (int64_t input : segment.compacted_from) {
      auto it = segments_.find(input);
      if (it == segments_.end() || it->second.dropped || it->second.collection_id != segment.collection_id) {
        return Status::FailedPrecondition("segment " + std::to_string(segment.id) + " replaces segment " +
                                          std::to_string(input) + ", which is not a live segment of collection " +
                                          std::to_string(segment.collection_id));
      }
      SegmentInfo dropped = it->second;
      dropped.dropped = true;
      ops.push_back(CatalogStore::PutSegment(dropped));
      replaced.push_back(std::move(dropped));
    }
    TESSERA_RETURN_IF_ERROR(store_.Apply(std::move(ops)));
    segments_[segment.id] = segment;
    if (advance) checkpoints_[segment.channel] = segment.end_offset;
    for (SegmentInfo& dropped : replaced) segments_[dropped.id] = std::move(dropped);
    jobs = PlanBuildsLocked(*info, segment);
    loaded = info->loaded;
    UpdateGaugesLocked();
  }
  SegmentsFlushedCounter().Inc();
  SubmitBuilds(std::move(jobs));
  if (loaded) PushSegment(segment.collection_id, segment.id);
  return Status::OK();
}

Result<std::vector<SegmentInfo>> CoordinatorImpl::ListSegments(int64_t collection_id) {
  std::lock_guard lock(mu_);
  TESSERA_RETURN_IF_ERROR(CollectionByIdLocked(collection_id).status());
  return LiveSegmentsLocked(collection_id);
}

Result<uint64_t> CoordinatorImpl::ChannelCheckpoint(const std::string& channel) {
  std::lock_guard lock(mu_);
  auto it = checkpoints_.find(channel);
  return it == checkpoints_.end() ? uint64_t{0} : it->second;
}

Status CoordinatorImpl::Flush(int64_t collection_id) {
  {
    std::lock_guard lock(mu_);
    TESSERA_RETURN_IF_ERROR(CollectionByIdLocked(collection_id).status());
  }
  if (data_node_ == nullptr) return Status::Unavailable("flush: no data node is attached to the coordinator");
  FlushRequestsCounter().Inc();
  return data_node_->Flush(collection_id);
}

Result<uint64_t> CoordinatorImpl::CountRows(int64_t collection_id, std::optional<int64_t> partition_id) {
  uint64_t rows = 0;
  {
    std::lock_guard lock(mu_);
    TESSERA_ASSIGN_OR_RETURN(CollectionInfo * info, CollectionByIdLocked(collection_id));
    if (partition_id.has_value()) {
      bool known = false;
      for (const PartitionInfo& p : info->partitions) known = known || p.id == *partition_id;
      if (!known) {
        return Status::NotFound("partition not found[collection=" + info->schema.name + "][partition_id=" +
                                std::to_string(*partition_id) + "]");
      }
    }
    const bool single_partition = info->partitions.size() == 1;
    const std::set<int64_t> live_partitions = info->LivePartitionIds();
    for (const auto& [id, segment] : segments_) {
      if (segment.collection_id != collection_id || segment.dropped) continue;
      if (!partition_id.has_value()) {
        // Rows of dropped partitions (gone at the segment's next compaction) do not count.
        uint64_t dead = 0;
        for (const auto& [partition, n] : segment.partition_rows) dead += live_partitions.empty() || live_partitions.count(partition) ? 0 : n;
        rows += segment.num_rows - std::min<uint64_t>(dead, segment.num_rows);
      } else if (!segment.partition_rows.empty()) {
        auto it = segment.partition_rows.find(*partition_id);
        if (it != segment.partition_rows.end()) rows += it->second;
      } else if (single_partition) {
        rows += segment.num_rows;
      }
    }
  }
  if (data_node_ != nullptr) rows += data_node_->GrowingRows(collection_id, partition_id);
  return rows;
}

}  // namespace tessera::coord
