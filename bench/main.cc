// tessera-bench: builds indexes from Tessera and the baselines (hnswlib, FAISS) on a TEXMEX
// dataset folder and measures recall, QPS and latency side by side. See README.md.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "bench/runner.h"
#include "common/logging.h"

int main(int argc, char** argv) {
  tessera::bench::RunOptions options;
  CLI::App app{"tessera-bench: Tessera vs hnswlib vs FAISS on a TEXMEX dataset"};
  app.add_option("--dataset", options.dataset_dir, "dataset folder (as in shared/datasets)")->required();
  app.add_option("--index", options.indexes, "indexes: FLAT,HNSW,HNSW_SQ8,IVF_FLAT,IVF_SQ8,IVF_PQ (HNSW_SQ8: Tessera HNSW with sq8=1)")->delimiter(',');
  app.add_option("--engines", options.engines, "engines: tessera,hnswlib,faiss")->delimiter(',');
  app.add_option("--threads", options.threads, "threads for the multi-threaded runs and builds (0: all cores)");
  app.add_option("--queries", options.queries, "use only the first N queries (0: all)");
  app.add_option("--min-seconds", options.min_seconds,
                 "time a search point over whole passes of the queries lasting at least this long (a shorter "
                 "first pass becomes the warm-up)")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--filters", options.filters, "filter selectivities for filtered search, e.g. 0.5,0.1,0.01")->delimiter(',');
  app.add_option("--json", options.json_path, "write one JSON object per measured point to FILE");
  app.add_option("--k", options.k, "neighbours per query")->check(CLI::Range(1, 100));
  app.add_option("--M", options.hnsw_m, "HNSW M (all engines)");
  app.add_option("--ef-construction", options.hnsw_ef_construction, "HNSW efConstruction (all engines)");
  app.add_option("--nlist", options.ivf_nlist, "IVF nlist (all engines)");
  CLI11_PARSE(app, argc, argv);
  tessera::logging::Init("warn");
  const tessera::Status status = tessera::bench::RunBenchmark(options);
  if (!status.ok()) {
    std::fprintf(stderr, "tessera-bench: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
