#pragma once

// Test-only readers for the TEXMEX vector formats used by tests/ and unit tests:
//   .fvecs: per record, an int32 dimension d then d float32;
//   .ivecs: per record, an int32 dimension d then d int32.
// All records must share one dimension. Errors (missing file, truncated record, mixed
// dimensions) come back as a Status naming the path and record.

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "common/result.h"

namespace tessera::testing {

/// Row-major records of one dimension.
template <typename T>
struct VecFile {
  size_t dim = 0;
  size_t rows = 0;
  std::vector<T> data;  // rows * dim

  const T* row(size_t i) const { return data.data() + i * dim; }
};

template <typename T>
Result<VecFile<T>> LoadVecs(const std::string& path) {
  static_assert(sizeof(T) == 4, "fvecs/ivecs elements are 4 bytes");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open dataset file " + path);
  VecFile<T> out;
  for (;;) {
    int32_t d = 0;
    if (!in.read(reinterpret_cast<char*>(&d), sizeof(d))) break;
    if (d <= 0 || (out.dim != 0 && static_cast<size_t>(d) != out.dim)) {
      return Status::DataLoss(path + ": record " + std::to_string(out.rows) + " has dimension " +
                              std::to_string(d) + ", expected " + std::to_string(out.dim));
    }
    out.dim = static_cast<size_t>(d);
    out.data.resize((out.rows + 1) * out.dim);
    if (!in.read(reinterpret_cast<char*>(out.data.data() + out.rows * out.dim),
                 static_cast<std::streamsize>(out.dim * sizeof(T)))) {
      return Status::DataLoss(path + ": record " + std::to_string(out.rows) + " is truncated");
    }
    ++out.rows;
  }
  if (out.rows == 0) return Status::DataLoss(path + " holds no records");
  return out;
}

inline Result<VecFile<float>> LoadFvecs(const std::string& path) { return LoadVecs<float>(path); }
inline Result<VecFile<int32_t>> LoadIvecs(const std::string& path) { return LoadVecs<int32_t>(path); }

}  // namespace tessera::testing
