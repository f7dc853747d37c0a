#include "querynode/result_merge.h"

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
  std::unordered_set<PrimaryKey> seen;
  size_t skipped = 0;
  for (const core::Neighbor& n : merged) {
    const RowRef ref = UnpackRowRef(n.id);
    PrimaryKey pk = pk_of(ref);
    if (!seen.insert(pk).second) continue;  // a worse copy of a key already taken
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
