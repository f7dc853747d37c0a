#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace tessera::bench {

/// What one `tessera-bench` run measures. See README.md ("Benchmark") for the output.
struct RunOptions {
  std::string dataset_dir;
  std::vector<std::string> indexes = {"FLAT", "HNSW", "IVF_FLAT"};
  std::vector<std::string> engines = {"tessera", "hnswlib", "faiss"};
  size_t threads = 0;   // 0: all cores
  size_t queries = 0;   // 0: all queries of the dataset
  size_t k = 10;
  double min_seconds = 1;  // a search point shorter than this is repeated (steady state)
  std::vector<double> filters;  // selectivities to measure filtered search at (e.g. 0.5, 0.1)
  std::string json_path;        // empty: no JSON file
  int hnsw_m = 16;
  int hnsw_ef_construction = 200;
  int ivf_nlist = 256;
};

/// Runs the sweep, prints the table to stdout and writes the JSON file.
Status RunBenchmark(const RunOptions& options);

}  // namespace tessera::bench
