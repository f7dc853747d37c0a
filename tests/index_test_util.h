#pragma once

// Helpers for index recall tests on the real datasets in ../shared/datasets.

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <unordered_set>

#include "bench/dataset.h"
#include "index/index.h"

namespace tessera::testing {

/// Folder of a named dataset: $TESSERA_DATASETS/<name> when set, else the build's default.
inline std::string DatasetDir(const std::string& name) {
  const char* env = std::getenv("TESSERA_DATASETS");
  return std::string(env != nullptr ? env : TESSERA_DATASETS_DIR) + "/" + name;
}

/// Loads sift5k (5000 x 128, 100 queries). A missing or damaged dataset aborts the test
/// binary with the reason: every test that needs it fails loudly, none runs on empty data.
inline bench::Dataset LoadSift5k() {
  auto ds = bench::LoadDataset(DatasetDir("sift5k-128-euclidean"));
  if (!ds.ok()) {
    std::fprintf(stderr, "cannot load sift5k: %s\n", ds.status().ToString().c_str());
    std::abort();
  }
  return std::move(ds).value();
}

/// Mean recall@k of `result` against the first k ground-truth ids per query.
inline double RecallAtK(const index::SearchResult& result, const bench::Matrix<int32_t>& truth,
                        size_t k) {
  size_t hits = 0;
  for (size_t q = 0; q < result.num_queries; ++q) {
    std::unordered_set<int64_t> expected(truth.row(q), truth.row(q) + k);
    for (size_t r = 0; r < k; ++r) hits += expected.count(result.id(q, r));
  }
  return static_cast<double>(hits) / static_cast<double>(result.num_queries * k);
}

}  // namespace tessera::testing
