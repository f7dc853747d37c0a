#include "bench/runner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <thread>
#include <unordered_set>

#include <cblas.h>
#include <nlohmann/json.hpp>

#include "bench/concurrent.h"
#include "bench/dataset.h"
#include "bench/engine.h"
#include "bench/system.h"
#include "core/bitset.h"
#include "core/simd/distance.h"
#include "index/index.h"

namespace tessera::bench {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// Exact answers for one query set under one filter: for each query the squared distance of
// the k-th true neighbour. A returned id is a hit when its true distance is within that,
// which scores ties fairly (any of several equidistant k-th neighbours counts).
struct Truth {
  double selectivity = 1.0;
  const core::Bitset* skip = nullptr;  // null when unfiltered
  std::vector<float> kth_distance;
};

struct Filter {
  core::Bitset skip;
  Truth truth;
};

float ExactDistance(const Dataset& ds, size_t q, int64_t id) {
  return simd::Active().l2_sqr(ds.queries.row(q), ds.base.row(static_cast<size_t>(id)), ds.base.dim);
}

double Recall(const Dataset& ds, const Truth& truth, const std::vector<int64_t>& ids, size_t k) {
  size_t hits = 0;
  for (size_t q = 0; q < ds.queries.rows; ++q) {
    std::unordered_set<int64_t> seen;
    for (size_t r = 0; r < k; ++r) {
      const int64_t id = ids[q * k + r];
      if (id < 0 || !seen.insert(id).second) continue;
      if (truth.skip != nullptr && truth.skip->Test(static_cast<size_t>(id))) continue;
      const float bound = truth.kth_distance[q];
      if (ExactDistance(ds, q, id) <= bound * (1 + 1e-5f) + 1e-5f) ++hits;
    }
  }
  return static_cast<double>(hits) / static_cast<double>(ds.queries.rows * k);
}

Truth UnfilteredTruth(const Dataset& ds, size_t k) {
  Truth t;
  for (size_t q = 0; q < ds.queries.rows; ++q) {
    t.kth_distance.push_back(ExactDistance(ds, q, ds.ground_truth.row(q)[k - 1]));
  }
  return t;
}

// Filters built from the dataset's labels when it has them (a filter correlated with the
// data, as real ones are): selectivity >= 0.1 keeps labels 0..round(10s)-1; smaller ones keep
// label 0 and every round(0.1/s)-th such row. Without labels, a hash of the row decides.
Result<Filter> MakeFilter(const Dataset& ds, double selectivity, size_t k) {
  Filter f;
  f.skip = core::Bitset(ds.base.rows, true);
  const bool labels = !ds.base_labels.empty();
  const int keep_labels = std::max(1, static_cast<int>(std::lround(selectivity * 10)));
  const size_t stride = std::max<size_t>(1, static_cast<size_t>(std::lround(0.1 / selectivity)));
  size_t label_zero_seen = 0;
  for (size_t i = 0; i < ds.base.rows; ++i) {
    bool keep;
    if (labels && selectivity >= 0.1) {
      keep = ds.base_labels[i] < keep_labels;
    } else if (labels) {
      keep = ds.base_labels[i] == 0 && (label_zero_seen++ % stride) == 0;
    } else {
      keep = ((i * 0x9E3779B97F4A7C15ull) >> 40) % 10000 < static_cast<uint64_t>(selectivity * 10000);
    }
    if (keep) f.skip.Clear(i);
  }
  const size_t passing = ds.base.rows - f.skip.Count();
  f.truth.selectivity = static_cast<double>(passing) / static_cast<double>(ds.base.rows);
  // Exact filtered answers from Tessera's FLAT index (verified against the dataset's ground
  // truth by the unit tests).
  TESSERA_ASSIGN_OR_RETURN(auto flat, index::CreateIndex(index::IndexType::kFlat, index::MetricType::kL2,
                                                         ds.base.dim, {}));
  TESSERA_RETURN_IF_ERROR(flat->Build(ds.base.values.data(), ds.base.rows, nullptr));
  TESSERA_ASSIGN_OR_RETURN(auto exact, flat->Search({.queries = ds.queries.values.data(),
                                                     .num_queries = ds.queries.rows, .k = k,
                                                     .skip = &f.skip}));
  for (size_t q = 0; q < ds.queries.rows; ++q) {
    // With fewer than k passing rows every passing row is a hit.
    size_t last = k;
    while (last > 0 && exact.id(q, last - 1) < 0) --last;
    f.truth.kth_distance.push_back(last == 0 ? 0.0f : exact.distance(q, last - 1));
  }
  return f;
}

struct Point {
  double qps = 0, p50_ms = 0, p99_ms = 0, recall = 0, seconds = 0;
};

// Searches every query through SearchOne on `threads` threads, each taking the next query,
// in the steady state (concurrent.h): the first pass gives the recall; when it lasted less
// than `min_seconds` it was only the warm-up, and whole passes lasting at least that long
// are timed instead (their answers go to per-thread scratch).
Result<Point> RunSingle(const BenchIndex& index, const Dataset& ds, const Truth& truth, const json& params,
                        size_t threads, size_t k, double min_seconds) {
  const size_t nq = ds.queries.rows;
  std::vector<int64_t> ids(nq * k, -1);
  TESSERA_ASSIGN_OR_RETURN(Timing timing, RunConcurrently(threads, nq, [&](size_t, size_t q) {
                             return index.SearchOne(ds.queries.row(q), k, params, truth.skip, ids.data() + q * k);
                           }));
  if (timing.seconds < min_seconds) {
    std::vector<int64_t> scratch(threads * k);
    TESSERA_ASSIGN_OR_RETURN(timing, RunConcurrently(threads, nq * PassesFor(timing, min_seconds),
                                                     [&](size_t worker, size_t call) {
                                                       return index.SearchOne(ds.queries.row(call % nq), k, params,
                                                                              truth.skip, scratch.data() + worker * k);
                                                     }));
  }
  Point p;
  p.seconds = timing.seconds;
  p.qps = timing.per_second;
  p.p50_ms = timing.p50_ms;
  p.p99_ms = timing.p99_ms;
  p.recall = Recall(ds, truth, ids, k);
  return p;
}

Result<Point> RunBatch(const BenchIndex& index, const Dataset& ds, const Truth& truth,
                       const json& params, size_t threads, size_t k) {
  const size_t nq = ds.queries.rows;
  std::vector<int64_t> ids(nq * k, -1);
  const auto start = Clock::now();
  TESSERA_RETURN_IF_ERROR(index.SearchBatch(ds.queries.values.data(), nq, k, params, threads, ids.data()));
  Point p;
  p.seconds = Seconds(start);
  p.qps = static_cast<double>(nq) / p.seconds;
  p.p50_ms = p.p99_ms = p.seconds * 1e3;  // one call answers the whole batch
  p.recall = Recall(ds, truth, ids, k);
  return p;
}

Result<std::unique_ptr<BenchIndex>> MakeIndex(const std::string& engine, const IndexOptions& options) {
  if (engine == "tessera") return MakeTesseraIndex(options);
  if (engine == "hnswlib") return MakeHnswlibIndex(options);
  if (engine == "faiss") return MakeFaissIndex(options);
  return Status::InvalidArgument("unknown engine '" + engine + "' (expected tessera, hnswlib or faiss)");
}

void PrintHeader() {
  std::printf("%-8s %-9s %-6s %3s %6s %-14s %7s %10s %8s %8s %8s %9s %8s %7s\n", "engine", "index",
              "mode", "thr", "filter", "search", "recall", "qps", "p50_ms", "p99_ms", "build_s",
              "index_MB", "rss_MB", "GB/s");
}

void PrintRow(const json& r) {
  std::string sp = r["search_params"].dump();
  if (sp.size() > 14) sp = sp.substr(0, 14);
  std::printf("%-8s %-9s %-6s %3d %6.3f %-14s %7.4f %10.1f %8.3f %8.3f %8.2f %9.1f %8.1f %7s\n",
              r["engine"].get<std::string>().c_str(), r["index"].get<std::string>().c_str(),
              r["mode"].get<std::string>().c_str(), r["threads"].get<int>(),
              r["filter_selectivity"].get<double>(), sp.c_str(), r["recall_at_10"].get<double>(),
              r["qps"].get<double>(), r["p50_ms"].get<double>(), r["p99_ms"].get<double>(),
              r["build_seconds"].get<double>(), r["index_bytes"].get<double>() / 1048576.0,
              r["peak_rss_bytes"].get<double>() / 1048576.0,
              r.contains("scan_gbps") ? std::to_string(r["scan_gbps"].get<double>()).substr(0, 6).c_str() : "");
  std::fflush(stdout);
}

}  // namespace

Status RunBenchmark(const RunOptions& options) {
  const size_t threads = options.threads > 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  const size_t k = options.k;
  // Parallelism comes from our threads and each engine's own; BLAS stays single-threaded
  // except inside batched calls that ask for more.
  openblas_set_num_threads(1);
  TESSERA_ASSIGN_OR_RETURN(Dataset ds, LoadDataset(options.dataset_dir, options.queries));
  const double scanned_gb = static_cast<double>(ds.base.values.size() * sizeof(float)) / 1e9;
  std::printf("dataset %s: %zu x %zu base, %zu queries; k=%zu; threads=%zu; simd=%s\n",
              ds.name.c_str(), ds.base.rows, ds.base.dim, ds.queries.rows, k, threads,
              std::string(simd::LevelName(simd::ActiveLevel())).c_str());
  const double bw_same = MeasureReadBandwidth(ds.base.values.size() * sizeof(float));
  const double bw_dram = MeasureReadBandwidth(size_t{1} << 30, 3);
  std::printf("single-thread read bandwidth: %.1f GB/s over %.0f MB (the FLAT working set), "
              "%.1f GB/s over 1 GiB\n\n",
              bw_same, scanned_gb * 1e3, bw_dram);

  Truth unfiltered = UnfilteredTruth(ds, k);
  std::vector<Filter> filters;
  for (double s : options.filters) {
    TESSERA_ASSIGN_OR_RETURN(Filter f, MakeFilter(ds, s, k));
    filters.push_back(std::move(f));
  }
  for (auto& f : filters) f.truth.skip = &f.skip;

  json results = json::array();
  PrintHeader();
  for (const std::string& index_name : options.indexes) {
    for (const std::string& engine : options.engines) {
      IndexOptions io{.index = index_name, .dim = ds.base.dim, .hnsw_m = options.hnsw_m,
                      .hnsw_ef_construction = options.hnsw_ef_construction, .ivf_nlist = options.ivf_nlist};
      auto made = MakeIndex(engine, io);
      if (!made.ok()) {
        if (made.status().code() == StatusCode::kUnimplemented) continue;
        return made.status();
      }
      std::unique_ptr<BenchIndex> index = std::move(made).value();
      ResetPeakRss();
      const auto build_start = Clock::now();
      TESSERA_RETURN_IF_ERROR(index->Build(ds.base.values.data(), ds.base.rows, threads).WithContext(engine + " " + index_name + " build"));
      const double build_seconds = Seconds(build_start);
      const size_t index_bytes = index->IndexBytes();

      auto record = [&](const std::string& mode, const json& params, size_t thr, const Truth& truth,
                        const Point& p) {
        json r = {{"engine", engine}, {"index", index_name}, {"mode", mode},
                  {"build_params", index->BuildParams()}, {"search_params", params},
                  {"threads", thr}, {"filter_selectivity", truth.selectivity},
                  {"recall_at_10", p.recall}, {"qps", p.qps}, {"p50_ms", p.p50_ms},
                  {"p99_ms", p.p99_ms}, {"build_seconds", build_seconds},
                  {"build_threads", threads}, {"index_bytes", index_bytes},
                  {"peak_rss_bytes", PeakRssBytes()}, {"dataset", ds.name},
                  {"queries", ds.queries.rows}};
        // The scan rate means something for one query per call; a batch reuses each row.
        if (index_name == "FLAT" && truth.skip == nullptr && mode == "single") {
          const double gbps = scanned_gb * p.qps;
          r["scan_gbps"] = gbps;
          r["scan_fraction_of_read_bandwidth"] = gbps / (bw_same * static_cast<double>(thr));
        }
        PrintRow(r);
        results.push_back(std::move(r));
      };

      std::vector<size_t> thread_counts = {1};
      if (threads > 1) thread_counts.push_back(threads);
      for (const json& params : index->SearchSweep()) {
        for (size_t thr : thread_counts) {
          TESSERA_ASSIGN_OR_RETURN(Point p, RunSingle(*index, ds, unfiltered, params, thr, k, options.min_seconds));
          record("single", params, thr, unfiltered, p);
        }
        auto batch = RunBatch(*index, ds, unfiltered, params, threads, k);
        if (batch.ok()) record("batch", params, threads, unfiltered, *batch);
        if (!index->SupportsFilter()) continue;
        for (const Filter& f : filters) {
          TESSERA_ASSIGN_OR_RETURN(Point p, RunSingle(*index, ds, f.truth, params, 1, k, options.min_seconds));
          record("single", params, 1, f.truth, p);
        }
      }
    }
  }
  if (!options.json_path.empty()) {
    std::ofstream out(options.json_path);
    if (!out) return Status::NotFound("cannot write " + options.json_path);
    out << results.dump(2) << "\n";
    std::printf("\nwrote %zu points to %s\n", results.size(), options.json_path.c_str());
  }
  return Status::OK();
}

}  // namespace tessera::bench
