#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.h"

namespace tessera::index {

/// Similarity metrics. Serialized as uint8_t, so values are fixed.
///  - kL2: squared Euclidean distance; smaller is closer. Reported as the squared distance.
///  - kIP: inner product; larger is closer. Reported as the inner product.
///  - kCosine: cosine similarity; larger is closer. Reported as the similarity in [-1, 1].
/// Inside indexes every metric becomes a "smaller is better" score: L2 as is, IP and COSINE
/// negated (COSINE vectors are normalised on insert, so it is IP on unit vectors).
enum class MetricType : uint8_t { kL2 = 0, kIP = 1, kCosine = 2 };

/// Parses "L2", "IP", "COSINE" (case-insensitive); anything else is InvalidArgument naming
/// the value and the allowed ones.
Result<MetricType> ParseMetricType(std::string_view name);
std::string_view MetricTypeName(MetricType metric);

/// Converts an internal score back to the value users see (see MetricType).
inline float ScoreToDistance(MetricType metric, float score) {
  return metric == MetricType::kL2 ? score : -score;
}

}  // namespace tessera::index
