#include "index/hnsw/hnsw_index.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <vector>

#include "common/thread_pool.h"
#include "core/simd/distance.h"
#include "core/topk.h"
#include "index/blob.h"
#include "index/hnsw/graph.h"
#include "index/hnsw/visited_pool.h"
#include "index/params.h"
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
        level_mult_(1.0 / std::log(static_cast<double>(std::max<size_t>(m_, 2)))),
        distance_(metric == MetricType::kL2 ? simd::Active().l2_sqr : simd::Active().inner_product),
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
    std::atomic<uint64_t> distances{0}, visited{0};
    RunPerQuery(request, [&](size_t q) {
      SearchStats stats;
      core::TopK top = exact ? ExactScan(queries.row(q), request.k, *skip, &stats)
                             : GraphSearch(queries.row(q), request.k, ef, skip, &stats);
      StoreTopK(metric_, q, &top, &result);
      distances += stats.distances_computed;
      visited += stats.nodes_visited;
    });
    result.stats.distances_computed = distances;
    result.stats.nodes_visited = visited;
    return result;
  }

  size_t MemoryUsage() const override { return vectors_.MemoryUsage() + graph_.MemoryUsage(); }

 protected:
  Status SerializePayload(BlobWriter& out) const override {
    graph_.Serialize(out);
    out.PutArray(std::span<const float>(vectors_.data(), vectors_.size() * dim()));
    return Status::OK();
  }

  Status LoadPayload(BlobReader& in, size_t rows) override {
    TESSERA_RETURN_IF_ERROR(graph_.Load(in, rows));
    std::vector<float> data;
    TESSERA_RETURN_IF_ERROR(in.GetArray(&data, "HNSW vectors", rows * dim()));
    // Rows were normalised when first added; appending normalises again, which for unit
    // vectors changes nothing beyond rounding.
    vectors_.Append(data.data(), rows);
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

  float Score(const float* query, uint32_t node) const {
    const float d = distance_(query, vectors_.row(node), dim());
    return metric_ == MetricType::kL2 ? d : -d;
  }
  float Score(uint32_t a, uint32_t b) const { return Score(vectors_.row(a), b); }

  // Greedy walk on one upper layer: moves to the closest neighbour until none is closer.
  template <bool kLocked>
  Candidate GreedyClosest(const float* query, Candidate current, int layer, SearchStats* stats) const {
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
  template <bool kLocked>
  void SearchLayer(const float* query, Candidate entry, size_t ef, int layer,
                   const core::Bitset* skip, VisitedTable& visited, SearchStats* stats,
                   std::vector<Candidate>& top, std::vector<Candidate>& candidates) const {
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
      std::pop_heap(candidates.begin(), candidates.end(), CloserOnTop());
      candidates.pop_back();
      ++stats->nodes_visited;
      const uint32_t* list = ReadList<kLocked>(current.node, layer, buffer);
      const uint32_t count = list[0];
      if (count > 0) Prefetch(vectors_.row(list[1]));
      for (uint32_t j = 1; j <= count; ++j) {
        const uint32_t neighbour = list[j];
        if (j < count) {
          Prefetch(visited.tag_address(list[j + 1]));
          Prefetch(vectors_.row(list[j + 1]));
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
  }

  struct Scratch {
    std::vector<Candidate> top;
    std::vector<Candidate> candidates;
  };
  static Scratch& ThreadScratch() {
    thread_local Scratch scratch;
    return scratch;
  }

  core::TopK GraphSearch(const float* query, size_t k, size_t ef, const core::Bitset* skip,
                         SearchStats* stats) const {
    const uint32_t ep = graph_.entry_point();
    Candidate current{Score(query, ep), ep};
    ++stats->distances_computed;
    for (int layer = graph_.max_level(); layer > 0; --layer) {
      current = GreedyClosest<false>(query, current, layer, stats);
    }
    auto visited = visited_.Acquire();
    Scratch& scratch = ThreadScratch();
    SearchLayer<false>(query, current, ef, 0, skip, *visited, stats, scratch.top, scratch.candidates);
    core::TopK top(k);
    for (const Candidate& c : scratch.top) top.Push(c.node, c.score);
    return top;
  }

  core::TopK ExactScan(const float* query, size_t k, const core::Bitset& skip,
                       SearchStats* stats) const {
    core::TopK top(k);
    ForEachPassingRow(skip, size(), [&](size_t row) {
      top.Push(static_cast<int64_t>(row), Score(query, static_cast<uint32_t>(row)));
      ++stats->distances_computed;
    });
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
    const float* query = vectors_.row(node);
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
  double level_mult_;
  // The kernel, looked up once: L2 squared distance, or the inner product (IP, COSINE).
  float (*distance_)(const float*, const float*, size_t) noexcept;
  VectorStore vectors_;
  Graph graph_;
  mutable hnsw::VisitedPool visited_;
  std::mutex entry_mu_;  // guards the entry point during construction
};

}  // namespace

Result<std::unique_ptr<Index>> CreateHnswIndex(MetricType metric, size_t dim,
                                               const nlohmann::json& build_params) {
  return std::unique_ptr<Index>(std::make_unique<HnswIndex>(metric, dim, build_params));
}

}  // namespace tessera::index
