#include "proxy/proxy.h"

#include <algorithm>
#include <array>
#include <exception>
#include <map>
#include <string>
#include <utility>

#include "common/crash_point.h"
#include "common/logging.h"
#include "msg/wal_message.h"
#include "proxy/proxy_impl.h"
#include "proxy/sharding.h"

namespace tessera::proxy {

Proxy::Proxy(ProxyOptions options, coord::Coordinator* coordinator, querynode::QueryNode* query_node,
             storage::Log* log)
    : impl_(std::make_unique<internal::ProxyImpl>(options, coordinator, query_node, log)) {}

Proxy::~Proxy() = default;

HttpResponse Proxy::Handle(const HttpRequest& request) { return impl_->Handle(request); }

namespace internal {
namespace {

using nlohmann::json;

constexpr std::string_view kPrefix = "/v2/vectordb/";

const std::map<std::string_view, ProxyImpl::Handler>& Routes() {
  static const std::map<std::string_view, ProxyImpl::Handler> routes = {
      {"collections/create", &ProxyImpl::CreateCollection},
      {"collections/describe", &ProxyImpl::DescribeCollection},
      {"collections/list", &ProxyImpl::ListCollections},
      {"collections/has", &ProxyImpl::HasCollection},
      {"collections/drop", &ProxyImpl::DropCollection},
      {"collections/rename", &ProxyImpl::RenameCollection},
      {"collections/get_stats", &ProxyImpl::GetCollectionStats},
      {"collections/load", &ProxyImpl::LoadCollection},
      {"collections/refresh_load", &ProxyImpl::RefreshLoad},
      {"collections/release", &ProxyImpl::ReleaseCollection},
      {"collections/get_load_state", &ProxyImpl::GetLoadState},
      {"collections/flush", &ProxyImpl::FlushCollection},
      {"collections/compact", &ProxyImpl::CompactCollection},
      {"collections/get_compaction_state", &ProxyImpl::GetCompactionState},
      {"collections/alter_properties", &ProxyImpl::AlterCollectionProperties},
      {"collections/drop_properties", &ProxyImpl::DropCollectionProperties},
      {"entities/insert", &ProxyImpl::Insert},
      {"entities/upsert", &ProxyImpl::Upsert},
      {"entities/delete", &ProxyImpl::Delete},
      {"entities/query", &ProxyImpl::Query},
      {"entities/get", &ProxyImpl::Get},
      {"entities/search", &ProxyImpl::Search},
      {"entities/hybrid_search", &ProxyImpl::HybridSearch},
      {"entities/advanced_search", &ProxyImpl::HybridSearch},
      {"indexes/create", &ProxyImpl::CreateIndex},
      {"indexes/describe", &ProxyImpl::DescribeIndex},
      {"indexes/list", &ProxyImpl::ListIndexes},
      {"indexes/drop", &ProxyImpl::DropIndex},
      {"partitions/list", &ProxyImpl::ListPartitions},
      {"partitions/has", &ProxyImpl::HasPartition},
      {"partitions/create", &ProxyImpl::CreatePartition},
      {"partitions/drop", &ProxyImpl::DropPartition},
      {"partitions/load", &ProxyImpl::LoadPartitions},
      {"partitions/release", &ProxyImpl::ReleasePartitions},
      {"partitions/get_stats", &ProxyImpl::GetPartitionStats},
      {"aliases/list", &ProxyImpl::ListAliases},
      {"aliases/describe", &ProxyImpl::DescribeAlias},
      {"aliases/create", &ProxyImpl::CreateAlias},
      {"aliases/drop", &ProxyImpl::DropAlias},
      {"aliases/alter", &ProxyImpl::AlterAlias},
      {"databases/create", &ProxyImpl::CreateDatabase},
      {"databases/drop", &ProxyImpl::DropDatabase},
      {"databases/list", &ProxyImpl::ListDatabases},
      {"databases/describe", &ProxyImpl::DescribeDatabase},
      {"databases/alter", &ProxyImpl::AlterDatabase},
      {"databases/alter_properties", &ProxyImpl::AlterDatabase},
      {"databases/drop_properties", &ProxyImpl::DropDatabaseProperties},
  };
  return routes;
}

// Milvus routes Tessera does not implement: answered with code 10 rather than 404, so a
// client learns the feature is missing rather than that its URL is wrong.
constexpr std::array<std::string_view, 10> kUnimplementedPrefixes = {
    "users/",           "roles/",           "privilege_groups/", "jobs/import/",      "resource_groups/",
    "segments/",        "quotacenter/",     "collections/fields/", "indexes/alter_properties",
    "indexes/drop_properties",
};
constexpr std::array<std::string_view, 1> kUnimplementedRoutes = {"entities/search_iterator"};

bool IsUnimplemented(std::string_view route) {
  for (std::string_view r : kUnimplementedRoutes) {
    if (route == r) return true;
  }
  for (std::string_view p : kUnimplementedPrefixes) {
    if (route.substr(0, p.size()) == p) return true;
  }
  return false;
}

HttpResponse JsonResponse(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

std::chrono::milliseconds RequestTimeout(const HttpRequest& request, std::chrono::milliseconds fallback) {
  const std::string* header = request.Header("Request-Timeout");
  if (header == nullptr) return fallback;
  std::optional<int64_t> seconds = ParseInt64(*header);
  // <= 0 or absurd values: the default (spec §1.2 — the lenient reading).
  if (!seconds || *seconds <= 0 || *seconds > 24 * 3600) return fallback;
  return std::chrono::seconds(*seconds);
}

}  // namespace

ProxyImpl::ProxyImpl(ProxyOptions options, coord::Coordinator* coordinator, querynode::QueryNode* query_node,
                     storage::Log* log)
    : options_(options),
      coordinator_(coordinator),
      query_node_(query_node),
      log_(log),
      acks_(options.bounded_staleness),
      ticker_([coordinator] { return coordinator->AllocateTimestamp(); }),
      rows_inserted_(metrics::Registry::Default().GetCounter(
          "tessera_rows_inserted_total", "Rows written to the WAL by inserts and upserts")),
      rows_deleted_(metrics::Registry::Default().GetCounter("tessera_rows_deleted_total",
                                                            "Primary keys written to the WAL by deletes")),
      wal_append_seconds_(metrics::Registry::Default().GetHistogram(
          "tessera_wal_append_duration_seconds", "Latency of one WAL append by the proxy")) {
  if (options_.time_tick_interval.count() > 0) tick_thread_ = std::thread([this] { TickLoop(); });
}

ProxyImpl::~ProxyImpl() {
  {
    std::lock_guard<std::mutex> l(tick_mu_);
    stopping_ = true;
  }
  tick_cv_.notify_all();
  if (tick_thread_.joinable()) tick_thread_.join();
}

void ProxyImpl::TickLoop() {
  std::unique_lock<std::mutex> l(tick_mu_);
  while (!stopping_) {
    tick_cv_.wait_for(l, options_.time_tick_interval, [this] { return stopping_; });
    l.unlock();
    AppendTimeTicks();  // once more when stopping: the last writes get their tick
    l.lock();
  }
}

void ProxyImpl::AppendTimeTicks() {
  auto ticks = ticker_.Due();
  if (!ticks.ok()) {
    TESSERA_LOG_WARN("time ticks: {}", ticks.status().ToString());
    return;
  }
  for (const TimeTicker::Tick& tick : *ticks) {
    msg::WalMessage message;
    message.type = msg::MessageType::kTimeTick;
    message.collection_id = tick.collection_id;
    message.timestamp = tick.timestamp;
    auto record = msg::EncodeWalMessage(message);
    Status appended = record.status();
    if (record.ok()) appended = log_->Append(tick.channel, std::span<const std::string>(&*record, 1)).status();
    // A channel that is gone (collection dropped) or stopped just misses its tick: ticks
    // only ever allow more, a missing one holds nothing back but delete retirement.
    if (!appended.ok()) TESSERA_LOG_DEBUG("time tick on {}: {}", tick.channel, appended.ToString());
  }
}

ApiResult<TimeTicker::Write> ProxyImpl::BeginWrite(const coord::CollectionInfo& info,
                                                    const std::vector<int32_t>& shards) {
  std::vector<std::string> channels;
  channels.reserve(shards.size());
  for (int32_t shard : shards) channels.push_back(info.Channel(shard));
  auto write = ticker_.Begin(info.id, std::move(channels));
  if (!write.ok()) return ToApiStatus(write.status(), ErrorContext::kGeneral);
  return std::move(write).value();
}

namespace {

// Counts the request and its latency in /metrics.
void RecordRequestMetrics(const std::string& endpoint, int milvus_code, double seconds) {
  // The registry never removes a metric, so the series can be cached; per thread, so that
  // requests do not serialize on the registry's mutex or rebuild label maps.
  thread_local std::map<std::pair<std::string, int>, metrics::Counter*> counters;
  thread_local std::map<std::string, metrics::Histogram*> histograms;
  auto& counter = counters[{endpoint, milvus_code}];
  if (counter == nullptr) {
    counter = &metrics::Registry::Default().GetCounter("tessera_http_requests_total",
                                                       "REST requests by endpoint and Milvus code",
                                                       {{"endpoint", endpoint}, {"code", std::to_string(milvus_code)}});
  }
  auto& histogram = histograms[endpoint];
  if (histogram == nullptr) {
    histogram = &metrics::Registry::Default().GetHistogram("tessera_http_request_duration_seconds",
                                                           "REST request latency by endpoint", {{"endpoint", endpoint}});
  }
  counter->Inc();
  histogram->Observe(seconds);
}

}  // namespace

HttpResponse ProxyImpl::Handle(const HttpRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  std::string route;
  Handler handler = nullptr;
  if (request.path.size() > kPrefix.size() && request.path.compare(0, kPrefix.size(), kPrefix) == 0) {
    route = request.path.substr(kPrefix.size());
    while (!route.empty() && route.back() == '/') route.pop_back();
    auto it = Routes().find(route);
    if (it != Routes().end()) handler = it->second;
  }
  const bool known = handler != nullptr || IsUnimplemented(route);
  const std::string endpoint = known ? std::string(kPrefix) + route : "unknown";

  HttpResponse response;
  int milvus_code = 0;
  std::string log_db, log_collection;  // for the access log: only names that passed validation
  if (!known || request.method != "POST") {
    milvus_code = 404;
    response = JsonResponse(404, EncodeError(ApiStatus(404, "404 page not found: " + request.method + " " +
                                                                 request.path)));
  } else if (handler == nullptr) {
    milvus_code = code::kUnimplemented;
    response = JsonResponse(200, EncodeError(ApiStatus(code::kUnimplemented,
                                                       "service unimplemented: " + endpoint +
                                                           " is not supported by this server")));
  } else {
    ApiStatus error;
    Reply reply;
    try {
      PackedVectors vectors;
      auto body = ParseBody(request.body, handler == &ProxyImpl::Search ? &vectors : nullptr);
      if (!body.ok()) {
        error = body.status();
      } else {
        Call call{request,
                  route,
                  std::move(body).value(),
                  std::string(),
                  options_.accept_int64_default,
                  options_.request_timeout,
                  std::move(vectors)};
        FieldReader reader(call.body, "Req");
        std::string db;
        error = reader.String("dbName", &db);
        if (error.ok() && db.empty()) {
          const std::string* header = request.Header("DB-Name");
          if (header != nullptr) db = *header;
        }
        if (db.empty()) db = std::string(coord::kDefaultDatabase);
        if (error.ok()) error = ValidateName("database", db);
        if (error.ok()) log_db = db;
        call.db = std::move(db);
        call.int64_as_number = options_.accept_int64_default;
        if (const std::string* h = request.Header("Accept-Type-Allow-Int64")) {
          if (auto b = ParseGoBool(*h)) call.int64_as_number = *b;
        }
        call.timeout = RequestTimeout(request, options_.request_timeout);
        if (error.ok()) {
          auto result = (this->*handler)(call);
          if (result.ok()) {
            reply = std::move(result).value();
          } else {
            error = result.status();
          }
          log_collection = std::move(call.collection);
        }
      }
      milvus_code = error.code();
      if (error.ok()) {
        response = JsonResponse(200, EncodeSuccess(std::move(reply)));
      } else if (error.code() == code::kTimeout) {
        response = JsonResponse(408, EncodeError(ApiStatus(code::kTimeout, "request timeout: " + error.message())));
      } else {
        response = JsonResponse(200, EncodeError(error));
      }
    } catch (const std::exception& e) {
      // A bug, not a client error: keep serving, tell the client as Milvus does on a panic.
      TESSERA_LOG_ERROR("request {} {}: handler failed: {}", request.request_id, endpoint, e.what());
      milvus_code = 500;
      response = JsonResponse(500, R"({"code":500})");
    }
  }

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RecordRequestMetrics(endpoint, milvus_code, seconds);
  response.log_fields = " code=" + std::to_string(milvus_code);
  if (!log_db.empty()) response.log_fields += " db=" + log_db;
  if (!log_collection.empty()) response.log_fields += " collection=" + log_collection;
  return response;
}

// ---- shared helpers ---------------------------------------------------------------------

ApiResult<std::string> ProxyImpl::CollectionName(Call& call, std::string_view owner) const {
  std::string name;
  TESSERA_API_RETURN_IF_ERROR(call.Reader(owner).RequiredString("collectionName", &name));
  TESSERA_API_RETURN_IF_ERROR(ValidateName("collection", name));
  call.collection = name;
  return name;
}

ApiResult<coord::CollectionInfo> ProxyImpl::ResolveCollection(const Call& call, const std::string& name) {
  auto info = coordinator_->DescribeCollection(call.db, name);
  if (!info.ok()) return ToApiStatus(info.status(), ErrorContext::kCollection);
  return std::move(info).value();
}

ApiResult<std::vector<int64_t>> ProxyImpl::PartitionIds(const coord::CollectionInfo& info,
                                                        const std::vector<std::string>& names) const {
  std::vector<int64_t> ids;
  ids.reserve(names.size());
  for (const std::string& name : names) {
    const coord::PartitionInfo* partition = info.FindPartition(name);
    if (partition == nullptr) return ApiStatus(code::kPartitionNotFound, "partition not found[partition=" + name + "]");
    ids.push_back(partition->id);
  }
  return ids;
}

ApiResult<querynode::WaitOffsets> ProxyImpl::WaitFor(const coord::CollectionInfo& info,
                                                     std::optional<coord::ConsistencyLevel> level) {
  const coord::ConsistencyLevel effective = level.value_or(info.consistency);
  const std::vector<std::string> channels = info.Channels();
  switch (effective) {
    case coord::ConsistencyLevel::kStrong: {
      querynode::WaitOffsets wait;
      for (const std::string& channel : channels) {
        auto last = log_->LastOffset(channel);
        if (!last.ok()) return ToApiStatus(last.status(), ErrorContext::kRead);
        if (last->has_value()) wait[channel] = **last + 1;
      }
      return wait;
    }
    case coord::ConsistencyLevel::kSession:
      return acks_.Session(channels);
    case coord::ConsistencyLevel::kBounded:
    case coord::ConsistencyLevel::kCustomized:
      return acks_.Bounded(channels, AckTracker::Clock::now());
    case coord::ConsistencyLevel::kEventually:
      return querynode::WaitOffsets{};
  }
  return querynode::WaitOffsets{};
}

ApiResult<uint64_t> ProxyImpl::AppendToWal(const std::string& channel, const msg::WalMessage& message) {
  auto record = msg::EncodeWalMessage(message);
  if (!record.ok()) return ToApiStatus(record.status(), ErrorContext::kInsertData);
  const auto start = std::chrono::steady_clock::now();
  std::string payload = std::move(record).value();
  auto offsets = log_->Append(channel, std::span<const std::string>(&payload, 1));
  wal_append_seconds_.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (!offsets.ok()) {
    return ToApiStatus(offsets.status().WithContext("appending to WAL channel " + channel), ErrorContext::kGeneral);
  }
  if (offsets->size() != 1) {
    return ApiStatus(code::kUnexpected, "WAL channel " + channel + " returned " + std::to_string(offsets->size()) +
                                           " offsets for one record");
  }
  const uint64_t offset = offsets->front();
  crash_point::Reach(crash_point::Site::kProxyAfterAppendBeforeAck);
  acks_.Acknowledge(channel, offset, AckTracker::Clock::now());
  return offset;
}

}  // namespace internal
}  // namespace tessera::proxy
