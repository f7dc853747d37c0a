#include "index/hnsw/hnsw_index.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <optional>
#include <vector>

#include "common/thread_pool.h"
#include "core/simd/distance.h"
#include "core/topk.h"
#include "index/blob.h"
#include "index/hnsw/graph.h"
#include "index/hnsw/visited_pool.h"
#include "index/params.h"
#include "index/quant/uniform_quantizer.h"
#include "index/search_util.h"
#include "index/vector_store.h"

namespace tessera::index {
namespace {

using hnsw::Graph;
using hnsw::VisitedTable;

// Highest level a node may get; with M >= 2 the chance of reaching it is below 2^-30.
constexpr int kMaxLevel = 30;
// Filtered searches whose passing rows are this few, or this small a fraction, are answered
// by an exact scan of the passing rows: cheaper than a graph walk that must step over
// mostly-rejected nodes, and it cannot lose recall.
constexpr size_t kExactScanMaxRows = 2048;
constexpr double kExactScanMaxFraction = 0.02;

// A query as the distance functions see it: the float vector, and its uint8 codes (with their
// sum, for IP) when the index traverses on quantised vectors.
struct Query {
  const float* vec;
  const uint8_t* code = nullptr;
  uint32_t code_sum = 0;   // sum of codes (IP)
  uint32_t code_norm = 0;  // sum of squared codes (L2)
};

struct Candidate {
  float score;
  uint32_t node;
};
struct CloserOnTop {  // min-heap by score
  bool operator()(const Candidate& a, const Candidate& b) const { return a.score > b.score; }
};
struct FartherOnTop {  // max-heap by score
  bool operator()(const Candidate& a, const Candidate& b) const { return a.score < b.score; }
};

// SplitMix64: a well-mixed hash of (seed, node) so a node's level does not depend on the
// order nodes are inserted in (parallel builds assign the same levels as serial ones).
uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A compiler builtin, not an intrinsic: ISA-specific code stays in core/simd.
inline void Prefetch(const void* p) { __builtin_prefetch(p, 0, 3); }

class HnswIndex final : public Index {
 public:
  HnswIndex(MetricType metric, size_t dim, nlohmann::json params)
      : metric_(metric),
        params_(std::move(params)),
        m_(params_["M"].get<size_t>()),
        ef_construction_(params_["efConstruction"].get<size_t>()),
        seed_(params_["seed"].get<uint64_t>()),
        sq8_(params_["sq8"].get<int>() != 0),
        level_mult_(1.0 / std::log(static_cast<double>(std::max<size_t>(m_, 2)))),
        distance_(metric == MetricType::kL2 ? simd::Active().l2_sqr : simd::Active().inner_product),
        code_dot_(simd::Active().dot_u8),
        vectors_(dim, metric),
        graph_(m_),
        visited_(0) {}

  IndexType type() const override { return IndexType::kHnsw; }
  MetricType metric() const override { return metric_; }
  size_t dim() const override { return vectors_.dim(); }
  size_t size() const override { return vectors_.size(); }
  const nlohmann::json& build_params() const override { return params_; }

  Status Build(const float* data, size_t n, ThreadPool* pool) override {
    if (size() != 0) return Status::FailedPrecondition("HNSW index is already built");
    return Add(data, n, pool);
  }

  Status Add(const float* data, size_t n, ThreadPool* pool) override {
    for (size_t i = 0; i < n * dim(); ++i) {
      if (!std::isfinite(data[i])) {
        return Status::InvalidArgument("vector " + std::to_string(i / dim()) + " has a non-finite component at position " +
                                       std::to_string(i % dim()));
      }
    }
    const size_t first = size();
    vectors_.Append(data, n);
    if (sq8_) {
      // The range comes from the first batch; later rows outside it are clamped (search
      // re-ranks with exact distances, so clamping costs recall only in the walk).
      if (first == 0) quantizer_.Train(vectors_.row(0), n, dim());
      EncodeRows(first);
    }
    std::vector<uint8_t> levels(n);
    for (size_t i = 0; i < n; ++i) levels[i] = RandomLevel(first + i);
    graph_.AddNodes(levels);
    visited_.Resize(size());
    size_t next = first;
    if (graph_.max_level() < 0 && n > 0) {  // the first node becomes the entry point
      graph_.SetEntryPoint(static_cast<uint32_t>(first), graph_.level(static_cast<uint32_t>(first)));
      ++next;
    }
    auto insert = [&](size_t i) { Insert(static_cast<uint32_t>(next + i)); };
    if (pool != nullptr) {
      pool->ParallelFor(first + n - next, insert, 64);
    } else {
      for (size_t i = 0; i < first + n - next; ++i) insert(i);
    }
    return Status::OK();
  }

  Result<SearchResult> Search(const SearchRequest& request) const override {
    TESSERA_RETURN_IF_ERROR(CheckSearchRequest(*this, request));
    TESSERA_ASSIGN_OR_RETURN(nlohmann::json sp,
                             ValidateParams(IndexType::kHnsw, ParamPhase::kSearch, request.params));
    const size_t ef = sp["ef"].get<size_t>();
    if (ef < request.k) {
      return Status::InvalidArgument("search parameter 'ef' = " + std::to_string(ef) +
                                     " must be >= limit k = " + std::to_string(request.k));
    }
    TESSERA_ASSIGN_OR_RETURN(PreparedQueries queries, PrepareQueries(*this, request));
    SearchResult result = EmptyResult(metric_, request.num_queries, request.k);
    const core::Bitset* skip = request.skip;
    size_t passing = size();
    if (skip != nullptr) passing = size() - skip->Count();
    if (passing == 0 || size() == 0) return result;
    const bool exact = skip != nullptr &&
                       (passing <= kExactScanMaxRows ||
                        static_cast<double>(passing) < kExactScanMaxFraction * static_cast<double>(size()));
    // A filtered walk may cost at most half an exact scan of the passing rows. A filter
    // correlated with the data (keep digit 0, query a 7) makes the walk wade through rejected
    // nodes; past the budget it stops and the exact scan answers, so the worst case is 1.5x
    // the scan, never a graph-wide crawl.
    const uint64_t budget = skip != nullptr ? passing / 2 : UINT64_MAX;
    std::atomic<uint64_t> distances{0}, visited{0};
    RunPerQuery(request, [&](size_t q) {
      SearchStats stats;
      std::optional<core::TopK> top;
      if (!exact) top = GraphSearch(queries.row(q), request.k, ef, skip, budget, &stats);
      // The contract: k results whenever k rows pass. A filtered walk can also fall short
      // when passing rows sit where no link leads; then too the exact scan answers.
      if (!top || top->size() < std::min(request.k, passing)) {
        top = ExactScan(queries.row(q), request.k, skip, &stats);
      }
      StoreTopK(metric_, q, &*top, &result);
      distances += stats.distances_computed;
      visited += stats.nodes_visited;
    });
    result.stats.distances_computed = distances;
    result.stats.nodes_visited = visited;
    return result;
  }

  size_t MemoryUsage() const override {
    return vectors_.MemoryUsage() + graph_.MemoryUsage() + codes_.capacity() +
           (code_sums_.capacity() + code_norms_.capacity()) * sizeof(uint32_t);
  }

 protected:
  Status SerializePayload(BlobWriter& out) const override {
    graph_.Serialize(out);
    out.PutArray(std::span<const float>(vectors_.data(), vectors_.size() * dim()));
    if (sq8_) {
      out.Put<float>(quantizer_.lo());
      out.Put<float>(quantizer_.scale());
    }
    return Status::OK();
  }

  Status LoadPayload(BlobReader& in, size_t rows) override {
    TESSERA_RETURN_IF_ERROR(graph_.Load(in, rows));
    std::vector<float> data;
    TESSERA_RETURN_IF_ERROR(in.GetArray(&data, "HNSW vectors", rows * dim()));
    // Rows were normalised when first added; appending normalises again, which for unit
    // vectors changes nothing beyond rounding.
    vectors_.Append(data.data(), rows);
    if (sq8_) {
      float lo = 0, scale = 0;
      TESSERA_RETURN_IF_ERROR(in.Get(&lo, "HNSW quantizer lo"));
      TESSERA_RETURN_IF_ERROR(in.Get(&scale, "HNSW quantizer scale"));
      if (!std::isfinite(lo) || !std::isfinite(scale) || scale <= 0) {
        return Status::DataLoss("HNSW quantizer range is invalid");
      }
      quantizer_.Restore(lo, scale);
      EncodeRows(0);  // codes are derived data: recomputed, not stored
    }
    visited_.Resize(rows);
    return Status::OK();
  }

 private:
  uint8_t RandomLevel(size_t node) const {
    // Uniform in (0, 1] from 53 random bits, then the paper's floor(-ln(U) * mL).
    const double u = (static_cast<double>(Mix(seed_ ^ Mix(node)) >> 11) + 1.0) * 0x1.0p-53;
    const int level = static_cast<int>(-std::log(u) * level_mult_);
    return static_cast<uint8_t>(std::min(level, kMaxLevel));
  }

  void EncodeRows(size_t first) {
    codes_.resize(size() * dim());
    code_sums_.resize(size());
    code_norms_.resize(size());
    for (size_t i = first; i < size(); ++i) {
      uint8_t* code = codes_.data() + i * dim();
      quantizer_.Encode(vectors_.row(i), dim(), code);
      code_sums_[i] = 0;
      code_norms_[i] = 0;
      for (size_t j = 0; j < dim(); ++j) {
        code_sums_[i] += code[j];
        code_norms_[i] += uint32_t{code[j]} * code[j];
      }
    }
  }

  const uint8_t* Code(uint32_t node) const { return codes_.data() + size_t{node} * dim(); }

  Query MakeQuery(const float* vec, std::vector<uint8_t>* code_buffer) const {
    Query q{vec};
    if (sq8_) {
      code_buffer->resize(dim());
      quantizer_.Encode(vec, dim(), code_buffer->data());
      q.code = code_buffer->data();
      for (uint8_t c : *code_buffer) {
        q.code_sum += c;
        q.code_norm += uint32_t{c} * c;
      }
    }
    return q;
  }
  Query NodeQuery(uint32_t node) const {
    return sq8_ ? Query{vectors_.row(node), Code(node), code_sums_[node], code_norms_[node]}
                : Query{vectors_.row(node)};
  }

  // Exact score (smaller is better) from the float vectors.
  float ExactScore(const float* query, uint32_t node) const {
    const float d = distance_(query, vectors_.row(node), dim());
    return metric_ == MetricType::kL2 ? d : -d;
  }

  // The score the graph walk uses: exact, or from uint8 codes when sq8 is on. Both metrics
  // use one integer dot product of codes (VNNI-friendly): L2 is |qc|^2 + |c|^2 - 2 qc.c
  // (the true distance / scale^2, same order); IP expands
  // (lo + s*qc).(lo + s*c) = d*lo^2 + lo*s*(sum qc + sum c) + s^2 * qc.c.
  float Score(const Query& query, uint32_t node) const {
    if (!sq8_) return ExactScore(query.vec, node);
    const uint32_t raw = code_dot_(query.code, Code(node), dim());
    if (metric_ == MetricType::kL2) {
      return static_cast<float>(int64_t{query.code_norm} + code_norms_[node] - 2 * int64_t{raw});
    }
    const float lo = quantizer_.lo(), s = quantizer_.scale();
    return -(static_cast<float>(dim()) * lo * lo +
             lo * s * static_cast<float>(query.code_sum + code_sums_[node]) +
             s * s * static_cast<float>(raw));
  }
  float Score(uint32_t a, uint32_t b) const { return Score(NodeQuery(a), b); }

  // What the walk reads for a node's distance: prefetch its first cache line.
  const void* ScoreData(uint32_t node) const {
    return sq8_ ? static_cast<const void*>(Code(node)) : static_cast<const void*>(vectors_.row(node));
  }

  // Greedy walk on one upper layer: moves to the closest neighbour until none is closer.
  template <bool kLocked>
  Candidate GreedyClosest(const Query& query, Candidate current, int layer, SearchStats* stats) const {
    uint32_t buffer[2 * 2048 + 1];  // 2M + count, M <= 2048
    for (bool changed = true; changed;) {
      changed = false;
      const uint32_t* list = ReadList<kLocked>(current.node, layer, buffer);
      for (uint32_t j = 1; j <= list[0]; ++j) {
        const uint32_t neighbour = list[j];
        const float score = Score(query, neighbour);
        ++stats->distances_computed;
        if (score < current.score) {
          current = {score, neighbour};
          changed = true;
        }
      }
      ++stats->nodes_visited;
    }
    return current;
  }

  // During construction other threads rewrite lists; copy under the node's lock.
  template <bool kLocked>
  const uint32_t* ReadList(uint32_t node, int layer, uint32_t* buffer) const {
    if constexpr (!kLocked) {
      return graph_.List(node, layer);
    } else {
      std::lock_guard lock(const_cast<Graph&>(graph_).NodeLock(node));
      const uint32_t* list = graph_.List(node, layer);
      std::copy(list, list + 1 + list[0], buffer);
      return buffer;
    }
  }

  // Beam search on one layer (Algorithm 2 of the paper). Nodes in `skip` are walked through
  // but never enter the result set, so a filter cannot disconnect the graph. Leaves up to `ef`
  // passing nodes in `top`, a max-heap by score (FartherOnTop). `candidates` is scratch.
  // Both vectors are reused across calls, so a search allocates nothing once warm.
  // Returns false, leaving a partial result, once the walk has computed more than `budget`
  // distances.
  template <bool kLocked>
  bool SearchLayer(const Query& query, Candidate entry, size_t ef, int layer,
                   const core::Bitset* skip, VisitedTable& visited, SearchStats* stats,
                   std::vector<Candidate>& top, std::vector<Candidate>& candidates,
                   uint64_t budget = UINT64_MAX) const {
    const uint64_t limit = budget == UINT64_MAX ? UINT64_MAX : stats->distances_computed + budget;
    top.clear();
    candidates.clear();
    visited.Visit(entry.node);
    candidates.push_back(entry);
    if (skip == nullptr || !skip->Test(entry.node)) top.push_back(entry);
    float bound = top.empty() ? INFINITY : top.front().score;
    uint32_t buffer[2 * 2048 + 1];  // 2M + count, M <= 2048
    while (!candidates.empty()) {
      const Candidate current = candidates.front();
      if (current.score > bound && top.size() >= ef) break;
      if (stats->distances_computed > limit) return false;
      std::pop_heap(candidates.begin(), candidates.end(), CloserOnTop());
      candidates.pop_back();
      ++stats->nodes_visited;
      const uint32_t* list = ReadList<kLocked>(current.node, layer, buffer);
      const uint32_t count = list[0];
      if (count > 0) Prefetch(ScoreData(list[1]));
      for (uint32_t j = 1; j <= count; ++j) {
        const uint32_t neighbour = list[j];
        if (j < count) {
          Prefetch(visited.tag_address(list[j + 1]));
          Prefetch(ScoreData(list[j + 1]));
        }
        if (visited.TestAndVisit(neighbour)) continue;
        const float score = Score(query, neighbour);
        ++stats->distances_computed;
        if (top.size() < ef || score < bound) {
          candidates.push_back({score, neighbour});
          std::push_heap(candidates.begin(), candidates.end(), CloserOnTop());
          if (skip == nullptr || !skip->Test(neighbour)) {
            top.push_back({score, neighbour});
            std::push_heap(top.begin(), top.end(), FartherOnTop());
            if (top.size() > ef) {
              std::pop_heap(top.begin(), top.end(), FartherOnTop());
              top.pop_back();
            }
          }
          if (!top.empty()) bound = top.front().score;
        }
      }
    }
    return true;
  }

  struct Scratch {
    std::vector<Candidate> top;
    std::vector<Candidate> candidates;
    std::vector<uint8_t> query_code;
  };
  static Scratch& ThreadScratch() {
    thread_local Scratch scratch;
    return scratch;
  }

  // The HNSW search; nullopt when the layer-0 walk ran over `budget` distances.
  std::optional<core::TopK> GraphSearch(const float* vec, size_t k, size_t ef,
                                        const core::Bitset* skip, uint64_t budget,
                                        SearchStats* stats) const {
    Scratch& scratch = ThreadScratch();
    const Query query = MakeQuery(vec, &scratch.query_code);
    const uint32_t ep = graph_.entry_point();
    Candidate current{Score(query, ep), ep};
    ++stats->distances_computed;
    for (int layer = graph_.max_level(); layer > 0; --layer) {
      current = GreedyClosest<false>(query, current, layer, stats);
    }
    auto visited = visited_.Acquire();
    if (!SearchLayer<false>(query, current, ef, 0, skip, *visited, stats, scratch.top,
                            scratch.candidates, budget)) {
      return std::nullopt;
    }
    core::TopK top(k);
    for (const Candidate& c : scratch.top) {
      // Quantised walks re-rank their ef candidates with exact distances.
      top.Push(c.node, sq8_ ? ExactScore(vec, c.node) : c.score);
    }
    if (sq8_) stats->distances_computed += scratch.top.size();
    return top;
  }

  // Exact answer over the passing rows (all rows when `skip` is null).
  core::TopK ExactScan(const float* query, size_t k, const core::Bitset* skip,
                       SearchStats* stats) const {
    core::TopK top(k);
    auto push = [&](size_t row) {
      top.Push(static_cast<int64_t>(row), ExactScore(query, static_cast<uint32_t>(row)));
      ++stats->distances_computed;
    };
    if (skip != nullptr) {
      ForEachPassingRow(*skip, size(), push);
    } else {
      for (size_t row = 0; row < size(); ++row) push(row);
    }
    return top;
  }

  // Neighbour selection heuristic (Algorithm 4 of the paper, without extension): walk the
  // candidates closest first and keep one only if it is closer to the base than to every
  // neighbour kept so far, which spreads links in different directions.
  void SelectNeighbours(std::vector<Candidate>& candidates, size_t max_degree) const {
    if (candidates.size() < max_degree) return;  // as hnswlib: prune from M candidates on
    std::sort(candidates.begin(), candidates.end(),
              [](const Candidate& a, const Candidate& b) { return a.score < b.score; });
    std::vector<Candidate> kept;
    kept.reserve(max_degree);
    for (const Candidate& c : candidates) {
      if (kept.size() >= max_degree) break;
      bool good = true;
      for (const Candidate& k : kept) {
        if (Score(c.node, k.node) < c.score) {
          good = false;
          break;
        }
      }
      if (good) kept.push_back(c);
    }
    candidates.swap(kept);
  }

  // Adds the edge node -> added on `layer`; when node's list is full, re-selects among the
  // old neighbours plus the new one.
  void Connect(uint32_t node, uint32_t added, float score, int layer) {
    std::lock_guard lock(graph_.NodeLock(node));
    uint32_t* list = graph_.MutableList(node, layer);
    const size_t max_degree = graph_.MaxDegree(layer);
    for (uint32_t j = 1; j <= list[0]; ++j) {
      if (list[j] == added) return;
    }
    if (list[0] < max_degree) {
      list[1 + list[0]] = added;
      ++list[0];
      return;
    }
    std::vector<Candidate> candidates;
    candidates.reserve(max_degree + 1);
    candidates.push_back({score, added});
    for (uint32_t j = 1; j <= list[0]; ++j) candidates.push_back({Score(node, list[j]), list[j]});
    SelectNeighbours(candidates, max_degree);
    list[0] = static_cast<uint32_t>(candidates.size());
    for (size_t j = 0; j < candidates.size(); ++j) list[1 + j] = candidates[j].node;
  }

  // Inserts one node (Algorithm 1 of the paper). Safe to run concurrently for different nodes.
  void Insert(uint32_t node) {
    SearchStats stats;
    const Query query = NodeQuery(node);
    const int level = graph_.level(node);
    uint32_t entry;
    int top_level;
    {
      std::lock_guard lock(entry_mu_);
      entry = graph_.entry_point();
      top_level = graph_.max_level();
    }
    Candidate current{Score(query, entry), entry};
    for (int layer = top_level; layer > level; --layer) {
      current = GreedyClosest<true>(query, current, layer, &stats);
    }
    auto visited = visited_.Acquire();
    for (int layer = std::min(level, top_level); layer >= 0; --layer) {
      visited->Reset();
      Scratch& scratch = ThreadScratch();
      SearchLayer<true>(query, current, ef_construction_, layer, nullptr, *visited, &stats,
                        scratch.top, scratch.candidates);
      std::vector<Candidate> neighbours = scratch.top;
      const Candidate closest = *std::min_element(
          neighbours.begin(), neighbours.end(),
          [](const Candidate& a, const Candidate& b) { return a.score < b.score; });
      SelectNeighbours(neighbours, m_);
      std::vector<uint32_t> ids;
      ids.reserve(neighbours.size());
      for (const Candidate& c : neighbours) ids.push_back(c.node);
      {
        std::lock_guard lock(graph_.NodeLock(node));
        graph_.SetList(node, layer, ids);
      }
      for (const Candidate& c : neighbours) Connect(c.node, node, c.score, layer);
      current = closest;
    }
    if (level > top_level) {
      std::lock_guard lock(entry_mu_);
      if (level > graph_.max_level()) graph_.SetEntryPoint(node, level);
    }
  }

  MetricType metric_;
  nlohmann::json params_;
  size_t m_;
  size_t ef_construction_;
  uint64_t seed_;
  bool sq8_;  // walk the graph on uint8 codes, re-rank with floats
  double level_mult_;
  // The kernel, looked up once: L2 squared distance, or the inner product (IP, COSINE).
  float (*distance_)(const float*, const float*, size_t) noexcept;
  // With sq8: the uint8 dot product of codes.
  uint32_t (*code_dot_)(const uint8_t*, const uint8_t*, size_t) noexcept;
  VectorStore vectors_;
  Graph graph_;
  UniformQuantizer8 quantizer_;        // sq8 only
  std::vector<uint8_t> codes_;         // sq8 only: size() * dim() codes
  std::vector<uint32_t> code_sums_;    // sq8 only: sum of each row's codes (for IP)
  std::vector<uint32_t> code_norms_;   // sq8 only: sum of each row's squared codes (for L2)
  mutable hnsw::VisitedPool visited_;
  std::mutex entry_mu_;  // guards the entry point during construction
};

}  // namespace

Result<std::unique_ptr<Index>> CreateHnswIndex(MetricType metric, size_t dim,
                                               const nlohmann::json& build_params) {
  return std::unique_ptr<Index>(std::make_unique<HnswIndex>(metric, dim, build_params));
}

}  // namespace tessera::index
