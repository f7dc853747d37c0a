#include "storage/meta/etcd_meta_store.h"

#include <arpa/inet.h>

#include <algorithm>
#include <condition_variable>
#include <set>
#include <thread>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "common/logging.h"
#include "etcd/rpc.grpc.pb.h"

namespace tessera::storage {

namespace internal {

/// The connection shared by the store and its watches (a watch may outlive the store).
struct EtcdClient {
  std::string target;
  EtcdMetaStoreOptions options;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease;

  void SetDeadline(grpc::ClientContext& ctx) const {
    ctx.set_deadline(std::chrono::system_clock::now() + options.request_timeout);
  }
};

}  // namespace internal

namespace {

using internal::EtcdClient;

// Maps a gRPC status from etcd to ours, naming the operation and the endpoint.
Status FromGrpc(const grpc::Status& status, const EtcdClient& client, std::string_view operation) {
  if (status.ok()) return Status::OK();
  const std::string message =
      "etcd " + client.target + ": " + std::string(operation) + ": " + status.error_message();
  // etcd reports compaction and future revisions as OUT_OF_RANGE already; match the text too
  // so a proxy that rewrites codes still yields the documented contract.
  if (status.error_message().find("compacted") != std::string::npos) return Status::OutOfRange(message);
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return Status::Unavailable(message);
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return Status::DeadlineExceeded(message);
    case grpc::StatusCode::NOT_FOUND:
      return Status::NotFound(message);
    case grpc::StatusCode::OUT_OF_RANGE:
      return Status::OutOfRange(message);
    case grpc::StatusCode::INVALID_ARGUMENT:
      return Status::InvalidArgument(message);
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return Status::ResourceExhausted(message);
    case grpc::StatusCode::FAILED_PRECONDITION:
      return Status::FailedPrecondition(message);
    case grpc::StatusCode::CANCELLED:
      return Status::Cancelled(message);
    case grpc::StatusCode::PERMISSION_DENIED:
      return Status::PermissionDenied(message);
    case grpc::StatusCode::UNAUTHENTICATED:
      return Status(StatusCode::kUnauthenticated, message);
    case grpc::StatusCode::UNIMPLEMENTED:
      return Status::Unimplemented(message);
    case grpc::StatusCode::ABORTED:
      return Status::Aborted(message);
    case grpc::StatusCode::ALREADY_EXISTS:
      return Status::AlreadyExists(message);
    case grpc::StatusCode::DATA_LOSS:
      return Status::DataLoss(message);
    case grpc::StatusCode::INTERNAL:
      return Status::Internal(message);
    default:
      return Status::Unknown(message);
  }
}

Status CheckKey(std::string_view key, std::string_view operation) {
  if (key.empty()) return Status::InvalidArgument("etcd meta store: " + std::string(operation) + ": empty key");
  if (key.size() > kMaxMetaKeySize) {
    return Status::InvalidArgument("etcd meta store: " + std::string(operation) + ": key of " +
                                   std::to_string(key.size()) + " bytes exceeds the limit of " +
                                   std::to_string(kMaxMetaKeySize));
  }
  return Status::OK();
}

Status CheckValue(std::string_view key, std::string_view value) {
  if (value.size() > kMaxMetaValueSize) {
    return Status::InvalidArgument("etcd meta store: put: value of " + std::to_string(value.size()) +
                                   " bytes for a key of " + std::to_string(key.size()) +
                                   " bytes exceeds the limit of " + std::to_string(kMaxMetaValueSize));
  }
  return Status::OK();
}

KeyValue FromPb(const mvccpb::KeyValue& kv) {
  KeyValue out;
  out.key = kv.key();
  out.value = kv.value();
  out.create_revision = kv.create_revision();
  out.mod_revision = kv.mod_revision();
  out.version = kv.version();
  out.lease = LeaseId{kv.lease()};
  return out;
}

etcdserverpb::Compare::CompareResult ToPb(CompareOp op) {
  switch (op) {
    case CompareOp::kEqual:
      return etcdserverpb::Compare::EQUAL;
    case CompareOp::kNotEqual:
      return etcdserverpb::Compare::NOT_EQUAL;
    case CompareOp::kLess:
      return etcdserverpb::Compare::LESS;
    case CompareOp::kGreater:
      return etcdserverpb::Compare::GREATER;
  }
  return etcdserverpb::Compare::EQUAL;
}

// Validates one branch of a transaction: good keys and values, each key at most once.
Status CheckBranch(const std::vector<TxnOp>& ops) {
  std::set<std::string_view> keys;
  for (const TxnOp& op : ops) {
    TESSERA_RETURN_IF_ERROR(CheckKey(op.key, "txn"));
    if (op.type == TxnOp::Type::kPut) TESSERA_RETURN_IF_ERROR(CheckValue(op.key, op.value));
    if (!keys.insert(op.key).second) {
      return Status::InvalidArgument("etcd meta store: txn: key '" + op.key + "' appears twice in one branch");
    }
  }
  return Status::OK();
}

void AddOps(const std::vector<TxnOp>& ops,
            google::protobuf::RepeatedPtrField<etcdserverpb::RequestOp>* out) {
  for (const TxnOp& op : ops) {
    etcdserverpb::RequestOp* request = out->Add();
    if (op.type == TxnOp::Type::kPut) {
      etcdserverpb::PutRequest* put = request->mutable_request_put();
      put->set_key(op.key);
      put->set_value(op.value);
      put->set_lease(static_cast<int64_t>(op.lease));
    } else {
      request->mutable_request_delete_range()->set_key(op.key);
    }
  }
}

// Parses the endpoint list into a gRPC target.
Result<std::string> TargetFor(const std::vector<std::string>& endpoints) {
  if (endpoints.empty()) return Status::InvalidArgument("etcd meta store: no endpoints given");
  std::vector<std::string> addresses;
  for (std::string endpoint : endpoints) {
    if (endpoint.rfind("https://", 0) == 0) {
      return Status::Unimplemented("etcd meta store: TLS endpoints are not supported yet: " + endpoint);
    }
    if (endpoint.rfind("http://", 0) == 0) endpoint = endpoint.substr(7);
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    const size_t colon = endpoint.rfind(':');
    if (endpoint.empty() || colon == std::string::npos || colon + 1 == endpoint.size() ||
        endpoint.find('/') != std::string::npos) {
      return Status::InvalidArgument("etcd meta store: endpoint '" + endpoint +
                                     "' is not host:port or http://host:port");
    }
    addresses.push_back(endpoint);
  }
  if (addresses.size() == 1) return addresses[0];
  std::string target = "ipv4:";
  for (size_t i = 0; i < addresses.size(); ++i) {
    const std::string host = addresses[i].substr(0, addresses[i].rfind(':'));
    in_addr addr{};
    if (inet_pton(AF_INET, host.c_str(), &addr) != 1) {
      return Status::InvalidArgument("etcd meta store: with several endpoints each must be a literal IPv4 "
                                     "address, got '" + addresses[i] + "'");
    }
    target += (i ? "," : "") + addresses[i];
  }
  return target;
}

}  // namespace

std::string EtcdPrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    const auto last = static_cast<unsigned char>(end.back());
    if (last < 0xFF) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

// ---------------------------------------------------------------------------------------
// Watch

namespace internal {

/// One watch: a thread that owns a Watch stream and re-creates it when it breaks.
struct EtcdWatchState {
  std::shared_ptr<EtcdClient> client;
  std::string key;
  std::string range_end;
  WatchCallback callback;

  std::mutex mu;
  std::condition_variable cv;
  bool cancelled = false;                 // guarded by mu
  grpc::ClientContext* context = nullptr;  // the live stream's context, guarded by mu
  bool started = false;                   // first stream created (or failed); guarded by mu
  Status start_status;                    // guarded by mu
  int64_t next_revision = 0;              // only the watch thread touches it once running

  std::mutex join_mu;
  std::thread thread;  // guarded by join_mu
  std::thread::id thread_id;

  bool IsCancelled() {
    std::lock_guard<std::mutex> lock(mu);
    return cancelled;
  }

  void Cancel() {
    {
      std::lock_guard<std::mutex> lock(mu);
      cancelled = true;
      if (context != nullptr) context->TryCancel();
    }
    cv.notify_all();
    if (std::this_thread::get_id() == thread_id) return;  // from inside the callback
    std::lock_guard<std::mutex> lock(join_mu);
    if (thread.joinable()) thread.join();
  }

  void ReportStart(Status status) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (started) return;
      started = true;
      start_status = std::move(status);
    }
    cv.notify_all();
  }

  // Delivers a terminal error unless cancelled.
  void Fail(Status status, int64_t compact_revision) {
    if (IsCancelled()) return;
    WatchResponse response;
    response.revision = next_revision - 1;
    response.status = std::move(status);
    response.compact_revision = compact_revision;
    callback(response);
  }

  // Runs one stream until it breaks. Returns true when the watch is over (cancelled or a
  // terminal response was delivered), false when the stream should be re-created.
  bool RunStream(grpc::Status* stream_status, bool* created) {
    grpc::ClientContext context;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (cancelled) return true;
      this->context = &context;
    }
    auto stream = client->watch->Watch(&context);
    etcdserverpb::WatchRequest request;
    etcdserverpb::WatchCreateRequest* create = request.mutable_create_request();
    create->set_key(key);
    create->set_range_end(range_end);
    create->set_start_revision(next_revision);
    create->set_prev_kv(true);
    bool done = false;
    if (stream->Write(request)) {
      etcdserverpb::WatchResponse pb;
      while (!done && stream->Read(&pb)) {
        if (pb.created()) {
          if (pb.canceled()) {
            ReportStart(Status::FailedPrecondition("etcd " + client->target + ": watch refused: " +
                                                   pb.cancel_reason()));
            done = true;
            break;
          }
          ReportStart(Status::OK());
          *created = true;
        }
        if (pb.compact_revision() != 0) {
          ReportStart(Status::OK());
          Fail(Status::OutOfRange("etcd " + client->target + ": watch from revision " +
                                  std::to_string(next_revision) + ": it has been compacted (compact revision " +
                                  std::to_string(pb.compact_revision()) + ")"),
               pb.compact_revision());
          done = true;
          break;
        }
        if (pb.canceled()) {
          Fail(Status::Aborted("etcd " + client->target + ": watch cancelled by the server: " +
                               pb.cancel_reason()),
               0);
          done = true;
          break;
        }
        // One response may carry several revisions (catch-up batches); deliver one
        // WatchResponse per revision, skipping anything already delivered.
        int i = 0;
        const int n = pb.events_size();
        while (i < n && !done) {
          const int64_t revision = pb.events(i).kv().mod_revision();
          WatchResponse response;
          response.revision = revision;
          for (; i < n && pb.events(i).kv().mod_revision() == revision; ++i) {
            const mvccpb::Event& e = pb.events(i);
            WatchEvent event;
            event.type = e.type() == mvccpb::Event::DELETE ? EventType::kDelete : EventType::kPut;
            event.kv = FromPb(e.kv());
            if (e.has_prev_kv()) event.prev_kv = FromPb(e.prev_kv());
            response.events.push_back(std::move(event));
          }
          if (revision < next_revision) continue;
          if (IsCancelled()) {
            done = true;
            break;
          }
          next_revision = revision + 1;
          callback(response);
        }
        if (IsCancelled()) done = true;
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      this->context = nullptr;
    }
    if (done) context.TryCancel();  // stop a stream we no longer read
    *stream_status = stream->Finish();
    return done;
  }

  void Run() {
    // Watch() holds join_mu until thread_id is set; callbacks compare against it.
    { std::lock_guard<std::mutex> lock(join_mu); }
    auto backoff = client->options.watch_retry_min;
    while (!IsCancelled()) {
      grpc::Status stream_status;
      bool created = false;
      if (RunStream(&stream_status, &created)) break;
      if (created) backoff = client->options.watch_retry_min;
      if (IsCancelled()) break;
      Status status = FromGrpc(stream_status, *client, "watch");
      if (status.ok()) status = Status::Unavailable("etcd " + client->target + ": watch stream closed");
      {
        std::lock_guard<std::mutex> lock(mu);
        if (!started) {
          // The first attempt failed: Watch() reports it to the caller.
          started = true;
          start_status = status;
          cv.notify_all();
          return;
        }
      }
      TESSERA_LOG_WARN("etcd watch on '{}': stream broke ({}); resuming from revision {} in {} ms", key,
                       status.ToString(), next_revision, backoff.count());
      std::unique_lock<std::mutex> lock(mu);
      cv.wait_for(lock, backoff, [&] { return cancelled; });
      backoff = std::min(backoff * 2, client->options.watch_retry_max);
    }
    // Tell a still-waiting Watch() that we are done (cancelled before start).
    ReportStart(Status::Cancelled("etcd watch cancelled"));
  }
};

}  // namespace internal

namespace {

class EtcdWatchHandle final : public WatchHandle {
 public:
  explicit EtcdWatchHandle(std::shared_ptr<internal::EtcdWatchState> state) : state_(std::move(state)) {}
  ~EtcdWatchHandle() override {
    if (std::this_thread::get_id() == state_->thread_id) {
      // Destroyed from inside its own callback: the thread ends by itself after the call.
      {
        std::lock_guard<std::mutex> lock(state_->mu);
        state_->cancelled = true;
      }
      std::lock_guard<std::mutex> lock(state_->join_mu);
      if (state_->thread.joinable()) state_->thread.detach();
      return;
    }
    state_->Cancel();
  }
  void Cancel() override { state_->Cancel(); }

 private:
  std::shared_ptr<internal::EtcdWatchState> state_;
};

}  // namespace

// ---------------------------------------------------------------------------------------
// EtcdMetaStore

Result<std::unique_ptr<EtcdMetaStore>> EtcdMetaStore::Open(const std::vector<std::string>& endpoints,
                                                           const EtcdMetaStoreOptions& options) {
  TESSERA_ASSIGN_OR_RETURN(std::string target, TargetFor(endpoints));
  if (options.dial_timeout.count() <= 0 || options.request_timeout.count() <= 0) {
    return Status::InvalidArgument("etcd meta store: dial_timeout and request_timeout must be positive");
  }
  auto client = std::make_shared<EtcdClient>();
  client->target = target;
  client->options = options;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  // Reconnect quickly after an etcd restart (gRPC's defaults back off up to two minutes).
  // GRPC_ARG_MIN_RECONNECT_BACKOFF_MS is also the connection attempt timeout. etcd accepts
  // TCP connections on its client port a moment before it serves them (while it starts up),
  // and an attempt caught in that window waits for the HTTP/2 SETTINGS frame until this
  // timeout: gRPC's 20 s default would keep a restarted etcd unreachable that long. Much
  // below a second, attempts time out against a busy but healthy etcd.
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 2000);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // Our own connection and backoff state, not shared with other channels in the process.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // Detect a silently dead connection (etcd permits pings every 5 s by default).
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  if (target.rfind("ipv4:", 0) == 0) args.SetLoadBalancingPolicyName("pick_first");
  client->channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  if (!client->channel->WaitForConnected(std::chrono::system_clock::now() + options.dial_timeout)) {
    return Status::Unavailable("etcd " + target + ": not reachable within " +
                               std::to_string(options.dial_timeout.count()) + " ms");
  }
  client->kv = etcdserverpb::KV::NewStub(client->channel);
  client->watch = etcdserverpb::Watch::NewStub(client->channel);
  client->lease = etcdserverpb::Lease::NewStub(client->channel);
  return std::unique_ptr<EtcdMetaStore>(new EtcdMetaStore(std::move(client)));
}

EtcdMetaStore::EtcdMetaStore(std::shared_ptr<internal::EtcdClient> client) : client_(std::move(client)) {}

EtcdMetaStore::~EtcdMetaStore() {
  std::vector<std::weak_ptr<internal::EtcdWatchState>> watches;
  {
    std::lock_guard<std::mutex> lock(watches_mu_);
    watches.swap(watches_);
  }
  for (auto& weak : watches) {
    if (auto state = weak.lock()) state->Cancel();
  }
}

const std::string& EtcdMetaStore::target() const { return client_->target; }

Result<std::optional<KeyValue>> EtcdMetaStore::Get(std::string_view key) {
  TESSERA_RETURN_IF_ERROR(CheckKey(key, "get"));
  etcdserverpb::RangeRequest request;
  request.set_key(std::string(key));
  etcdserverpb::RangeResponse response;
  grpc::ClientContext ctx;
  client_->SetDeadline(ctx);
  TESSERA_RETURN_IF_ERROR(FromGrpc(client_->kv->Range(&ctx, request, &response), *client_, "get"));
  if (response.kvs_size() == 0) return std::optional<KeyValue>();
  return std::optional<KeyValue>(FromPb(response.kvs(0)));
}

Result<int64_t> EtcdMetaStore::Put(std::string_view key, std::string_view value, LeaseId lease) {
  TESSERA_RETURN_IF_ERROR(CheckKey(key, "put"));
  TESSERA_RETURN_IF_ERROR(CheckValue(key, value));
  etcdserverpb::PutRequest request;
  request.set_key(std::string(key));
  request.set_value(std::string(value));
  request.set_lease(static_cast<int64_t>(lease));
  etcdserverpb::PutResponse response;
  grpc::ClientContext ctx;
  client_->SetDeadline(ctx);
  TESSERA_RETURN_IF_ERROR(FromGrpc(client_->kv->Put(&ctx, request, &response), *client_, "put"));
  return response.header().revision();
}

Result<DeleteResult> EtcdMetaStore::Delete(std::string_view key) {
  TESSERA_RETURN_IF_ERROR(CheckKey(key, "delete"));
  etcdserverpb::DeleteRangeRequest request;
  request.set_key(std::string(key));
  etcdserverpb::DeleteRangeResponse response;
  grpc::ClientContext ctx;
  client_->SetDeadline(ctx);
  TESSERA_RETURN_IF_ERROR(FromGrpc(client_->kv->DeleteRange(&ctx, request, &response), *client_, "delete"));
  return DeleteResult{response.deleted(), response.header().revision()};
}

Result<RangeResult> EtcdMetaStore::Range(std::string_view prefix, int64_t limit) {
  if (limit < 0) return Status::InvalidArgument("etcd meta store: range: negative limit");
  if (prefix.size() > kMaxMetaKeySize) return CheckKey(prefix, "range");
  etcdserverpb::RangeRequest request;
  request.set_key(prefix.empty() ? std::string(1, '\0') : std::string(prefix));
  request.set_range_end(EtcdPrefixEnd(prefix));
  request.set_limit(limit);
  etcdserverpb::RangeResponse response;
  grpc::ClientContext ctx;
  client_->SetDeadline(ctx);
  TESSERA_RETURN_IF_ERROR(FromGrpc(client_->kv->Range(&ctx, request, &response), *client_, "range"));
  RangeResult result;
  result.kvs.reserve(response.kvs_size());
  for (const mvccpb::KeyValue& kv : response.kvs()) result.kvs.push_back(FromPb(kv));
  result.revision = response.header().revision();
  result.more = response.more();
  return result;
}

Result<TxnResult> EtcdMetaStore::Commit(const Txn& txn) {
  etcdserverpb::TxnRequest request;
  for (const Compare& c : txn.compares()) {
    TESSERA_RETURN_IF_ERROR(CheckKey(c.key, "txn"));
    etcdserverpb::Compare* compare = request.add_compare();
    compare->set_key(c.key);
    switch (c.target) {
      case Compare::Target::kModRevision:
        compare->set_target(etcdserverpb::Compare::MOD);
        compare->set_result(ToPb(c.op));
        compare->set_mod_revision(c.revision);
        break;
      case Compare::Target::kExists:
        compare->set_target(etcdserverpb::Compare::VERSION);
        compare->set_result(etcdserverpb::Compare::GREATER);
        compare->set_version(0);
        break;
      case Compare::Target::kNotExists:
        compare->set_target(etcdserverpb::Compare::VERSION);
        compare->set_result(etcdserverpb::Compare::EQUAL);
        compare->set_version(0);
        break;
      case Compare::Target::kValue:
        compare->set_target(etcdserverpb::Compare::VALUE);
        compare->set_result(ToPb(c.op));
        compare->set_value(c.value);
        break;
    }
  }
  TESSERA_RETURN_IF_ERROR(CheckBranch(txn.success()));
  TESSERA_RETURN_IF_ERROR(CheckBranch(txn.failure()));
  AddOps(txn.success(), request.mutable_success());
  AddOps(txn.failure(), request.mutable_failure());
  etcdserverpb::TxnResponse response;
  grpc::ClientContext ctx;
  client_->SetDeadline(ctx);
  TESSERA_RETURN_IF_ERROR(FromGrpc(client_->kv->Txn(&ctx, request, &response), *client_, "txn"));
  return TxnResult{response.succeeded(), response.header().revision()};
}

Result<std::unique_ptr<WatchHandle>> EtcdMetaStore::Watch(std::string_view prefix, int64_t from_revision,
                                                          WatchCallback callback) {
  if (from_revision < 0) return Status::InvalidArgument("etcd meta store: negative watch revision");
  if (prefix.size() > kMaxMetaKeySize) return CheckKey(prefix, "watch");
  auto state = std::make_shared<internal::EtcdWatchState>();
  state->client = client_;
  state->key = prefix.empty() ? std::string(1, '\0') : std::string(prefix);
  state->range_end = EtcdPrefixEnd(prefix);
  state->callback = std::move(callback);

  // Pin the start revision before the stream exists, so that resuming after a reconnect is
  // exact ("after now" becomes "from the current revision + 1"), and report a compacted start
  // revision synchronously (etcd itself would only cancel the watch later, asynchronously).
  {
    etcdserverpb::RangeRequest request;
    request.set_key(state->key);
    request.set_range_end(state->range_end);
    request.set_limit(1);
    request.set_count_only(true);
    request.set_revision(from_revision);
    etcdserverpb::RangeResponse response;
    grpc::ClientContext ctx;
    client_->SetDeadline(ctx);
    grpc::Status status = client_->kv->Range(&ctx, request, &response);
    if (!status.ok()) {
      Status our = FromGrpc(status, *client_, "watch from revision " + std::to_string(from_revision));
      // A future start revision is fine: the watch waits for it.
      const bool future = our.code() == StatusCode::kOutOfRange &&
                          status.error_message().find("future") != std::string::npos;
      if (!future) return our;
    }
    state->next_revision = from_revision == 0 ? response.header().revision() + 1 : from_revision;
  }

  {
    std::lock_guard<std::mutex> lock(state->join_mu);
    state->thread = std::thread([state] { state->Run(); });
    state->thread_id = state->thread.get_id();
  }
  auto handle = std::make_unique<EtcdWatchHandle>(state);
  {
    std::unique_lock<std::mutex> lock(state->mu);
    const bool started =
        state->cv.wait_for(lock, client_->options.request_timeout, [&] { return state->started; });
    if (!started || !state->start_status.ok()) {
      Status status = started ? state->start_status
                              : Status::DeadlineExceeded("etcd " + client_->target +
                                                         ": watch not created within the request timeout");
      lock.unlock();
      handle.reset();  // cancels and joins
      return status;
    }
  }
  {
    std::lock_guard<std::mutex> lock(watches_mu_);
    std::erase_if(watches_, [](const auto& weak) { return weak.expired(); });
    watches_.push_back(state);
  }
  return std::unique_ptr<WatchHandle>(std::move(handle));
}

Result<LeaseId> EtcdMetaStore::Grant(std::chrono::milliseconds ttl) {
  if (ttl.count() <= 0) return Status::InvalidArgument("etcd meta store: grant: TTL must be positive");
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl((ttl.count() + 999) / 1000);
  etcdserverpb::LeaseGrantResponse response;
  grpc::ClientContext ctx;
  client_->SetDeadline(ctx);
  TESSERA_RETURN_IF_ERROR(FromGrpc(client_->lease->LeaseGrant(&ctx, request, &response), *client_, "grant"));
  if (!response.error().empty()) {
    return Status::Unknown("etcd " + client_->target + ": grant: " + response.error());
  }
  return LeaseId{response.id()};
}

Status EtcdMetaStore::KeepAlive(LeaseId lease) {
  const std::string op = "keep-alive of lease " + std::to_string(static_cast<int64_t>(lease));
  grpc::ClientContext ctx;
  client_->SetDeadline(ctx);
  auto stream = client_->lease->LeaseKeepAlive(&ctx);
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(static_cast<int64_t>(lease));
  etcdserverpb::LeaseKeepAliveResponse response;
  const bool ok = stream->Write(request) && stream->Read(&response);
  if (ok) stream->WritesDone();
  grpc::Status status = stream->Finish();
  if (!ok) {
    if (status.ok()) status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream closed without a response");
    return FromGrpc(status, *client_, op);
  }
  if (response.ttl() <= 0) return Status::NotFound("etcd " + client_->target + ": " + op + ": lease not found");
  return Status::OK();
}

Status EtcdMetaStore::Revoke(LeaseId lease) {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(static_cast<int64_t>(lease));
  etcdserverpb::LeaseRevokeResponse response;
  grpc::ClientContext ctx;
  client_->SetDeadline(ctx);
  return FromGrpc(client_->lease->LeaseRevoke(&ctx, request, &response), *client_,
                  "revoke of lease " + std::to_string(static_cast<int64_t>(lease)));
}

Result<std::chrono::milliseconds> EtcdMetaStore::TimeToLive(LeaseId lease) {
  const std::string op = "time-to-live of lease " + std::to_string(static_cast<int64_t>(lease));
  etcdserverpb::LeaseTimeToLiveRequest request;
  request.set_id(static_cast<int64_t>(lease));
  etcdserverpb::LeaseTimeToLiveResponse response;
  grpc::ClientContext ctx;
  client_->SetDeadline(ctx);
  TESSERA_RETURN_IF_ERROR(FromGrpc(client_->lease->LeaseTimeToLive(&ctx, request, &response), *client_, op));
  // etcd answers an unknown lease with TTL -1 rather than an error.
  if (response.ttl() < 0) return Status::NotFound("etcd " + client_->target + ": " + op + ": lease not found");
  return std::chrono::milliseconds(response.ttl() * 1000);
}

Status EtcdMetaStore::Compact(int64_t revision) {
  etcdserverpb::CompactionRequest request;
  request.set_revision(revision);
  etcdserverpb::CompactionResponse response;
  grpc::ClientContext ctx;
  client_->SetDeadline(ctx);
  grpc::Status status = client_->kv->Compact(&ctx, request, &response);
  // Compacting to or below the current compaction point is a no-op in our contract.
  if (!status.ok() && status.error_message().find("compacted") != std::string::npos) return Status::OK();
  return FromGrpc(status, *client_, "compact to revision " + std::to_string(revision));
}

Result<int64_t> EtcdMetaStore::CurrentRevision() {
  etcdserverpb::RangeRequest request;
  request.set_key(std::string(1, '\0'));
  request.set_count_only(true);
  etcdserverpb::RangeResponse response;
  grpc::ClientContext ctx;
  client_->SetDeadline(ctx);
  TESSERA_RETURN_IF_ERROR(FromGrpc(client_->kv->Range(&ctx, request, &response), *client_, "current revision"));
  return response.header().revision();
}

}  // namespace tessera::storage
