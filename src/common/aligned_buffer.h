#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include <sys/mman.h>

namespace tessera {

/// Byte alignment of every vector buffer: one cache line, and what AVX-512 loads like.
inline constexpr size_t kVectorAlignment = 64;

/// Buffers of at least kHugePageMinBytes are aligned to kHugePageBytes and advised for
/// transparent huge pages (madvise, before the first write, so the zeroing faults them in
/// as huge pages). An HNSW walk or a FLAT scan reads rows across the whole buffer; with
/// 4 KiB pages nearly every row read of a large index misses the TLB. The size is rounded
/// up to whole huge pages: at most 2 MiB more per buffer, a quarter of the smallest one.
/// Where THP is off ("never") the advice does nothing.
inline constexpr size_t kHugePageBytes = size_t{2} << 20;
inline constexpr size_t kHugePageMinBytes = 4 * kHugePageBytes;

struct AlignedFree {
  void operator()(void* p) const { std::free(p); }
};

/// A move-only, 64-byte aligned, zero-initialised array of trivially copyable T.
template <typename T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t count) { Resize(count); }

  /// Reallocates to `count` elements, keeping the first min(old, new) elements; new ones are 0.
  void Resize(size_t count) {
    if (count == size_) return;
    T* fresh = nullptr;
    if (count > 0) {
      const size_t wanted = count * sizeof(T);
      const size_t alignment = wanted >= kHugePageMinBytes ? kHugePageBytes : kVectorAlignment;
      const size_t bytes = (wanted + alignment - 1) / alignment * alignment;
      fresh = static_cast<T*>(std::aligned_alloc(alignment, bytes));
      if (fresh == nullptr) throw std::bad_alloc();
      if (alignment == kHugePageBytes) madvise(fresh, bytes, MADV_HUGEPAGE);  // advice only: failure is harmless
      std::memset(static_cast<void*>(fresh), 0, bytes);
      if (size_ > 0) std::memcpy(static_cast<void*>(fresh), data_.get(), std::min(size_, count) * sizeof(T));
    }
    data_.reset(fresh);
    size_ = count;
  }

  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return data_.get()[i]; }
  const T& operator[](size_t i) const { return data_.get()[i]; }
  size_t MemoryUsage() const { return size_ * sizeof(T); }

 private:
  std::unique_ptr<T, AlignedFree> data_;
  size_t size_ = 0;
};

}  // namespace tessera
