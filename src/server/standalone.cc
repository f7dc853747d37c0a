#include "server/standalone.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <thread>
#include <utility>

#include "common/crash_point.h"
#include "common/durable_dir.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/process_memory.h"
#include "coord/coordinator_impl.h"
#include "datanode/data_node_impl.h"
#include "indexnode/index_node_impl.h"
#include "proxy/proxy.h"
#include "querynode/query_node_impl.h"
#include "server/http_server.h"
#include "storage/object/disk_cache.h"
#include "storage/storage_factory.h"

namespace tessera::server {

// Declaration order is construction order; destruction runs in reverse, so the HTTP server
// goes first and storage last.
struct Standalone::Parts {
  config::Config config;
  std::unique_ptr<storage::ObjectStore> objects;
  std::unique_ptr<storage::ObjectStore> cached_objects;  // DiskCache over `objects`
  std::unique_ptr<storage::MetaStore> meta;
  std::unique_ptr<storage::Log> log;
  std::unique_ptr<coord::CoordinatorImpl> coord;
  std::unique_ptr<datanode::DataNodeImpl> datanode;
  std::unique_ptr<indexnode::IndexNodeImpl> indexnode;
  std::unique_ptr<querynode::QueryNodeImpl> querynode;
  std::unique_ptr<MemoryWatermark> write_memory;  // refuses writes above the memory limit
  std::unique_ptr<proxy::Proxy> proxy;
  std::unique_ptr<HttpServer> http;
  bool stopped = false;
};

Status ApplyDataDir(config::Config& config, bool create) {
  const std::filesystem::path dir = config.GetString("server.data_dir");
  const std::pair<const char*, const char*> derived[] = {
      {"object_store.path", "objects"}, {"meta.path", "meta.db"}, {"log.path", "wal"}, {"cache.path", "cache"}};
  for (const auto& [key, leaf] : derived) {
    if (config.Source(key) == "default") {
      TESSERA_RETURN_IF_ERROR(config.Set(key, (dir / leaf).string(), "server.data_dir"));
    }
  }
  if (!create) return Status::OK();
  if (Status created = CreateDirectoriesDurably(dir.string()); !created.ok()) {
    return created.WithContext("creating the data directory");
  }
  return Status::OK();
}

namespace {

// Process-level series and the disk cache's own counters (read when /metrics renders).
void ExportMetrics(Standalone::Parts& p) {
  auto& r = metrics::Registry::Default();
  r.SetGaugeCallback("tessera_process_resident_memory_bytes", "Resident memory of the process.",
                     [] { return static_cast<double>(ResidentMemoryBytes()); });
  auto* cache = static_cast<storage::DiskCache*>(p.cached_objects.get());
  r.SetCounterCallback("tessera_diskcache_hits_total", "Query-node disk cache reads served from the cache.",
                       [cache] { return static_cast<double>(cache->stats().hits); });
  r.SetCounterCallback("tessera_diskcache_misses_total", "Query-node disk cache reads that started a download.",
                       [cache] { return static_cast<double>(cache->stats().misses); });
  r.SetCounterCallback("tessera_diskcache_evictions_total", "Entries evicted from the query-node disk cache.",
                       [cache] { return static_cast<double>(cache->stats().evictions); });
  r.SetGaugeCallback("tessera_diskcache_bytes", "Bytes held by the query-node disk cache.",
                     [cache] { return static_cast<double>(cache->stats().bytes); });
}

}  // namespace

Result<std::unique_ptr<Standalone>> Standalone::Start(config::Config config) {
  const auto drain = config.GetDuration("server.drain_delay");
  const auto shutdown = config.GetDuration("server.shutdown_timeout");
  if (drain.count() > 0 && drain >= shutdown) {
    return Status::InvalidArgument("server.drain_delay (" + std::to_string(drain.count()) +
                                   " ms) must be shorter than server.shutdown_timeout (" +
                                   std::to_string(shutdown.count()) + " ms), which it is part of");
  }
  TESSERA_RETURN_IF_ERROR(ApplyDataDir(config));
  auto p = std::make_unique<Parts>();
  p->config = std::move(config);
  const config::Config& c = p->config;
  TESSERA_LOG_INFO("starting tessera standalone; configuration:\n{}", c.Dump());

  TESSERA_ASSIGN_OR_RETURN(p->objects, storage::OpenObjectStore(c));
  TESSERA_ASSIGN_OR_RETURN(p->meta, storage::OpenMetaStore(c));
  TESSERA_ASSIGN_OR_RETURN(p->log, storage::OpenLog(c));
  storage::DiskCacheOptions cache_options;
  cache_options.capacity_bytes = c.GetBytes("cache.size");
  TESSERA_ASSIGN_OR_RETURN(p->cached_objects,
                           storage::DiskCache::Open(*p->objects, c.GetString("cache.path"), cache_options));

  coord::CoordinatorOptions coord_options;
  coord_options.compaction_interval = c.GetDuration("coord.compaction_interval");
  coord_options.compaction_target_size = c.GetBytes("coord.compaction_target_size");
  coord_options.compaction_delete_ratio = c.GetDouble("coord.compaction_delete_ratio");
  coord_options.gc_grace_period = c.GetDuration("coord.gc_grace_period");
  coord_options.gc_interval = c.GetDuration("coord.gc_interval");
  coord_options.load_retry_interval = c.GetDuration("coord.load_retry_interval");
  // Through the cache: GC's deletes then drop the cached copies too (otherwise they stay on
  // disk until the cache fills up).
  TESSERA_ASSIGN_OR_RETURN(p->coord,
                           coord::CoordinatorImpl::Open(coord_options, p->meta.get(), p->cached_objects.get()));

  datanode::DataNodeOptions data_options;
  data_options.segment_size = c.GetBytes("datanode.segment_size");
  data_options.seal_idle_time = c.GetDuration("datanode.seal_idle_time");
  p->datanode = datanode::CreateDataNode(data_options, p->coord.get(), p->log.get(), p->objects.get());

  indexnode::IndexNodeOptions index_options;
  index_options.parallel_builds = static_cast<int>(c.GetInt("indexnode.parallel_builds"));
  index_options.build_threads = static_cast<int>(c.GetInt("indexnode.build_threads"));
  p->indexnode = indexnode::CreateIndexNode(index_options, p->coord.get(), p->objects.get());

  querynode::QueryNodeOptions query_options;
  query_options.search_threads = static_cast<int>(c.GetInt("querynode.search_threads"));
  query_options.memory_limit = c.GetBytes("querynode.memory_limit");
  if (query_options.memory_limit == 0) query_options.memory_limit = MemoryAvailableToProcess() / 10 * 9;
  TESSERA_LOG_INFO("query node memory limit: {}", HumanBytes(query_options.memory_limit));
  metrics::Registry::Default().SetGaugeCallback(
      "tessera_querynode_memory_limit_bytes", "Memory the process may use; loads past it are refused.",
      [limit = query_options.memory_limit] { return static_cast<double>(limit); });
  p->querynode = querynode::CreateQueryNode(query_options, p->log.get(), p->cached_objects.get());

  proxy::ProxyOptions proxy_options;
  // One limit for the process: loads past it are refused by the query node, inserts and
  // upserts while above it by the proxy (what else would grow until the OOM killer came).
  p->write_memory = std::make_unique<MemoryWatermark>(query_options.memory_limit, "querynode.memory_limit");
  proxy_options.admit_write = [watermark = p->write_memory.get()] { return watermark->Check(); };
  proxy_options.bounded_staleness = c.GetDuration("coord.bounded_staleness");
  proxy_options.request_timeout = c.GetDuration("server.request_timeout");
  proxy_options.time_tick_interval = c.GetDuration("proxy.time_tick_interval");
  p->proxy = std::make_unique<proxy::Proxy>(proxy_options, p->coord.get(), p->querynode.get(), p->log.get());

  HttpServerOptions http_options;
  http_options.address = c.GetString("server.address");
  http_options.port = static_cast<int>(c.GetInt("server.port"));
  http_options.threads = static_cast<int>(c.GetInt("server.http_threads"));
  http_options.max_body_size = c.GetBytes("server.max_body_size");
  // A WAL channel stopped by a failed write or sync takes writes again only after a
  // restart, so liveness fails and an orchestrator restarts the process.
  http_options.health = [log = p->log.get()] {
    const Status status = log->Health();
    return status.ok() ? status : status.WithContext("the write-ahead log needs a restart");
  };
  p->http = std::make_unique<HttpServer>(p->proxy.get(), http_options);
  // Listen first (liveness and a 503 /readyz during recovery), then recover, then ready.
  TESSERA_RETURN_IF_ERROR(p->http->Start());

  p->coord->AttachNodes(p->datanode.get(), p->indexnode.get(), p->querynode.get());
  p->coord->AttachLog(p->log.get());
  TESSERA_RETURN_IF_ERROR(p->coord->Start());
  ExportMetrics(*p);
  p->http->SetReady(true);
  TESSERA_LOG_INFO("tessera standalone ready on port {}", p->http->port());
  return std::unique_ptr<Standalone>(new Standalone(std::move(p)));
}

Standalone::Standalone(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Standalone::~Standalone() { (void)Shutdown(); }

int Standalone::port() const { return parts_->http->port(); }

Status Standalone::Shutdown() {
  Parts& p = *parts_;
  if (p.stopped) return Status::OK();
  p.stopped = true;
  p.http->SetReady(false);
  const auto drain = p.config.GetDuration("server.drain_delay");
  if (drain.count() > 0) {
    TESSERA_LOG_INFO("shutting down: /readyz answers 503; serving for {} ms more before the listener closes",
                     drain.count());
    std::this_thread::sleep_for(drain);
  }
  TESSERA_LOG_INFO("shutting down: no new requests");
  if (!p.http->StopWithin(p.config.GetDuration("server.shutdown_timeout") - drain)) {
    // Requests still run on the roles, so none of them can be stopped or destroyed. What
    // was acknowledged is in the WAL: end the process now; a restart replays it.
    TESSERA_LOG_ERROR("shutdown: in-flight requests outlived server.shutdown_timeout; exiting without a flush");
    logging::Flush();
    std::_Exit(1);
  }
  Status result = Status::OK();
  // Flush what is still growing, so a restart has nothing to replay.
  auto databases = p.coord->ListDatabases();
  if (databases.ok()) {
    for (const auto& db : *databases) {
      auto names = p.coord->ListCollections(db.name);
      if (!names.ok()) continue;
      for (const auto& name : *names) {
        auto info = p.coord->DescribeCollection(db.name, name);
        if (!info.ok()) continue;
        Status flushed = p.coord->Flush(info->id);
        if (!flushed.ok()) {
          TESSERA_LOG_WARN("flush of {}.{} on shutdown failed: {}", db.name, name, flushed.ToString());
          result = flushed;
        }
      }
    }
  }
  for (const char* name : {"tessera_diskcache_hits_total", "tessera_diskcache_misses_total",
                           "tessera_diskcache_evictions_total", "tessera_diskcache_bytes"}) {
    metrics::Registry::Default().RemoveCallback(name);  // they read the cache, which goes away
  }
  p.coord->Stop();
  p.querynode->Stop();
  p.indexnode->Stop();
  p.datanode->Stop();
  TESSERA_LOG_INFO("shutdown complete");
  return result;
}

namespace {

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

int WaitForSignal() {
  const sigset_t set = StopSignals();
  int signal = 0;
  sigwait(&set, &signal);
  return signal;
}

// Ends the process (exit 1, without the final flush) when the shutdown is not done within
// `budget` or a second SIGTERM/SIGINT arrives meanwhile. What was acknowledged is in the
// WAL, so a restart replays it: stopping early loses nothing. Polls `done` every 100 ms.
void WatchShutdown(std::chrono::milliseconds budget, const std::atomic<bool>& done) {
  const sigset_t set = StopSignals();
  const auto deadline = std::chrono::steady_clock::now() + budget;
  while (!done.load()) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::nanoseconds(0)) {
      TESSERA_LOG_ERROR("shutdown did not finish within server.shutdown_timeout ({} ms); exiting without it",
                        budget.count());
      logging::Flush();
      std::_Exit(1);
    }
    const auto slice = std::min<std::chrono::nanoseconds>(left, std::chrono::milliseconds(100));
    timespec wait{.tv_sec = static_cast<time_t>(slice.count() / 1'000'000'000),
                  .tv_nsec = static_cast<long>(slice.count() % 1'000'000'000)};
    if (sigtimedwait(&set, nullptr, &wait) > 0) {
      TESSERA_LOG_ERROR("second stop signal during shutdown; exiting at once");
      logging::Flush();
      std::_Exit(1);
    }
  }
}

}  // namespace

int RunStandalone(config::Config config) {
  // Block the signals in every thread (threads inherit the mask) so sigwait receives them.
  const sigset_t set = StopSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  const auto shutdown_budget = config.GetDuration("server.shutdown_timeout");
  std::signal(SIGPIPE, SIG_IGN);

  if (Status armed = crash_point::InitFromEnvironment(); !armed.ok()) {
    TESSERA_LOG_ERROR("tessera standalone failed to start: {}", armed.ToString());
    return 1;
  }
  auto started = Standalone::Start(std::move(config));
  if (!started.ok()) {
    // Out of space: recovery writes (the timestamp high-water mark, at least) before the
    // server can answer anything; nothing is lost by waiting for space.
    const bool full = started.status().code() == StatusCode::kResourceExhausted;
    TESSERA_LOG_ERROR("tessera standalone failed to start: {}{}", started.status().ToString(),
                      full ? "; free space on the data directory's filesystem and start again" : "");
    return 1;
  }
  const int signal = WaitForSignal();
  TESSERA_LOG_INFO("received signal {}: shutting down within {} ms (a second signal ends the process at once)",
                   signal, shutdown_budget.count());
  std::atomic<bool> done{false};
  std::thread watchdog([&] { WatchShutdown(shutdown_budget, done); });
  Status stopped = (*started)->Shutdown();
  done.store(true);
  watchdog.join();
  return stopped.ok() ? 0 : 1;
}

}  // namespace tessera::server
