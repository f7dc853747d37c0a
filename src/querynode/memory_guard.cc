#include "querynode/memory_guard.h"

#include <utility>

#include "common/process_memory.h"

namespace tessera::querynode {
namespace {

/// Bytes a loaded row takes besides its columns: its timestamp and partition (8 bytes
/// each) and its primary-key index entry (a hash-multimap node and bucket, about 48 bytes
/// for an Int64 key).
constexpr uint64_t kPerRowOverhead = 64;

uint64_t ObjectSize(const std::string& key, storage::ObjectStore& store) {
  auto info = store.Head(key);
  return info.ok() ? info->size : 0;
}

}  // namespace

MemoryGuard::MemoryGuard(uint64_t limit, std::function<uint64_t()> in_use)
    : limit_(limit), in_use_(in_use ? std::move(in_use) : std::function<uint64_t()>(ResidentMemoryBytes)) {}

MemoryGuard::Reservation::Reservation(Reservation&& other) noexcept
    : guard_(std::exchange(other.guard_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

MemoryGuard::Reservation& MemoryGuard::Reservation::operator=(Reservation&& other) noexcept {
  if (this != &other) {
    if (guard_ != nullptr) guard_->Release(bytes_);
    guard_ = std::exchange(other.guard_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

MemoryGuard::Reservation::~Reservation() {
  if (guard_ != nullptr) guard_->Release(bytes_);
}

Result<MemoryGuard::Reservation> MemoryGuard::Reserve(uint64_t bytes, const std::string& what) {
  if (limit_ == 0) return Reservation(this, 0);
  // One decision at a time, so two loads cannot both take the last free memory.
  std::lock_guard<std::mutex> l(mu_);
  uint64_t in_use = in_use_();
  if (in_use + reserved_ + bytes > limit_) {
    ReleaseFreeMemoryToKernel();
    in_use = in_use_();
  }
  if (in_use + reserved_ + bytes > limit_) {
    return Status::ResourceExhausted(
        "not enough memory to load " + what + ": it needs about " + HumanBytes(bytes) + ", the process uses " +
        HumanBytes(in_use) + (reserved_ > 0 ? " (and loads in progress " + HumanBytes(reserved_) + " more)" : "") +
        " of its limit of " + HumanBytes(limit_) +
        " (querynode.memory_limit); release a collection or partition, or raise the limit");
  }
  reserved_ += bytes;
  return Reservation(this, bytes);
}

void MemoryGuard::Release(uint64_t bytes) {
  std::lock_guard<std::mutex> l(mu_);
  reserved_ -= bytes;
}

uint64_t EstimateLoadedSize(const coord::SegmentInfo& info, storage::ObjectStore& store,
                            const ServedIndexes* served) {
  uint64_t bytes = 0;
  if (served == nullptr) {
    if (info.memory_size > 0) {
      bytes += info.memory_size;
    } else {
      for (const auto& [field_id, key] : info.binlogs) bytes += ObjectSize(key, store);
    }
    bytes += info.num_rows * kPerRowOverhead;
  }
  for (const auto& [index_id, key] : info.index_files) {
    if (served == nullptr || served->count({index_id, key}) == 0) bytes += ObjectSize(key, store);
  }
  return bytes;
}

}  // namespace tessera::querynode
