// Index definitions, the build queue and build progress.

#include <algorithm>
#include <cctype>
#include <string_view>
#include <utility>

#include "common/logging.h"
#include "coord/coord_metrics.h"
#include "coord/coordinator_impl.h"
#include "coord/names.h"
#include "coord/properties.h"
#include "coord/scalar_index.h"
#include "index/index.h"
#include "index/metric.h"
#include "index/params.h"

namespace tessera::coord {

namespace {

constexpr std::string_view kForeignBuildParams[] = {
    "M",          "efConstruction",  "nlist",         "m",           "nbits",          "mmap.enabled",
    "sq_type",    "refine",          "refine_type",   "with_raw_data", "search_list_size", "max_degree",
    "pq_code_budget_gb_ratio", "build_dram_budget_gb", "num_build_thread", "intermediate_graph_degree",
    "graph_degree", "nrq"};

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

const core::FieldSchema* FieldById(const core::CollectionSchema& schema, int64_t field_id) {
  for (const core::FieldSchema& f : schema.fields) {
    if (f.id == field_id) return &f;
  }
  return nullptr;
}

}  // namespace

std::vector<indexnode::BuildJob> CoordinatorImpl::PlanBuildsLocked(const CollectionInfo& info,
                                                                   const SegmentInfo& segment) {
  std::vector<indexnode::BuildJob> jobs;
  if (segment.dropped || segment.num_rows == 0) return jobs;
  const bool defer = DefersBuildLocked(info, segment);
  for (const IndexInfo& index : info.indexes) {
    if (!info.BuildsFiles(index)) continue;
    const BuildKey key{segment.id, index.id};
    if (segment.index_files.count(index.id) > 0 || pending_builds_.count(key) > 0 || failed_builds_.count(key) > 0) {
      continue;
    }
    if (defer) {  // a build is missing, and it waits for the segment's compaction
      if (deferred_builds_.insert(segment.id).second) {
        TESSERA_LOG_INFO("segment {}: {} of {} rows already deleted; its index builds wait for compaction",
                         segment.id, segment.deleted_rows, segment.num_rows);
        compaction_wanted_.insert(info.id);
      }
      continue;
    }
    const core::FieldSchema* field = FieldById(info.schema, index.field_id);
    if (field == nullptr || segment.binlogs.count(index.field_id) == 0) {
      failed_builds_[key] = "segment " + std::to_string(segment.id) + " has no binlog for field " +
                            std::to_string(index.field_id);
      continue;
    }
    jobs.push_back(indexnode::BuildJob{.collection_id = info.id, .index = index, .segment = segment, .dim = field->dim});
    pending_builds_.insert(key);
  }
  return jobs;
}

bool CoordinatorImpl::DefersBuildLocked(const CollectionInfo& info, const SegmentInfo& segment) const {
  if (data_node_ == nullptr || options_.compaction_interval.count() == 0) return false;
  if (!segment.compacted_from.empty() || undeferred_.count(segment.id) > 0) return false;
  if (!AutoCompactionEnabled(info.properties)) return false;
  return segment.deleted_rows * 2 > segment.num_rows;
}

void CoordinatorImpl::BuildUndeferred() {
  std::vector<indexnode::BuildJob> jobs;
  {
    std::lock_guard lock(mu_);
    // Deferrals that no longer hold (the segment is gone, or its collection turned
    // autocompaction off) end here; those held by a running plan wait for it.
    for (auto it = deferred_builds_.begin(); it != deferred_builds_.end();) {
      auto segment = segments_.find(*it);
      auto coll = segment == segments_.end() ? collections_.end() : collections_.find(segment->second.collection_id);
      if (coll == collections_.end() || segment->second.dropped) {
        it = deferred_builds_.erase(it);
      } else if (compacting_inputs_.count(*it) == 0 && !DefersBuildLocked(coll->second, segment->second)) {
        undeferred_.insert(*it);
        it = deferred_builds_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = undeferred_.begin(); it != undeferred_.end();) {
      auto segment = segments_.find(*it);
      auto coll = segment == segments_.end() ? collections_.end() : collections_.find(segment->second.collection_id);
      if (coll == collections_.end() || segment->second.dropped) {
        it = undeferred_.erase(it);
        continue;
      }
      for (auto& job : PlanBuildsLocked(coll->second, segment->second)) jobs.push_back(std::move(job));
      ++it;
    }
    UpdateGaugesLocked();
  }
  SubmitBuilds(std::move(jobs));
}

void CoordinatorImpl::SubmitBuilds(std::vector<indexnode::BuildJob> jobs) {
  std::set<int64_t> compact;
  {
    std::lock_guard lock(mu_);
    compact.swap(compaction_wanted_);
  }
  for (int64_t collection_id : compact) RequestCompaction(collection_id);
  // Without an index node the builds stay pending; they are resubmitted at the next Start.
  if (index_node_ == nullptr || jobs.empty()) return;
  for (indexnode::BuildJob& job : jobs) {
    const BuildKey key{job.segment.id, job.index.id};
    Status s = index_node_->Submit(std::move(job));
    if (!s.ok()) {
      TESSERA_LOG_WARN("index build of segment {} index {} not submitted: {}", key.first, key.second, s.ToString());
      std::lock_guard lock(mu_);
      pending_builds_.erase(key);
      UpdateGaugesLocked();
    }
  }
}

Status NormalizeIndexDefinition(const core::CollectionSchema& schema, IndexInfo& index) {
  const core::FieldSchema* field = nullptr;
  if (!index.field_name.empty()) {
    field = schema.FindField(index.field_name);
  } else if (index.field_id != 0) {
    field = FieldById(schema, index.field_id);
  }
  if (field == nullptr) {
    return Status::NotFound("field not found[collection=" + schema.name + "][field=" + index.field_name + "]");
  }
  if (index.name.empty()) index.name = field->name;
  TESSERA_RETURN_IF_ERROR(ValidateName("index", index.name));
  if (field->data_type != core::DataType::kFloatVector) {
    TESSERA_RETURN_IF_ERROR(NormalizeScalarIndex(*field, index));
    index.field_id = field->id;
    index.field_name = field->name;
    return Status::OK();
  }
  if (index.index_type.empty()) index.index_type = "AUTOINDEX";
  TESSERA_ASSIGN_OR_RETURN(const index::IndexType type, index::ParseIndexType(index.index_type));
  if (index.metric_type.empty()) index.metric_type = "COSINE";
  TESSERA_ASSIGN_OR_RETURN(const index::MetricType metric, index::ParseMetricType(index.metric_type));
  if (index.params.is_null()) index.params = nlohmann::json::object();
  if (!index.params.is_object()) return Status::InvalidArgument("index params must be a JSON object");
  // Build parameters of other Milvus index types (params copied from another setup) and
  // index-level properties are dropped, as Milvus ignores them; an unknown key stays an
  // error (a typo should not pass).
  for (std::string_view key : kForeignBuildParams) {
    bool own = false;
    for (const index::ParamSpec& spec : index::ParamSchema(type)) own = own || spec.name == key;
    if (!own) index.params.erase(std::string(key));
  }
  // Creating an empty index runs the library's own parameter checks, whose messages name
  // the parameter and its range.
  TESSERA_RETURN_IF_ERROR(
      index::CreateIndex(type, metric, static_cast<size_t>(field->dim), index.params).status());
  index.index_type = Upper(index.index_type);
  index.metric_type = std::string(index::MetricTypeName(metric));
  index.field_id = field->id;
  index.field_name = field->name;
  return Status::OK();
}

Status CoordinatorImpl::CreateIndex(const std::string& db_name, const std::string& collection, IndexInfo index) {
  const std::string db = DbOrDefault(db_name);
  CollectionInfo snapshot;
  {
    std::lock_guard lock(mu_);
    TESSERA_ASSIGN_OR_RETURN(CollectionInfo * info, ResolveLocked(db, collection));
    snapshot = *info;
  }
  TESSERA_RETURN_IF_ERROR(NormalizeIndexDefinition(snapshot.schema, index));
  const core::FieldSchema* field = FieldById(snapshot.schema, index.field_id);
  TESSERA_ASSIGN_OR_RETURN(index.id, ids_->Allocate(1));
  std::vector<indexnode::BuildJob> jobs;
  bool retry_only = false;
  {
    std::lock_guard lock(mu_);
    TESSERA_ASSIGN_OR_RETURN(CollectionInfo * info, CollectionByIdLocked(snapshot.id));
    if (const IndexInfo* existing = info->IndexOnField(index.field_id)) {
      const bool same = existing->name == index.name && existing->index_type == index.index_type &&
                        existing->metric_type == index.metric_type && existing->params == index.params;
      if (!same) {
        return Status::AlreadyExists("at most one distinct index is allowed per field: field '" + field->name +
                                     "' already has index '" + existing->name + "' (" + existing->index_type + ", " +
                                     existing->metric_type + ")");
      }
      // The same definition again: OK, and it retries the builds that failed.
      const int64_t existing_id = existing->id;
      std::erase_if(failed_builds_, [&](const auto& entry) { return entry.first.second == existing_id; });
      for (const auto& [id, segment] : segments_) {
        if (segment.collection_id != info->id) continue;
        for (auto& job : PlanBuildsLocked(*info, segment)) jobs.push_back(std::move(job));
      }
      UpdateGaugesLocked();
      retry_only = true;
    }
    if (!retry_only) {
      if (info->FindIndex(index.name) != nullptr) {
        return Status::AlreadyExists("index name already in use[collection=" + info->schema.name + "][index=" +
                                     index.name + "]");
      }
      CollectionInfo updated = *info;
      updated.indexes.push_back(index);
      TESSERA_RETURN_IF_ERROR(store_.Apply({CatalogStore::PutCollection(updated)}));
      *info = std::move(updated);
      for (const auto& [id, segment] : segments_) {
        if (segment.collection_id != info->id) continue;
        for (auto& job : PlanBuildsLocked(*info, segment)) jobs.push_back(std::move(job));
      }
      // Compaction outputs still waiting for their indexes need this one too.
      for (const auto& [id, output] : compaction_outputs_) {
        if (output.segment.collection_id != info->id) continue;
        for (auto& job : PlanBuildsLocked(*info, output.segment)) jobs.push_back(std::move(job));
      }
      UpdateGaugesLocked();
    }
  }
  SubmitBuilds(std::move(jobs));
  return Status::OK();
}

Status CoordinatorImpl::DropIndex(const std::string& db_name, const std::string& collection,
                                  const std::string& index_name) {
  const std::string db = DbOrDefault(db_name);
  std::vector<int64_t> outputs;
  {
    std::lock_guard lock(mu_);
    TESSERA_ASSIGN_OR_RETURN(CollectionInfo * info, ResolveLocked(db, collection));
    const IndexInfo* index = info->FindIndex(index_name);
    if (index == nullptr) {
      return Status::NotFound("index not found[collection=" + info->schema.name + "][index=" + index_name + "]");
    }
    if (info->loaded) {
      return Status::FailedPrecondition("index cannot be dropped while the collection is loaded, release it first[collection=" +
                                        info->schema.name + "][index=" + index_name + "]");
    }
    const int64_t index_id = index->id;
    CollectionInfo updated = *info;
    std::erase_if(updated.indexes, [&](const IndexInfo& i) { return i.id == index_id; });
    TESSERA_RETURN_IF_ERROR(store_.Apply({CatalogStore::PutCollection(updated)}));
    *info = std::move(updated);

    // The collection key decides; stale index_files entries left by a crash here are
    // removed by Open. The files themselves become garbage for GC.
    std::vector<storage::TxnOp> ops;
    for (auto& [id, segment] : segments_) {
      if (segment.collection_id == info->id && segment.index_files.erase(index_id) > 0) {
        ops.push_back(CatalogStore::PutSegment(segment));
      }
    }
    std::erase_if(pending_builds_, [&](const BuildKey& key) { return key.second == index_id; });
    std::erase_if(failed_builds_, [&](const auto& entry) { return entry.first.second == index_id; });
    for (auto& [id, output] : compaction_outputs_) {
      if (output.segment.collection_id != info->id) continue;
      output.segment.index_files.erase(index_id);
      outputs.push_back(id);
    }
    UpdateGaugesLocked();
    Status s = store_.ApplyChunked(std::move(ops));
    if (!s.ok()) TESSERA_LOG_WARN("dropped index {}: clearing segment entries failed (finished at next start): {}",
                                  index_id, s.ToString());
  }
  // A compaction output that was only waiting for this index can be registered now.
  for (int64_t output : outputs) MaybeFinishCompactionOutput(output);
  return Status::OK();
}

Result<IndexProgress> CoordinatorImpl::DescribeIndexProgress(int64_t collection_id, int64_t index_id) {
  std::lock_guard lock(mu_);
  TESSERA_ASSIGN_OR_RETURN(CollectionInfo * info, CollectionByIdLocked(collection_id));
  const IndexInfo* index = nullptr;
  for (const IndexInfo& i : info->indexes) index = i.id == index_id ? &i : index;
  if (index == nullptr) {
    return Status::NotFound("index not found[collection=" + info->schema.name + "][index_id=" +
                            std::to_string(index_id) + "]");
  }
  const bool builds_files = info->BuildsFiles(*index);
  IndexProgress progress;
  for (const auto& [id, segment] : segments_) {
    if (segment.collection_id != collection_id || segment.dropped || segment.num_rows == 0) continue;
    progress.total_rows += segment.num_rows;
    if (!builds_files || segment.index_files.count(index_id) > 0) {
      progress.indexed_rows += segment.num_rows;
    } else if (auto failed = failed_builds_.find({id, index_id}); failed != failed_builds_.end()) {
      if (progress.fail_reason.empty()) progress.fail_reason = "segment " + std::to_string(id) + ": " + failed->second;
    }
  }
  progress.pending_rows = progress.total_rows - progress.indexed_rows;
  if (!progress.fail_reason.empty()) {
    progress.state = "Failed";
  } else if (progress.pending_rows == 0) {
    progress.state = "Finished";
  } else {
    progress.state = "InProgress";
  }
  return progress;
}

Status CoordinatorImpl::IndexBuilt(int64_t segment_id, int64_t index_id, const std::string& object_key) {
  TESSERA_RETURN_IF_ERROR(storage::ValidateObjectKey(object_key));
  IndexBuildsCounter("built").Inc();
  int64_t collection_id = 0;
  bool push = false;
  bool compaction_output = false;
  {
    std::lock_guard lock(mu_);
    pending_builds_.erase({segment_id, index_id});
    failed_builds_.erase({segment_id, index_id});
    UpdateGaugesLocked();
    if (auto out = compaction_outputs_.find(segment_id); out != compaction_outputs_.end()) {
      out->second.segment.index_files[index_id] = object_key;
      compaction_output = true;
    } else {
      auto it = segments_.find(segment_id);
      if (it == segments_.end()) {
        return Status::NotFound("segment not found[segment_id=" + std::to_string(segment_id) + "]");
      }
      SegmentInfo& segment = it->second;
      auto coll = collections_.find(segment.collection_id);
      // A segment or index dropped meanwhile: nothing to record; GC deletes the file.
      if (segment.dropped || coll == collections_.end()) return Status::OK();
      bool known = false;
      for (const IndexInfo& index : coll->second.indexes) known = known || index.id == index_id;
      if (!known) return Status::OK();
      auto file = segment.index_files.find(index_id);
      if (file != segment.index_files.end() && file->second == object_key) return Status::OK();
      SegmentInfo updated = segment;
      updated.index_files[index_id] = object_key;
      TESSERA_RETURN_IF_ERROR(store_.Apply({CatalogStore::PutSegment(updated)}));
      segment = std::move(updated);
      collection_id = segment.collection_id;
      push = coll->second.loaded;
    }
  }
  if (compaction_output) {
    MaybeFinishCompactionOutput(segment_id);
  } else if (push) {
    PushSegment(collection_id, segment_id);
  }
  return Status::OK();
}

Status CoordinatorImpl::IndexBuildFailed(int64_t segment_id, int64_t index_id, const std::string& reason) {
  IndexBuildsCounter("failed").Inc();
  std::lock_guard lock(mu_);
  pending_builds_.erase({segment_id, index_id});
  UpdateGaugesLocked();
  TESSERA_LOG_WARN("index build failed: segment {} index {}: {}", segment_id, index_id, reason);
  if (auto out = compaction_outputs_.find(segment_id); out != compaction_outputs_.end()) {
    FailPlanLocked(out->second.job_id, out->second.plan, "index build failed: " + reason);
    compaction_outputs_.erase(out);
    UpdateGaugesLocked();
    return Status::OK();
  }
  auto it = segments_.find(segment_id);
  if (it == segments_.end()) {
    return Status::NotFound("segment not found[segment_id=" + std::to_string(segment_id) + "]");
  }
  auto coll = collections_.find(it->second.collection_id);
  if (it->second.dropped || coll == collections_.end()) return Status::OK();
  for (const IndexInfo& index : coll->second.indexes) {
    if (index.id == index_id) failed_builds_[{segment_id, index_id}] = reason;
  }
  return Status::OK();
}

}  // namespace tessera::coord
