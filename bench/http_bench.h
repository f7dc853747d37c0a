#pragma once
// The HTTP benchmark (`tessera bench`, README.md "HTTP benchmark"): the same HNSW workload
// through Tessera's REST API (Milvus RESTful v2) and through the index library in-process,
// side by side.

#include <CLI/CLI.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace tessera::bench {

struct HttpBenchOptions {
  std::string endpoint = "http://127.0.0.1:19530";
  std::string spawn;     // path of the tessera binary to start; empty: use --endpoint
  std::string data_dir;  // for --spawn; empty: a fresh temp directory, removed at the end
  std::string dataset = "../shared/datasets/mnist-784-euclidean";
  std::string collection = "http_bench";
  std::string json_path;
  size_t queries = 1000;
  double min_seconds = 3;  // length of each timed search run (whole passes over the queries)
  // Times each point is measured; the rounds alternate HTTP and in-process, and the report
  // gives medians (a shared machine's load changes between minutes, less within a round).
  size_t rounds = 1;
  std::vector<size_t> clients = {1, 8, 32};
  std::string index = "HNSW";
  int m = 16;
  int ef_construction = 200;
  std::vector<int> efs = {16, 32, 64, 128};
  size_t batch = 1000;
  size_t inserters = 4;
  int wait_timeout_s = 1800;
  bool skip_http = false;
  bool skip_inprocess = false;
  bool reuse = false;   // search an existing, loaded collection of the dataset; keep it afterwards
  bool compact = true;  // merge the sealed segments before searching
  // Searches with the server (and the in-process runs) on the first half of the CPUs and
  // the HTTP clients on the second half (needs --spawn).
  bool split_cpus = false;
  // The HTTP clients' event loop never sleeps (HttpLoadOptions::spin).
  bool client_spin = false;
};

/// Registers the benchmark's flags on `app` (defaults shown in --help).
void AddHttpBenchOptions(CLI::App& app, HttpBenchOptions& opt);

/// Runs the benchmark; returns the process exit code (2: bad flags, 1: the run failed, with
/// the error on stderr prefixed by `program`).
int RunHttpBench(const HttpBenchOptions& opt, const char* program);

}  // namespace tessera::bench
