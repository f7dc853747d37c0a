#include "core/bitset.h"

#include "common/check.h"

namespace tessera::core {

void Bitset::Resize(size_t size, bool value) {
  const size_t old_size = size_;
  words_.resize((size + 63) / 64, value ? ~uint64_t{0} : 0);
  size_ = size;
  if (value && size > old_size) {
    // Bits between old_size and the end of its last word were zero padding.
    for (size_t i = old_size; i < size && (i & 63) != 0; ++i) Set(i);
  }
  ClearPadding();
}

void Bitset::SetAll() {
  for (auto& w : words_) w = ~uint64_t{0};
  ClearPadding();
}

void Bitset::ClearAll() {
  for (auto& w : words_) w = 0;
}

size_t Bitset::Count() const {
  size_t n = 0;
  for (uint64_t w : words_) n += static_cast<size_t>(std::popcount(w));
  return n;
}

Bitset& Bitset::operator&=(const Bitset& other) {
  TESSERA_CHECK(size_ == other.size_) << size_ << " vs " << other.size_;
  for (size_t i = 0; i < words_.size(); ++i) words_[i] &= other.words_[i];
  return *this;
}

Bitset& Bitset::operator|=(const Bitset& other) {
  TESSERA_CHECK(size_ == other.size_) << size_ << " vs " << other.size_;
  for (size_t i = 0; i < words_.size(); ++i) words_[i] |= other.words_[i];
  return *this;
}

Bitset& Bitset::AndNot(const Bitset& other) {
  TESSERA_CHECK(size_ == other.size_) << size_ << " vs " << other.size_;
  for (size_t i = 0; i < words_.size(); ++i) words_[i] &= ~other.words_[i];
  return *this;
}

void Bitset::Flip() {
  for (auto& w : words_) w = ~w;
  ClearPadding();
}

void Bitset::ClearPadding() {
  if (size_ & 63) words_.back() &= (uint64_t{1} << (size_ & 63)) - 1;
}

}  // namespace tessera::core
