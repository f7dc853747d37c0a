#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace tessera::bench {

/// A matrix read from a TEXMEX xvecs file: `rows` records of `dim` values, row-major.
template <typename T>
struct Matrix {
  size_t rows = 0;
  size_t dim = 0;
  std::vector<T> values;
  const T* row(size_t i) const { return values.data() + i * dim; }
};

/// Reads .fvecs (float32), .bvecs (uint8, widened to float32) or .ivecs (int32) files: each
/// record is a little-endian int32 dimension followed by that many components. Every record
/// must have the same dimension. At most `max_rows` records are read (0: all).
/// Errors: NotFound for a missing file; DataLoss naming the file and record for a truncated
/// or inconsistent one.
Result<Matrix<float>> ReadFvecs(const std::string& path, size_t max_rows = 0);
Result<Matrix<float>> ReadBvecs(const std::string& path, size_t max_rows = 0);
Result<Matrix<int32_t>> ReadIvecs(const std::string& path, size_t max_rows = 0);

/// A benchmark dataset folder as in shared/datasets: <name>_base.{fvecs,bvecs},
/// <name>_query.*, <name>_groundtruth_l2_top100.ivecs and optional <name>_{base,query}_labels.u8.
struct Dataset {
  std::string name;
  Matrix<float> base;
  Matrix<float> queries;
  Matrix<int32_t> ground_truth;     // ids of the 100 exact nearest neighbours per query
  std::vector<uint8_t> base_labels;   // empty when the dataset has none
  std::vector<uint8_t> query_labels;
};

/// Loads the dataset in `dir`, keeping the first `max_queries` queries (0: all).
Result<Dataset> LoadDataset(const std::string& dir, size_t max_queries = 0);

}  // namespace tessera::bench
