// Index definitions and the build queue, load/release, flushed segments and checkpoints.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/metrics.h"
#include "coord/coord_test_util.h"
#include "coord/meta_keys.h"

namespace tessera::coord {
namespace {

using testing::CoordTest;
using testing::WaitFor;

bool Mentions(const Status& s, const std::string& needle) { return s.message().find(needle) != std::string::npos; }

TEST_F(CoordTest, CreateIndexValidates) {
  Create("books");
  IndexInfo index;
  index.field_name = "nope";
  index.index_type = "HNSW";
  Status missing = coord_->CreateIndex("default", "books", index);
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_TRUE(Mentions(missing, "field not found")) << missing.ToString();

  index.field_name = "color";
  EXPECT_CODE(coord_->CreateIndex("default", "books", index), kInvalidArgument);

  index.field_name = "vec";
  index.index_type = "DISKANN";
  Status bad_type = coord_->CreateIndex("default", "books", index);
  EXPECT_EQ(bad_type.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(bad_type, "DISKANN")) << bad_type.ToString();

  index.index_type = "HNSW";
  index.metric_type = "HAMMING";
  EXPECT_CODE(coord_->CreateIndex("default", "books", index), kInvalidArgument);

  index.metric_type = "L2";
  index.params = {{"M", 100000}};
  Status bad_param = coord_->CreateIndex("default", "books", index);
  EXPECT_EQ(bad_param.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(bad_param, "M")) << bad_param.ToString();
  index.params = {{"bogus", 1}};
  Status unknown = coord_->CreateIndex("default", "books", index);
  EXPECT_EQ(unknown.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(unknown, "bogus")) << unknown.ToString();
  index.params = "M=16";
  EXPECT_CODE(coord_->CreateIndex("default", "books", index), kInvalidArgument);
  // Parameters of other index types and index properties are dropped, as Milvus ignores them.
  Create("copied");
  index.params = {{"M", 8}, {"nlist", 128}, {"mmap.enabled", true}};
  ASSERT_TRUE(coord_->CreateIndex("default", "copied", index).ok());
  EXPECT_EQ(coord_->DescribeCollection("default", "copied")->indexes.at(0).params, (nlohmann::json{{"M", 8}}));

  index.params = nlohmann::json::object();
  index.name = "bad name";
  EXPECT_CODE(coord_->CreateIndex("default", "books", index), kInvalidArgument);
  index.name = "";
  EXPECT_CODE(coord_->CreateIndex("default", "nope", index), kNotFound);
  EXPECT_EQ(coord_->DescribeCollection("default", "books")->indexes.size(), 0u);
}

TEST_F(CoordTest, CreateIndexDefaultsAndDuplicates) {
  Create("books");
  IndexInfo index;
  index.field_name = "vec";
  index.index_type = "autoindex";
  ASSERT_OK(coord_->CreateIndex("default", "books", index));
  auto info = coord_->DescribeCollection("default", "books");
  ASSERT_EQ(info->indexes.size(), 1u);
  const IndexInfo& made = info->indexes[0];
  EXPECT_EQ(made.name, "vec");
  EXPECT_EQ(made.index_type, "AUTOINDEX");
  EXPECT_EQ(made.metric_type, "COSINE");
  EXPECT_EQ(made.field_id, info->schema.FindField("vec")->id);
  EXPECT_GT(made.id, 0);

  EXPECT_OK(coord_->CreateIndex("default", "books", index));  // identical: OK
  index.metric_type = "L2";
  Status different = coord_->CreateIndex("default", "books", index);
  EXPECT_EQ(different.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(coord_->DescribeCollection("default", "books")->indexes.size(), 1u);
}

TEST_F(CoordTest, IndexBuildsScheduledAndProgressReported) {
  CollectionInfo info = Create("books", 2);
  SegmentInfo a = Flushed(info, 0, 10, 30);
  SegmentInfo b = Flushed(info, 0, 7, 10, 100, /*shard=*/1);
  SegmentInfo empty = Flushed(info, 10, 12, 0);  // deletes only: nothing to index
  EXPECT_EQ(index_.Count(), 0u);                 // no index yet

  ASSERT_OK(Index("books"));
  info = *coord_->GetCollection(info.id);
  const int64_t index_id = info.indexes[0].id;
  auto jobs = index_.Take();
  ASSERT_EQ(jobs.size(), 2u);
  for (const auto& job : jobs) {
    EXPECT_EQ(job.collection_id, info.id);
    EXPECT_EQ(job.dim, 4);
    EXPECT_EQ(job.index.id, index_id);
    EXPECT_TRUE(job.segment.id == a.id || job.segment.id == b.id);
  }
  EXPECT_EQ(coord_->PendingIndexBuilds(), 2u);

  auto progress = coord_->DescribeIndexProgress(info.id, index_id);
  ASSERT_TRUE(progress.ok());
  EXPECT_EQ(progress->total_rows, 40u);
  EXPECT_EQ(progress->indexed_rows, 0u);
  EXPECT_EQ(progress->pending_rows, 40u);
  EXPECT_EQ(progress->state, "InProgress");

  const std::string key_a = testing::SegmentKey(info.id, a.channel, a.id, "index/1/1");
  ASSERT_OK(coord_->IndexBuilt(a.id, index_id, key_a));
  ASSERT_OK(coord_->IndexBuilt(a.id, index_id, key_a));  // repeated report: no change
  progress = coord_->DescribeIndexProgress(info.id, index_id);
  EXPECT_EQ(progress->indexed_rows, 30u);
  EXPECT_EQ(progress->pending_rows, 10u);
  EXPECT_EQ(progress->state, "InProgress");

  ASSERT_OK(coord_->IndexBuildFailed(b.id, index_id, "out of memory"));
  progress = coord_->DescribeIndexProgress(info.id, index_id);
  EXPECT_EQ(progress->state, "Failed");
  EXPECT_TRUE(progress->fail_reason.find("out of memory") != std::string::npos) << progress->fail_reason;
  EXPECT_EQ(index_.Count(), 0u);
  // Creating the same index again retries the failed build.
  ASSERT_OK(Index("books"));
  auto retried = index_.Take();
  ASSERT_EQ(retried.size(), 1u);
  EXPECT_EQ(retried[0].segment.id, b.id);
  EXPECT_EQ(coord_->DescribeIndexProgress(info.id, index_id)->state, "InProgress");

  const std::string key_b = testing::SegmentKey(info.id, b.channel, b.id, "index/1/1");
  ASSERT_OK(coord_->IndexBuilt(b.id, index_id, key_b));
  progress = coord_->DescribeIndexProgress(info.id, index_id);
  EXPECT_EQ(progress->state, "Finished");
  EXPECT_EQ(progress->pending_rows, 0u);
  EXPECT_EQ(coord_->PendingIndexBuilds(), 0u);

  // The file is recorded on the segment, durably.
  Reopen();
  auto segments = coord_->ListSegments(info.id);
  ASSERT_EQ(segments->size(), 3u);
  EXPECT_EQ((*segments)[0].index_files.at(index_id), key_a);
  EXPECT_EQ(index_.Count(), 0u);  // nothing to resubmit
  EXPECT_EQ(coord_->DescribeIndexProgress(info.id, index_id)->state, "Finished");

  // Errors.
  EXPECT_EQ(coord_->DescribeIndexProgress(info.id, 999999).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(coord_->DescribeIndexProgress(999999, index_id).status().code(), StatusCode::kNotFound);
  EXPECT_CODE(coord_->IndexBuilt(999999, index_id, key_a), kNotFound);
  EXPECT_CODE(coord_->IndexBuilt(a.id, index_id, "/bad//key"), kInvalidArgument);
  (void)empty;
}

TEST_F(CoordTest, NewSegmentsOfAnIndexedCollectionAreBuilt) {
  CollectionInfo info = Create("books");
  ASSERT_OK(Index("books"));
  SegmentInfo s = Flushed(info, 0, 5, 5);
  auto jobs = index_.Take();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].segment.id, s.id);
  EXPECT_EQ(jobs[0].segment.binlogs, s.binlogs);
}

TEST_F(CoordTest, IndexBuildsResubmittedAfterRestart) {
  CollectionInfo info = Create("books");
  ASSERT_OK(Index("books"));
  Flushed(info, 0, 5, 5);
  Flushed(info, 5, 9, 5);
  ASSERT_EQ(index_.Count(), 2u);
  Reopen();
  EXPECT_EQ(index_.Count(), 2u);
  EXPECT_EQ(BuildAll(), 2u);
  EXPECT_EQ(coord_->DescribeIndexProgress(info.id, coord_->GetCollection(info.id)->indexes[0].id)->state,
            "Finished");
}

TEST_F(CoordTest, DropIndex) {
  CollectionInfo info = Create("books");
  ASSERT_OK(Index("books"));
  Flushed(info, 0, 5, 5);
  BuildAll();
  ASSERT_OK(coord_->LoadCollection("default", "books", {}));
  Status loaded = coord_->DropIndex("default", "books", "vec");
  EXPECT_EQ(loaded.code(), StatusCode::kFailedPrecondition);
  ASSERT_OK(coord_->ReleaseCollection("default", "books", {}));
  EXPECT_CODE(coord_->DropIndex("default", "books", "nope"), kNotFound);
  ASSERT_OK(coord_->DropIndex("default", "books", "vec"));
  EXPECT_TRUE(coord_->DescribeCollection("default", "books")->indexes.empty());
  EXPECT_TRUE((*coord_->ListSegments(info.id))[0].index_files.empty());
  Reopen();
  EXPECT_TRUE((*coord_->ListSegments(info.id))[0].index_files.empty());
  // A new, different index may be created now.
  ASSERT_OK(Index("books", "FLAT"));
  EXPECT_EQ(index_.Count(), 1u);
}

TEST_F(CoordTest, LoadNeedsAnIndexAndReportsState) {
  CollectionInfo info = Create("books");
  Status no_index = coord_->LoadCollection("default", "books", {});
  EXPECT_EQ(no_index.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Mentions(no_index, "index not found")) << no_index.ToString();
  EXPECT_EQ(coord_->GetLoadState(info.id)->state, LoadState::kNotLoad);

  ASSERT_OK(Index("books"));
  SegmentInfo s = Flushed(info, 0, 8, 4);
  EXPECT_CODE(coord_->LoadCollection("default", "books", {"nope"}), kNotFound);
  ASSERT_OK(coord_->LoadCollection("default", "books", {}));
  auto state = coord_->GetLoadState(info.id);
  EXPECT_EQ(state->state, LoadState::kLoaded);
  EXPECT_EQ(state->progress, 100);
  {
    std::lock_guard lock(query_.mu);
    ASSERT_EQ(query_.loads.size(), 1u);
    EXPECT_TRUE(query_.loads[0].info.loaded);
    EXPECT_TRUE(query_.loads[0].info.partitions[0].loaded);
    ASSERT_EQ(query_.loads[0].segments.size(), 1u);
    EXPECT_EQ(query_.loads[0].segments[0].id, s.id);
    EXPECT_EQ(query_.loads[0].checkpoints.at(info.Channel(0)), 8u);
  }
  // Segments flushed or indexed while loaded reach the query node.
  SegmentInfo t = Flushed(info, 8, 12, 4);
  EXPECT_EQ(query_.Serving(info.id), (std::set<int64_t>{s.id, t.id}));
  BuildAll();
  {
    std::lock_guard lock(query_.mu);
    ASSERT_FALSE(query_.added.empty());
    EXPECT_FALSE(query_.added.back().index_files.empty());
  }

  ASSERT_OK(coord_->ReleaseCollection("default", "books", {}));
  EXPECT_EQ(coord_->GetLoadState(info.id)->state, LoadState::kNotLoad);
  EXPECT_FALSE(query_.IsLoaded(info.id));
  EXPECT_FALSE(coord_->GetCollection(info.id)->loaded);
  EXPECT_EQ(coord_->GetLoadState(12345).status().code(), StatusCode::kNotFound);
}

TEST_F(CoordTest, FailedLoadLeavesTheCollectionReleased) {
  CollectionInfo info = Create("books");
  ASSERT_OK(Index("books"));
  {
    std::lock_guard lock(query_.mu);
    query_.load_status = Status::ResourceExhausted("no memory");
  }
  EXPECT_CODE(coord_->LoadCollection("default", "books", {}), kResourceExhausted);
  EXPECT_FALSE(coord_->GetCollection(info.id)->loaded);
  EXPECT_EQ(coord_->GetLoadState(info.id)->state, LoadState::kNotLoad);
}

TEST_F(CoordTest, ALoadThatFailsAtRecoveryIsReportedAndKeptForTheNextStart) {
  CollectionInfo info = Create("books");
  ASSERT_OK(Index("books"));
  ASSERT_OK(coord_->LoadCollection("default", "books", {}));
  {
    std::lock_guard lock(query_.mu);
    query_.load_status = Status::ResourceExhausted("not enough memory to load 3 sealed segments");
  }
  Reopen();
  // The recovery's load failed: not loaded, with the node's reason, and still loaded in
  // the catalog so that a start with more memory loads it.
  auto state = coord_->GetLoadState(info.id);
  ASSERT_OK(state.status());
  EXPECT_EQ(state->state, LoadState::kNotLoad);
  EXPECT_EQ(state->failure, "not enough memory to load 3 sealed segments");
  EXPECT_TRUE(coord_->GetCollection(info.id)->loaded);
  {
    std::lock_guard lock(query_.mu);
    query_.load_status = Status::OK();
  }
  Reopen();
  state = coord_->GetLoadState(info.id);
  EXPECT_EQ(state->state, LoadState::kLoaded);
  EXPECT_EQ(state->failure, "");
}

TEST_F(CoordTest, RefusedLoadsAndSegmentsAreOfferedAgain) {
  CollectionInfo info = Create("books");
  ASSERT_OK(Index("books"));
  SegmentInfo s = Flushed(info, 0, 8, 4);
  ASSERT_OK(coord_->LoadCollection("default", "books", {}));
  {
    std::lock_guard lock(query_.mu);
    query_.load_status = Status::ResourceExhausted("not enough memory");
  }
  Reopen();
  ASSERT_EQ(coord_->GetLoadState(info.id)->state, LoadState::kNotLoad);
  EXPECT_EQ(coord_->RetryRefusedLoads(), 0u) << "still refused";
  {
    std::lock_guard lock(query_.mu);
    query_.load_status = Status::OK();
  }
  EXPECT_EQ(coord_->RetryRefusedLoads(), 1u);
  EXPECT_EQ(coord_->GetLoadState(info.id)->state, LoadState::kLoaded);
  EXPECT_EQ(query_.Serving(info.id), (std::set<int64_t>{s.id}));
  EXPECT_EQ(coord_->RetryRefusedLoads(), 0u) << "nothing left to retry";

  // A segment the node refused is offered again until it takes it.
  {
    std::lock_guard lock(query_.mu);
    query_.add_status = Status::ResourceExhausted("not enough memory");
  }
  SegmentInfo t = Flushed(info, 8, 12, 4);
  EXPECT_EQ(query_.Serving(info.id), (std::set<int64_t>{s.id}));
  EXPECT_EQ(coord_->RetryRefusedLoads(), 0u);
  {
    std::lock_guard lock(query_.mu);
    query_.add_status = Status::OK();
  }
  EXPECT_EQ(coord_->RetryRefusedLoads(), 1u);
  EXPECT_EQ(query_.Serving(info.id), (std::set<int64_t>{s.id, t.id}));
  EXPECT_EQ(coord_->RetryRefusedLoads(), 0u);
}

TEST_F(CoordTest, PartialLoadAndRelease) {
  CollectionInfo info = Create("books");
  ASSERT_OK(coord_->CreatePartition("default", "books", "p1"));
  ASSERT_OK(coord_->CreatePartition("default", "books", "p2"));
  ASSERT_OK(Index("books"));
  ASSERT_OK(coord_->LoadCollection("default", "books", {"p1"}));
  auto loaded = *coord_->GetCollection(info.id);
  EXPECT_TRUE(loaded.loaded);
  EXPECT_FALSE(loaded.FindPartition("_default")->loaded);
  EXPECT_TRUE(loaded.FindPartition("p1")->loaded);
  EXPECT_FALSE(loaded.FindPartition("p2")->loaded);
  ASSERT_OK(coord_->LoadCollection("default", "books", {"p2"}));  // adds
  loaded = *coord_->GetCollection(info.id);
  EXPECT_TRUE(loaded.FindPartition("p1")->loaded);
  EXPECT_TRUE(loaded.FindPartition("p2")->loaded);

  // Releasing one partition reloads with the rest; releasing the last releases it all.
  ASSERT_OK(coord_->ReleaseCollection("default", "books", {"p1"}));
  loaded = *coord_->GetCollection(info.id);
  EXPECT_TRUE(loaded.loaded);
  EXPECT_FALSE(loaded.FindPartition("p1")->loaded);
  {
    std::lock_guard lock(query_.mu);
    EXPECT_FALSE(query_.loads.back().info.FindPartition("p1")->loaded);
    EXPECT_TRUE(query_.releases.empty());
  }
  ASSERT_OK(coord_->DropPartition("default", "books", "p1"));  // released: may go
  ASSERT_OK(coord_->ReleaseCollection("default", "books", {"p2"}));
  EXPECT_FALSE(coord_->GetCollection(info.id)->loaded);
  {
    std::lock_guard lock(query_.mu);
    EXPECT_EQ(query_.releases.size(), 1u);
  }
}

TEST_F(CoordTest, SegmentFlushedIsIdempotentAndMovesTheCheckpointInOneStep) {
  CollectionInfo info = Create("books", 2);
  EXPECT_EQ(*coord_->ChannelCheckpoint(info.Channel(0)), 0u);
  SegmentInfo s = Flushed(info, 0, 100, 10);
  EXPECT_EQ(*coord_->ChannelCheckpoint(info.Channel(0)), 100u);
  EXPECT_EQ(*coord_->ChannelCheckpoint(info.Channel(1)), 0u);

  // Both keys written by one MetaStore transaction: same mod revision.
  auto seg_kv = meta_->Get(keys::Segment(info.id, s.id));
  auto cp_kv = meta_->Get(keys::Checkpoint(info.Channel(0)));
  ASSERT_TRUE(seg_kv.ok() && seg_kv->has_value() && cp_kv.ok() && cp_kv->has_value());
  EXPECT_EQ((*seg_kv)->mod_revision, (*cp_kv)->mod_revision);
  EXPECT_EQ((*cp_kv)->value, "100");

  // A repeated report changes nothing, not even with different content.
  const int64_t revision = *meta_->CurrentRevision();
  SegmentInfo again = s;
  again.num_rows = 999;
  again.end_offset = 500;
  ASSERT_OK(coord_->SegmentFlushed(again));
  EXPECT_EQ(*meta_->CurrentRevision(), revision);
  EXPECT_EQ((*coord_->ListSegments(info.id))[0].num_rows, 10u);
  EXPECT_EQ(*coord_->ChannelCheckpoint(info.Channel(0)), 100u);

  // The checkpoint never moves backwards.
  Flushed(info, 50, 80, 3);
  EXPECT_EQ(*coord_->ChannelCheckpoint(info.Channel(0)), 100u);
  Flushed(info, 100, 130, 3);
  EXPECT_EQ(*coord_->ChannelCheckpoint(info.Channel(0)), 130u);

  Reopen();
  EXPECT_EQ(*coord_->ChannelCheckpoint(info.Channel(0)), 130u);
  EXPECT_EQ(coord_->ListSegments(info.id)->size(), 3u);
}

TEST_F(CoordTest, SegmentFlushedErrors) {
  CollectionInfo info = Create("books");
  SegmentInfo s = testing::WriteSegmentFiles(*objects_, info, 0, 5000, 0, 10, {1, 2});
  SegmentInfo bad = s;
  bad.collection_id = 424242;
  EXPECT_CODE(coord_->SegmentFlushed(bad), kNotFound);
  bad = s;
  bad.channel = "c1_s9";
  EXPECT_CODE(coord_->SegmentFlushed(bad), kInvalidArgument);
  bad = s;
  bad.start_offset = 20;
  EXPECT_CODE(coord_->SegmentFlushed(bad), kInvalidArgument);
  bad = s;
  bad.id = 0;
  EXPECT_CODE(coord_->SegmentFlushed(bad), kInvalidArgument);
  bad = s;
  bad.binlogs[1] = "../escape";
  EXPECT_CODE(coord_->SegmentFlushed(bad), kInvalidArgument);
  bad = s;
  bad.compacted_from = {777};
  EXPECT_CODE(coord_->SegmentFlushed(bad), kFailedPrecondition);
  EXPECT_TRUE(coord_->ListSegments(info.id)->empty());
  EXPECT_EQ(coord_->ListSegments(31337).status().code(), StatusCode::kNotFound);
}

TEST_F(CoordTest, PartitionCreatedInALoadedCollectionIsLoaded) {
  CollectionInfo info = Create("books");
  ASSERT_OK(Index("books"));
  ASSERT_OK(coord_->LoadCollection("default", "books", {}));
  ASSERT_OK(coord_->CreatePartition("default", "books", "p1"));
  EXPECT_TRUE(coord_->GetCollection(info.id)->FindPartition("p1")->loaded);
  {
    std::lock_guard lock(query_.mu);
    ASSERT_FALSE(query_.loads.empty());
    const PartitionInfo* served = query_.loads.back().info.FindPartition("p1");
    ASSERT_NE(served, nullptr);
    EXPECT_TRUE(served->loaded);
  }
  // Partially loaded: a new partition stays unloaded until loaded by name.
  ASSERT_OK(coord_->ReleaseCollection("default", "books", {"p1"}));
  ASSERT_OK(coord_->CreatePartition("default", "books", "p2"));
  EXPECT_FALSE(coord_->GetCollection(info.id)->FindPartition("p2")->loaded);
}

TEST_F(CoordTest, FlushAndCountRows) {
  CollectionInfo info = Create("books");
  ASSERT_OK(coord_->CreatePartition("default", "books", "p1"));
  info = *coord_->GetCollection(info.id);
  const int64_t p0 = info.partitions[0].id;
  const int64_t p1 = info.partitions[1].id;
  // The fake data node flushes one segment per Flush: 6 rows, 4 in p0 and 2 in p1.
  {
    std::lock_guard lock(data_.mu);
    data_.on_flush = [&](int64_t collection_id) {
      SegmentInfo s = testing::WriteSegmentFiles(*objects_, info, 0, *coord_->AllocateIds(1), 0, 6,
                                                 {1, 2, 3, 4, 5, 6});
      s.partition_rows = {{p0, 4}, {p1, 2}};
      return coord_->SegmentFlushed(s);
    };
    data_.growing_rows = 3;
  }
  ASSERT_OK(coord_->Flush(info.id));
  {
    std::lock_guard lock(data_.mu);
    EXPECT_EQ(data_.flushed, std::vector<int64_t>{info.id});
  }
  EXPECT_EQ(*coord_->CountRows(info.id, std::nullopt), 9u);
  EXPECT_EQ(*coord_->CountRows(info.id, p0), 7u);
  EXPECT_EQ(*coord_->CountRows(info.id, p1), 5u);
  EXPECT_EQ(coord_->CountRows(info.id, 424242).status().code(), StatusCode::kNotFound);
  EXPECT_CODE(coord_->Flush(424242), kNotFound);
  EXPECT_EQ(coord_->CountRows(424242, std::nullopt).status().code(), StatusCode::kNotFound);
}

// Flushes, index reports and loads from several threads at once: every segment ends up
// recorded, indexed and served exactly once, and every checkpoint at its channel's end.
TEST_F(CoordTest, ConcurrentFlushesBuildsAndLoad) {
  CollectionInfo info = Create("books", 4);
  ASSERT_OK(Index("books"));
  constexpr int kPerShard = 15;
  std::atomic<bool> done{false};
  std::vector<std::thread> writers;
  for (int32_t shard = 0; shard < 4; ++shard) {
    writers.emplace_back([&, shard] {
      for (int i = 0; i < kPerShard; ++i) {
        const uint64_t start = static_cast<uint64_t>(i) * 10;
        auto id = coord_->AllocateIds(1);
        ASSERT_TRUE(id.ok());
        SegmentInfo s = testing::WriteSegmentFiles(*objects_, info, shard, *id, start, start + 10,
                                                   {shard * 1000 + i * 2, shard * 1000 + i * 2 + 1});
        ASSERT_OK(coord_->SegmentFlushed(s));
        ASSERT_OK(coord_->SegmentFlushed(s));
      }
    });
  }
  std::thread builder([&] {
    while (!done) {
      BuildAll();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  ASSERT_OK(coord_->LoadCollection("default", "books", {}));
  for (auto& t : writers) t.join();
  ASSERT_TRUE(WaitFor([&] { return coord_->PendingIndexBuilds() == 0 && index_.Count() == 0; }));
  done = true;
  builder.join();

  auto segments = *coord_->ListSegments(info.id);
  ASSERT_EQ(segments.size(), 4u * kPerShard);
  std::set<int64_t> ids;
  for (const SegmentInfo& s : segments) {
    EXPECT_EQ(s.index_files.size(), 1u) << s.id;
    ids.insert(s.id);
  }
  EXPECT_EQ(query_.Serving(info.id), ids);
  {
    std::lock_guard lock(query_.mu);
    for (const auto& [id, s] : query_.serving[info.id]) EXPECT_EQ(s.index_files.size(), 1u) << id;
  }
  for (int32_t shard = 0; shard < 4; ++shard) {
    EXPECT_EQ(*coord_->ChannelCheckpoint(info.Channel(shard)), kPerShard * 10u);
  }
  EXPECT_EQ(*coord_->CountRows(info.id, std::nullopt), 2u * 4u * kPerShard);
}

// Counters exist from the coordinator's open on, before their first event (a series that
// appears only at its first increment breaks rate() and alerts on it).
TEST_F(CoordTest, CountersExistAtZeroFromTheStart) {
  const std::string text = metrics::Registry::Default().Render();
  for (const char* series : {"tessera_coord_index_builds_total{result=\"failed\"}",
                             "tessera_coord_compaction_plans_total{result=\"failed\"}",
                             "tessera_coord_compaction_jobs_total", "tessera_coord_gc_deleted_objects_total",
                             "tessera_coord_flush_requests_total", "tessera_coord_segments_flushed_total"}) {
    EXPECT_NE(text.find(series), std::string::npos) << series << " missing from:\n" << text;
  }
}

TEST_F(CoordTest, NoNodesAttached) {
  coord_.reset();
  auto coord = CoordinatorImpl::Open(options_, meta_.get(), objects_.get());
  ASSERT_TRUE(coord.ok());
  coord_ = std::move(coord).value();
  ASSERT_OK(coord_->Start());
  CollectionInfo info = Create("books");
  ASSERT_OK(Index("books"));
  Flushed(info, 0, 3, 3);
  ASSERT_OK(coord_->LoadCollection("default", "books", {}));
  EXPECT_EQ(coord_->GetLoadState(info.id)->state, LoadState::kLoaded);
  EXPECT_CODE(coord_->Flush(info.id), kUnavailable);
  EXPECT_EQ(coord_->Compact(info.id).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(*coord_->CountRows(info.id, std::nullopt), 3u);
}

}  // namespace
}  // namespace tessera::coord
