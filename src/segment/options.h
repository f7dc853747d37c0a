#pragma once

#include <cstdint>

namespace tessera::segment {

/// How the blocks of a segment file are compressed. Plain value type.
struct Compression {
  enum class Codec : uint8_t { kNone = 0, kZstd = 1 };
  /// Default: none. With kZstd a block is stored compressed only when that makes it smaller
  /// (the block's flag says which), so zstd never costs space.
  Codec codec = Codec::kNone;
  /// zstd level (1..19); used only with kZstd. Default 3.
  int zstd_level = 3;

  static Compression None() { return {}; }
  static Compression Zstd(int level = 3) { return {Codec::kZstd, level}; }
};

}  // namespace tessera::segment
