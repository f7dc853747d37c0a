// Garbage collection of segment files.
//
// Every object under "collections/" that no live segment (nor a compaction output waiting
// for its indexes) references is deleted once BOTH
//   - its modification time (ObjectStore List metadata) is at least gc_grace_period old, and
//   - this coordinator has seen it unreferenced, pass after pass, for gc_grace_period.
// The first rule protects files being written and not reported yet (binlogs before
// SegmentFlushed, index files before IndexBuilt); the second gives readers of segments that
// were just dropped (compaction inputs, a dropped collection) time to let go. The second
// clock is in memory, so after a restart deletion waits one more grace period.
// Segment records marked dropped are removed from the MetaStore once none of their files
// is left.

#include <algorithm>
#include <set>
#include <utility>

#include "common/crash_point.h"
#include "common/logging.h"
#include "coord/coord_metrics.h"
#include "coord/coordinator_impl.h"

namespace tessera::coord {

namespace {

constexpr size_t kDeleteBatch = 1000;

void AddKeys(const SegmentInfo& segment, std::set<std::string>* keys) {
  for (const auto& [field_id, key] : segment.binlogs) keys->insert(key);
  keys->insert(segment.deltalogs.begin(), segment.deltalogs.end());
  if (!segment.stats.empty()) keys->insert(segment.stats);
  for (const auto& [index_id, key] : segment.index_files) keys->insert(key);
}

/// Whether `channel` is named like a collection's shard channel, "c<id>_s<shard>"
/// (CollectionInfo::Channel).
bool IsShardChannelName(const std::string& channel) {
  const size_t sep = channel.find("_s");
  const auto digits = [&](size_t from, size_t to) {
    return to > from && std::all_of(channel.begin() + static_cast<std::ptrdiff_t>(from),
                                    channel.begin() + static_cast<std::ptrdiff_t>(to),
                                    [](char c) { return c >= '0' && c <= '9'; });
  };
  return channel.size() > 3 && channel[0] == 'c' && sep != std::string::npos && digits(1, sep) &&
         digits(sep + 2, channel.size());
}

}  // namespace

Status CoordinatorImpl::TruncateWal() {
  if (log_ == nullptr) return Status::OK();
  TESSERA_ASSIGN_OR_RETURN(std::vector<std::string> channels, log_->ListChannels());
  std::map<int64_t, std::vector<std::string>> by_collection;  // existing collections' channels
  std::vector<std::string> orphans;                           // channels of no collection
  {
    std::lock_guard lock(mu_);
    std::map<std::string, int64_t> owner;
    for (const auto& [id, info] : collections_) {
      for (const std::string& channel : info.Channels()) owner[channel] = id;
    }
    for (const std::string& channel : channels) {
      auto it = owner.find(channel);
      if (it != owner.end()) {
        by_collection[it->second].push_back(channel);
      } else if (IsShardChannelName(channel)) {
        orphans.push_back(channel);  // of a dropped collection; anything else is not ours to trim
      }
    }
  }
  Status first;
  const auto note = [&](const Status& s, const std::string& channel) {
    if (!s.ok() && first.ok()) first = s.WithContext("truncating WAL channel " + channel);
  };
  for (const auto& [collection_id, names] : by_collection) {
    std::shared_ptr<std::mutex> notify = NotifyMutex(collection_id);
    std::lock_guard notify_lock(*notify);
    std::map<std::string, uint64_t> tails;
    if (query_node_ != nullptr) tails = query_node_->TailPositions(collection_id);
    for (const std::string& channel : names) {
      uint64_t keep_from = 0;
      {
        std::lock_guard lock(mu_);
        auto it = checkpoints_.find(channel);
        if (it != checkpoints_.end()) keep_from = it->second;
      }
      if (auto tail = tails.find(channel); tail != tails.end()) keep_from = std::min(keep_from, tail->second);
      if (keep_from > 0) note(log_->Truncate(channel, keep_from), channel);
    }
  }
  // A dropped collection's channels go whole (its id, so the names, are never reused).
  for (const std::string& channel : orphans) note(log_->DeleteChannel(channel), channel);
  return first;
}

Status CoordinatorImpl::RunGarbageCollection() {
  std::lock_guard gc_lock(gc_mu_);
  return GarbageCollectOnce();
}

Status CoordinatorImpl::GarbageCollectOnce() {
  const auto now = std::chrono::system_clock::now();
  const auto grace = options_.gc_grace_period;

  // 1. What exists. Listed before the references are read, so a file referenced at any
  //    time after it was listed is seen as referenced.
  std::vector<storage::ObjectInfo> objects;
  storage::ListOptions list;
  list.prefix = std::string(kCollectionDataPrefix);
  for (;;) {
    TESSERA_ASSIGN_OR_RETURN(storage::ListResult page, objects_->List(list));
    for (storage::ObjectInfo& info : page.objects) objects.push_back(std::move(info));
    if (page.next_token.empty()) break;
    list.continuation_token = std::move(page.next_token);
  }

  // 2. What is referenced.
  std::set<std::string> referenced;
  std::vector<std::pair<SegmentInfo, std::set<std::string>>> dropped;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, segment] : segments_) {
      if (!segment.dropped) {
        AddKeys(segment, &referenced);
      } else {
        std::set<std::string> keys;
        AddKeys(segment, &keys);
        dropped.emplace_back(segment, std::move(keys));
      }
    }
    for (const auto& [id, output] : compaction_outputs_) AddKeys(output.segment, &referenced);
  }

  // 3. What may go.
  std::set<std::string> present;
  std::vector<std::string> doomed;
  for (const storage::ObjectInfo& info : objects) {
    present.insert(info.key);
    if (referenced.count(info.key) > 0) {
      unreferenced_since_.erase(info.key);
      continue;
    }
    const auto since = unreferenced_since_.emplace(info.key, now).first->second;
    if (now - info.mtime >= grace && now - since >= grace) doomed.push_back(info.key);
  }
  std::erase_if(unreferenced_since_, [&](const auto& entry) { return present.count(entry.first) == 0; });

  // 4. Delete.
  for (size_t begin = 0; begin < doomed.size(); begin += kDeleteBatch) {
    const size_t end = std::min(doomed.size(), begin + kDeleteBatch);
    std::vector<std::string> batch(doomed.begin() + static_cast<ptrdiff_t>(begin),
                                   doomed.begin() + static_cast<ptrdiff_t>(end));
    TESSERA_RETURN_IF_ERROR(objects_->DeleteMany(batch));
    crash_point::Reach(crash_point::Site::kGcAfterDelete);
    for (const std::string& key : batch) {
      present.erase(key);
      unreferenced_since_.erase(key);
    }
    GcDeletedObjectsCounter().Inc(static_cast<double>(batch.size()));
  }
  if (!doomed.empty()) TESSERA_LOG_INFO("garbage collection deleted {} objects", doomed.size());

  // 5. Forget dropped segments whose files are all gone.
  std::vector<storage::TxnOp> ops;
  std::vector<int64_t> forgotten;
  for (const auto& [segment, keys] : dropped) {
    bool left = false;
    // Files a live segment still lists (carried-over deltalogs) are that segment's now.
    for (const std::string& key : keys) left = left || (present.count(key) > 0 && referenced.count(key) == 0);
    if (left) continue;
    ops.push_back(CatalogStore::DeleteSegment(segment.collection_id, segment.id));
    forgotten.push_back(segment.id);
  }
  if (ops.empty()) return Status::OK();
  std::lock_guard lock(mu_);
  TESSERA_RETURN_IF_ERROR(store_.ApplyChunked(std::move(ops)));
  for (int64_t id : forgotten) {
    auto it = segments_.find(id);
    if (it != segments_.end() && it->second.dropped) segments_.erase(it);
  }
  UpdateGaugesLocked();
  return Status::OK();
}

}  // namespace tessera::coord
