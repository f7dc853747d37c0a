#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tessera::core {

/// One candidate: a row id and its score. Scores are "smaller is better" everywhere inside
/// the engine (L2: squared distance; IP and COSINE: the negated similarity).
struct Neighbor {
  int64_t id;
  float score;
};

/// Strict weak order: better score first, then smaller id (ties are broken by id, so
/// results are deterministic).
inline bool Better(const Neighbor& a, const Neighbor& b) {
  return a.score < b.score || (a.score == b.score && a.id < b.id);
}

/// Keeps the best k of the candidates pushed into it. A bounded max-heap whose root is the
/// worst kept candidate. Single-threaded.
class TopK {
 public:
  explicit TopK(size_t k) : k_(k) { heap_.reserve(k); }

  size_t k() const { return k_; }
  size_t size() const { return heap_.size(); }
  bool full() const { return heap_.size() >= k_; }
  /// Score a candidate must beat to enter; +inf while not full.
  float threshold() const;

  /// Offers a candidate; O(log k).
  void Push(int64_t id, float score);

  /// The kept candidates, best first. Leaves the TopK empty.
  std::vector<Neighbor> TakeSorted();

 private:
  size_t k_;
  std::vector<Neighbor> heap_;
};

/// Merges several lists (each sorted best first) into the best k overall, best first.
/// When `dedup_ids` is set, an id present in several lists appears once with its best score.
std::vector<Neighbor> MergeTopK(std::span<const std::vector<Neighbor>> lists, size_t k,
                                bool dedup_ids = false);

}  // namespace tessera::core
