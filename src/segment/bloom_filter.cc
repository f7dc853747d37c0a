#include "segment/bloom_filter.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <xxhash.h>

namespace tessera::segment {
namespace {

XXH128_hash_t HashInt(int64_t key) {
  unsigned char bytes[8];
  std::memcpy(bytes, &key, sizeof(bytes));  // little-endian hosts only (static_assert in format.h)
  return XXH3_128bits(bytes, sizeof(bytes));
}

XXH128_hash_t HashString(std::string_view key) { return XXH3_128bits(key.data(), key.size()); }

}  // namespace

BloomFilter BloomFilter::ForCapacity(uint64_t expected_items, double fp_rate) {
  const double p = std::clamp(fp_rate, 1e-9, 0.5);
  const double n = static_cast<double>(std::max<uint64_t>(expected_items, 1));
  const double ln2 = std::log(2.0);
  const double bits = std::ceil(-n * std::log(p) / (ln2 * ln2));
  const uint64_t words = std::max<uint64_t>(1, static_cast<uint64_t>((bits + 63) / 64));
  const double k = std::round(bits / n * ln2);
  const uint32_t hashes = static_cast<uint32_t>(std::clamp(k, 1.0, static_cast<double>(kMaxHashes)));
  return BloomFilter(hashes, std::vector<uint64_t>(words, 0));
}

Result<BloomFilter> BloomFilter::FromWords(uint32_t num_hashes, std::vector<uint64_t> words) {
  if (num_hashes < 1 || num_hashes > kMaxHashes) {
    return Status::InvalidArgument("bloom filter hash count " + std::to_string(num_hashes) + " not in [1, 30]");
  }
  if (words.empty()) return Status::InvalidArgument("bloom filter without bits");
  return BloomFilter(num_hashes, std::move(words));
}

void BloomFilter::AddHash(uint64_t h1, uint64_t h2) {
  const uint64_t m = num_bits();
  for (uint32_t i = 0; i < num_hashes_; ++i) {
    const uint64_t bit = (h1 + i * h2) % m;
    words_[bit >> 6] |= uint64_t{1} << (bit & 63);
  }
}

bool BloomFilter::TestHash(uint64_t h1, uint64_t h2) const {
  const uint64_t m = num_bits();
  for (uint32_t i = 0; i < num_hashes_; ++i) {
    const uint64_t bit = (h1 + i * h2) % m;
    if (((words_[bit >> 6] >> (bit & 63)) & 1) == 0) return false;
  }
  return true;
}

void BloomFilter::Add(int64_t key) {
  const auto h = HashInt(key);
  AddHash(h.low64, h.high64 | 1);
}

void BloomFilter::Add(std::string_view key) {
  const auto h = HashString(key);
  AddHash(h.low64, h.high64 | 1);
}

bool BloomFilter::MightContain(int64_t key) const {
  const auto h = HashInt(key);
  return TestHash(h.low64, h.high64 | 1);
}

bool BloomFilter::MightContain(std::string_view key) const {
  const auto h = HashString(key);
  return TestHash(h.low64, h.high64 | 1);
}

}  // namespace tessera::segment
