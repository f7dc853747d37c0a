#include "querynode/search_executor.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <mutex>
#include <string_view>

#include "core/filter/evaluator.h"
#include "core/filter/parser.h"
#include "index/params.h"
#include "querynode/result_merge.h"

namespace tessera::querynode {
namespace {

using core::filter::Expr;
using core::filter::ValueExpr;

/// Milvus' topK bound: limit + offset may not exceed it.
constexpr size_t kMaxTopK = 16384;

bool IsPkField(const ValueExpr& v, const core::CollectionSchema& schema) {
  return v.IsPlainField() && static_cast<size_t>(v.field_index) < schema.fields.size() &&
         schema.fields[static_cast<size_t>(v.field_index)].is_primary_key;
}

// A literal as a key of the primary key's type, or nullopt when it is of another type.
std::optional<PrimaryKey> LiteralPk(const nlohmann::json& value, core::DataType pk_type) {
  if (pk_type == core::DataType::kInt64) {
    if (value.is_number_integer() && !(value.is_number_unsigned() &&
                                       value.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))) {
      return PrimaryKey(value.get<int64_t>());
    }
    return std::nullopt;
  }
  if (value.is_string()) return PrimaryKey(value.get<std::string>());
  return std::nullopt;
}

// The keys of a filter that is exactly `pk in [...]` or `pk == literal`.
std::optional<std::vector<PrimaryKey>> PkLookup(const Expr& expr, const core::CollectionSchema& schema) {
  const core::FieldSchema* pk = schema.PrimaryKey();
  if (pk == nullptr) return std::nullopt;
  std::vector<PrimaryKey> keys;
  if (expr.kind == Expr::Kind::kIn && !expr.negated && expr.operand && IsPkField(*expr.operand, schema)) {
    for (const auto& v : expr.values) {
      auto key = LiteralPk(v, pk->data_type);
      if (!key) return std::nullopt;
      keys.push_back(std::move(*key));
    }
    return keys;
  }
  if (expr.kind == Expr::Kind::kCompare && expr.compare_op == core::filter::CompareOp::kEq && expr.lhs &&
      expr.rhs) {
    const ValueExpr* field = nullptr;
    const ValueExpr* literal = nullptr;
    if (IsPkField(*expr.lhs, schema) && expr.rhs->kind == ValueExpr::Kind::kLiteral) {
      field = expr.lhs.get();
      literal = expr.rhs.get();
    } else if (IsPkField(*expr.rhs, schema) && expr.lhs->kind == ValueExpr::Kind::kLiteral) {
      field = expr.rhs.get();
      literal = expr.lhs.get();
    }
    if (field == nullptr) return std::nullopt;
    auto key = LiteralPk(literal->literal, pk->data_type);
    if (!key) return std::nullopt;
    keys.push_back(std::move(*key));
    return keys;
  }
  return std::nullopt;
}

/// Which partitions' rows a request may see.
struct PartitionFilter {
  bool all = true;               // every row passes
  std::vector<int64_t> allowed;  // sorted; used when !all

  bool Allows(int64_t id) const { return all || std::binary_search(allowed.begin(), allowed.end(), id); }
};

// The request's partitions, restricted to the loaded ones. A partition named by the
// request must exist (InvalidArgument) and be loaded (FailedPrecondition).
Result<PartitionFilter> MakePartitionFilter(const coord::CollectionInfo& info, const std::vector<int64_t>& requested) {
  PartitionFilter pf;
  if (requested.empty()) {
    if (info.partitions.empty()) return pf;  // no partition list: nothing to restrict
    for (const auto& p : info.partitions) {
      if (p.loaded) pf.allowed.push_back(p.id);
    }
    // Never "all": rows of a dropped partition stay in their segments until compaction and
    // must stay hidden, so only listed, loaded partitions pass.
    pf.all = false;
  } else {
    for (int64_t id : requested) {
      const coord::PartitionInfo* found = nullptr;
      for (const auto& p : info.partitions) {
        if (p.id == id) found = &p;
      }
      if (found == nullptr && !info.partitions.empty()) {
        return Status::InvalidArgument("partition id " + std::to_string(id) + " does not exist in collection '" +
                                       info.schema.name + "'");
      }
      if (found != nullptr && !found->loaded) {
        return Status::FailedPrecondition("partition '" + found->name + "' of collection '" + info.schema.name +
                                          "' is not loaded");
      }
      pf.allowed.push_back(id);
    }
    pf.all = false;
  }
  std::sort(pf.allowed.begin(), pf.allowed.end());
  return pf;
}

// True when the request sees every row of `segment`: no filter, no deletes, and all of its
// partitions allowed. Saves building (and counting) a bitset of all ones per search.
bool AllRowsVisible(const Segment& segment, const PreparedFilter& filter, const PartitionFilter& pf) {
  if (filter.pks || filter.expr || segment.num_deleted() > 0) return false;
  if (filter.expired_before > 0 && segment.min_timestamp() < filter.expired_before) return false;
  if (pf.all) return true;
  for (int64_t p : segment.partition_set()) {
    if (!pf.Allows(p)) return false;
  }
  return true;
}

// Rows of `segment` that the request sees: matching the filter, not deleted, in an allowed
// partition.
Result<core::Bitset> VisibleRows(const Segment& segment, const PreparedFilter& filter, const PartitionFilter& pf) {
  const size_t n = segment.num_rows();
  core::Bitset visible;
  if (filter.pks) {
    visible.Resize(n, false);
    for (const auto& pk : *filter.pks) segment.ForEachRowOf(pk, [&](uint32_t row) { visible.Set(row); });
  } else if (filter.expr) {
    auto matched = core::filter::EvaluateFilter(*filter.expr, segment.columns());
    if (!matched.ok()) return matched.status();
    visible = std::move(matched).value();
  } else {
    visible.Resize(n, true);
  }
  if (segment.num_deleted() > 0) visible.AndNot(segment.deleted());
  if (filter.expired_before > 0 && segment.min_timestamp() < filter.expired_before) {
    for (size_t row = 0; row < n; ++row) {
      if (segment.timestamp(row) < filter.expired_before) visible.Clear(row);
    }
  }
  if (!pf.all) {
    bool any = false, every = true;
    for (int64_t p : segment.partition_set()) {
      const bool ok = pf.Allows(p);
      any = any || ok;
      every = every && ok;
    }
    if (!any) {
      visible.ClearAll();
    } else if (!every) {
      for (size_t row = 0; row < n; ++row) {
        if (!pf.Allows(segment.partition(row))) visible.Clear(row);
      }
    }
  }
  return visible;
}

bool IsDeclaredField(const core::CollectionSchema& schema, const std::string& name) {
  return schema.FindField(name) != nullptr;
}

// Output field names must exist unless the dynamic field can hold them.
Status CheckOutputFields(const core::CollectionSchema& schema, const std::vector<std::string>& fields) {
  bool dynamic = schema.enable_dynamic_field;
  for (const auto& f : schema.fields) dynamic = dynamic || f.is_dynamic;
  for (const auto& name : fields) {
    if (name == "*" || IsDeclaredField(schema, name)) continue;
    if (dynamic) continue;  // a dynamic key; output when a row has it
    return Status::InvalidArgument("output field '" + name + "' does not exist in collection '" + schema.name + "'");
  }
  return Status::OK();
}

// The GetRow field list: the primary key first, then the requested fields ("*" = all).
std::vector<std::string> RowFields(const core::CollectionSchema& schema, const std::vector<std::string>& output,
                                   bool empty_means_all) {
  if (output.empty() && empty_means_all) return {};
  for (const auto& name : output) {
    if (name == "*") return {"*"};
  }
  std::vector<std::string> fields{schema.PrimaryKey()->name};
  for (const auto& name : output) {
    if (name != fields.front()) fields.push_back(name);
  }
  return fields;
}

const coord::IndexInfo* IndexOnField(const coord::CollectionInfo& info, int64_t field_id) {
  for (const auto& idx : info.indexes) {
    if (idx.field_id == field_id) return &idx;
  }
  return nullptr;
}

/// Search parameters per index type: the request's params go to indexes of the type the
/// collection's index definition names (validated once here, so a bad value fails the same
/// way whichever segments are loaded); other indexes (the exact FLAT of unindexed and
/// growing segments) get their defaults. Besides: ignore_growing, and the range of a range
/// search.
struct SearchParams {
  std::optional<index::IndexType> type;
  nlohmann::json params = nlohmann::json::object();
  bool ignore_growing = false;
  // Range search, in score space (lower is better: L2 distance, minus IP/COSINE
  // similarity): a hit is kept when inner <= score < outer.
  bool range = false;
  float inner = -std::numeric_limits<float>::infinity();
  float outer = std::numeric_limits<float>::infinity();

  const nlohmann::json& For(index::IndexType segment_type) const {
    static const nlohmann::json kEmpty = nlohmann::json::object();
    return type && *type == segment_type ? params : kEmpty;
  }
  bool InRange(float score) const { return score >= inner && score < outer; }
};

// Search parameters of Milvus index types other than the collection's (a client that
// switched index types may still send them), and hints Tessera has no use for: accepted
// and ignored, as Milvus does. A key in neither this list nor the index type's parameters
// is still an error (a typo should not pass silently).
constexpr std::string_view kForeignSearchParams[] = {
    "ef",        "nprobe",       "search_list",       "level",      "hints",       "drop_ratio_search",
    "reorder_k", "itopk_size",   "search_width",      "team_size",  "min_iterations", "max_iterations",
    "max_empty_result_buckets", "page_retain_order", "iterative_filter", "refine_k"};

Result<float> FloatParam(const nlohmann::json& params, const char* key) {
  const nlohmann::json& v = params.at(key);
  if (!v.is_number() || !std::isfinite(v.get<double>())) {
    return Status::InvalidArgument("search params: '" + std::string(key) + "' must be a finite number, got " + v.dump());
  }
  return v.get<float>();
}

// Takes radius / range_filter out of `params` into out's range (metric: the field's).
Status TakeRange(nlohmann::json& params, index::MetricType metric, SearchParams& out) {
  const bool has_radius = params.contains("radius");
  const bool has_filter = params.contains("range_filter");
  if (!has_radius && !has_filter) return Status::OK();
  if (!has_radius) return Status::InvalidArgument("search params: 'range_filter' needs 'radius'");
  const bool l2 = metric == index::MetricType::kL2;
  TESSERA_ASSIGN_OR_RETURN(const float radius, FloatParam(params, "radius"));
  out.range = true;
  out.outer = l2 ? radius : -radius;
  if (has_filter) {
    TESSERA_ASSIGN_OR_RETURN(const float range_filter, FloatParam(params, "range_filter"));
    out.inner = l2 ? range_filter : -range_filter;
    if (!(out.inner < out.outer)) {
      return Status::InvalidArgument(std::string("search params: 'range_filter' must be ") +
                                     (l2 ? "less" : "greater") + " than 'radius' for metric " +
                                     std::string(index::MetricTypeName(metric)));
    }
  }
  params.erase("radius");
  params.erase("range_filter");
  return Status::OK();
}

Result<SearchParams> MakeSearchParams(const coord::CollectionInfo& info, int64_t field_id,
                                      const nlohmann::json& given, size_t k) {
  SearchParams out;
  if (!given.is_null() && !given.is_object()) {
    return Status::InvalidArgument("search params must be a JSON object, got " + given.dump());
  }
  nlohmann::json params = given.is_object() ? given : nlohmann::json::object();
  if (auto it = params.find("ignore_growing"); it != params.end()) {
    if (!it->is_boolean()) {
      return Status::InvalidArgument("search params: 'ignoreGrowing' must be true or false, got " + it->dump());
    }
    out.ignore_growing = it->get<bool>();
    params.erase(it);
  }
  const coord::IndexInfo* def = IndexOnField(info, field_id);
  auto metric = def == nullptr ? Result<index::MetricType>(index::MetricType::kL2) : index::ParseMetricType(def->metric_type);
  TESSERA_RETURN_IF_ERROR(TakeRange(params, metric.ok() ? *metric : index::MetricType::kL2, out));
  std::optional<index::IndexType> type;
  if (def != nullptr) {
    if (auto parsed = index::ParseIndexType(def->index_type); parsed.ok()) type = *parsed;
  }
  // Keys of other index types are dropped; the index type's own ones are validated below.
  for (std::string_view key : kForeignSearchParams) {
    bool own = false;
    if (type) {
      for (const index::ParamSpec& spec : index::ParamSchema(*type)) own = own || spec.name == key;
    }
    if (!own) params.erase(std::string(key));
  }
  if (!type) {
    // No index definition: every segment is searched exactly, which takes no parameter.
    if (!params.empty()) {
      return Status::InvalidArgument("search params: unknown search parameter '" + params.begin().key() +
                                     "' (the field has no index)");
    }
    return out;
  }
  out.type = *type;
  auto validated = index::ValidateParams(*type, index::ParamPhase::kSearch, params);
  if (!validated.ok()) return Status::InvalidArgument("search params: " + validated.status().message());
  out.params = params;
  if (*type == index::IndexType::kHnsw) {
    // ef must cover k; when the caller leaves it out, widen the default to k (Milvus does).
    const size_t ef = (*validated)["ef"].get<size_t>();
    if (!params.contains("ef")) {
      out.params["ef"] = std::max(ef, k);
    } else if (ef < k) {
      return Status::InvalidArgument("search params: 'ef' = " + std::to_string(ef) +
                                     " must be >= limit + offset = " + std::to_string(k));
    }
  }
  return out;
}

float ScoreOf(index::MetricType metric, float distance) {
  return metric == index::MetricType::kL2 ? distance : -distance;
}

// Whether a range search's result (k_searched hits per query) may have missed hits in
// range: some query has fewer than `k` in range although all its hits are inside the
// outer bound (so farther ones may be too).
bool NeedsWiderRangeSearch(const index::SearchResult& r, index::MetricType metric, const SearchParams& params,
                           size_t k) {
  for (size_t q = 0; q < r.num_queries; ++q) {
    size_t in_range = 0;
    bool reached_outer = false;
    size_t found = 0;
    for (size_t rank = 0; rank < r.k; ++rank) {
      if (r.id(q, rank) < 0) break;
      ++found;
      const float score = ScoreOf(metric, r.distance(q, rank));
      if (score >= params.outer) {
        reached_outer = true;
        break;
      }
      in_range += params.InRange(score) ? 1 : 0;
    }
    if (in_range < k && !reached_outer && found == r.k) return true;
  }
  return false;
}

// DeadlineExceeded once `deadline` has passed (the proxy answers it 408 / 10001).
Status CheckDeadline(std::chrono::steady_clock::time_point deadline, std::chrono::milliseconds timeout,
                     const char* what) {
  if (std::chrono::steady_clock::now() <= deadline) return Status::OK();
  return Status::DeadlineExceeded(std::string(what) + " ran past its timeout of " + std::to_string(timeout.count()) +
                                  " ms");
}

// Runs fn(i) for i in [0, n) on the pool and returns the first error.
Status ParallelDo(ThreadPool& pool, size_t n, const std::function<Status(size_t)>& fn) {
  std::mutex mu;
  Status first;
  pool.ParallelFor(n, [&](size_t i) {
    Status s = fn(i);
    if (!s.ok()) {
      std::lock_guard<std::mutex> l(mu);
      if (first.ok()) first = std::move(s);
    }
  });
  return first;
}

}  // namespace

Result<PreparedFilter> PrepareFilter(std::string_view text, const core::CollectionSchema& schema) {
  PreparedFilter out;
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return out;
  auto parsed = core::filter::ParseFilter(text, schema);
  if (!parsed.ok()) return Status::InvalidArgument(parsed.status().message());
  out.expr = std::move(parsed).value();
  out.pks = PkLookup(*out.expr, schema);
  return out;
}

Result<SearchResponse> ExecuteSearch(const CollectionSnapshot& snapshot, const SearchRequest& request,
                                     const PreparedFilter& filter, ThreadPool& pool,
                                     std::chrono::steady_clock::time_point deadline) {
  const coord::CollectionInfo& info = *snapshot.info;
  const core::CollectionSchema& schema = info.schema;
  const core::FieldSchema* field = nullptr;
  for (const auto& f : schema.fields) {
    if (f.id == request.field_id) field = &f;
  }
  if (field == nullptr || field->data_type != core::DataType::kFloatVector) {
    return Status::InvalidArgument("field id " + std::to_string(request.field_id) +
                                   " is not a vector field of collection '" + schema.name + "'");
  }
  const size_t dim = static_cast<size_t>(field->dim);
  if (request.num_queries == 0) return Status::InvalidArgument("search needs at least one query vector");
  if (request.vectors.size() != request.num_queries * dim) {
    return Status::InvalidArgument("search of field '" + field->name + "' (dim " + std::to_string(dim) + ") got " +
                                   std::to_string(request.vectors.size()) + " floats for " +
                                   std::to_string(request.num_queries) + " queries");
  }
  if (request.limit == 0) return Status::InvalidArgument("search limit must be at least 1");
  const size_t k = request.limit + request.offset;
  if (request.limit > kMaxTopK || k > kMaxTopK) {
    return Status::InvalidArgument("search limit + offset = " + std::to_string(k) + " exceeds " +
                                   std::to_string(kMaxTopK));
  }
  TESSERA_RETURN_IF_ERROR(CheckOutputFields(schema, request.output_fields));
  TESSERA_ASSIGN_OR_RETURN(SearchParams params, MakeSearchParams(info, field->id, request.params, k));
  TESSERA_ASSIGN_OR_RETURN(PartitionFilter pf, MakePartitionFilter(info, request.partition_ids));

  std::vector<const Segment*> segments;
  for (const Segment* s : snapshot.segments) {
    if (params.ignore_growing && !s->sealed()) continue;
    if (s->num_rows() > 0 && s->num_rows() > s->num_deleted()) segments.push_back(s);
  }

  // Phase 1: each segment's skip bitset (deleted, filtered out or in another partition),
  // left null when every row is visible: an index searched without one skips no work.
  std::vector<core::Bitset> skip_bits(segments.size());
  std::vector<const core::Bitset*> skips(segments.size(), nullptr);
  std::vector<uint8_t> empty(segments.size(), 0);  // not vector<bool>: written concurrently
  TESSERA_RETURN_IF_ERROR(ParallelDo(pool, segments.size(), [&](size_t i) -> Status {
    if (AllRowsVisible(*segments[i], filter, pf)) return Status::OK();
    auto visible = VisibleRows(*segments[i], filter, pf);
    if (!visible.ok()) return visible.status();
    const size_t passing = visible->Count();
    empty[i] = passing == 0;
    if (passing < segments[i]->num_rows()) {
      visible->Flip();
      skip_bits[i] = std::move(visible).value();
      skips[i] = &skip_bits[i];
    }
    return Status::OK();
  }));

  // Phase 2: index searches, split over queries when there are few segments, so one big
  // segment still uses the pool.
  struct Task {
    size_t segment;
    size_t first_query;
    size_t num_queries;
  };
  std::vector<Task> tasks;
  size_t live = 0;
  for (size_t i = 0; i < segments.size(); ++i) live += empty[i] ? 0 : 1;
  // At most kQueriesPerTask queries per task, so that the deadline is checked often.
  constexpr size_t kQueriesPerTask = 64;
  const size_t chunks = live == 0 ? 1 : std::clamp<size_t>(pool.size() / live, 1, request.num_queries);
  const size_t per_chunk = std::min((request.num_queries + chunks - 1) / chunks, kQueriesPerTask);
  for (size_t i = 0; i < segments.size(); ++i) {
    if (empty[i]) continue;
    for (size_t q = 0; q < request.num_queries; q += per_chunk) {
      tasks.push_back(Task{i, q, std::min(per_chunk, request.num_queries - q)});
    }
  }
  std::vector<index::SearchResult> results(tasks.size());
  TESSERA_RETURN_IF_ERROR(ParallelDo(pool, tasks.size(), [&](size_t t) -> Status {
    TESSERA_RETURN_IF_ERROR(CheckDeadline(deadline, request.timeout, "search"));
    const Task& task = tasks[t];
    const Segment& segment = *segments[task.segment];
    const SegmentIndex* vi = segment.VectorIndex(field->id);
    if (vi == nullptr || vi->index == nullptr) {
      return Status::Internal("segment " + std::to_string(segment.id()) + " has no index on field '" + field->name + "'");
    }
    index::SearchRequest sr;
    sr.queries = request.vectors.data() + task.first_query * dim;
    sr.num_queries = task.num_queries;
    sr.k = k;
    nlohmann::json segment_params = params.For(vi->index->type());
    sr.skip = skips[task.segment];
    for (;;) {
      sr.params = segment_params;
      auto found = vi->index->Search(sr);
      if (!found.ok()) {
        const Status& s = found.status();
        if (s.code() == StatusCode::kInvalidArgument) return Status::InvalidArgument("search params: " + s.message());
        return s.WithContext(segment.sealed() ? "segment " + std::to_string(segment.id())
                                              : "growing segment of " + segment.channel());
      }
      results[t] = std::move(found).value();
      // A range search whose k nearest are too close (inside range_filter) may have more
      // hits in range further out: search again with twice the k, up to the top-k limit.
      if (!params.range || sr.k >= kMaxTopK || !NeedsWiderRangeSearch(results[t], vi->index->metric(), params, k)) {
        break;
      }
      sr.k = std::min(sr.k * 2, kMaxTopK);
      if (segment_params.contains("ef")) segment_params["ef"] = std::max(segment_params["ef"].get<size_t>(), sr.k);
    }
    return Status::OK();
  }));

  // Merge per query across segments.
  const std::vector<std::string> row_fields = RowFields(schema, request.output_fields, /*empty_means_all=*/false);
  SearchResponse response;
  response.hits.resize(request.num_queries);
  for (size_t q = 0; q < request.num_queries; ++q) {
    std::vector<std::vector<core::Neighbor>> lists;
    lists.reserve(tasks.size());
    for (size_t t = 0; t < tasks.size(); ++t) {
      const Task& task = tasks[t];
      if (q < task.first_query || q >= task.first_query + task.num_queries) continue;
      const index::SearchResult& r = results[t];
      const index::MetricType metric = segments[task.segment]->VectorIndex(field->id)->index->metric();
      std::vector<core::Neighbor> list;
      const size_t local = q - task.first_query;
      for (size_t rank = 0; rank < r.k; ++rank) {
        const int64_t row = r.id(local, rank);
        if (row < 0) break;
        const float score = ScoreOf(metric, r.distance(local, rank));
        if (params.range && !params.InRange(score)) continue;
        segments[task.segment]->PrefetchPk(static_cast<size_t>(row));  // the merge reads it next
        list.push_back(core::Neighbor{PackRowRef(RowRef{static_cast<uint32_t>(task.segment), static_cast<uint32_t>(row)}),
                                      score});
      }
      lists.push_back(std::move(list));
    }
    std::vector<MergedHit> merged = MergeSearchHits(lists, request.offset, request.limit, [&](RowRef ref) {
      return segments[ref.segment]->pk(ref.row);
    });
    auto& hits = response.hits[q];
    hits.reserve(merged.size());
    for (MergedHit& m : merged) {
      const Segment& segment = *segments[m.ref.segment];
      const index::MetricType metric = segment.VectorIndex(field->id)->index->metric();
      nlohmann::json row;  // null: no output fields asked for (the key is in m.pk)
      if (!request.output_fields.empty()) {
        TESSERA_ASSIGN_OR_RETURN(row, segment.columns().GetRow(m.ref.row, row_fields));
      }
      hits.push_back(Hit{std::move(m.pk), index::ScoreToDistance(metric, m.score), std::move(row)});
    }
  }
  return response;
}

Result<QueryResponse> ExecuteQuery(const CollectionSnapshot& snapshot, const QueryRequest& request,
                                   const PreparedFilter& filter, ThreadPool& pool,
                                   std::chrono::steady_clock::time_point deadline) {
  const coord::CollectionInfo& info = *snapshot.info;
  const core::CollectionSchema& schema = info.schema;
  TESSERA_RETURN_IF_ERROR(CheckOutputFields(schema, request.output_fields));
  TESSERA_ASSIGN_OR_RETURN(PartitionFilter pf, MakePartitionFilter(info, request.partition_ids));
  const std::vector<const Segment*>& segments = snapshot.segments;

  QueryResponse response;
  if (request.count_only) {
    std::atomic<uint64_t> count{0};
    TESSERA_RETURN_IF_ERROR(ParallelDo(pool, segments.size(), [&](size_t i) -> Status {
      TESSERA_RETURN_IF_ERROR(CheckDeadline(deadline, request.timeout, "query"));
      auto visible = VisibleRows(*segments[i], filter, pf);
      if (!visible.ok()) return visible.status();
      count.fetch_add(visible->Count());
      return Status::OK();
    }));
    response.count = count.load();
    return response;
  }

  // limit 0 = no limit; otherwise only the offset + limit smallest keys are kept.
  const size_t capacity = request.limit == 0 ? std::numeric_limits<size_t>::max()
                                             : (request.offset > std::numeric_limits<size_t>::max() - request.limit
                                                    ? std::numeric_limits<size_t>::max()
                                                    : request.offset + request.limit);
  std::vector<PkSelector> selectors(segments.size(), PkSelector(capacity));
  TESSERA_RETURN_IF_ERROR(ParallelDo(pool, segments.size(), [&](size_t i) -> Status {
    TESSERA_RETURN_IF_ERROR(CheckDeadline(deadline, request.timeout, "query"));
    const Segment& segment = *segments[i];
    auto visible = VisibleRows(segment, filter, pf);
    if (!visible.ok()) return visible.status();
    for (size_t w = 0; w < visible->num_words(); ++w) {
      uint64_t bits = visible->words()[w];
      while (bits != 0) {
        const size_t row = w * 64 + static_cast<size_t>(std::countr_zero(bits));
        bits &= bits - 1;
        selectors[i].Offer(segment.pk(row), RowRef{static_cast<uint32_t>(i), static_cast<uint32_t>(row)},
                           segment.timestamp(row));
      }
    }
    return Status::OK();
  }));
  PkSelector all(capacity);
  for (auto& s : selectors) all.Merge(std::move(s));
  std::vector<std::pair<PrimaryKey, RowRef>> sorted = all.TakeSorted();

  const std::vector<std::string> row_fields = RowFields(schema, request.output_fields, /*empty_means_all=*/true);
  for (size_t i = request.offset; i < sorted.size(); ++i) {
    if (request.limit != 0 && response.rows.size() >= request.limit) break;
    const RowRef ref = sorted[i].second;
    TESSERA_ASSIGN_OR_RETURN(nlohmann::json row, segments[ref.segment]->columns().GetRow(ref.row, row_fields));
    response.rows.push_back(std::move(row));
  }
  response.count = response.rows.size();
  return response;
}

}  // namespace tessera::querynode
