#pragma once

// PRIVATE header of src/querynode: admission control for what the node loads.

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "common/result.h"
#include "coord/catalog_types.h"
#include "querynode/segment_loader.h"
#include "storage/object/object_store.h"

namespace tessera::querynode {

/// Refuses a load that would take the process past its memory limit, with an error that
/// says so, instead of letting the kernel kill the process halfway (DESIGN §6). The test
/// is: memory in use now + memory promised to loads in progress + the new load's estimate
/// <= limit. Memory in use is the process's resident size, so whatever else the process
/// holds (growing segments, index builds, request buffers) counts too.
///
/// A load reserves its estimate for as long as it runs; the reservation ends when the load
/// does, by which time the loaded data shows in the resident size. Thread-safe.
class MemoryGuard {
 public:
  /// `limit` 0 = no limit. `in_use` measures the process's memory (the resident size
  /// when empty).
  MemoryGuard(uint64_t limit, std::function<uint64_t()> in_use);

  /// Memory promised to one load; returned to the guard when destroyed.
  class Reservation {
   public:
    Reservation() = default;
    Reservation(Reservation&& other) noexcept;
    Reservation& operator=(Reservation&& other) noexcept;
    ~Reservation();

   private:
    friend class MemoryGuard;
    Reservation(MemoryGuard* guard, uint64_t bytes) : guard_(guard), bytes_(bytes) {}
    MemoryGuard* guard_ = nullptr;
    uint64_t bytes_ = 0;
  };

  /// Reserves `bytes` for loading `what` ("segment 7 of collection 3"), or returns
  /// ResourceExhausted naming `what`, its estimate, the memory in use, the reserved
  /// memory and the limit. When the first measurement does not fit, freed heap memory is
  /// given back to the kernel and the resident size measured again.
  Result<Reservation> Reserve(uint64_t bytes, const std::string& what);

  uint64_t limit() const { return limit_; }

 private:
  void Release(uint64_t bytes);

  const uint64_t limit_;
  const std::function<uint64_t()> in_use_;
  std::mutex mu_;
  uint64_t reserved_ = 0;  // guarded by mu_
};

/// The memory segment `info` will take once loaded, estimated from what its writer
/// measured (SegmentInfo::memory_size; the binlogs' sizes when that is unknown), the size
/// of its index files (read with Head; a file that cannot be read counts 0 here and fails
/// the load itself) and the per-row structures a loaded segment adds (timestamps,
/// partitions, the primary-key index). With `served`, the segment is served already and
/// only its index files not in `served` count.
uint64_t EstimateLoadedSize(const coord::SegmentInfo& info, storage::ObjectStore& store,
                            const ServedIndexes* served = nullptr);

}  // namespace tessera::querynode
