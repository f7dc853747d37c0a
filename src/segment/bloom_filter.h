#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tessera::segment {

/// A standard Bloom filter over primary keys (Bloom 1970) with double hashing
/// (Kirsch & Mitzenmacher, "Less hashing, same performance", 2006): a key's 128-bit
/// XXH3 hash (seed 0) gives h1 = low 64 bits and h2 = high 64 bits | 1, and probe i
/// (0 <= i < k) sets bit (h1 + i * h2) mod m, all arithmetic mod 2^64. Int64 keys hash as
/// their 8 little-endian bytes, strings as their bytes. Bit b lives in word b / 64 at bit
/// b % 64. m is a multiple of 64. This exact scheme is part of the stats file format
/// (docs/format/segment.md): changing it breaks old files.
/// No false negatives; the false-positive rate is about (1 - e^(-k n / m))^k.
/// Thread-compatible: concurrent MightContain() calls are fine, Add() needs exclusion.
class BloomFilter {
 public:
  /// An empty filter of 64 bits and one hash.
  BloomFilter() : BloomFilter(1, std::vector<uint64_t>(1, 0)) {}

  /// Sized for `expected_items` keys at `fp_rate` (clamped to [1e-9, 0.5]; default 1%):
  /// m = ceil(-n ln p / (ln 2)^2) rounded up to a multiple of 64 (at least 64),
  /// k = round(m / n * ln 2) clamped to [1, 30].
  static BloomFilter ForCapacity(uint64_t expected_items, double fp_rate = 0.01);

  /// Rebuilds a filter from its parts (what a stats file stores). InvalidArgument when
  /// num_hashes is outside [1, 30] or `words` is empty.
  static Result<BloomFilter> FromWords(uint32_t num_hashes, std::vector<uint64_t> words);

  void Add(int64_t key);
  void Add(std::string_view key);
  /// False means the key was never added; true means it probably was.
  bool MightContain(int64_t key) const;
  bool MightContain(std::string_view key) const;

  uint64_t num_bits() const { return words_.size() * 64; }
  uint32_t num_hashes() const { return num_hashes_; }
  const std::vector<uint64_t>& words() const { return words_; }
  size_t MemoryUsage() const { return words_.capacity() * sizeof(uint64_t); }

  bool operator==(const BloomFilter&) const = default;

  static constexpr uint32_t kMaxHashes = 30;

 private:
  BloomFilter(uint32_t num_hashes, std::vector<uint64_t> words)
      : num_hashes_(num_hashes), words_(std::move(words)) {}
  void AddHash(uint64_t h1, uint64_t h2);
  bool TestHash(uint64_t h1, uint64_t h2) const;

  uint32_t num_hashes_;
  std::vector<uint64_t> words_;
};

}  // namespace tessera::segment
