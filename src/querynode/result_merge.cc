#include "querynode/result_merge.h"

#include <algorithm>
#include <unordered_set>

namespace tessera::querynode {

std::vector<MergedHit> MergeSearchHits(std::span<const std::vector<core::Neighbor>> lists, size_t offset,
                                       size_t limit, const std::function<PrimaryKey(RowRef)>& pk_of) {
  size_t total = 0;
  for (const auto& list : lists) total += list.size();
  std::vector<MergedHit> out;
  if (total == 0 || limit == 0) return out;
  // Merge everything: duplicates of a key may push distinct keys past offset + limit.
  const std::vector<core::Neighbor> merged = core::MergeTopK(lists, total, /*dedup_ids=*/false);
  // Keys taken so far: a short list is scanned (a typical top-k is 10), a long one hashed.
  constexpr size_t kScanLimit = 64;
  std::vector<PrimaryKey> seen_list;
  std::unordered_set<PrimaryKey> seen_set;
  const bool scan = offset + limit <= kScanLimit;
  auto first_sight = [&](const PrimaryKey& pk) {
    if (!scan) return seen_set.insert(pk).second;
    if (std::find(seen_list.begin(), seen_list.end(), pk) != seen_list.end()) return false;
    seen_list.push_back(pk);
    return true;
  };
  size_t skipped = 0;
  for (const core::Neighbor& n : merged) {
    const RowRef ref = UnpackRowRef(n.id);
    PrimaryKey pk = pk_of(ref);
    if (!first_sight(pk)) continue;  // a worse copy of a key already taken
    if (skipped < offset) {
      ++skipped;
      continue;
    }
    out.push_back(MergedHit{ref, std::move(pk), n.score});
    if (out.size() == limit) break;
  }
  return out;
}

void PkSelector::Offer(PrimaryKey pk, RowRef ref, uint64_t timestamp) {
  if (capacity_ == 0) return;
  if (kept_.size() >= capacity_ && !(pk < kept_.rbegin()->first) && pk != kept_.rbegin()->first) return;
  auto [it, inserted] = kept_.try_emplace(std::move(pk), Entry{ref, timestamp});
  if (!inserted) {
    if (timestamp > it->second.timestamp) it->second = Entry{ref, timestamp};
    return;
  }
  if (kept_.size() > capacity_) kept_.erase(std::prev(kept_.end()));
}

void PkSelector::Merge(PkSelector&& other) {
  for (auto& [pk, entry] : other.kept_) Offer(pk, entry.ref, entry.timestamp);
  other.kept_.clear();
}

std::vector<std::pair<PrimaryKey, RowRef>> PkSelector::TakeSorted() {
  std::vector<std::pair<PrimaryKey, RowRef>> out;
  out.reserve(kept_.size());
  for (auto& [pk, entry] : kept_) out.emplace_back(pk, entry.ref);
  kept_.clear();
  return out;
}

}  // namespace tessera::querynode
