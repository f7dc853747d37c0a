#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tessera::core {

/// A fixed-size set of row numbers [0, size()), one bit per row, 64 rows per word.
/// Bits past size() in the last word are always zero, so Count() and word-wise operations
/// need no masking. Thread-compatible: concurrent readers are fine, writers need exclusion.
class Bitset {
 public:
  Bitset() = default;
  explicit Bitset(size_t size, bool value = false) { Resize(size, value); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  /// Grows or shrinks to `size` bits; new bits take `value`.
  void Resize(size_t size, bool value = false);

  bool Test(size_t i) const { return (words_[i >> 6] >> (i & 63)) & 1u; }
  void Set(size_t i) { words_[i >> 6] |= uint64_t{1} << (i & 63); }
  void Clear(size_t i) { words_[i >> 6] &= ~(uint64_t{1} << (i & 63)); }
  void Assign(size_t i, bool value) { value ? Set(i) : Clear(i); }
  void SetAll();
  void ClearAll();

  /// Number of set bits.
  size_t Count() const;
  bool None() const { return Count() == 0; }

  /// Word-wise operations; `other` must have the same size (checked).
  Bitset& operator&=(const Bitset& other);
  Bitset& operator|=(const Bitset& other);
  /// this = this & ~other.
  Bitset& AndNot(const Bitset& other);
  /// Flips every bit in [0, size()).
  void Flip();

  bool operator==(const Bitset& other) const = default;

  const uint64_t* words() const { return words_.data(); }
  uint64_t* words() { return words_.data(); }
  size_t num_words() const { return words_.size(); }
  size_t MemoryUsage() const { return words_.capacity() * sizeof(uint64_t); }

 private:
  void ClearPadding();

  std::vector<uint64_t> words_;
  size_t size_ = 0;
};

}  // namespace tessera::core
