#include "index/quant/uniform_quantizer.h"

#include <algorithm>
#include <cmath>

namespace tessera::index {

void UniformQuantizer8::Train(const float* data, size_t n, size_t dim) {
  if (n * dim == 0) return;
  const auto [min_it, max_it] = std::minmax_element(data, data + n * dim);
  lo_ = *min_it;
  const float range = *max_it - *min_it;
  scale_ = range > 0 ? range / 255.0f : 1.0f;
}

void UniformQuantizer8::Encode(const float* v, size_t dim, uint8_t* codes) const {
  const float inv = 1.0f / scale_;
  for (size_t i = 0; i < dim; ++i) {
    const float c = std::nearbyint((v[i] - lo_) * inv);
    codes[i] = static_cast<uint8_t>(std::clamp(c, 0.0f, 255.0f));
  }
}

}  // namespace tessera::index
