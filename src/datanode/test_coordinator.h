#pragma once

// TEST-ONLY header: a small in-memory Coordinator for the data node and index node tests
// (the real coordinator is another role). It implements what those roles call —
// AllocateIds, AllocateTimestamp, GetCollection, ChannelCheckpoint, SegmentFlushed,
// ListSegments, IndexBuilt, IndexBuildFailed — and answers Unimplemented to the rest.
// Thread-safe.

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "coord/coordinator.h"

namespace tessera::datanode::testing {

class TestCoordinator : public coord::Coordinator {
 public:
  struct IndexReport {
    int64_t segment_id = 0;
    int64_t index_id = 0;
    bool ok = false;
    std::string key_or_reason;  // object key when ok, else the failure reason
  };

  void AddCollection(const coord::CollectionInfo& info) {
    std::lock_guard<std::mutex> lock(mu_);
    collections_[info.id] = info;
  }
  /// The next `n` SegmentFlushed calls fail with `error` (without recording anything).
  void FailSegmentFlushed(int n, Status error = Status::Unavailable("injected")) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_flushed_ = n;
    flushed_error_ = std::move(error);
  }
  /// Every segment recorded, in SegmentFlushed order.
  std::vector<coord::SegmentInfo> Segments() const {
    std::lock_guard<std::mutex> lock(mu_);
    return segments_;
  }
  /// Waits up to `timeout` until at least `n` segments are recorded.
  bool WaitSegments(size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return segments_.size() >= n; });
  }
  std::vector<IndexReport> IndexReports() const {
    std::lock_guard<std::mutex> lock(mu_);
    return index_reports_;
  }
  bool WaitIndexReports(size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return index_reports_.size() >= n; });
  }
  int flushed_calls() const { return flushed_calls_.load(); }

  Result<uint64_t> AllocateTimestamp() override { return next_ts_.fetch_add(1) + 1; }
  Result<int64_t> AllocateIds(uint32_t count) override { return next_id_.fetch_add(count); }

  Result<coord::CollectionInfo> GetCollection(int64_t collection_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = collections_.find(collection_id);
    if (it == collections_.end()) return Status::NotFound("collection not found[collection=" + std::to_string(collection_id) + "]");
    return it->second;
  }

  Status SegmentFlushed(const coord::SegmentInfo& segment) override {
    ++flushed_calls_;
    std::lock_guard<std::mutex> lock(mu_);
    if (fail_flushed_ > 0) {
      --fail_flushed_;
      return flushed_error_;
    }
    for (const auto& s : segments_) {
      if (s.id == segment.id) return Status::OK();  // idempotent
    }
    segments_.push_back(segment);
    checkpoints_[segment.channel] = segment.end_offset;
    cv_.notify_all();
    return Status::OK();
  }
  Status IndexBuilt(int64_t segment_id, int64_t index_id, const std::string& object_key) override {
    std::lock_guard<std::mutex> lock(mu_);
    index_reports_.push_back({segment_id, index_id, true, object_key});
    cv_.notify_all();
    return Status::OK();
  }
  Status IndexBuildFailed(int64_t segment_id, int64_t index_id, const std::string& reason) override {
    std::lock_guard<std::mutex> lock(mu_);
    index_reports_.push_back({segment_id, index_id, false, reason});
    cv_.notify_all();
    return Status::OK();
  }
  Result<std::vector<coord::SegmentInfo>> ListSegments(int64_t collection_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<coord::SegmentInfo> out;
    for (const auto& s : segments_) {
      if (s.collection_id == collection_id && !s.dropped) out.push_back(s);
    }
    return out;
  }
  Result<uint64_t> ChannelCheckpoint(const std::string& channel) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = checkpoints_.find(channel);
    return it == checkpoints_.end() ? uint64_t{0} : it->second;
  }

  // ---- not used by the data and index nodes ----
  Status CreateDatabase(const std::string&, const std::map<std::string, std::string>&) override { return No(); }
  Status DropDatabase(const std::string&) override { return No(); }
  Result<std::vector<coord::DatabaseInfo>> ListDatabases() override { return No(); }
  Result<coord::DatabaseInfo> DescribeDatabase(const std::string&) override { return No(); }
  Status AlterDatabase(const std::string&, const std::map<std::string, std::string>&,
                       const std::vector<std::string>&) override { return No(); }
  Result<coord::CollectionInfo> CreateCollection(const coord::CreateCollectionRequest&) override { return No(); }
  Result<coord::CollectionInfo> DescribeCollection(const std::string&, const std::string&) override { return No(); }
  Result<std::vector<std::string>> ListCollections(const std::string&) override { return No(); }
  Status DropCollection(const std::string&, const std::string&) override { return No(); }
  Status RenameCollection(const std::string&, const std::string&, const std::string&,
                          const std::string&) override { return No(); }
  Status AlterCollectionProperties(const std::string&, const std::string&, const std::map<std::string, std::string>&,
                                   const std::vector<std::string>&) override { return No(); }
  Status CreatePartition(const std::string&, const std::string&, const std::string&) override { return No(); }
  Status DropPartition(const std::string&, const std::string&, const std::string&) override { return No(); }
  Status CreateAlias(const std::string&, const std::string&, const std::string&) override { return No(); }
  Status AlterAlias(const std::string&, const std::string&, const std::string&) override { return No(); }
  Status DropAlias(const std::string&, const std::string&) override { return No(); }
  Result<std::string> DescribeAlias(const std::string&, const std::string&) override { return No(); }
  Result<std::vector<std::string>> ListAliases(const std::string&, const std::string&) override { return No(); }
  Status CreateIndex(const std::string&, const std::string&, coord::IndexInfo) override { return No(); }
  Status DropIndex(const std::string&, const std::string&, const std::string&) override { return No(); }
  Result<coord::IndexProgress> DescribeIndexProgress(int64_t, int64_t) override { return No(); }
  Status LoadCollection(const std::string&, const std::string&, const std::vector<std::string>&) override {
    return No();
  }
  Status ReleaseCollection(const std::string&, const std::string&, const std::vector<std::string>&) override {
    return No();
  }
  Result<coord::LoadStatus> GetLoadState(int64_t) override { return No(); }
  Status Flush(int64_t) override { return No(); }
  Result<uint64_t> CountRows(int64_t, std::optional<int64_t>) override { return No(); }
  Result<int64_t> Compact(int64_t) override { return No(); }
  Result<coord::CompactionState> GetCompactionState(int64_t) override { return No(); }

 private:
  static Status No() { return Status::Unimplemented("not part of the test coordinator"); }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<int64_t, coord::CollectionInfo> collections_;
  std::map<std::string, uint64_t> checkpoints_;
  std::vector<coord::SegmentInfo> segments_;
  std::vector<IndexReport> index_reports_;
  int fail_flushed_ = 0;
  Status flushed_error_;
  std::atomic<int> flushed_calls_{0};
  std::atomic<int64_t> next_id_{1000};
  std::atomic<uint64_t> next_ts_{1};
};

}  // namespace tessera::datanode::testing
