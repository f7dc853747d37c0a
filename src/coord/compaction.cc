// Compaction: planning, execution through the data node, and registration of the result
// once it is indexed.
//
// Flow of one plan (inputs: segments of one channel):
//   1. PlanCompaction reserves the inputs (no other plan may take them) and allocates the
//      output segment id.
//   2. On the compaction thread, DataNode::Compact writes the output segment's files.
//   3. The output waits in compaction_outputs_ (its files count as referenced for GC) while
//      the index node builds every index of the collection for it. The inputs stay live and
//      served meanwhile.
//   4. When the last index is built, one MetaStore transaction records the output (with
//      compacted_from) and marks the inputs dropped; then the query node gets the output,
//      which replaces the inputs in one step; only then does the plan read as completed.
//      GC deletes the inputs' files later.
// A failure anywhere abandons the plan: the inputs stay live, the output's files are garbage.

#include <algorithm>
#include <chrono>
#include <set>
#include <utility>

#include "common/crash_point.h"
#include "common/logging.h"
#include "coord/coord_metrics.h"
#include "coord/coordinator_impl.h"
#include "coord/properties.h"
#include "segment/deltalog.h"
#include "segment/stats.h"

namespace tessera::coord {

namespace {

// Most inputs per plan: keeps the registration within one MetaStore transaction.
constexpr size_t kMaxPlanInputs = 64;
// Jobs remembered for GetCompactionState; older finished ones are forgotten.
constexpr size_t kMaxRememberedJobs = 1000;

bool PlanDone(const auto& plan) {
  using State = std::remove_cvref_t<decltype(plan.state)>;
  return plan.state == State::kCompleted || plan.state == State::kFailed;
}

}  // namespace

Result<int64_t> CoordinatorImpl::Compact(int64_t collection_id) { return StartCompaction(collection_id, true); }

void CoordinatorImpl::RequestCompaction(int64_t collection_id) {
  std::lock_guard lock(bg_mu_);
  if (compaction_pool_ == nullptr || stopping_ || !compaction_requested_.insert(collection_id).second) return;
  compaction_pool_->Submit([this, collection_id] {
    {
      std::lock_guard l(bg_mu_);
      compaction_requested_.erase(collection_id);
    }
    auto job = StartCompaction(collection_id, false);
    if (!job.ok() && job.status().code() != StatusCode::kNotFound) {
      TESSERA_LOG_WARN("compaction of collection {} for deferred index builds: {}", collection_id,
                       job.status().ToString());
    }
  });
}

Result<std::vector<int64_t>> CoordinatorImpl::CompactAll() {
  BuildUndeferred();  // builds whose compaction failed or is off now
  std::vector<int64_t> collection_ids;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, info] : collections_) {
      if (AutoCompactionEnabled(info.properties)) collection_ids.push_back(id);
    }
  }
  std::vector<int64_t> jobs;
  if (data_node_ == nullptr) return jobs;
  for (int64_t id : collection_ids) {
    if (stopping_) break;
    auto job = StartCompaction(id, false);
    if (!job.ok()) {
      if (job.status().code() == StatusCode::kNotFound) continue;  // dropped meanwhile
      return job.status();
    }
    if (*job != 0) jobs.push_back(*job);
  }
  return jobs;
}

Result<int64_t> CoordinatorImpl::StartCompaction(int64_t collection_id, bool even_if_empty) {
  {
    std::lock_guard lock(mu_);
    TESSERA_RETURN_IF_ERROR(CollectionByIdLocked(collection_id).status());
  }
  if (data_node_ == nullptr) return Status::Unavailable("compaction: no data node is attached to the coordinator");
  TESSERA_ASSIGN_OR_RETURN(std::vector<CompactionPlan> plans, PlanCompaction(collection_id));
  if (plans.empty() && !even_if_empty) return int64_t{0};
  const auto unreserve = [&] {
    std::lock_guard lock(mu_);
    for (const CompactionPlan& plan : plans) {
      for (int64_t input : plan.inputs) compacting_inputs_.erase(input);
    }
  };
  auto job_id = ids_->Allocate(1);
  if (!job_id.ok()) {
    unreserve();
    return job_id.status();
  }
  const bool has_plans = !plans.empty();
  {
    std::lock_guard lock(mu_);
    if (compaction_jobs_.size() >= kMaxRememberedJobs) {
      for (auto it = compaction_jobs_.begin(); it != compaction_jobs_.end();) {
        const bool done = std::all_of(it->second.plans.begin(), it->second.plans.end(),
                                      [](const CompactionPlan& p) { return PlanDone(p); });
        it = done ? compaction_jobs_.erase(it) : std::next(it);
        if (compaction_jobs_.size() < kMaxRememberedJobs / 2) break;
      }
    }
    compaction_jobs_[*job_id] = CompactionJob{.id = *job_id, .collection_id = collection_id, .plans = std::move(plans)};
  }
  CompactionJobsCounter().Inc();
  if (!has_plans) return *job_id;
  bool queued = false;
  {
    std::lock_guard lock(bg_mu_);
    if (compaction_pool_ != nullptr && !stopping_) {
      const int64_t id = *job_id;
      compaction_pool_->Submit([this, id] { RunCompactionJob(id); });
      queued = true;
    }
  }
  if (!queued) {
    std::lock_guard lock(mu_);
    const size_t count = compaction_jobs_[*job_id].plans.size();
    for (size_t i = 0; i < count; ++i) FailPlanLocked(*job_id, i, "coordinator stopping");
  }
  return *job_id;
}

Result<std::vector<CoordinatorImpl::CompactionPlan>> CoordinatorImpl::PlanCompaction(int64_t collection_id) {
  std::map<std::string, std::vector<SegmentInfo>> by_channel;
  // Per channel: deltalog key -> smallest start offset of the live segments listing it, a
  // lower bound of the WAL offsets of its deletes (a compaction output lists its inputs'
  // deltalogs and starts no later than they did).
  std::map<std::string, std::map<std::string, uint64_t>> channel_deltalogs;
  std::set<int64_t> live_partitions;
  {
    std::lock_guard lock(mu_);
    if (auto coll = collections_.find(collection_id); coll != collections_.end()) {
      live_partitions = coll->second.LivePartitionIds();
    }
    for (const SegmentInfo& segment : LiveSegmentsLocked(collection_id)) {
      auto& logs = channel_deltalogs[segment.channel];
      for (const std::string& key : segment.deltalogs) {
        auto [it, inserted] = logs.emplace(key, segment.start_offset);
        if (!inserted) it->second = std::min(it->second, segment.start_offset);
      }
      if (compacting_inputs_.count(segment.id) == 0) by_channel[segment.channel].push_back(segment);
    }
  }
  const uint64_t target = options_.compaction_target_size;
  uint64_t expired_before = 0;  // TTL: segments whose newest row is older have expired whole
  {
    std::lock_guard lock(mu_);
    if (auto coll = collections_.find(collection_id); coll != collections_.end()) {
      const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
      expired_before = coll->second.ExpiredBefore(now_ms);
    }
  }
  const double ratio = options_.compaction_delete_ratio;
  std::vector<CompactionPlan> plans;
  for (auto& [channel, segments] : by_channel) {
    // Deletes of a primary key go to the channel its rows hash to, so a channel's deltalogs
    // are the only ones that can hide its rows. Each is read once per planning round.
    std::vector<std::pair<uint64_t, std::vector<segment::PrimaryKey>>> deletes;  // (lower bound offset, keys)
    if (ratio > 0 && ratio <= 1) {
      for (const auto& [key, start] : channel_deltalogs[channel]) {
        auto bytes = objects_->Get(key);
        if (!bytes.ok()) {
          TESSERA_LOG_WARN("compaction planning: reading deltalog {}: {}", key, bytes.status().ToString());
          continue;
        }
        auto log = segment::ReadDeltalog(*bytes, key);
        if (!log.ok()) {
          TESSERA_LOG_WARN("compaction planning: {}", log.status().ToString());
          continue;
        }
        std::vector<segment::PrimaryKey> pks;
        pks.reserve(log->entries.size());
        for (segment::DeleteEntry& entry : log->entries) pks.push_back(std::move(entry.pk));
        deletes.emplace_back(start, std::move(pks));
      }
    }
    struct Candidate {
      int64_t id;
      uint64_t bytes;
      bool heavy;
    };
    std::vector<Candidate> candidates;
    std::sort(segments.begin(), segments.end(),
              [](const SegmentInfo& a, const SegmentInfo& b) { return a.start_offset < b.start_offset; });
    for (const SegmentInfo& segment : segments) {
      const bool is_small = segment.memory_size < target / 2;
      // A segment whose index builds wait for this (DefersBuildLocked) is always taken.
      bool is_heavy = segment.deleted_rows * 2 > segment.num_rows;
      is_heavy = is_heavy || (segment.num_rows > 0 && segment.max_timestamp > 0 && segment.max_timestamp < expired_before);
      // Rows of a dropped partition are rewritten away like deleted ones.
      for (const auto& [partition, rows] : segment.partition_rows) {
        is_heavy = is_heavy || (rows > 0 && !live_partitions.empty() && live_partitions.count(partition) == 0);
      }
      if (!is_heavy && ratio > 0 && ratio <= 1 && segment.num_rows > 0) {
        // The rows its own range deleted (counted exactly when it was written), plus those
        // that deletes from WAL ranges after the segment's hide: they are newer than every
        // row of it, so a key the segment holds is deleted there. (Other deletes inside its
        // own range may precede a re-insert, an upsert, and would make the estimate loop.)
        std::set<segment::PrimaryKey> later;
        for (const auto& [start, pks] : deletes) {
          if (start >= segment.end_offset) later.insert(pks.begin(), pks.end());
        }
        // (A key deleted both inside and after the range counts twice: hence the clamp.)
        const uint64_t gone = std::min(
            segment.num_rows, segment.deleted_rows + (later.empty() ? 0 : EstimateDeletedRows(segment, later)));
        is_heavy = gone > 0 && static_cast<double>(gone) >= ratio * static_cast<double>(segment.num_rows);
      }
      if (is_small || is_heavy) candidates.push_back(Candidate{segment.id, segment.memory_size, is_heavy});
    }
    // Pack the candidates, in WAL order, into plans of at most `target` bytes (the sizes of
    // heavily deleted segments over-count: their deleted rows are dropped). A single small
    // segment has nothing to merge with; it is rewritten only for its deletes.
    CompactionPlan plan;
    plan.channel = channel;
    uint64_t plan_bytes = 0;
    bool plan_heavy = false;
    const auto close_plan = [&] {
      if (plan.inputs.size() >= 2 || plan_heavy) plans.push_back(plan);
      plan.inputs.clear();
      plan_bytes = 0;
      plan_heavy = false;
    };
    for (const Candidate& c : candidates) {
      if (!plan.inputs.empty() && (plan_bytes + c.bytes > target || plan.inputs.size() == kMaxPlanInputs)) close_plan();
      plan.inputs.push_back(c.id);
      plan_bytes += c.bytes;
      plan_heavy = plan_heavy || c.heavy;
    }
    close_plan();
  }
  // Reserve the inputs (a concurrent planner may have taken some meanwhile).
  {
    std::lock_guard lock(mu_);
    std::erase_if(plans, [&](const CompactionPlan& plan) {
      for (int64_t input : plan.inputs) {
        auto it = segments_.find(input);
        if (it == segments_.end() || it->second.dropped || compacting_inputs_.count(input) > 0) return true;
      }
      compacting_inputs_.insert(plan.inputs.begin(), plan.inputs.end());
      return false;
    });
  }
  for (CompactionPlan& plan : plans) {
    auto id = ids_->Allocate(1);
    if (!id.ok()) {
      std::lock_guard lock(mu_);
      for (const CompactionPlan& p : plans) {
        for (int64_t input : p.inputs) compacting_inputs_.erase(input);
      }
      return id.status();
    }
    plan.output_id = *id;
  }
  return plans;
}

DeleteRetirement CoordinatorImpl::RetirementLocked(const std::vector<SegmentInfo>& live, const std::string& channel,
                                                  const std::vector<int64_t>& inputs) const {
  // Every row a delete at or below the channel's largest time tick can hide was appended
  // before that tick, so it is in a sealed segment of the channel: an input (rewritten
  // without it) or one of the others, whose stats must rule the key out. Outputs of other
  // compactions still being indexed hold rows of their inputs, which are live here.
  DeleteRetirement retire;
  for (const SegmentInfo& segment : live) {
    if (segment.channel != channel) continue;
    retire.up_to_ts = std::max(retire.up_to_ts, segment.time_tick);
    if (segment.num_rows == 0 || std::find(inputs.begin(), inputs.end(), segment.id) != inputs.end()) continue;
    if (segment.stats.empty()) return DeleteRetirement{};  // rows that nothing can rule out
    retire.other_stats.push_back(segment.stats);
  }
  return retire;
}

uint64_t CoordinatorImpl::EstimateDeletedRows(const SegmentInfo& segment,
                                              const std::set<segment::PrimaryKey>& deleted_pks) {
  // Estimate: every deleted primary key that the segment's PK range and Bloom filter may
  // contain counts as one deleted row. Bloom false positives (~1%) over-count a little.
  if (segment.stats.empty() || segment.num_rows == 0) return 0;
  auto bytes = objects_->Get(segment.stats);
  if (!bytes.ok()) {
    TESSERA_LOG_WARN("compaction planning: reading stats {}: {}", segment.stats, bytes.status().ToString());
    return 0;
  }
  auto stats = segment::ReadStats(*bytes, segment.stats);
  if (!stats.ok()) {
    TESSERA_LOG_WARN("compaction planning: {}", stats.status().ToString());
    return 0;
  }
  uint64_t hits = 0;
  for (const segment::PrimaryKey& pk : deleted_pks) hits += stats->MayContain(pk) ? 1 : 0;
  return std::min<uint64_t>(hits, segment.num_rows);
}

void CoordinatorImpl::RunCompactionJob(int64_t job_id) {
  size_t count = 0;
  {
    std::lock_guard lock(mu_);
    auto it = compaction_jobs_.find(job_id);
    if (it == compaction_jobs_.end()) return;
    count = it->second.plans.size();
  }
  for (size_t i = 0; i < count; ++i) RunCompactionPlan(job_id, i);
}

void CoordinatorImpl::RunCompactionPlan(int64_t job_id, size_t plan_index) {
  CollectionInfo info;
  std::vector<SegmentInfo> inputs;
  std::vector<std::string> all_deltalogs;
  DeleteRetirement retire;
  int64_t output_id = 0;
  std::string channel;
  {
    std::lock_guard lock(mu_);
    auto job = compaction_jobs_.find(job_id);
    if (job == compaction_jobs_.end()) return;
    CompactionPlan& plan = job->second.plans[plan_index];
    if (plan.state != CompactionPlan::State::kQueued) return;
    if (stopping_) return FailPlanLocked(job_id, plan_index, "coordinator stopping");
    auto coll = collections_.find(job->second.collection_id);
    if (coll == collections_.end()) return FailPlanLocked(job_id, plan_index, "collection dropped");
    for (int64_t input : plan.inputs) {
      auto it = segments_.find(input);
      if (it == segments_.end() || it->second.dropped) {
        return FailPlanLocked(job_id, plan_index, "input segment " + std::to_string(input) + " is gone");
      }
      inputs.push_back(it->second);
    }
    std::set<std::string> deltalogs;
    const std::vector<SegmentInfo> live = LiveSegmentsLocked(coll->first);
    for (const SegmentInfo& segment : live) {
      deltalogs.insert(segment.deltalogs.begin(), segment.deltalogs.end());
    }
    all_deltalogs.assign(deltalogs.begin(), deltalogs.end());
    retire = RetirementLocked(live, plan.channel, plan.inputs);
    info = coll->second;
    output_id = plan.output_id;
    channel = plan.channel;
    plan.state = CompactionPlan::State::kCompacting;
  }
  auto written = data_node_->Compact(info, inputs, all_deltalogs, output_id, retire);
  std::vector<indexnode::BuildJob> jobs;
  {
    std::lock_guard lock(mu_);
    if (!written.ok()) return FailPlanLocked(job_id, plan_index, written.status().ToString());
    SegmentInfo output = std::move(written).value();
    if (output.id != output_id || output.collection_id != info.id || output.channel != channel) {
      return FailPlanLocked(job_id, plan_index,
                            "data node returned segment " + std::to_string(output.id) + " of collection " +
                                std::to_string(output.collection_id) + " on channel '" + output.channel +
                                "', expected segment " + std::to_string(output_id) + " on '" + channel + "'");
    }
    output.dropped = false;
    output.compacted_from.clear();
    for (const SegmentInfo& input : inputs) output.compacted_from.push_back(input.id);
    auto coll = collections_.find(info.id);
    if (coll == collections_.end()) return FailPlanLocked(job_id, plan_index, "collection dropped");
    auto job = compaction_jobs_.find(job_id);
    if (job == compaction_jobs_.end() || PlanDone(job->second.plans[plan_index])) return;
    job->second.plans[plan_index].state = CompactionPlan::State::kIndexing;
    jobs = PlanBuildsLocked(coll->second, output);
    compaction_outputs_[output_id] = CompactionOutput{.job_id = job_id, .plan = plan_index, .segment = output};
    UpdateGaugesLocked();
  }
  SubmitBuilds(std::move(jobs));
  MaybeFinishCompactionOutput(output_id);
}

void CoordinatorImpl::MaybeFinishCompactionOutput(int64_t output_id) {
  int64_t collection_id = 0;
  bool loaded = false;
  int64_t job_id = 0;
  size_t plan = 0;
  {
    std::lock_guard lock(mu_);
    auto it = compaction_outputs_.find(output_id);
    if (it == compaction_outputs_.end()) return;
    CompactionOutput& out = it->second;
    const auto fail = [&](const std::string& error) {
      FailPlanLocked(out.job_id, out.plan, error);
      std::erase_if(pending_builds_, [&](const BuildKey& key) { return key.first == output_id; });
      compaction_outputs_.erase(it);
      UpdateGaugesLocked();
    };
    auto coll = collections_.find(out.segment.collection_id);
    if (coll == collections_.end()) return fail("collection dropped");
    const CollectionInfo& info = coll->second;
    // Files of indexes dropped meanwhile are not recorded (GC deletes them).
    std::erase_if(out.segment.index_files, [&](const auto& entry) {
      return std::none_of(info.indexes.begin(), info.indexes.end(),
                          [&](const IndexInfo& index) { return index.id == entry.first; });
    });
    if (out.segment.num_rows > 0) {
      for (const IndexInfo& index : info.indexes) {
        if (info.BuildsFiles(index) && out.segment.index_files.count(index.id) == 0) return;  // still building
      }
    }
    std::vector<storage::TxnOp> ops = {CatalogStore::PutSegment(out.segment)};
    std::vector<SegmentInfo> dropped;
    for (int64_t input : out.segment.compacted_from) {
      auto seg = segments_.find(input);
      if (seg == segments_.end() || seg->second.dropped) {
        return fail("input segment " + std::to_string(input) + " was dropped meanwhile");
      }
      SegmentInfo d = seg->second;
      d.dropped = true;
      ops.push_back(CatalogStore::PutSegment(d));
      dropped.push_back(std::move(d));
    }
    crash_point::Reach(crash_point::Site::kCompactionBeforeCommit);
    Status s = store_.Apply(std::move(ops));
    if (!s.ok()) return fail("registering the output: " + s.ToString());
    collection_id = out.segment.collection_id;
    loaded = info.loaded;
    job_id = out.job_id;
    plan = out.plan;
    segments_[output_id] = std::move(out.segment);
    for (SegmentInfo& d : dropped) {
      compacting_inputs_.erase(d.id);
      deferred_builds_.erase(d.id);
      segments_[d.id] = std::move(d);
    }
    compaction_outputs_.erase(it);
    UpdateGaugesLocked();
  }
  TESSERA_LOG_INFO("compaction: segment {} of collection {} registered", output_id, collection_id);
  crash_point::Reach(crash_point::Site::kCompactionBeforeHandoff);
  // The plan reads as completed only once a loaded collection is served from the output, so
  // a caller polling GetCompactionState then searches the new layout.
  if (loaded) PushSegment(collection_id, output_id);
  {
    std::lock_guard lock(mu_);
    if (auto job = compaction_jobs_.find(job_id); job != compaction_jobs_.end()) {
      job->second.plans[plan].state = CompactionPlan::State::kCompleted;
    }
  }
  CompactionPlansCounter("completed").Inc();
}

void CoordinatorImpl::FailPlanLocked(int64_t job_id, size_t plan_index, const std::string& error) {
  auto job = compaction_jobs_.find(job_id);
  if (job == compaction_jobs_.end() || plan_index >= job->second.plans.size()) return;
  CompactionPlan& plan = job->second.plans[plan_index];
  if (PlanDone(plan)) return;
  plan.state = CompactionPlan::State::kFailed;
  plan.error = error;
  for (int64_t input : plan.inputs) {
    compacting_inputs_.erase(input);
    // Its index builds no longer wait for compaction: the retry loop submits them.
    if (deferred_builds_.erase(input) > 0) undeferred_.insert(input);
  }
  CompactionPlansCounter("failed").Inc();
  TESSERA_LOG_WARN("compaction job {} plan {} failed: {}", job_id, plan_index, error);
}

Result<CompactionState> CoordinatorImpl::GetCompactionState(int64_t compaction_id) {
  std::lock_guard lock(mu_);
  CompactionState state;
  state.id = compaction_id;
  state.state = "Completed";
  // Jobs live in memory: one from before a restart (or forgotten, or never started) has
  // no plan running, and reads as Completed with no plans, as Milvus answers for a
  // compaction id without tasks. Its plans, if any, were abandoned with the process.
  auto job = compaction_jobs_.find(compaction_id);
  if (job == compaction_jobs_.end()) return state;
  for (const CompactionPlan& plan : job->second.plans) {
    if (plan.state == CompactionPlan::State::kCompleted) {
      ++state.completed_plans;
    } else if (!PlanDone(plan)) {
      ++state.executing_plans;
    }
  }
  state.state = state.executing_plans > 0 ? "Executing" : "Completed";
  return state;
}

}  // namespace tessera::coord
