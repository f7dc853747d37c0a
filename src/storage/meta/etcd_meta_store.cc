#include "storage/meta/etcd_meta_store.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <set>
#include <thread>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "common/logging.h"
#include "etcd/rpc.grpc.pb.h"
#include "storage/meta/etcd_channel.h"

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
  std::unique_ptr<etcdserverpb::Auth::Stub> auth;

  std::mutex auth_mu;  // serializes Authenticate calls (held across the RPC)
  std::mutex token_mu;
  std::string token;  // the current auth token ("" without auth); guarded by token_mu
  std::atomic<int64_t> authentications{0};

  bool auth_enabled() const { return !options.username.empty(); }

  void SetDeadline(grpc::ClientContext& ctx) const {
    ctx.set_deadline(std::chrono::system_clock::now() + options.request_timeout);
  }

  /// Adds the auth token (if any) as the "token" metadata etcd reads; returns the token used,
  /// to hand to Reauthenticate if etcd refuses it.
  std::string AddToken(grpc::ClientContext& ctx) {
    if (!auth_enabled()) return {};
    std::lock_guard<std::mutex> lock(token_mu);
    ctx.AddMetadata("token", token);
    return token;
  }

  std::string CurrentToken() {
    std::lock_guard<std::mutex> lock(token_mu);
    return token;
  }

  /// Calls Auth.Authenticate and stores the new token. kPermissionDenied naming the user when
  /// etcd refuses the credentials; other failures as FromGrpc maps them.
  Status Authenticate();

  /// Authenticates again unless another thread already replaced `stale` meanwhile.
  Status Reauthenticate(const std::string& stale) {
    std::lock_guard<std::mutex> lock(auth_mu);
    {
      std::lock_guard<std::mutex> token_lock(token_mu);
      if (token != stale) return Status::OK();
    }
    TESSERA_LOG_INFO("etcd {}: token refused; authenticating again as user '{}'", target, options.username);
    return AuthenticateLocked();
  }

 private:
  Status AuthenticateLocked();  // requires auth_mu
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
  // etcd requires authentication but the request carried no token.
  if (status.error_message().find("user name is empty") != std::string::npos) {
    return Status(StatusCode::kUnauthenticated,
                  message + " (etcd requires authentication: configure a username and password)");
  }
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

// Whether etcd refused a request because of its auth token: expired or unknown (etcd
// restarted; simple tokens live in memory), an auth store that changed under it, or no token.
bool IsStaleTokenMessage(std::string_view m) {
  return m.find("invalid auth token") != std::string::npos ||
         m.find("revision of auth store is old") != std::string::npos ||
         m.find("user name is empty") != std::string::npos;
}

bool IsStaleToken(const grpc::Status& status) {
  return !status.ok() && IsStaleTokenMessage(status.error_message());
}

// Runs one unary RPC, `call(ctx)`, with the request deadline and the auth token. When etcd
// refuses the token, authenticates again and retries once; the result is mapped by FromGrpc.
template <typename Call>
Status Invoke(EtcdClient& client, std::string_view operation, Call&& call) {
  for (int attempt = 0;; ++attempt) {
    grpc::ClientContext ctx;
    client.SetDeadline(ctx);
    const std::string token = client.AddToken(ctx);
    const grpc::Status status = call(ctx);
    if (attempt == 0 && client.auth_enabled() && IsStaleToken(status)) {
      TESSERA_RETURN_IF_ERROR(client.Reauthenticate(token));
      continue;
    }
    return FromGrpc(status, client, operation);
  }
}

}  // namespace

namespace internal {

Status EtcdClient::Authenticate() {
  std::lock_guard<std::mutex> lock(auth_mu);
  return AuthenticateLocked();
}

Status EtcdClient::AuthenticateLocked() {
  etcdserverpb::AuthenticateRequest request;
  request.set_name(options.username);
  request.set_password(options.password);
  etcdserverpb::AuthenticateResponse response;
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  const grpc::Status status = auth->Authenticate(&ctx, request, &response);
  authentications.fetch_add(1, std::memory_order_relaxed);
  const std::string operation = "authenticate as user '" + options.username + "'";
  if (!status.ok()) {
    // etcd answers a wrong user or password with INVALID_ARGUMENT "authentication failed".
    if (status.error_message().find("authentication failed") != std::string::npos) {
      return Status::PermissionDenied("etcd " + target + ": " + operation + ": " + status.error_message() +
                                      " (check the username and password)");
    }
    return FromGrpc(status, *this, operation);
  }
  std::lock_guard<std::mutex> token_lock(token_mu);
  token = response.token();
  return Status::OK();
}

}  // namespace internal

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
  // `*refused_token` is set (and false returned) when etcd refused to create the watch for its
  // token while authentication is on (etcd reports that in the cancel reason of the creation
  // response, e.g. "invalid auth token"), so the caller authenticates again and retries once.
  bool RunStream(grpc::Status* stream_status, bool* created, std::string* refused_token) {
    grpc::ClientContext context;
    const std::string token = client->AddToken(context);
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
    bool refused_now = false;  // refused for the token: etcd keeps the stream open, we end it
    if (stream->Write(request)) {
      etcdserverpb::WatchResponse pb;
      while (!done && stream->Read(&pb)) {
        if (pb.created()) {
          if (pb.canceled()) {
            const bool denied = pb.cancel_reason().find("permission denied") != std::string::npos;
            const bool stale = IsStaleTokenMessage(pb.cancel_reason());
            if ((denied || stale) && client->auth_enabled() && refused_token->empty()) {
              *refused_token = token;  // maybe just an expired token: the caller re-authenticates
              refused_now = true;
              TESSERA_LOG_INFO("etcd watch on '{}': refused ({}); authenticating again", key, pb.cancel_reason());
              break;
            }
            const std::string message = "etcd " + client->target + ": watch on '" + key +
                                        "' refused: " + pb.cancel_reason() +
                                        (client->auth_enabled() ? " (user '" + client->options.username + "')" : "");
            Status refused = denied  ? Status::PermissionDenied(message)
                             : stale ? Status(StatusCode::kUnauthenticated, message)
                                     : Status::FailedPrecondition(message);
            bool was_started;
            {
              std::lock_guard<std::mutex> lock(mu);
              was_started = started;
            }
            if (was_started) {
              Fail(refused, 0);  // a resumed watch: its end must be visible to the callback
            } else {
              ReportStart(refused);
            }
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
    if (done || refused_now) context.TryCancel();  // stop a stream we no longer read
    *stream_status = stream->Finish();
    return done;
  }

  void Run() {
    // Watch() holds join_mu until thread_id is set; callbacks compare against it.
    { std::lock_guard<std::mutex> lock(join_mu); }
    auto backoff = client->options.watch_retry_min;
    std::string refused_token;  // non-empty: the last attempt was refused with this token
    while (!IsCancelled()) {
      grpc::Status stream_status;
      bool created = false;
      const bool retried_auth = !refused_token.empty();
      if (RunStream(&stream_status, &created, &refused_token)) break;
      if (created) {
        backoff = client->options.watch_retry_min;
        refused_token.clear();
      }
      if (IsCancelled()) break;
      Status status;
      if (!refused_token.empty() && !retried_auth) {
        // Refused (or the stream failed) for its token: authenticate again and retry at once.
        status = client->Reauthenticate(refused_token);
        if (status.ok()) continue;
        refused_token.clear();
      } else if (client->auth_enabled() && IsStaleToken(stream_status) && !retried_auth) {
        refused_token = client->CurrentToken();
        status = client->Reauthenticate(refused_token);
        if (status.ok()) continue;
        refused_token.clear();
      } else {
        refused_token.clear();
        status = FromGrpc(stream_status, *client, "watch");
      }
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
  TESSERA_ASSIGN_OR_RETURN(internal::EtcdTarget parsed, internal::ParseEtcdEndpoints(endpoints));
  const std::string& target = parsed.target;
  if (options.dial_timeout.count() <= 0 || options.request_timeout.count() <= 0) {
    return Status::InvalidArgument("etcd meta store: dial_timeout and request_timeout must be positive");
  }
  if (options.username.empty() && !options.password.empty()) {
    return Status::InvalidArgument("etcd meta store: a password is configured without a username");
  }
  TESSERA_ASSIGN_OR_RETURN(auto credentials, internal::EtcdChannelCredentials(parsed, options));
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
  client->channel = grpc::CreateCustomChannel(target, credentials, args);
  client->kv = etcdserverpb::KV::NewStub(client->channel);
  client->watch = etcdserverpb::Watch::NewStub(client->channel);
  client->lease = etcdserverpb::Lease::NewStub(client->channel);
  client->auth = etcdserverpb::Auth::NewStub(client->channel);
  if (!client->channel->WaitForConnected(std::chrono::system_clock::now() + options.dial_timeout)) {
    // WaitForConnected does not say why; a fail-fast RPC on the failed channel carries gRPC's
    // last connection error (refused, TLS handshake and certificate errors).
    etcdserverpb::RangeRequest probe;
    probe.set_key(std::string(1, '\0'));
    probe.set_count_only(true);
    etcdserverpb::RangeResponse ignored;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    const grpc::Status why = client->kv->Range(&ctx, probe, &ignored);
    std::string detail = why.ok() ? "" : ": " + why.error_message();
    if (parsed.tls && detail.find("Connection refused") == std::string::npos) {
      detail += " (TLS: check that the CA file (" +
                (options.ca_file.empty() ? std::string("system roots") : options.ca_file) +
                ") signed etcd's certificate and that etcd accepts the client certificate)";
    }
    return Status::Unavailable("etcd " + target + ": not reachable within " +
                               std::to_string(options.dial_timeout.count()) + " ms" + detail);
  }
  if (client->auth_enabled()) TESSERA_RETURN_IF_ERROR(client->Authenticate());
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

int64_t EtcdMetaStore::authentications() const {
  return client_->authentications.load(std::memory_order_relaxed);
}

Result<std::optional<KeyValue>> EtcdMetaStore::Get(std::string_view key) {
  TESSERA_RETURN_IF_ERROR(CheckKey(key, "get"));
  etcdserverpb::RangeRequest request;
  request.set_key(std::string(key));
  etcdserverpb::RangeResponse response;
  TESSERA_RETURN_IF_ERROR(Invoke(*client_, "get", [&](grpc::ClientContext& ctx) {
    return client_->kv->Range(&ctx, request, &response);
  }));
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
  TESSERA_RETURN_IF_ERROR(Invoke(*client_, "put", [&](grpc::ClientContext& ctx) {
    return client_->kv->Put(&ctx, request, &response);
  }));
  return response.header().revision();
}

Result<DeleteResult> EtcdMetaStore::Delete(std::string_view key) {
  TESSERA_RETURN_IF_ERROR(CheckKey(key, "delete"));
  etcdserverpb::DeleteRangeRequest request;
  request.set_key(std::string(key));
  etcdserverpb::DeleteRangeResponse response;
  TESSERA_RETURN_IF_ERROR(Invoke(*client_, "delete", [&](grpc::ClientContext& ctx) {
    return client_->kv->DeleteRange(&ctx, request, &response);
  }));
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
  TESSERA_RETURN_IF_ERROR(Invoke(*client_, "range", [&](grpc::ClientContext& ctx) {
    return client_->kv->Range(&ctx, request, &response);
  }));
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
  TESSERA_RETURN_IF_ERROR(Invoke(*client_, "txn", [&](grpc::ClientContext& ctx) {
    return client_->kv->Txn(&ctx, request, &response);
  }));
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
    Status status = Invoke(*client_, "watch from revision " + std::to_string(from_revision),
                           [&](grpc::ClientContext& ctx) { return client_->kv->Range(&ctx, request, &response); });
    if (!status.ok()) {
      // A future start revision is fine: the watch waits for it.
      const bool future = status.code() == StatusCode::kOutOfRange &&
                          status.message().find("future") != std::string::npos;
      if (!future) return status;
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
  TESSERA_RETURN_IF_ERROR(Invoke(*client_, "grant", [&](grpc::ClientContext& ctx) {
    return client_->lease->LeaseGrant(&ctx, request, &response);
  }));
  if (!response.error().empty()) {
    return Status::Unknown("etcd " + client_->target + ": grant: " + response.error());
  }
  return LeaseId{response.id()};
}

Status EtcdMetaStore::KeepAlive(LeaseId lease) {
  const std::string op = "keep-alive of lease " + std::to_string(static_cast<int64_t>(lease));
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(static_cast<int64_t>(lease));
  etcdserverpb::LeaseKeepAliveResponse response;
  TESSERA_RETURN_IF_ERROR(Invoke(*client_, op, [&](grpc::ClientContext& ctx) {
    auto stream = client_->lease->LeaseKeepAlive(&ctx);
    const bool ok = stream->Write(request) && stream->Read(&response);
    if (ok) stream->WritesDone();
    grpc::Status status = stream->Finish();
    if (!ok && status.ok()) status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream closed without a response");
    return status;
  }));
  if (response.ttl() <= 0) return Status::NotFound("etcd " + client_->target + ": " + op + ": lease not found");
  return Status::OK();
}

Status EtcdMetaStore::Revoke(LeaseId lease) {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(static_cast<int64_t>(lease));
  etcdserverpb::LeaseRevokeResponse response;
  return Invoke(*client_, "revoke of lease " + std::to_string(static_cast<int64_t>(lease)),
                [&](grpc::ClientContext& ctx) { return client_->lease->LeaseRevoke(&ctx, request, &response); });
}

Result<std::chrono::milliseconds> EtcdMetaStore::TimeToLive(LeaseId lease) {
  const std::string op = "time-to-live of lease " + std::to_string(static_cast<int64_t>(lease));
  etcdserverpb::LeaseTimeToLiveRequest request;
  request.set_id(static_cast<int64_t>(lease));
  etcdserverpb::LeaseTimeToLiveResponse response;
  TESSERA_RETURN_IF_ERROR(Invoke(*client_, op, [&](grpc::ClientContext& ctx) {
    return client_->lease->LeaseTimeToLive(&ctx, request, &response);
  }));
  // etcd answers an unknown lease with TTL -1 rather than an error.
  if (response.ttl() < 0) return Status::NotFound("etcd " + client_->target + ": " + op + ": lease not found");
  return std::chrono::milliseconds(response.ttl() * 1000);
}

Status EtcdMetaStore::Compact(int64_t revision) {
  etcdserverpb::CompactionRequest request;
  request.set_revision(revision);
  etcdserverpb::CompactionResponse response;
  Status status = Invoke(*client_, "compact to revision " + std::to_string(revision),
                         [&](grpc::ClientContext& ctx) { return client_->kv->Compact(&ctx, request, &response); });
  // Compacting to or below the current compaction point is a no-op in our contract.
  if (!status.ok() && status.message().find("has been compacted") != std::string::npos) return Status::OK();
  return status;
}

Result<int64_t> EtcdMetaStore::CurrentRevision() {
  etcdserverpb::RangeRequest request;
  request.set_key(std::string(1, '\0'));
  request.set_count_only(true);
  etcdserverpb::RangeResponse response;
  TESSERA_RETURN_IF_ERROR(Invoke(*client_, "current revision", [&](grpc::ClientContext& ctx) {
    return client_->kv->Range(&ctx, request, &response);
  }));
  return response.header().revision();
}

}  // namespace tessera::storage
