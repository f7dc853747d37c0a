#pragma once
// Test-only helpers for the coordinator tests: small recording implementations of the
// other roles (the real ones live in their own libraries) and a fixture over a real
// SqliteMetaStore and LocalObjectStore in a scratch directory. Not part of the library.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "coord/coordinator_impl.h"
#include "coord/tso.h"
#include "segment/deltalog.h"
#include "segment/stats.h"
#include "storage/meta/sqlite_meta_store.h"
#include "storage/object/local_object_store.h"

namespace tessera::coord::testing {

#define ASSERT_OK(expr)                                          \
  do {                                                           \
    const ::tessera::Status _s = (expr);                         \
    ASSERT_TRUE(_s.ok()) << #expr << ": " << _s.ToString();      \
  } while (0)
#define EXPECT_OK(expr)                                          \
  do {                                                           \
    const ::tessera::Status _s = (expr);                         \
    EXPECT_TRUE(_s.ok()) << #expr << ": " << _s.ToString();      \
  } while (0)
#define EXPECT_CODE(expr, code_value)                                              \
  do {                                                                             \
    const ::tessera::Status _s = (expr);                                           \
    EXPECT_EQ(_s.code(), ::tessera::StatusCode::code_value) << #expr << ": " << _s.ToString(); \
  } while (0)

inline bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

/// A fresh directory under the gtest temp dir, removed on destruction.
class ScratchDir {
 public:
  ScratchDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("tessera_coord_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Object key of a segment file, as the data node lays them out (DESIGN.md §4).
inline std::string SegmentKey(int64_t collection_id, const std::string& channel, int64_t segment_id,
                              const std::string& rest) {
  return "collections/" + std::to_string(collection_id) + "/" + channel + "/" + std::to_string(segment_id) + "/" + rest;
}

/// The memory_size WriteSegmentFiles gives each row.
constexpr uint64_t kTestRowBytes = 64;

/// Writes a sealed segment's files (one binlog per field plus the system columns, stats
/// over `pks`, and a deltalog when `deleted` is non-empty) and returns its SegmentInfo.
/// The binlog contents are placeholders: the coordinator never reads them.
inline SegmentInfo WriteSegmentFiles(storage::ObjectStore& objects, const CollectionInfo& info, int32_t shard,
                                     int64_t segment_id, uint64_t start, uint64_t end, const std::vector<int64_t>& pks,
                                     const std::vector<segment::DeleteEntry>& deleted = {}) {
  SegmentInfo s;
  s.id = segment_id;
  s.collection_id = info.id;
  s.channel = info.Channel(shard);
  s.start_offset = start;
  s.end_offset = end;
  s.num_rows = pks.size();
  s.memory_size = pks.size() * kTestRowBytes;
  if (!pks.empty()) {
    std::vector<int64_t> fields = {kTimestampFieldId, kPartitionFieldId};
    for (const core::FieldSchema& f : info.schema.fields) fields.push_back(f.id);
    for (int64_t field : fields) {
      const std::string key = SegmentKey(info.id, s.channel, s.id, "binlog/" + std::to_string(field) + "/1");
      EXPECT_TRUE(objects.Put(key, "binlog-bytes").ok());
      s.binlogs[field] = key;
    }
    segment::SegmentStats stats;
    stats.row_count = pks.size();
    stats.pk_type = core::DataType::kInt64;
    stats.min_pk = *std::min_element(pks.begin(), pks.end());
    stats.max_pk = *std::max_element(pks.begin(), pks.end());
    stats.bloom = segment::BloomFilter::ForCapacity(pks.size());
    for (int64_t pk : pks) stats.bloom.Add(pk);
    auto bytes = segment::WriteStats(stats);
    EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
    s.stats = SegmentKey(info.id, s.channel, s.id, "stats/1");
    EXPECT_TRUE(objects.Put(s.stats, *bytes).ok());
    s.partition_rows[info.partitions.front().id] = pks.size();
  }
  if (!deleted.empty()) {
    auto bytes = segment::WriteDeltalog(core::DataType::kInt64, deleted);
    EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
    const std::string key = SegmentKey(info.id, s.channel, s.id, "deltalog/1");
    EXPECT_TRUE(objects.Put(key, *bytes).ok());
    s.deltalogs.push_back(key);
  }
  return s;
}

/// Records calls; Compact writes a merged segment's files (rows of the inputs minus
/// `compact_removed_rows`).
class FakeDataNode final : public datanode::DataNode {
 public:
  explicit FakeDataNode(storage::ObjectStore** objects) : objects_(objects) {}

  Status WatchCollection(const CollectionInfo& collection) override {
    std::lock_guard lock(mu);
    ++watch_calls;
    if (!watch_status.ok()) return watch_status;
    watched.insert(collection.id);
    return Status::OK();
  }
  Status UnwatchCollection(int64_t collection_id) override {
    std::lock_guard lock(mu);
    watched.erase(collection_id);
    unwatched.push_back(collection_id);
    return Status::OK();
  }
  Status Flush(int64_t collection_id) override {
    std::function<Status(int64_t)> hook;
    {
      std::lock_guard lock(mu);
      flushed.push_back(collection_id);
      hook = on_flush;
    }
    return hook ? hook(collection_id) : Status::OK();
  }
  Result<SegmentInfo> Compact(const CollectionInfo& collection, const std::vector<SegmentInfo>& inputs,
                              const std::vector<std::string>& all_deltalogs, int64_t new_segment_id,
                              const DeleteRetirement& retire) override {
    {
      std::lock_guard lock(mu);
      compactions.push_back({inputs, all_deltalogs, new_segment_id, retire});
      if (!compact_status.ok()) return compact_status;
    }
    SegmentInfo out;
    out.id = new_segment_id;
    out.collection_id = collection.id;
    out.channel = inputs.front().channel;
    out.start_offset = inputs.front().start_offset;
    out.end_offset = inputs.front().end_offset;
    for (const SegmentInfo& in : inputs) {
      out.start_offset = std::min(out.start_offset, in.start_offset);
      out.end_offset = std::max(out.end_offset, in.end_offset);
      out.num_rows += in.num_rows;
      out.deltalogs.insert(out.deltalogs.end(), in.deltalogs.begin(), in.deltalogs.end());
      out.compacted_from.push_back(in.id);
    }
    out.num_rows -= std::min<uint64_t>(out.num_rows, compact_removed_rows);
    if (out.num_rows > 0) {
      for (const auto& [field, key] : inputs.front().binlogs) {
        const std::string new_key =
            SegmentKey(collection.id, out.channel, out.id, "binlog/" + std::to_string(field) + "/1");
        if (!(*objects_)->Put(new_key, "merged").ok()) return Status::Internal("put failed");
        out.binlogs[field] = new_key;
      }
      out.stats = SegmentKey(collection.id, out.channel, out.id, "stats/1");
      if (!(*objects_)->Put(out.stats, "stats").ok()) return Status::Internal("put failed");
    }
    return out;
  }
  uint64_t GrowingRows(int64_t collection_id, std::optional<int64_t> partition_id) override {
    std::lock_guard lock(mu);
    return growing_rows;
  }

  struct CompactCall {
    std::vector<SegmentInfo> inputs;
    std::vector<std::string> all_deltalogs;
    int64_t new_segment_id = 0;
    DeleteRetirement retire;
  };

  std::mutex mu;
  int watch_calls = 0;
  Status watch_status;
  std::set<int64_t> watched;
  std::vector<int64_t> unwatched;
  std::vector<int64_t> flushed;
  std::function<Status(int64_t)> on_flush;
  std::vector<CompactCall> compactions;
  Status compact_status;
  uint64_t compact_removed_rows = 0;
  uint64_t growing_rows = 0;

 private:
  storage::ObjectStore** objects_;
};

/// Records submitted jobs; the test decides when (and whether) they finish.
class FakeIndexNode final : public indexnode::IndexNode {
 public:
  Status Submit(indexnode::BuildJob job) override {
    std::lock_guard lock(mu);
    jobs.push_back(std::move(job));
    return Status::OK();
  }
  size_t PendingBuilds() const override {
    std::lock_guard lock(mu);
    return jobs.size();
  }
  std::vector<indexnode::BuildJob> Take() {
    std::lock_guard lock(mu);
    return std::exchange(jobs, {});
  }
  size_t Count() const {
    std::lock_guard lock(mu);
    return jobs.size();
  }

  mutable std::mutex mu;
  std::vector<indexnode::BuildJob> jobs;
};

/// Records loads, releases and segments; behaves like a query node for IsLoaded.
class FakeQueryNode final : public querynode::QueryNode {
 public:
  struct Load {
    CollectionInfo info;
    std::vector<SegmentInfo> segments;
    std::map<std::string, uint64_t> checkpoints;
  };

  Status LoadCollection(const CollectionInfo& collection, const std::vector<SegmentInfo>& segments,
                        const std::map<std::string, uint64_t>& checkpoints) override {
    std::lock_guard lock(mu);
    if (!load_status.ok()) {
      if (loaded.count(collection.id) == 0) failures[collection.id] = load_status;
      return load_status;
    }
    failures.erase(collection.id);
    loads.push_back({collection, segments, checkpoints});
    loaded.insert(collection.id);
    for (const SegmentInfo& s : segments) serving[collection.id][s.id] = s;
    return Status::OK();
  }
  Status ReleaseCollection(int64_t collection_id) override {
    std::lock_guard lock(mu);
    releases.push_back(collection_id);
    failures.erase(collection_id);
    loaded.erase(collection_id);
    serving.erase(collection_id);
    return Status::OK();
  }
  Status AddSegment(const SegmentInfo& segment) override {
    std::lock_guard lock(mu);
    added.push_back(segment);
    if (loaded.count(segment.collection_id) == 0) return Status::OK();
    if (!add_status.ok()) return add_status;
    auto& segs = serving[segment.collection_id];
    for (int64_t old : segment.compacted_from) segs.erase(old);
    segs[segment.id] = segment;
    return Status::OK();
  }
  bool IsLoaded(int64_t collection_id) const override {
    std::lock_guard lock(mu);
    return loaded.count(collection_id) > 0;
  }
  std::map<std::string, uint64_t> TailPositions(int64_t collection_id) const override {
    std::lock_guard lock(mu);
    auto it = tail_positions.find(collection_id);
    return it == tail_positions.end() ? std::map<std::string, uint64_t>{} : it->second;
  }
  Status LoadFailure(int64_t collection_id) const override {
    std::lock_guard lock(mu);
    auto it = failures.find(collection_id);
    return it == failures.end() ? Status::OK() : it->second;
  }
  Result<querynode::SearchResponse> Search(const querynode::SearchRequest&) override {
    return Status::Unimplemented("fake");
  }
  Result<querynode::QueryResponse> Query(const querynode::QueryRequest&) override {
    return Status::Unimplemented("fake");
  }
  size_t QueueDepth() const override { return 0; }

  std::set<int64_t> Serving(int64_t collection_id) const {
    std::lock_guard lock(mu);
    std::set<int64_t> ids;
    auto it = serving.find(collection_id);
    if (it != serving.end()) {
      for (const auto& [id, s] : it->second) ids.insert(id);
    }
    return ids;
  }

  mutable std::mutex mu;
  Status load_status;
  Status add_status;  // what AddSegment of a loaded collection answers when not OK
  std::map<int64_t, Status> failures;  // the last failed load of a collection not loaded
  std::map<int64_t, std::map<std::string, uint64_t>> tail_positions;  // what TailPositions answers
  std::vector<Load> loads;
  std::vector<int64_t> releases;
  std::vector<SegmentInfo> added;
  std::set<int64_t> loaded;
  std::map<int64_t, std::map<int64_t, SegmentInfo>> serving;
};

/// A coordinator over a real SqliteMetaStore and LocalObjectStore, with the fake nodes
/// attached. Background threads are off unless a test turns them on in options_.
class CoordTest : public ::testing::Test {
 protected:
  CoordTest() {
    options_.compaction_interval = std::chrono::milliseconds(0);
    options_.gc_interval = std::chrono::milliseconds(0);
    options_.load_retry_interval = std::chrono::milliseconds(0);
    options_.gc_grace_period = std::chrono::milliseconds(0);
    options_.compaction_target_size = 200 * kTestRowBytes;  // "small": under 100 rows
  }

  void SetUp() override { Open(); }
  void TearDown() override { Close(); }

  void Open(bool start = true) {
    auto meta = storage::SqliteMetaStore::Open(dir_.path() / "meta.db");
    ASSERT_TRUE(meta.ok()) << meta.status().ToString();
    meta_ = std::move(meta).value();
    storage::LocalObjectStoreOptions object_options;
    object_options.sync = false;
    auto objects = storage::LocalObjectStore::Open(dir_.path() / "objects", object_options);
    ASSERT_TRUE(objects.ok()) << objects.status().ToString();
    objects_ = std::move(objects).value();
    objects_raw_ = objects_.get();
    auto coord = CoordinatorImpl::Open(options_, meta_.get(), objects_.get());
    ASSERT_TRUE(coord.ok()) << coord.status().ToString();
    coord_ = std::move(coord).value();
    coord_->AttachNodes(&data_, &index_, &query_);
    if (start) ASSERT_OK(coord_->Start());
  }

  void Close() {
    coord_.reset();
    objects_raw_ = nullptr;
    objects_.reset();
    meta_.reset();
  }

  /// Closes everything and opens it again on the same files (a restart); the fake nodes
  /// forget what they served, as restarted nodes would.
  void Reopen(bool start = true) {
    Close();
    {
      std::lock_guard lock(query_.mu);
      query_.loaded.clear();
      query_.serving.clear();
      query_.loads.clear();
      query_.failures.clear();
    }
    {
      std::lock_guard lock(data_.mu);
      data_.watched.clear();
    }
    index_.Take();
    Open(start);
  }

  static core::CollectionSchema Schema(const std::string& name, bool dynamic = false) {
    core::CollectionSchema schema;
    schema.name = name;
    schema.enable_dynamic_field = dynamic;
    core::FieldSchema id;
    id.name = "id";
    id.data_type = core::DataType::kInt64;
    id.is_primary_key = true;
    core::FieldSchema vec;
    vec.name = "vec";
    vec.data_type = core::DataType::kFloatVector;
    vec.dim = 4;
    core::FieldSchema color;
    color.name = "color";
    color.data_type = core::DataType::kVarChar;
    color.max_length = 32;
    schema.fields = {id, vec, color};
    return schema;
  }

  CollectionInfo Create(const std::string& name, int32_t shards = 1, const std::string& db = "default") {
    CreateCollectionRequest request;
    request.db_name = db;
    request.schema = Schema(name);
    request.num_shards = shards;
    auto info = coord_->CreateCollection(request);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? *info : CollectionInfo{};
  }

  Status Index(const std::string& collection, const std::string& type = "HNSW",
               nlohmann::json params = nlohmann::json::object()) {
    IndexInfo index;
    index.field_name = "vec";
    index.index_type = type;
    index.metric_type = "L2";
    index.params = std::move(params);
    return coord_->CreateIndex("default", collection, index);
  }

  /// A segment of `rows` rows with primary keys first_pk.., written and reported.
  SegmentInfo Flushed(const CollectionInfo& info, uint64_t start, uint64_t end, int64_t rows, int64_t first_pk = 0,
                      int32_t shard = 0, const std::vector<segment::DeleteEntry>& deleted = {}) {
    auto id = coord_->AllocateIds(1);
    EXPECT_TRUE(id.ok());
    std::vector<int64_t> pks;
    for (int64_t i = 0; i < rows; ++i) pks.push_back(first_pk + i);
    SegmentInfo s = WriteSegmentFiles(*objects_, info, shard, *id, start, end, pks, deleted);
    Status st = coord_->SegmentFlushed(s);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return s;
  }

  /// Finishes every submitted build: writes an index file and reports it. Returns how many.
  size_t BuildAll() {
    size_t n = 0;
    for (const indexnode::BuildJob& job : index_.Take()) {
      const std::string key = SegmentKey(job.collection_id, job.segment.channel, job.segment.id,
                                         "index/" + std::to_string(job.index.id) + "/" + std::to_string(++build_seq_));
      EXPECT_TRUE(objects_->Put(key, "index-bytes").ok());
      Status s = coord_->IndexBuilt(job.segment.id, job.index.id, key);
      EXPECT_TRUE(s.ok()) << s.ToString();
      ++n;
    }
    return n;
  }

  bool Exists(const std::string& key) { return objects_->Head(key).ok(); }

  CompactionState WaitCompaction(int64_t job_id, const std::string& state = "Completed") {
    CompactionState last;
    WaitFor([&] {
      auto s = coord_->GetCompactionState(job_id);
      if (!s.ok()) return false;
      last = *s;
      return last.state == state;
    });
    return last;
  }

  ScratchDir dir_;
  CoordinatorOptions options_;
  std::unique_ptr<storage::SqliteMetaStore> meta_;
  std::unique_ptr<storage::LocalObjectStore> objects_;
  storage::ObjectStore* objects_raw_ = nullptr;
  FakeDataNode data_{&objects_raw_};
  FakeIndexNode index_;
  FakeQueryNode query_;
  std::unique_ptr<CoordinatorImpl> coord_;
  int build_seq_ = 0;
};

}  // namespace tessera::coord::testing
