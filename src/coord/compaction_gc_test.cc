// Compaction (planning, ordering: the old segments stay live until the new one is indexed)
// and garbage collection of unreferenced files.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "coord/coord_metrics.h"
#include "coord/coord_test_util.h"
#include "coord/hybrid_timestamp.h"
#include "coord/meta_keys.h"
#include "storage/log/local_log.h"

namespace tessera::coord {
namespace {

using testing::CoordTest;
using testing::WaitFor;

std::set<int64_t> Ids(const std::vector<SegmentInfo>& segments) {
  std::set<int64_t> ids;
  for (const SegmentInfo& s : segments) ids.insert(s.id);
  return ids;
}

// Out of line: GCC 12 reports a false -Wmaybe-uninitialized on brace-initialised entries.
[[gnu::noinline]] segment::DeleteEntry Delete(int64_t pk, uint64_t ts) {
  segment::DeleteEntry entry;
  entry.pk = pk;
  entry.timestamp = ts;
  return entry;
}

std::vector<std::string> Files(const SegmentInfo& s) {
  std::vector<std::string> keys;
  for (const auto& [field, key] : s.binlogs) keys.push_back(key);
  keys.insert(keys.end(), s.deltalogs.begin(), s.deltalogs.end());
  if (!s.stats.empty()) keys.push_back(s.stats);
  for (const auto& [index, key] : s.index_files) keys.push_back(key);
  return keys;
}

TEST_F(CoordTest, CompactionKeepsOldSegmentsUntilTheNewOneIsIndexed) {
  CollectionInfo info = Create("books", 2);
  ASSERT_OK(Index("books"));
  SegmentInfo a = Flushed(info, 0, 10, 10, 0);
  SegmentInfo b = Flushed(info, 10, 20, 10, 10);
  SegmentInfo c = Flushed(info, 20, 30, 10, 20);
  SegmentInfo big = Flushed(info, 30, 40, 500, 30);     // not small: stays
  SegmentInfo other = Flushed(info, 0, 5, 10, 1000, 1);  // alone on its channel: stays
  BuildAll();
  ASSERT_OK(coord_->LoadCollection("default", "books", {}));
  a = (*coord_->ListSegments(info.id))[0];  // with its index file

  auto job = coord_->Compact(info.id);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  // The data node writes the merged segment; then its index is built.
  ASSERT_TRUE(WaitFor([&] { return index_.Count() == 1; }));
  {
    std::lock_guard lock(data_.mu);
    ASSERT_EQ(data_.compactions.size(), 1u);
    EXPECT_EQ(Ids(data_.compactions[0].inputs), (std::set<int64_t>{a.id, b.id, c.id}));
  }
  const int64_t output_id = index_.jobs[0].segment.id;
  auto state = coord_->GetCompactionState(*job);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->state, "Executing");
  EXPECT_EQ(state->executing_plans, 1);
  EXPECT_EQ(state->completed_plans, 0);

  // Not indexed yet: the inputs are still the live, served segments.
  EXPECT_EQ(Ids(*coord_->ListSegments(info.id)), (std::set<int64_t>{a.id, b.id, c.id, big.id, other.id}));
  EXPECT_EQ(query_.Serving(info.id), (std::set<int64_t>{a.id, b.id, c.id, big.id, other.id}));
  // And GC keeps both the inputs' and the unregistered output's files.
  ASSERT_OK(coord_->RunGarbageCollection());
  for (const std::string& key : Files(a)) EXPECT_TRUE(Exists(key)) << key;
  EXPECT_TRUE(Exists(testing::SegmentKey(info.id, info.Channel(0), output_id, "stats/1")));

  // A second Compact does not take the reserved inputs again.
  auto second = coord_->Compact(info.id);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(coord_->GetCompactionState(*second)->state, "Completed");
  EXPECT_EQ(coord_->GetCompactionState(*second)->completed_plans, 0);

  ASSERT_EQ(BuildAll(), 1u);
  state = coord_->GetCompactionState(*job);
  EXPECT_EQ(state->state, "Completed");
  EXPECT_EQ(state->completed_plans, 1);
  EXPECT_EQ(state->executing_plans, 0);

  auto live = *coord_->ListSegments(info.id);
  EXPECT_EQ(Ids(live), (std::set<int64_t>{output_id, big.id, other.id}));
  const SegmentInfo& output = live[std::distance(live.begin(), std::find_if(live.begin(), live.end(), [&](auto& s) {
                                                   return s.id == output_id;
                                                 }))];
  EXPECT_EQ(output.num_rows, 30u);
  EXPECT_EQ(output.index_files.size(), 1u);
  EXPECT_EQ(std::set<int64_t>(output.compacted_from.begin(), output.compacted_from.end()),
            (std::set<int64_t>{a.id, b.id, c.id}));
  EXPECT_EQ(query_.Serving(info.id), (std::set<int64_t>{output_id, big.id, other.id}));
  EXPECT_EQ(*coord_->CountRows(info.id, std::nullopt), 540u);

  // The inputs' files go at the next GC; their records follow once the files are gone.
  ASSERT_OK(coord_->RunGarbageCollection());
  for (const std::string& key : Files(a)) EXPECT_FALSE(Exists(key)) << key;
  for (const std::string& key : Files(output)) EXPECT_TRUE(Exists(key)) << key;
  for (const std::string& key : Files(big)) EXPECT_TRUE(Exists(key)) << key;
  auto kv = meta_->Get(keys::Segment(info.id, a.id));
  ASSERT_TRUE(kv.ok());
  EXPECT_FALSE(kv->has_value());

  Reopen();
  EXPECT_EQ(Ids(*coord_->ListSegments(info.id)), (std::set<int64_t>{output_id, big.id, other.id}));
  // Jobs are not persisted: after a restart the job reads as Completed with no plans.
  auto after = coord_->GetCompactionState(*job);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->state, "Completed");
  EXPECT_EQ(after->executing_plans, 0);
  EXPECT_EQ(after->completed_plans, 0);
}

// Heavy upsert churn seals segments whose rows are mostly replaced within their own range;
// indexing them wastes the index node's time on dead rows, so they are compacted first.
TEST_F(CoordTest, MostlyDeletedSegmentsAreCompactedBeforeTheyAreIndexed) {
  options_.compaction_interval = std::chrono::hours(1);  // on, but no round runs by itself here
  Reopen();
  metrics::Counter& failed_plans = CompactionPlansCounter("failed");
  CollectionInfo info = Create("books");
  ASSERT_OK(Index("books"));
  const int64_t index_id = coord_->GetCollection(info.id)->indexes[0].id;
  const auto flushed = [&](uint64_t start, uint64_t end, int64_t first_pk, uint64_t deleted_rows) {
    auto id = coord_->AllocateIds(1);
    EXPECT_TRUE(id.ok());
    std::vector<int64_t> pks;
    for (int64_t i = 0; i < 10; ++i) pks.push_back(first_pk + i);
    SegmentInfo s = testing::WriteSegmentFiles(*objects_, info, 0, *id, start, end, pks, {});
    s.deleted_rows = deleted_rows;
    EXPECT_OK(coord_->SegmentFlushed(s));
    return s;
  };
  SegmentInfo half = flushed(0, 10, 0, 5);  // half deleted: indexed as usual
  ASSERT_EQ(index_.Count(), 1u);
  BuildAll();
  {
    std::lock_guard lock(data_.mu);
    data_.compact_status = Status::Unavailable("data node busy");
  }
  double failures = failed_plans.value();
  SegmentInfo churned = flushed(10, 20, 10, 9);
  // Its build waits; a compaction was requested at once, and it failed.
  ASSERT_TRUE(WaitFor([&] { return failed_plans.value() > failures; }));
  EXPECT_EQ(index_.Count(), 0u);
  {
    std::lock_guard lock(data_.mu);
    ASSERT_EQ(data_.compactions.size(), 1u);
    EXPECT_EQ(data_.compactions[0].inputs.back().id, churned.id);
  }
  // The next round builds the segment as it is (its own compaction attempt fails again).
  failures = failed_plans.value();
  ASSERT_TRUE(coord_->CompactAll().ok());
  EXPECT_EQ(index_.Count(), 1u);
  ASSERT_TRUE(WaitFor([&] { return failed_plans.value() > failures; }));
  {
    std::lock_guard lock(data_.mu);
    data_.compact_status = Status::OK();
  }
  EXPECT_EQ(index_.jobs[0].segment.id, churned.id);
  BuildAll();
  EXPECT_EQ(coord_->DescribeIndexProgress(info.id, index_id)->state, "Finished");

  // Next time the compaction works: only its output is built, and it replaces the segment.
  SegmentInfo again = flushed(20, 30, 20, 8);
  ASSERT_TRUE(WaitFor([&] { return index_.Count() == 1; }));
  const indexnode::BuildJob job = index_.jobs[0];
  EXPECT_NE(job.segment.id, again.id);
  EXPECT_NE(std::find(job.segment.compacted_from.begin(), job.segment.compacted_from.end(), again.id),
            job.segment.compacted_from.end());
  EXPECT_EQ(coord_->DescribeIndexProgress(info.id, index_id)->state, "InProgress");  // not indexed yet
  BuildAll();
  ASSERT_TRUE(WaitFor([&] {
    auto live = coord_->ListSegments(info.id);
    return live.ok() && Ids(*live).count(again.id) == 0;
  }));
  EXPECT_TRUE(Ids(*coord_->ListSegments(info.id)).count(job.segment.id));
  EXPECT_EQ(coord_->DescribeIndexProgress(info.id, index_id)->state, "Finished");
  (void)half;
}

// With a TTL, a segment whose newest row has expired is rewritten (into nothing) however
// large it is; one with a live row is left alone.
TEST_F(CoordTest, SegmentsWhoseRowsAllExpiredAreCompactedAway) {
  CollectionInfo info = Create("books");
  ASSERT_OK(coord_->AlterCollectionProperties("default", "books", {{"collection.ttl.seconds", "60"}}, {}));
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const auto flushed = [&](uint64_t start, int64_t first_pk, uint64_t max_timestamp) {
    auto id = coord_->AllocateIds(1);
    EXPECT_TRUE(id.ok());
    std::vector<int64_t> pks;
    for (int64_t i = 0; i < 150; ++i) pks.push_back(first_pk + i);  // not small
    SegmentInfo s = testing::WriteSegmentFiles(*objects_, info, 0, *id, start, start + 10, pks, {});
    s.max_timestamp = max_timestamp;
    EXPECT_OK(coord_->SegmentFlushed(s));
    return s;
  };
  SegmentInfo expired = flushed(0, 0, ComposeTimestamp(now_ms - 120 * 1000, 0));
  SegmentInfo live = flushed(10, 1000, ComposeTimestamp(now_ms, 0));
  auto job = coord_->Compact(info.id);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(data_.mu);
    return !data_.compactions.empty();
  }));
  std::lock_guard lock(data_.mu);
  ASSERT_EQ(data_.compactions.size(), 1u);
  EXPECT_EQ(Ids(data_.compactions[0].inputs), (std::set<int64_t>{expired.id}));
  (void)live;
}

TEST_F(CoordTest, CompactionMayRetireDeletesUpToTheChannelsLargestTick) {
  CollectionInfo info = Create("books", 2);
  auto flushed = [&](uint64_t start, uint64_t end, int64_t rows, int64_t first_pk, int32_t shard, uint64_t tick) {
    SegmentInfo s = testing::WriteSegmentFiles(*objects_, info, shard, *coord_->AllocateIds(1), start, end,
                                               [&] {
                                                 std::vector<int64_t> pks;
                                                 for (int64_t i = 0; i < rows; ++i) pks.push_back(first_pk + i);
                                                 return pks;
                                               }(),
                                               {});
    s.time_tick = tick;
    EXPECT_OK(coord_->SegmentFlushed(s));
    return s;
  };
  SegmentInfo a = flushed(0, 10, 10, 0, 0, 50);
  SegmentInfo b = flushed(10, 20, 10, 10, 0, 70);
  SegmentInfo big = flushed(20, 30, 500, 20, 0, 90);         // not small: not an input
  SegmentInfo empty = flushed(30, 31, 0, 0, 0, 95);          // no rows: nothing to rule out
  flushed(0, 10, 500, 1000, 1, 500);                         // another channel's tick
  ASSERT_TRUE(coord_->Compact(info.id).ok());
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(data_.mu);
    return !data_.compactions.empty();
  }));
  std::lock_guard lock(data_.mu);
  ASSERT_EQ(data_.compactions.size(), 1u);
  EXPECT_EQ(Ids(data_.compactions[0].inputs), (std::set<int64_t>{a.id, b.id, empty.id}));
  EXPECT_EQ(data_.compactions[0].retire.up_to_ts, 95u);
  EXPECT_EQ(data_.compactions[0].retire.other_stats, std::vector<std::string>{big.stats});
}

TEST_F(CoordTest, CompactionRetiresNothingBesideASegmentWithoutStats) {
  CollectionInfo info = Create("books");
  SegmentInfo a = Flushed(info, 0, 10, 10, 0);
  SegmentInfo b = Flushed(info, 10, 20, 10, 10);
  SegmentInfo big = testing::WriteSegmentFiles(*objects_, info, 0, *coord_->AllocateIds(1), 20, 30,
                                               std::vector<int64_t>(500, 7), {});
  big.stats.clear();  // rows whose keys nothing can rule out
  big.time_tick = 80;
  ASSERT_OK(coord_->SegmentFlushed(big));
  ASSERT_TRUE(coord_->Compact(info.id).ok());
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(data_.mu);
    return !data_.compactions.empty();
  }));
  std::lock_guard lock(data_.mu);
  EXPECT_EQ(Ids(data_.compactions[0].inputs), (std::set<int64_t>{a.id, b.id}));
  EXPECT_EQ(data_.compactions[0].retire.up_to_ts, 0u);
  EXPECT_TRUE(data_.compactions[0].retire.other_stats.empty());
}

TEST_F(CoordTest, CompactionWithNothingToDoCompletesAtOnce) {
  CollectionInfo info = Create("books");
  Flushed(info, 0, 10, 500);
  Flushed(info, 10, 20, 10);  // one small segment alone: nothing to merge with
  auto job = coord_->Compact(info.id);
  ASSERT_TRUE(job.ok());
  auto state = coord_->GetCompactionState(*job);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->state, "Completed");
  EXPECT_EQ(state->executing_plans, 0);
  EXPECT_EQ(state->completed_plans, 0);
  std::lock_guard lock(data_.mu);
  EXPECT_TRUE(data_.compactions.empty());
}

TEST_F(CoordTest, CompactionErrors) {
  EXPECT_EQ(coord_->Compact(424242).status().code(), StatusCode::kNotFound);
  auto unknown = coord_->GetCompactionState(424242);  // as Milvus: an id without plans
  ASSERT_TRUE(unknown.ok()) << unknown.status().ToString();
  EXPECT_EQ(unknown->state, "Completed");
  EXPECT_EQ(unknown->executing_plans + unknown->completed_plans, 0);
}

TEST_F(CoordTest, CompactionPacksSmallSegmentsUpToTheTargetSize) {
  // Target: 200 rows' bytes; "small" is under 100 rows.
  CollectionInfo info = Create("books");
  SegmentInfo a = Flushed(info, 0, 10, 60, 0);
  SegmentInfo big = Flushed(info, 10, 20, 150, 100);  // not small: stays as it is
  SegmentInfo b = Flushed(info, 20, 30, 60, 300);
  SegmentInfo c = Flushed(info, 30, 40, 60, 400);
  SegmentInfo d = Flushed(info, 40, 50, 90, 500);  // would overflow a+b+c: alone, not merged
  auto job = coord_->Compact(info.id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(WaitCompaction(*job).completed_plans, 1);
  {
    std::lock_guard lock(data_.mu);
    ASSERT_EQ(data_.compactions.size(), 1u);
    EXPECT_EQ(Ids(data_.compactions[0].inputs), (std::set<int64_t>{a.id, b.id, c.id}));
  }
  std::set<int64_t> live = Ids(*coord_->ListSegments(info.id));
  EXPECT_TRUE(live.count(big.id) == 1 && live.count(d.id) == 1 && live.count(a.id) == 0) << live.size();
  EXPECT_EQ(live.size(), 3u);
}

TEST_F(CoordTest, CompactionWithoutIndexesRegistersAtOnce) {
  CollectionInfo info = Create("books");
  SegmentInfo a = Flushed(info, 0, 10, 10);
  SegmentInfo b = Flushed(info, 10, 20, 10);
  auto job = coord_->Compact(info.id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(WaitCompaction(*job).completed_plans, 1);
  auto live = *coord_->ListSegments(info.id);
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].compacted_from, (std::vector<int64_t>{a.id, b.id}));
  EXPECT_EQ(index_.Count(), 0u);
}

TEST_F(CoordTest, HeavilyDeletedSegmentIsRewritten) {
  options_.compaction_target_size = 20 * testing::kTestRowBytes;  // "small": under 10 rows
  Reopen();
  CollectionInfo info = Create("books");
  SegmentInfo big = Flushed(info, 0, 100, 100, 0);        // pks 0..99
  SegmentInfo lightly = Flushed(info, 100, 200, 100, 500);  // pks 500..599
  // A later range that deletes 30 rows of `big` and 2 of `lightly`, and inserts 50 rows.
  std::vector<segment::DeleteEntry> deletes;
  for (int64_t pk = 0; pk < 30; ++pk) deletes.push_back(Delete(pk, 1000));
  deletes.push_back(Delete(500, 1000));
  deletes.push_back(Delete(501, 1000));
  SegmentInfo later = Flushed(info, 200, 300, 50, 1000, 0, deletes);
  // Upserts inside one range: its own deltalog deletes keys it holds again afterwards. Those
  // deletes are not newer than its rows, so it is not "heavily deleted".
  std::vector<segment::DeleteEntry> upserts;
  for (int64_t pk = 700; pk < 760; ++pk) upserts.push_back(Delete(pk, 2000));
  SegmentInfo upserted = Flushed(info, 300, 400, 100, 700, 0, upserts);

  auto job = coord_->Compact(info.id);
  ASSERT_TRUE(job.ok());
  WaitCompaction(*job);
  std::lock_guard lock(data_.mu);
  ASSERT_EQ(data_.compactions.size(), 1u);
  // Only `big` is over the 20% ratio; the others are neither small nor heavy.
  EXPECT_EQ(Ids(data_.compactions[0].inputs), (std::set<int64_t>{big.id}));
  // Every live deltalog is passed to the data node.
  std::vector<std::string> all = later.deltalogs;
  all.insert(all.end(), upserted.deltalogs.begin(), upserted.deltalogs.end());
  EXPECT_EQ(data_.compactions[0].all_deltalogs, all);
  (void)lightly;
}

TEST_F(CoordTest, FailedCompactionKeepsTheInputs) {
  CollectionInfo info = Create("books");
  ASSERT_OK(Index("books"));
  SegmentInfo a = Flushed(info, 0, 10, 10);
  SegmentInfo b = Flushed(info, 10, 20, 10);
  BuildAll();
  {
    std::lock_guard lock(data_.mu);
    data_.compact_status = Status::Internal("disk full");
  }
  auto job = coord_->Compact(info.id);
  ASSERT_TRUE(job.ok());
  auto state = WaitCompaction(*job);
  EXPECT_EQ(state.completed_plans, 0);
  EXPECT_EQ(Ids(*coord_->ListSegments(info.id)), (std::set<int64_t>{a.id, b.id}));

  // The index build of the output fails: same outcome, and the inputs can be taken again.
  {
    std::lock_guard lock(data_.mu);
    data_.compact_status = Status::OK();
  }
  job = coord_->Compact(info.id);
  ASSERT_TRUE(WaitFor([&] { return index_.Count() == 1; }));
  auto jobs = index_.Take();
  ASSERT_OK(coord_->IndexBuildFailed(jobs[0].segment.id, jobs[0].index.id, "bad vectors"));
  state = WaitCompaction(*job);
  EXPECT_EQ(state.completed_plans, 0);
  EXPECT_EQ(Ids(*coord_->ListSegments(info.id)), (std::set<int64_t>{a.id, b.id}));

  job = coord_->Compact(info.id);
  ASSERT_TRUE(WaitFor([&] { return index_.Count() == 1; }));
  BuildAll();
  EXPECT_EQ(WaitCompaction(*job).completed_plans, 1);
  EXPECT_EQ(coord_->ListSegments(info.id)->size(), 1u);
}

TEST_F(CoordTest, DroppingTheCollectionAbandonsItsCompaction) {
  CollectionInfo info = Create("books");
  ASSERT_OK(Index("books"));
  Flushed(info, 0, 10, 10);
  Flushed(info, 10, 20, 10);
  BuildAll();
  auto job = coord_->Compact(info.id);
  ASSERT_TRUE(WaitFor([&] { return index_.Count() == 1; }));
  ASSERT_OK(coord_->DropCollection("default", "books"));
  EXPECT_EQ(WaitCompaction(*job).completed_plans, 0);
  auto jobs = index_.Take();
  EXPECT_CODE(coord_->IndexBuilt(jobs[0].segment.id, jobs[0].index.id, "collections/x/index"), kNotFound);
}

TEST_F(CoordTest, BackgroundCompaction) {
  options_.compaction_interval = std::chrono::milliseconds(20);
  Reopen();
  CollectionInfo info = Create("books");
  Flushed(info, 0, 10, 10);
  Flushed(info, 10, 20, 10);
  ASSERT_TRUE(WaitFor([&] { return coord_->ListSegments(info.id)->size() == 1; }));
  EXPECT_EQ((*coord_->ListSegments(info.id))[0].compacted_from.size(), 2u);
}

TEST_F(CoordTest, GcDeletesOnlyUnreferencedFilesUnderCollections) {
  CollectionInfo info = Create("books");
  SegmentInfo live = Flushed(info, 0, 10, 10);
  const std::string orphan = testing::SegmentKey(info.id, info.Channel(0), 999, "binlog/100/1");
  const std::string elsewhere = "backups/snapshot-1";
  ASSERT_OK(objects_->Put(orphan, "x"));
  ASSERT_OK(objects_->Put(elsewhere, "x"));
  ASSERT_OK(coord_->RunGarbageCollection());
  EXPECT_FALSE(Exists(orphan));
  EXPECT_TRUE(Exists(elsewhere));
  for (const std::string& key : Files(live)) EXPECT_TRUE(Exists(key)) << key;
}

TEST_F(CoordTest, GcWaitsForTheGracePeriod) {
  options_.gc_grace_period = std::chrono::milliseconds(300);
  Reopen();
  CollectionInfo info = Create("books");
  const std::string fresh = testing::SegmentKey(info.id, info.Channel(0), 998, "binlog/100/1");
  const std::string old = testing::SegmentKey(info.id, info.Channel(0), 999, "binlog/100/1");
  ASSERT_OK(objects_->Put(fresh, "x"));
  ASSERT_OK(objects_->Put(old, "x"));
  // `old` was written an hour ago, but this coordinator sees it unreferenced only now.
  const auto path = objects_->TEST_PathOf(old);
  std::filesystem::last_write_time(path, std::filesystem::last_write_time(path) - std::chrono::hours(1));

  ASSERT_OK(coord_->RunGarbageCollection());
  EXPECT_TRUE(Exists(fresh));
  EXPECT_TRUE(Exists(old));
  std::this_thread::sleep_for(std::chrono::milliseconds(350));
  ASSERT_OK(coord_->RunGarbageCollection());
  EXPECT_FALSE(Exists(fresh));
  EXPECT_FALSE(Exists(old));
}

TEST_F(CoordTest, GcRemovesFilesOfDroppedCollections) {
  CollectionInfo info = Create("books");
  ASSERT_OK(Index("books"));
  SegmentInfo s = Flushed(info, 0, 10, 10, 0, 0, {Delete(3, 5)});
  BuildAll();
  s = (*coord_->ListSegments(info.id))[0];
  CollectionInfo keep = Create("films");
  SegmentInfo k = Flushed(keep, 0, 10, 10);
  ASSERT_OK(coord_->DropCollection("default", "books"));
  ASSERT_OK(coord_->RunGarbageCollection());
  ASSERT_EQ(Files(s).size(), 5u + 1u + 1u + 1u);  // binlogs (2 system + 3 user), deltalog, stats, index
  for (const std::string& key : Files(s)) EXPECT_FALSE(Exists(key)) << key;
  for (const std::string& key : Files(k)) EXPECT_TRUE(Exists(key)) << key;
  auto kv = meta_->Get(keys::Segment(info.id, s.id));
  ASSERT_TRUE(kv.ok());
  EXPECT_FALSE(kv->has_value());
}

TEST_F(CoordTest, BackgroundGc) {
  options_.gc_interval = std::chrono::milliseconds(20);
  Reopen();
  const std::string orphan = "collections/1/c1_s0/5/binlog/100/1";
  ASSERT_OK(objects_->Put(orphan, "x"));
  EXPECT_TRUE(WaitFor([&] { return !Exists(orphan); }));
}

TEST_F(CoordTest, WalIsTruncatedBelowTheCheckpointAndTheQueryNodesTail) {
  storage::LocalLogOptions log_options;
  log_options.segment_bytes = 2048;  // a file every two records
  auto log = storage::LocalLog::Open((dir_.path() / "wal").string(), log_options);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  coord_->AttachLog(log->get());
  CollectionInfo info = Create("books");
  CollectionInfo gone = Create("gone");
  const std::string channel = info.Channel(0);
  const std::string record(1500, 'x');
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE((*log)->Append(channel, std::vector<std::string>{record}).ok());
    ASSERT_TRUE((*log)->Append(gone.Channel(0), std::vector<std::string>{record}).ok());
    ASSERT_TRUE((*log)->Append("cache_s1", std::vector<std::string>{record}).ok());  // not a collection's
  }
  auto first = [&](const std::string& ch) { return (*log)->FirstOffset(ch).value(); };
  ASSERT_OK(coord_->TruncateWal());
  EXPECT_EQ(first(channel), 0u) << "no checkpoint yet: everything is needed";

  Flushed(info, 0, 30, 10);  // checkpoint 30
  {
    std::lock_guard lock(query_.mu);
    query_.tail_positions[info.id] = {{channel, 12}};  // a query node still reading at 12
  }
  ASSERT_OK(coord_->TruncateWal());
  EXPECT_GT(first(channel), 0u);
  EXPECT_LE(first(channel), 12u);
  {
    std::lock_guard lock(query_.mu);
    query_.tail_positions[info.id] = {{channel, 40}};
  }
  ASSERT_OK(coord_->TruncateWal());
  EXPECT_GT(first(channel), 12u);
  EXPECT_LE(first(channel), 30u) << "never past the checkpoint";
  EXPECT_EQ(first(gone.Channel(0)), 0u);

  // A dropped collection's channel goes entirely, files and directory.
  ASSERT_OK(coord_->DropCollection("default", "gone"));
  ASSERT_OK(coord_->TruncateWal());
  auto channels = (*log)->ListChannels();
  ASSERT_TRUE(channels.ok());
  EXPECT_EQ(std::count(channels->begin(), channels->end(), gone.Channel(0)), 0);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "wal" / gone.Channel(0)));
  EXPECT_EQ(first("cache_s1"), 0u) << "a channel not named like a collection's is left alone";
  coord_->AttachLog(nullptr);
}

}  // namespace
}  // namespace tessera::coord
