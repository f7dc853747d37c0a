#pragma once

// PRIVATE header of src/querynode.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "coord/catalog_types.h"
#include "querynode/channel_tailer.h"
#include "querynode/delete_index.h"
#include "querynode/fair_shared_mutex.h"
#include "querynode/query_node.h"
#include "querynode/search_executor.h"
#include "querynode/segment.h"
#include "querynode/segment_loader.h"
#include "storage/log/log.h"

namespace tessera::querynode {

/// Half-open WAL offset ranges [begin, end) of one channel, merged. Thread-compatible.
class OffsetRanges {
 public:
  void Add(uint64_t begin, uint64_t end);
  bool Contains(uint64_t offset) const;

 private:
  std::map<uint64_t, uint64_t> ranges_;  // begin -> end, disjoint and not touching
};

/// Everything a query node holds for one loaded collection: its info, sealed segments, one
/// growing segment per channel, the collection-wide delete map, and the tailers that feed
/// the growing segments from the WAL.
///
/// Visibility: every change that searches can observe (a WAL batch, a segment added or
/// replaced, an index swapped) happens under the exclusive side of one FairSharedMutex, and
/// searches run under its shared side. So an upsert's delete and insert, and a handoff's
/// "sealed copy in, growing rows out", are each seen entirely or not at all.
///
/// Thread-safe.
class LoadedCollection {
 public:
  explicit LoadedCollection(coord::CollectionInfo info);
  /// Stops the tailers.
  ~LoadedCollection();
  LoadedCollection(const LoadedCollection&) = delete;
  LoadedCollection& operator=(const LoadedCollection&) = delete;

  int64_t id() const { return id_; }
  /// The schema (fixed for the collection's life).
  const core::CollectionSchema& schema() const { return schema_; }
  /// A copy of the current info.
  coord::CollectionInfo info() const;
  /// Replaces the info (loaded partitions, indexes); the schema must not change.
  void UpdateInfo(const coord::CollectionInfo& info);

  /// True once LoadCollection finished; searches are refused before.
  bool ready() const { return ready_.load(); }
  void set_ready() { ready_.store(true); }

  /// Whether sealed segment `id` is served / was replaced (compacted away or dropped).
  bool HasSegment(int64_t id) const;
  bool WasReplaced(int64_t id) const;
  /// The index files segment `id` serves (empty when it is not served).
  ServedIndexes ServedIndexesOfSegment(int64_t id) const;

  /// Makes a loaded sealed segment visible, in one step: its deltalog deletes join the
  /// delete map (and hide rows everywhere), the delete map hides its own rows, the growing
  /// rows of its channel in [start_offset, end_offset) are dropped, and the segments it was
  /// compacted from are removed. A segment id already served only has its new indexes
  /// attached; a replaced id is ignored.
  Status AddSealed(LoadedSegment loaded);
  /// Swaps in indexes (vector field id -> index) loaded for segment `id`. A segment no longer
  /// served is ignored.
  Status AttachIndexes(int64_t id, std::map<int64_t, SegmentIndex> indexes);
  /// Stops serving segment `id` (dropped).
  void DropSegment(int64_t id);

  /// Subscribes every channel of the collection from its checkpoint (missing = 0) and starts
  /// applying records. Called once; Cancelled after StopTailing (released meanwhile).
  Status StartTailing(storage::Log& log, const std::map<std::string, uint64_t>& checkpoints);
  /// Stops every tailer (joins their threads). Idempotent.
  void StopTailing();
  /// Blocks until each channel's applied position reaches `offsets[channel]` or `deadline`.
  /// InvalidArgument for a channel the collection does not have; otherwise as
  /// ChannelTailer::WaitUntil.
  Status WaitFor(const WaitOffsets& offsets, std::chrono::steady_clock::time_point deadline) const;
  /// OK, or the failure of the first channel that stopped (DataLoss / Unavailable naming it).
  Status Health() const;
  /// Channel -> next offset its tailer reads (empty before StartTailing and after
  /// StopTailing).
  std::map<std::string, uint64_t> TailPositions() const;

  /// Runs `fn(snapshot)` with the shared lock held: no WAL record, handoff or index swap is
  /// applied meanwhile.
  template <typename Fn>
  auto Read(Fn&& fn) const {
    std::shared_lock<FairSharedMutex> l(mu_);
    CollectionSnapshot snapshot;
    snapshot.info = &info_;
    snapshot.segments.reserve(sealed_.size() + growing_.size());
    for (const auto& [id, segment] : sealed_) snapshot.segments.push_back(segment.get());
    for (const auto& [channel, segment] : growing_) snapshot.segments.push_back(segment.get());
    return fn(static_cast<const CollectionSnapshot&>(snapshot));
  }

  /// Counts for tests and metrics.
  size_t num_sealed() const;
  size_t num_growing_rows() const;

 private:
  Status ApplyRecords(const std::string& channel, std::vector<WalRecord>& records);
  void ApplyDeleteLocked(const PrimaryKey& pk, uint64_t timestamp);
  std::vector<std::shared_ptr<ChannelTailer>> Tailers() const;

  const int64_t id_;
  const core::CollectionSchema schema_;

  mutable FairSharedMutex mu_;
  coord::CollectionInfo info_;                                   // guarded by mu_
  std::map<int64_t, std::unique_ptr<Segment>> sealed_;           // guarded by mu_
  std::map<std::string, std::unique_ptr<Segment>> growing_;      // guarded by mu_; one per channel
  std::map<std::string, OffsetRanges> sealed_ranges_;            // guarded by mu_
  std::set<int64_t> replaced_;                                   // guarded by mu_
  DeleteMap deletes_;                                            // guarded by mu_

  std::atomic<bool> ready_{false};

  mutable std::mutex tail_mu_;
  std::map<std::string, std::shared_ptr<ChannelTailer>> tailers_;  // guarded by tail_mu_
  bool tails_stopped_ = false;                                     // guarded by tail_mu_
};

}  // namespace tessera::querynode
