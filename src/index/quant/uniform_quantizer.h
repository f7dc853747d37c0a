#pragma once

#include <cstddef>
#include <cstdint>

namespace tessera::index {

/// 8-bit scalar quantisation with one range for all dimensions: x ≈ lo + scale * code.
/// One shared range keeps distances in integer arithmetic (sum of squared code differences
/// is the L2 distance divided by scale^2), which is what makes quantised graph traversal
/// cheap; per-dimension ranges would need float math per component. Values outside the
/// trained range are clamped, so callers re-rank final candidates with exact distances.
/// Data that is 8-bit to begin with (pixels) quantises losslessly.
/// Thread-compatible value type.
class UniformQuantizer8 {
 public:
  /// Sets the range to [min, max] over all `n * dim` values.
  void Train(const float* data, size_t n, size_t dim);
  /// Writes `dim` codes for `v`.
  void Encode(const float* v, size_t dim, uint8_t* codes) const;

  float lo() const { return lo_; }
  float scale() const { return scale_; }
  void Restore(float lo, float scale) {
    lo_ = lo;
    scale_ = scale;
  }

 private:
  float lo_ = 0;
  float scale_ = 1;  // never 0: a constant input gets scale 1
};

}  // namespace tessera::index
