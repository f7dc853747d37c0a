#pragma once

// PRIVATE header of src/querynode: merging per-segment results.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <vector>

#include "core/topk.h"
#include "querynode/delete_index.h"

namespace tessera::querynode {

/// A row of one segment of a search or query snapshot.
struct RowRef {
  uint32_t segment = 0;  // index into the snapshot's segment list
  uint32_t row = 0;
};

/// A search candidate id packs (segment index, row) so core::MergeTopK can merge lists.
inline int64_t PackRowRef(RowRef ref) {
  return static_cast<int64_t>((static_cast<uint64_t>(ref.segment) << 32) | ref.row);
}
inline RowRef UnpackRowRef(int64_t id) {
  const auto u = static_cast<uint64_t>(id);
  return RowRef{static_cast<uint32_t>(u >> 32), static_cast<uint32_t>(u & 0xffffffffu)};
}

/// One search hit before its row is fetched.
struct MergedHit {
  RowRef ref;
  PrimaryKey pk;
  float score = 0;  // smaller is better (core::Neighbor convention)
};

/// Merges one query's per-segment candidate lists (each sorted best first, ids packed with
/// PackRowRef), keeps the best candidate of each primary key, drops the first `offset`
/// and returns at most `limit` hits, best first. `pk_of` maps a candidate to its key.
std::vector<MergedHit> MergeSearchHits(std::span<const std::vector<core::Neighbor>> lists, size_t offset,
                                       size_t limit, const std::function<PrimaryKey(RowRef)>& pk_of);

/// Keeps the `capacity` smallest primary keys offered (one row per key: the newest by
/// timestamp), for Query's "ordered by primary key, then offset/limit". O(log capacity) per
/// kept offer, O(1) for an offer that cannot enter. Thread-compatible.
class PkSelector {
 public:
  /// SIZE_MAX = keep everything.
  explicit PkSelector(size_t capacity) : capacity_(capacity) {}

  void Offer(PrimaryKey pk, RowRef ref, uint64_t timestamp);
  /// Offers every entry of `other`.
  void Merge(PkSelector&& other);
  size_t size() const { return kept_.size(); }

  /// The kept keys in ascending order.
  std::vector<std::pair<PrimaryKey, RowRef>> TakeSorted();

 private:
  struct Entry {
    RowRef ref;
    uint64_t timestamp;
  };
  size_t capacity_;
  std::map<PrimaryKey, Entry> kept_;
};

}  // namespace tessera::querynode
