#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "bench/http_bench.h"

#include "bench/concurrent.h"
#include "bench/cpu_affinity.h"
#include "bench/dataset.h"
#include "bench/http_load.h"
#include "bench/rest_client.h"
#include "bench/server_process.h"
#include "common/logging.h"
#include "common/thread_pool.h"
#include "core/simd/distance.h"
#include "index/index.h"

namespace tessera::bench {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr size_t kTopK = 10;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// ---- recall (tie-aware, as tessera-bench scores it) ----

// Squared distance of each query's k-th true neighbour. A returned id is a hit when its
// exact distance is within that bound, so equidistant k-th neighbours all count.
std::vector<float> KthDistances(const Dataset& ds) {
  std::vector<float> out;
  for (size_t q = 0; q < ds.queries.rows; ++q) {
    const auto id = static_cast<size_t>(ds.ground_truth.row(q)[kTopK - 1]);
    out.push_back(simd::Active().l2_sqr(ds.queries.row(q), ds.base.row(id), ds.base.dim));
  }
  return out;
}

double Recall(const Dataset& ds, const std::vector<float>& kth, const std::vector<int64_t>& ids) {
  size_t hits = 0;
  for (size_t q = 0; q < ds.queries.rows; ++q) {
    std::unordered_set<int64_t> seen;
    for (size_t r = 0; r < kTopK; ++r) {
      const int64_t id = ids[q * kTopK + r];
      if (id < 0 || static_cast<size_t>(id) >= ds.base.rows || !seen.insert(id).second) continue;
      const float d = simd::Active().l2_sqr(ds.queries.row(q), ds.base.row(static_cast<size_t>(id)), ds.base.dim);
      if (d <= kth[q] * (1 + 1e-5f) + 1e-5f) ++hits;
    }
  }
  return static_cast<double>(hits) / static_cast<double>(ds.queries.rows * kTopK);
}

// ---- request bodies, serialized once outside the timed regions ----

void AppendVector(std::string& out, const float* v, size_t dim) {
  char buf[32];
  out.push_back('[');
  for (size_t i = 0; i < dim; ++i) {
    if (i > 0) out.push_back(',');
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v[i]);  // shortest round-trip form
    out.append(buf, end);
  }
  out.push_back(']');
}

// Rows [begin, end) with id = row index, so search results name base rows directly.
std::string InsertBody(const std::string& collection, const Matrix<float>& base, size_t begin, size_t end) {
  std::string body = "{\"collectionName\":" + json(collection).dump() + ",\"data\":[";
  for (size_t row = begin; row < end; ++row) {
    if (row > begin) body.push_back(',');
    body += "{\"id\":" + std::to_string(row) + ",\"vector\":";
    AppendVector(body, base.row(row), base.dim);
    body.push_back('}');
  }
  body += "]}";
  return body;
}

std::string SearchBody(const std::string& collection, const float* query, size_t dim, int ef) {
  std::string body = "{\"collectionName\":" + json(collection).dump() + ",\"data\":[";
  AppendVector(body, query, dim);
  body += "],\"annsField\":\"vector\",\"limit\":" + std::to_string(kTopK) +
          ",\"searchParams\":{\"ef\":" + std::to_string(ef) + "},\"consistencyLevel\":\"Eventually\"}";
  return body;
}

// obj[key], or null when `obj` is not an object or lacks the key (responses are untrusted;
// nlohmann's value() would throw on a non-object).
json Field(const json& obj, const char* key) {
  if (!obj.is_object()) return json();
  const auto it = obj.find(key);
  return it == obj.end() ? json() : *it;
}

// Search response rows -> ids (PK field "id"), padded with -1.
Status ParseHits(const json& envelope, int64_t* ids) {
  std::fill(ids, ids + kTopK, -1);
  const auto data = envelope.find("data");
  if (data == envelope.end() || !data->is_array() || data->size() > kTopK) {
    return Status::Internal("search response has no array 'data' of at most " + std::to_string(kTopK) +
                            " hits: " + envelope.dump().substr(0, 300));
  }
  for (size_t r = 0; r < data->size(); ++r) {
    const json& hit = (*data)[r];
    if (!hit.is_object() || !hit.contains("id")) return Status::Internal("search hit without 'id': " + hit.dump());
    TESSERA_ASSIGN_OR_RETURN(ids[r], JsonInt64(hit["id"], "search hit id"));
  }
  return Status::OK();
}

// ---- results ----

struct Measured {
  Timing timing;
  double recall = 0;
  size_t connections = 0;  // HTTP only: connections the server closed and the client reopened
  // CPU per query in microseconds: the server's (HTTP, --spawn only) or this process's
  // (in-process); 0 when not measured.
  double cpu_us = 0;
};

struct Point {
  int ef = 0;
  size_t clients = 0;
  // One entry per round; with both sides, the rounds alternate HTTP and in-process.
  std::vector<Measured> http_rounds, inprocess_rounds;
  // The medians of the rounds, field by field (recall: the first round's).
  Measured http, inprocess;
  // Medians of the per-round ratios in-process/HTTP (QPS: HTTP over in-process; CPU:
  // in-process over HTTP). A round's two runs follow each other within seconds, so they
  // share the host's load of that moment; the median of their ratios moves less than the
  // ratio of two medians taken minutes apart.
  double qps_ratio = 0, cpu_ratio = 0;
};

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

Measured MedianOf(const std::vector<Measured>& rounds) {
  Measured out;
  if (rounds.empty()) return out;
  const auto median = [&](auto field) {
    std::vector<double> values;
    for (const Measured& m : rounds) values.push_back(static_cast<double>(field(m)));
    return Median(std::move(values));
  };
  out.timing.per_second = median([](const Measured& m) { return m.timing.per_second; });
  out.timing.p50_ms = median([](const Measured& m) { return m.timing.p50_ms; });
  out.timing.p99_ms = median([](const Measured& m) { return m.timing.p99_ms; });
  out.timing.seconds = median([](const Measured& m) { return m.timing.seconds; });
  out.timing.calls = static_cast<size_t>(median([](const Measured& m) { return m.timing.calls; }));
  out.cpu_us = median([](const Measured& m) { return m.cpu_us; });
  out.recall = rounds.front().recall;
  for (const Measured& m : rounds) out.connections += m.connections;
  return out;
}

// Fills p.http, p.inprocess and the ratios from the rounds measured.
void Summarize(Point& p) {
  p.http = MedianOf(p.http_rounds);
  p.inprocess = MedianOf(p.inprocess_rounds);
  std::vector<double> qps, cpu;
  for (size_t r = 0; r < std::min(p.http_rounds.size(), p.inprocess_rounds.size()); ++r) {
    const Measured& h = p.http_rounds[r];
    const Measured& i = p.inprocess_rounds[r];
    if (i.timing.per_second > 0) qps.push_back(h.timing.per_second / i.timing.per_second);
    if (h.cpu_us > 0) cpu.push_back(i.cpu_us / h.cpu_us);
  }
  p.qps_ratio = Median(std::move(qps));
  p.cpu_ratio = Median(std::move(cpu));
}

json ToJson(const Measured& m) {
  return {{"qps", m.timing.per_second}, {"p50_ms", m.timing.p50_ms}, {"p99_ms", m.timing.p99_ms},
          {"recall_at_10", m.recall}, {"seconds", m.timing.seconds}, {"calls", m.timing.calls},
          {"cpu_us_per_query", m.cpu_us}};
}

// Runs `n` searches, the i-th for query i % queries. With `ids`, each answer goes to
// ids[query * kTopK ...]; without, answers are checked and dropped.
using RunFn = std::function<Result<Timing>(size_t n, int64_t* ids)>;

// Measures `run` in the steady state: one untimed pass over every query (it warms caches
// and connections and writes `ids` for the recall), then passes over the queries timed as
// one run of at least opt.min_seconds. A single short pass would mostly measure start-up
// and the last stragglers. Sets m.timing and m.cpu_us, the CPU process `pid` spent per
// timed call (pid 0: this process; < 0: not measured).
Status MeasureSearch(const HttpBenchOptions& opt, pid_t pid, size_t queries, std::vector<int64_t>& ids, Measured& m,
                     const RunFn& run) {
  TESSERA_ASSIGN_OR_RETURN(const Timing warm_up, run(queries, ids.data()));
  const size_t calls = queries * PassesFor(warm_up, opt.min_seconds);
  double cpu_before = 0;
  if (pid >= 0) {
    TESSERA_ASSIGN_OR_RETURN(cpu_before, ProcessCpuSeconds(pid));
  }
  TESSERA_ASSIGN_OR_RETURN(m.timing, run(calls, nullptr));
  if (pid >= 0) {
    TESSERA_ASSIGN_OR_RETURN(const double cpu_after, ProcessCpuSeconds(pid));
    m.cpu_us = (cpu_after - cpu_before) * 1e6 / static_cast<double>(calls);
  }
  return Status::OK();
}

// ---- in-process: the same index built with tessera's index library ----

Result<std::unique_ptr<index::Index>> BuildInProcess(const HttpBenchOptions& opt, const Dataset& ds, json& report) {
  const json build_params = {{"M", opt.m}, {"efConstruction", opt.ef_construction}};
  TESSERA_ASSIGN_OR_RETURN(auto index, index::CreateIndex(index::IndexType::kHnsw, index::MetricType::kL2,
                                                          ds.base.dim, build_params));
  const size_t build_threads = std::max(1u, std::thread::hardware_concurrency());
  const auto start = Clock::now();
  {
    ThreadPool pool(build_threads, "build");
    TESSERA_RETURN_IF_ERROR(index->Build(ds.base.values.data(), ds.base.rows, &pool));
  }
  const double build_seconds = SecondsSince(start);
  std::printf("in-process: built HNSW %s in %.1f s on %zu threads\n", build_params.dump().c_str(), build_seconds,
              build_threads);
  report["inprocess"] = {{"build_seconds", build_seconds}, {"build_threads", build_threads}};
  return index;
}

// One round of point `p` in-process: one query per call on p.clients threads, the twin of
// one request per query over HTTP. Appends to p.inprocess_rounds.
Status MeasureInProcess(const HttpBenchOptions& opt, index::Index& index, const Dataset& ds,
                        const std::vector<float>& kth, Point& p) {
  const json params = {{"ef", p.ef}};
  std::vector<int64_t> ids(ds.queries.rows * kTopK);
  // Without `ids`, answers go to per-thread scratch (two threads never write one slot).
  auto run = [&](size_t n, int64_t* ids) -> Result<Timing> {
    std::vector<int64_t> scratch(p.clients * kTopK);
    return RunConcurrently(p.clients, n, [&](size_t worker, size_t item) -> Status {
      const size_t q = item % ds.queries.rows;
      index::SearchRequest request{.queries = ds.queries.row(q), .num_queries = 1, .k = kTopK, .params = params};
      TESSERA_ASSIGN_OR_RETURN(index::SearchResult result, index.Search(request));
      std::copy(result.ids.begin(), result.ids.end(), ids != nullptr ? ids + q * kTopK : &scratch[worker * kTopK]);
      return Status::OK();
    });
  };
  Measured m;
  TESSERA_RETURN_IF_ERROR(MeasureSearch(opt, 0, ds.queries.rows, ids, m, run));
  m.recall = Recall(ds, kth, ids);
  std::printf("  in-process ef=%-4d threads=%-3zu qps=%9.1f recall=%.4f cpu_us=%.1f\n", p.ef, p.clients,
              m.timing.per_second, m.recall, m.cpu_us);
  p.inprocess_rounds.push_back(m);
  return Status::OK();
}

// Every round of every point in-process, for --skip-http.
Status RunInProcessOnly(const HttpBenchOptions& opt, index::Index& index, const Dataset& ds,
                        const std::vector<float>& kth, std::vector<Point>& points) {
  for (Point& p : points) {
    for (size_t r = 0; r < opt.rounds; ++r) TESSERA_RETURN_IF_ERROR(MeasureInProcess(opt, index, ds, kth, p));
  }
  return Status::OK();
}

// ---- over HTTP ----

json CreateBody(const HttpBenchOptions& opt, size_t dim) {
  return {{"collectionName", opt.collection},
          {"schema",
           {{"autoID", false},
            {"enableDynamicField", false},
            {"fields",
             {{{"fieldName", "id"}, {"dataType", "Int64"}, {"isPrimary", true}},
              {{"fieldName", "vector"}, {"dataType", "FloatVector"}, {"elementTypeParams", {{"dim", dim}}}}}}}},
          {"indexParams",
           {{{"fieldName", "vector"},
             {"indexName", "vector"},
             {"metricType", "L2"},
             {"indexType", opt.index},
             {"params", {{"M", opt.m}, {"efConstruction", opt.ef_construction}}}}}}};
}

// Inserts every base row in --batch sized requests from --inserters connections.
Status InsertAll(const HttpBenchOptions& opt, const std::string& endpoint, const Dataset& ds, json& report) {
  const size_t batches = (ds.base.rows + opt.batch - 1) / opt.batch;
  std::vector<std::string> bodies(batches);
  {
    ThreadPool pool(opt.inserters, "serialize");
    pool.ParallelFor(batches, [&](size_t b) {
      bodies[b] = InsertBody(opt.collection, ds.base, b * opt.batch, std::min(ds.base.rows, (b + 1) * opt.batch));
    });
  }
  size_t body_bytes = 0;
  for (const auto& b : bodies) body_bytes += b.size();
  std::vector<std::unique_ptr<RestClient>> clients;
  for (size_t i = 0; i < opt.inserters; ++i) clients.push_back(std::make_unique<RestClient>(endpoint));
  auto insert = [&](size_t worker, size_t b) -> Status {
    TESSERA_ASSIGN_OR_RETURN(json reply, clients[worker]->Call("entities/insert", bodies[b]));
    const size_t expected = std::min(ds.base.rows, (b + 1) * opt.batch) - b * opt.batch;
    const json count = Field(Field(reply, "data"), "insertCount");
    auto got = JsonInt64(count, "insertCount");
    if (!got.ok() || static_cast<size_t>(*got) != expected) {
      return Status::Internal("insert of batch " + std::to_string(b) + " reported insertCount " + count.dump() +
                              ", expected " + std::to_string(expected));
    }
    return Status::OK();
  };
  TESSERA_ASSIGN_OR_RETURN(Timing t, RunConcurrently(opt.inserters, batches, insert));
  const double rows_per_s = static_cast<double>(ds.base.rows) / t.seconds;
  std::printf("insert: %zu rows in %.2f s = %.0f rows/s (%zu inserters, %zu rows/request, %.1f MB JSON; "
              "request p50 %.1f ms, p99 %.1f ms)\n",
              ds.base.rows, t.seconds, rows_per_s, opt.inserters, opt.batch, static_cast<double>(body_bytes) / 1e6,
              t.p50_ms, t.p99_ms);
  report["insert"] = {{"rows", ds.base.rows},          {"seconds", t.seconds},     {"rows_per_second", rows_per_s},
                      {"inserters", opt.inserters},    {"rows_per_request", opt.batch},
                      {"request_p50_ms", t.p50_ms},    {"request_p99_ms", t.p99_ms}, {"json_bytes", body_bytes}};
  return Status::OK();
}

// After the last insert: flush, then poll until the index covers every row and the
// collection is loaded. Reports the time from the last insert's reply to that point.
Status WaitIndexedAndLoaded(const HttpBenchOptions& opt, RestClient& admin, size_t rows, json& report) {
  const auto start = Clock::now();
  const json name = {{"collectionName", opt.collection}};
  TESSERA_RETURN_IF_ERROR(admin.Call("collections/flush", name).status());
  const double flush_seconds = SecondsSince(start);
  json last_index, last_load;
  while (true) {
    TESSERA_ASSIGN_OR_RETURN(json described,
                             admin.Call("indexes/describe", {{"collectionName", opt.collection}, {"indexName", "vector"}}));
    TESSERA_ASSIGN_OR_RETURN(json load, admin.Call("collections/get_load_state", name));
    const json data = Field(described, "data");
    if (!data.is_array() || data.empty() || !data[0].is_object()) {
      return Status::Internal("indexes/describe returned no index: " + described.dump());
    }
    last_index = data[0];
    last_load = Field(load, "data");
    auto total = JsonInt64(Field(last_index, "totalRows"), "totalRows");
    auto pending = JsonInt64(Field(last_index, "pendingRows"), "pendingRows");
    const bool done = Field(last_index, "indexState") == "Finished" && pending.ok() && *pending == 0 &&
                      total.ok() && static_cast<size_t>(*total) >= rows &&
                      Field(last_load, "loadState") == "LoadStateLoaded";
    if (done) break;
    if (SecondsSince(start) > opt.wait_timeout_s) {
      return Status::DeadlineExceeded("not indexed and loaded " + std::to_string(opt.wait_timeout_s) +
                                      " s after the last insert; index: " + last_index.dump() +
                                      ", load: " + last_load.dump());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const double seconds = SecondsSince(start);
  std::printf("indexed and loaded %.2f s after the last insert (flush call %.2f s); index %s\n", seconds, flush_seconds,
              last_index.dump().c_str());
  report["indexing"] = {{"seconds_after_last_insert", seconds}, {"flush_call_seconds", flush_seconds},
                     {"describe", last_index}, {"load_state", last_load}};
  return Status::OK();
}

// After indexing: merges the small segments the data node sealed into large ones, as the
// coordinator's background compaction would (VectorDBBench does the same for Milvus), and
// waits until the query node serves the merged, indexed segments. Reports the time from
// the last insert's reply to that point (`after_insert_start`).
Status CompactAndWait(const HttpBenchOptions& opt, RestClient& admin, Clock::time_point after_insert_start, json& report) {
  const auto start = Clock::now();
  TESSERA_ASSIGN_OR_RETURN(json reply, admin.Call("collections/compact", {{"collectionName", opt.collection}}));
  TESSERA_ASSIGN_OR_RETURN(const int64_t job, JsonInt64(Field(Field(reply, "data"), "compactionID"), "compactionID"));
  json state;
  while (true) {
    TESSERA_ASSIGN_OR_RETURN(state, admin.Call("collections/get_compaction_state", {{"jobID", job}}));
    if (Field(Field(state, "data"), "state") == "Completed") break;
    if (SecondsSince(start) > opt.wait_timeout_s) {
      return Status::DeadlineExceeded("compaction " + std::to_string(job) + " not completed after " +
                                      std::to_string(opt.wait_timeout_s) + " s: " + state.dump());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const double seconds = SecondsSince(start);
  const double total = SecondsSince(after_insert_start);
  std::printf("compacted (merged, indexed, served) in %.2f s; %.2f s after the last insert; %s\n", seconds, total,
              Field(state, "data").dump().c_str());
  report["compaction"] = {{"seconds", seconds}, {"seconds_after_last_insert", total}, {"state", Field(state, "data")}};
  return Status::OK();
}

// "http://host:port" -> host and port (the forms RestClient accepts without TLS).
Status SplitEndpoint(const std::string& endpoint, std::string* host, int* port) {
  std::string rest = endpoint;
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) return Status::InvalidArgument("endpoint " + endpoint + " has no port");
  const std::string port_text = rest.substr(colon + 1);
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), *port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || *port <= 0 || *port > 65535) {
    return Status::InvalidArgument("endpoint " + endpoint + " has a bad port");
  }
  *host = rest.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') *host = host->substr(1, host->size() - 2);
  return Status::OK();
}

// The CPUs of the server's half and of the clients' half under --split-cpus.
std::vector<int> ServerCpus() { return CpuRange(0, static_cast<int>(std::thread::hardware_concurrency()) / 2); }
std::vector<int> ClientCpus() {
  const int cpus = static_cast<int>(std::thread::hardware_concurrency());
  return CpuRange(cpus / 2, cpus);
}

// Every round of every point over HTTP; with `local`, each HTTP run is followed by the same
// point in-process (on the server's CPUs under --split-cpus), so both sides of a round see
// the same moment of a shared machine. server_pid: the spawned server, whose CPU per
// request is measured; -1 for --endpoint.
Status SearchAll(const HttpBenchOptions& opt, const std::string& endpoint, pid_t server_pid, const Dataset& ds,
                 const std::vector<float>& kth, index::Index* local, std::vector<Point>& points) {
  HttpLoadOptions load_options{.spin = opt.client_spin};
  TESSERA_RETURN_IF_ERROR(SplitEndpoint(endpoint, &load_options.host, &load_options.port));
  const std::string path = "/v2/vectordb/entities/search";
  std::vector<int64_t> ids(ds.queries.rows * kTopK);
  std::vector<std::string> requests;
  int requests_ef = -1;
  for (Point& p : points) {
    if (p.ef != requests_ef) {
      requests.clear();
      for (size_t q = 0; q < ds.queries.rows; ++q) {
        requests.push_back(HttpPostRequest(load_options.host, load_options.port, path,
                                           SearchBody(opt.collection, ds.queries.row(q), ds.base.dim, p.ef),
                                           "Accept-Type-Allow-Int64: true\r\n"));
      }
      requests_ef = p.ef;
    }
    load_options.connections = p.clients;
    TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<HttpLoad> load, HttpLoad::Open(load_options));
    auto run = [&](size_t n, int64_t* ids) -> Result<Timing> {
      int64_t scratch[kTopK];
      return load->Run(
          n, [&](size_t item) -> const std::string& { return requests[item % requests.size()]; },
          [&](size_t item, std::string_view body) -> Status {
            TESSERA_ASSIGN_OR_RETURN(json reply, ParseEnvelope("POST " + path, 200, body));
            return ParseHits(reply, ids != nullptr ? ids + (item % requests.size()) * kTopK : scratch);
          });
    };
    for (size_t round = 0; round < opt.rounds; ++round) {
      const size_t reopened_before = load->reconnects();
      Measured m;
      TESSERA_RETURN_IF_ERROR(MeasureSearch(opt, server_pid, ds.queries.rows, ids, m, run));
      m.recall = Recall(ds, kth, ids);
      m.connections = load->reconnects() - reopened_before;
      std::printf("  http       ef=%-4d clients=%-3zu qps=%9.1f recall=%.4f server_cpu_us=%.1f (connections reopened "
                  "during the runs: %zu)\n",
                  p.ef, p.clients, m.timing.per_second, m.recall, m.cpu_us, m.connections);
      p.http_rounds.push_back(m);
      if (local == nullptr) continue;
      if (opt.split_cpus) TESSERA_RETURN_IF_ERROR(PinProcess(0, ServerCpus()));
      const Status measured = MeasureInProcess(opt, *local, ds, kth, p);
      if (opt.split_cpus) TESSERA_RETURN_IF_ERROR(PinProcess(0, ClientCpus()));
      TESSERA_RETURN_IF_ERROR(measured.WithContext("in-process"));
    }
  }
  return Status::OK();
}

// Spawns or reaches the server, inserts (unless --reuse finds the collection), waits for
// indexing and compaction, then SearchAll (with `local`, interleaved with in-process runs).
Status RunHttp(const HttpBenchOptions& opt, const Dataset& ds, const std::vector<float>& kth, index::Index* local,
               std::vector<Point>& points, json& report) {
  std::unique_ptr<ServerProcess> server;
  std::string endpoint = opt.endpoint;
  std::string data_dir = opt.data_dir;
  const bool temp_data_dir = !opt.spawn.empty() && data_dir.empty();
  if (!opt.spawn.empty()) {
    if (temp_data_dir) {
      std::string tmpl = (std::filesystem::temp_directory_path() / "tessera-bench-XXXXXX").string();
      if (mkdtemp(tmpl.data()) == nullptr) return Status::Internal("mkdtemp failed for " + tmpl);
      data_dir = tmpl;
    }
    std::error_code ec;
    std::filesystem::create_directories(data_dir, ec);
    auto started = ServerProcess::Start(opt.spawn, data_dir, std::chrono::seconds(120));
    if (!started.ok()) {
      if (temp_data_dir) std::filesystem::remove_all(data_dir, ec);
      return started.status();
    }
    server = std::move(started).value();
    endpoint = server->endpoint();
    std::printf("spawned %s standalone on %s, data in %s\n", opt.spawn.c_str(), endpoint.c_str(), data_dir.c_str());
  }
  report["endpoint"] = endpoint;

  const auto search = [&]() -> Status {
    if (opt.split_cpus) {
      TESSERA_RETURN_IF_ERROR(PinProcess(server->pid(), ServerCpus()));
      TESSERA_RETURN_IF_ERROR(PinProcess(0, ClientCpus()));
      std::printf("searching with the server and the in-process runs on CPUs [0, %zu), the clients on the rest\n",
                  ServerCpus().size());
    }
    const Status searched = SearchAll(opt, endpoint, server != nullptr ? server->pid() : -1, ds, kth, local, points);
    if (opt.split_cpus) TESSERA_RETURN_IF_ERROR(PinProcess(0, CpuRange(0, static_cast<int>(std::thread::hardware_concurrency()))));
    return searched;
  };
  Status status = [&]() -> Status {
    RestClient admin(endpoint);
    const json name = {{"collectionName", opt.collection}};
    TESSERA_ASSIGN_OR_RETURN(json has, admin.Call("collections/has", name));
    const bool exists = Field(Field(has, "data"), "has") == true;
    if (opt.reuse && exists) {
      // Profiling the search path alone: no insert, and the collection stays for the next run.
      TESSERA_RETURN_IF_ERROR(WaitIndexedAndLoaded(opt, admin, ds.base.rows, report));
      return search();
    }
    if (exists) TESSERA_RETURN_IF_ERROR(admin.Call("collections/drop", name).status());
    TESSERA_RETURN_IF_ERROR(admin.Call("collections/create", CreateBody(opt, ds.base.dim)).status());
    TESSERA_RETURN_IF_ERROR(InsertAll(opt, endpoint, ds, report));
    const auto inserted = Clock::now();
    TESSERA_RETURN_IF_ERROR(WaitIndexedAndLoaded(opt, admin, ds.base.rows, report));
    if (opt.compact) TESSERA_RETURN_IF_ERROR(CompactAndWait(opt, admin, inserted, report));
    TESSERA_RETURN_IF_ERROR(search());
    if (opt.reuse) return Status::OK();
    return admin.Call("collections/drop", name).status();
  }();
  if (server == nullptr) return status;
  Status stopped = server->Stop(std::chrono::seconds(60));
  if (status.ok()) status = stopped;
  if (status.ok()) {
    std::error_code ec;
    if (temp_data_dir) std::filesystem::remove_all(data_dir, ec);
    return status;
  }
  // Keep the data directory (and its server.log) for a look at what went wrong.
  return Status(status.code(), status.message() + "\n(server data and server.log kept in " + data_dir +
                                   "); end of server.log:\n" + server->LogTail());
}

// ---- report ----

void PrintTable(const std::vector<Point>& points, size_t rounds, bool http, bool inprocess) {
  std::printf("\n%5s %7s | %10s %8s %8s %7s %7s | %10s %8s %8s %7s %7s | %6s %6s\n", "ef", "clients", "http_qps",
              "p50_ms", "p99_ms", "recall", "cpu_us", "inproc_qps", "p50_ms", "p99_ms", "recall", "cpu_us", "ratio",
              "cpu_r");
  for (const Point& p : points) {
    std::printf("%5d %7zu |", p.ef, p.clients);
    for (const auto& [shown, m] : {std::pair{http, p.http}, std::pair{inprocess, p.inprocess}}) {
      if (shown) {
        std::printf(" %10.1f %8.3f %8.3f %7.4f %7.1f |", m.timing.per_second, m.timing.p50_ms, m.timing.p99_ms,
                    m.recall, m.cpu_us);
      } else {
        std::printf(" %10s %8s %8s %7s %7s |", "-", "-", "-", "-", "-");
      }
    }
    if (http && inprocess) {
      std::printf(" %6.3f %6.3f\n", p.qps_ratio, p.cpu_ratio);
    } else {
      std::printf(" %6s %6s\n", "-", "-");
    }
  }
  std::printf("Each column is the median of %zu rounds; a round runs HTTP, then in-process.\n"
              "ratio = HTTP QPS / in-process QPS at the same ef and concurrency (clients = threads), median over\n"
              "the rounds of each round's ratio.\n"
              "cpu_us = CPU per query: the server process's over HTTP (--spawn), this process's in-process;\n"
              "cpu_r = in-process cpu_us / HTTP cpu_us (with --split-cpus the HTTP clients' CPU is not in it), median\n"
              "over the rounds like ratio.\n",
              rounds);
}

Status Run(const HttpBenchOptions& opt) {
  TESSERA_ASSIGN_OR_RETURN(Dataset ds, LoadDataset(opt.dataset, opt.queries));
  if (ds.queries.rows == 0 || ds.ground_truth.rows < ds.queries.rows || ds.ground_truth.dim < kTopK) {
    return Status::InvalidArgument("dataset " + opt.dataset + " lacks queries or top-" + std::to_string(kTopK) +
                                   " ground truth for them");
  }
  std::printf("dataset %s: %zu x %zu base, %zu queries, k=%zu, metric L2, %s M=%d efConstruction=%d\n",
              ds.name.c_str(), ds.base.rows, ds.base.dim, ds.queries.rows, kTopK, opt.index.c_str(), opt.m,
              opt.ef_construction);
  const std::vector<float> kth = KthDistances(ds);
  std::vector<Point> points;
  for (int ef : opt.efs) {
    for (size_t c : opt.clients) {
      Point p;
      p.ef = ef;
      p.clients = c;
      points.push_back(p);
    }
  }
  json report = {{"dataset", ds.name},         {"base_rows", ds.base.rows}, {"dim", ds.base.dim},
                 {"queries", ds.queries.rows}, {"k", kTopK},                {"metric", "L2"},
                 {"index", opt.index},         {"build_params", {{"M", opt.m}, {"efConstruction", opt.ef_construction}}},
                 {"hardware_threads", std::thread::hardware_concurrency()}, {"split_cpus", opt.split_cpus},
                 {"client_spin", opt.client_spin}, {"rounds", opt.rounds}};
  // The in-process index is built before the server starts (both use every CPU), and kept
  // while the server runs: the rounds alternate between the two.
  std::unique_ptr<index::Index> local;
  if (!opt.skip_inprocess) {
    auto built = BuildInProcess(opt, ds, report);
    if (!built.ok()) return built.status().WithContext("in-process");
    local = std::move(built).value();
  }
  if (!opt.skip_http) {
    TESSERA_RETURN_IF_ERROR(RunHttp(opt, ds, kth, local.get(), points, report).WithContext("http"));
  } else {
    TESSERA_RETURN_IF_ERROR(RunInProcessOnly(opt, *local, ds, kth, points).WithContext("in-process"));
  }
  for (Point& p : points) Summarize(p);

  PrintTable(points, opt.rounds, !opt.skip_http, !opt.skip_inprocess);
  json rows = json::array();
  for (const Point& p : points) {
    json row = {{"ef", p.ef}, {"clients", p.clients}};
    const auto rounds_json = [](const std::vector<Measured>& rounds) {
      json out = json::array();
      for (const Measured& m : rounds) out.push_back(ToJson(m));
      return out;
    };
    if (!opt.skip_http) {
      row["http"] = ToJson(p.http);
      row["http"]["reopened_connections"] = p.http.connections;
      row["http"]["rounds"] = rounds_json(p.http_rounds);
    }
    if (!opt.skip_inprocess) {
      row["inprocess"] = ToJson(p.inprocess);
      row["inprocess"]["rounds"] = rounds_json(p.inprocess_rounds);
    }
    if (!opt.skip_http && !opt.skip_inprocess) {
      row["qps_ratio"] = p.qps_ratio;
      if (p.cpu_ratio > 0) row["cpu_ratio"] = p.cpu_ratio;
    }
    rows.push_back(std::move(row));
  }
  report["points"] = std::move(rows);
  if (!opt.json_path.empty()) {
    std::ofstream out(opt.json_path);
    if (!out) return Status::NotFound("cannot write " + opt.json_path);
    out << report.dump(2) << "\n";
    std::printf("wrote %s\n", opt.json_path.c_str());
  }
  return Status::OK();
}

}  // namespace

void AddHttpBenchOptions(CLI::App& app, HttpBenchOptions& opt) {
  app.option_defaults()->always_capture_default();
  auto* endpoint = app.add_option("--endpoint", opt.endpoint, "URL of a running server");
  app.add_option("--spawn", opt.spawn, "path of the tessera binary: start `standalone` on a free port, stop it at the end")
      ->excludes(endpoint);
  app.add_option("--data-dir", opt.data_dir, "data directory for --spawn (default: a temp directory, removed after)");
  app.add_option("--dataset", opt.dataset, "dataset folder (as in shared/datasets)");
  app.add_option("--collection", opt.collection, "collection to create (dropped first if it exists, and at the end)");
  app.add_option("--queries", opt.queries, "use the first N queries (0: all)");
  app.add_option("--min-seconds", opt.min_seconds,
                 "time each point over whole passes of the queries lasting at least this long, after an untimed "
                 "warm-up pass")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--rounds", opt.rounds,
                 "measure each point this many times, alternating HTTP and in-process runs; report medians")
      ->check(CLI::Range(1, 100));
  app.add_option("--clients", opt.clients, "concurrent clients (HTTP connections / in-process threads)")
      ->delimiter(',')
      ->check(CLI::Range(1, 4096));
  app.add_option("--index", opt.index, "index type")->check(CLI::IsMember({"HNSW"}));
  app.add_option("--M", opt.m, "HNSW M");
  app.add_option("--efConstruction", opt.ef_construction, "HNSW efConstruction");
  app.add_option("--ef", opt.efs, "search ef values")->delimiter(',')->check(CLI::Range(10, 1 << 20));
  app.add_option("--batch", opt.batch, "rows per insert request")->check(CLI::Range(1, 1 << 20));
  app.add_option("--inserters", opt.inserters, "concurrent insert connections")->check(CLI::Range(1, 256));
  app.add_option("--wait-timeout", opt.wait_timeout_s, "seconds to wait for indexed and loaded after the last insert");
  app.add_option("--json", opt.json_path, "write the results as JSON to FILE");
  app.add_flag("--skip-http", opt.skip_http, "only the in-process runs");
  app.add_flag("--skip-inprocess", opt.skip_inprocess, "only the HTTP runs");
  app.add_flag("--split-cpus", opt.split_cpus,
               "search with the server and the in-process runs on the first half of the CPUs and the HTTP clients "
               "on the second half (needs --spawn and at least 2 CPUs)");
  app.add_flag("--client-spin", opt.client_spin,
               "the HTTP clients' event loop polls without sleeping (it takes a whole CPU), so the server never "
               "has to wake it, as with clients on another machine (bench/README.md)");
  app.add_flag("!--no-compact", opt.compact, "search the segments as sealed, without compacting them first");
  app.add_flag("--reuse", opt.reuse,
               "search the collection left by an earlier --reuse run (insert only when it does not exist) and keep it");
}

int RunHttpBench(const HttpBenchOptions& opt, const char* program) {
  if (opt.split_cpus && (opt.spawn.empty() || std::thread::hardware_concurrency() < 2)) {
    std::fprintf(stderr, "%s: --split-cpus needs --spawn and at least 2 CPUs\n", program);
    return 2;
  }
  if (opt.clients.empty() || opt.efs.empty()) {
    std::fprintf(stderr, "%s: --clients and --ef need at least one value\n", program);
    return 2;
  }
  logging::Init("warn");
  const Status status = Run(opt);
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", program, status.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace tessera::bench
