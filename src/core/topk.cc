#include "core/topk.h"

#include <algorithm>
#include <limits>
#include <queue>
#include <unordered_set>

namespace tessera::core {
namespace {
// Heap comparator: the root is the worst candidate.
struct WorseOnTop {
  bool operator()(const Neighbor& a, const Neighbor& b) const { return Better(a, b); }
};
}  // namespace

float TopK::threshold() const {
  return full() && k_ > 0 ? heap_.front().score : std::numeric_limits<float>::infinity();
}

void TopK::Push(int64_t id, float score) {
  if (k_ == 0) return;
  const Neighbor candidate{id, score};
  if (heap_.size() < k_) {
    heap_.push_back(candidate);
    std::push_heap(heap_.begin(), heap_.end(), WorseOnTop());
  } else if (Better(candidate, heap_.front())) {
    std::pop_heap(heap_.begin(), heap_.end(), WorseOnTop());
    heap_.back() = candidate;
    std::push_heap(heap_.begin(), heap_.end(), WorseOnTop());
  }
}

std::vector<Neighbor> TopK::TakeSorted() {
  std::sort_heap(heap_.begin(), heap_.end(), WorseOnTop());
  std::vector<Neighbor> out;
  out.swap(heap_);
  heap_.reserve(k_);
  return out;
}

std::vector<Neighbor> MergeTopK(std::span<const std::vector<Neighbor>> lists, size_t k,
                                bool dedup_ids) {
  // k-way merge with a min-heap of list cursors: O(k log L) for L lists.
  struct Cursor {
    size_t list;
    size_t pos;
  };
  auto cmp = [&](const Cursor& a, const Cursor& b) {
    return Better(lists[b.list][b.pos], lists[a.list][a.pos]);
  };
  std::priority_queue<Cursor, std::vector<Cursor>, decltype(cmp)> heap(cmp);
  for (size_t l = 0; l < lists.size(); ++l) {
    if (!lists[l].empty()) heap.push({l, 0});
  }
  std::vector<Neighbor> out;
  out.reserve(k);
  std::unordered_set<int64_t> seen;
  while (!heap.empty() && out.size() < k) {
    Cursor c = heap.top();
    heap.pop();
    const Neighbor& n = lists[c.list][c.pos];
    if (!dedup_ids || seen.insert(n.id).second) out.push_back(n);
    if (c.pos + 1 < lists[c.list].size()) heap.push({c.list, c.pos + 1});
  }
  return out;
}

}  // namespace tessera::core
