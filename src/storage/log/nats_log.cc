#include "storage/log/nats_log.h"

#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <chrono>
#include <string>
#include <thread>
#include <utility>

#include "storage/log/nats_security.h"

namespace tessera::storage {

namespace {

using Clock = std::chrono::steady_clock;

// Room left in a message for the headers we add (Nats-Msg-Id with a 255-byte key in hex,
// Nats-Expected-Last-Sequence) when checking a record against the server's max_payload.
constexpr int64_t kHeaderAllowance = 1024;
// Longest single wait inside Subscription::Poll, so Cancel is noticed promptly.
constexpr int64_t kPollSliceMs = 50;
// Attempts of an Append whose first record met a foreign writer (stale expected sequence).
constexpr int kForeignWriterRetries = 5;
// Publishes of one batch that no stream answered, tried again after 20, 40, ... ms.
constexpr int kUnansweredRetries = 5;

std::string NatsText(natsStatus s) {
  std::string text = natsStatus_GetText(s);
  const char* last = nats_GetLastError(nullptr);
  if (last != nullptr && *last != '\0' && text != last) {
    text += " (";
    text += last;
    text += ")";
  }
  return text;
}

bool IsConnectionTrouble(natsStatus s) {
  switch (s) {
    case NATS_TIMEOUT:
    case NATS_NO_SERVER:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_STALE_CONNECTION:
    case NATS_IO_ERROR:
    case NATS_NO_RESPONDERS:
    case NATS_SLOW_CONSUMER:
    case NATS_MISSED_HEARTBEAT:
      return true;
    default:
      return false;
  }
}

// Maps a libnats failure to a Status. `what` says which call on which channel failed.
Status FromNats(natsStatus s, jsErrCode err, const std::string& what) {
  std::string msg = what + ": " + NatsText(s);
  if (err != 0) msg += " [JetStream error " + std::to_string(static_cast<int>(err)) + "]";
  if (err == JSStreamNotFoundErr) return Status::NotFound(msg);
  if (err == JSStreamWrongLastSequenceErr) return Status::Aborted(msg);
  if (err == JSNotEnabledErr || err == JSNotEnabledForAccountErr) {
    return Status::FailedPrecondition(msg + "; JetStream is not enabled on the NATS server (start it with -js)");
  }
  if (IsConnectionTrouble(s)) return Status::Unavailable(msg);
  if (s == NATS_MAX_PAYLOAD) return Status::InvalidArgument(msg);
  if (s == NATS_NO_MEMORY) return Status::ResourceExhausted(msg);
  if (s == NATS_CONNECTION_AUTH_FAILED || s == NATS_NOT_PERMITTED) return Status::PermissionDenied(msg);
  return Status::Internal(msg);
}

bool IsStreamNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// Nats-Msg-Id of record `index` of a batch with idempotency key `key`. Keys of printable
// ASCII are used as they are ("k:" prefix); any other key is hex-encoded ("x:" prefix), so
// header syntax is never broken and distinct keys never share an id.
std::string MsgIdFor(std::string_view key, size_t index) {
  const bool plain = std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  std::string id;
  if (plain) {
    id = "k:";
    id += key;
  } else {
    static constexpr char kHex[] = "0123456789abcdef";
    id = "x:";
    for (char c : key) {
      id += kHex[static_cast<unsigned char>(c) >> 4];
      id += kHex[static_cast<unsigned char>(c) & 0xf];
    }
  }
  id += '/';
  id += std::to_string(index);
  return id;
}

}  // namespace

std::string EscapeChannelName(std::string_view channel) {
  std::string out(channel);
  std::replace(out.begin(), out.end(), '.', '~');
  return out;
}

std::optional<std::string> UnescapeChannelName(std::string_view escaped) {
  if (escaped.find('.') != std::string_view::npos) return std::nullopt;
  std::string out(escaped);
  std::replace(out.begin(), out.end(), '~', '.');
  if (!ValidateChannelName(out).ok()) return std::nullopt;
  return out;
}

/// The connection and JetStream context, shared by the log and its subscriptions so a
/// Subscription may outlive the log. Closed by the log's destructor, freed by the last owner.
struct NatsLog::Connection {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  std::string url;

  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    if (js != nullptr) jsCtx_Destroy(js);
    if (nc != nullptr) {
      natsConnection_Close(nc);
      natsConnection_Destroy(nc);
    }
  }
};

/// In-process state of one channel. `mu` serializes Appends (and stream creation);
/// `ready` and `last_seq` are guarded by it: ready means the stream is known to exist and
/// last_seq is the stream's last sequence as far as this process knows.
struct NatsLog::Channel {
  std::string name;
  std::string stream;
  std::string subject;
  std::mutex mu;
  bool ready = false;
  uint64_t last_seq = 0;
};

struct NatsLog::SubState {
  std::atomic<bool> cancelled{false};
};

/// An ordered JetStream consumer (ephemeral, flow-controlled, recreated by libnats after a
/// reconnect) starting at the subscription's stream sequence. Verifies that stream
/// sequences arrive without gaps: a gap means the records were purged (kOutOfRange).
class NatsLog::NatsSubscription final : public Subscription {
 public:
  NatsSubscription(std::shared_ptr<Connection> connection, std::shared_ptr<SubState> state,
                   natsSubscription* sub, std::string channel, uint64_t from_offset)
      : connection_(std::move(connection)),
        state_(std::move(state)),
        sub_(sub),
        channel_(std::move(channel)),
        next_offset_(from_offset) {}

  ~NatsSubscription() override {
    // Unsubscribing deletes the ephemeral consumer; it fails harmlessly once closed.
    natsSubscription_Unsubscribe(sub_);
    natsSubscription_Destroy(sub_);
  }

  Result<std::vector<LogRecord>> Poll(size_t max_records, std::chrono::milliseconds timeout) override {
    if (state_->cancelled.load()) return CancelledStatus();
    if (!sticky_.ok()) return sticky_;
    if (max_records == 0) max_records = 1;
    const Clock::time_point deadline = Clock::now() + timeout;
    std::vector<LogRecord> out;
    while (true) {
      int64_t wait_ms = 0;
      if (out.empty()) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        wait_ms = std::clamp<int64_t>(left, 0, kPollSliceMs);
      }
      natsMsg* msg = nullptr;
      const natsStatus s = natsSubscription_NextMsg(&msg, sub_, wait_ms);
      if (s == NATS_TIMEOUT || s == NATS_MISSED_HEARTBEAT || s == NATS_SLOW_CONSUMER) {
        // Missed heartbeats and drops are repaired by the ordered consumer (it recreates
        // itself at the next expected sequence); keep waiting.
        if (!out.empty()) return out;
        if (state_->cancelled.load()) return CancelledStatus();
        if (Clock::now() >= deadline) return out;
        continue;
      }
      if (s != NATS_OK) {
        if (state_->cancelled.load()) return CancelledStatus();
        if (!out.empty()) return out;
        return FromNats(s, static_cast<jsErrCode>(0), "reading channel \"" + channel_ + "\" at offset " + std::to_string(next_offset_));
      }
      const uint64_t seq = natsMsg_GetSequence(msg);
      uint64_t stream_seq = seq;
      jsMsgMetaData* meta = nullptr;
      if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
        stream_seq = meta->Sequence.Stream;
        jsMsgMetaData_Destroy(meta);
      }
      if (stream_seq == 0) {
        natsMsg_Destroy(msg);
        sticky_ = Status::DataLoss("channel \"" + channel_ + "\": message without a stream sequence at offset " +
                                   std::to_string(next_offset_));
        if (!out.empty()) return out;
        return sticky_;
      }
      const uint64_t offset = stream_seq - 1;
      if (offset < next_offset_) {  // redelivery after the consumer was recreated
        natsMsg_Destroy(msg);
        continue;
      }
      if (offset > next_offset_) {
        natsMsg_Destroy(msg);
        sticky_ = Status::OutOfRange("channel \"" + channel_ + "\": records from offset " +
                                     std::to_string(next_offset_) + " to " + std::to_string(offset - 1) +
                                     " were truncated before this subscription read them");
        if (!out.empty()) return out;
        return sticky_;
      }
      const char* data = natsMsg_GetData(msg);
      const int len = natsMsg_GetDataLength(msg);
      out.push_back(LogRecord{offset, std::string(data == nullptr ? "" : data, static_cast<size_t>(len))});
      natsMsg_Destroy(msg);
      ++next_offset_;
      if (out.size() >= max_records) return out;
    }
  }

  void Cancel() override { state_->cancelled.store(true); }

  uint64_t position() const override { return next_offset_; }

 private:
  Status CancelledStatus() const {
    return Status::Cancelled("subscription to channel \"" + channel_ + "\" was cancelled or its log closed");
  }

  const std::shared_ptr<Connection> connection_;
  const std::shared_ptr<SubState> state_;
  natsSubscription* const sub_;
  const std::string channel_;
  uint64_t next_offset_;
  Status sticky_;  // OutOfRange / DataLoss, returned by every later Poll
};

Result<std::unique_ptr<NatsLog>> NatsLog::Open(NatsLogOptions options) {
  if (options.url.empty()) return Status::InvalidArgument("NatsLog: no server URL (config log.url)");
  if (options.replicas < 1 || options.replicas > 5) {
    return Status::InvalidArgument("NatsLog: replicas must be 1..5, not " + std::to_string(options.replicas));
  }
  if (options.stream_prefix.empty() ||
      !std::all_of(options.stream_prefix.begin(), options.stream_prefix.end(), IsStreamNameChar)) {
    return Status::InvalidArgument("NatsLog: stream_prefix \"" + options.stream_prefix +
                                   "\" must be non-empty [A-Za-z0-9_-]");
  }
  {
    const std::string& sp = options.subject_prefix;
    bool ok = !sp.empty() && sp.front() != '.' && sp.back() != '.' && sp.find("..") == std::string::npos;
    for (char c : sp) ok = ok && (IsStreamNameChar(c) || c == '.');
    if (!ok) {
      return Status::InvalidArgument("NatsLog: subject_prefix \"" + sp +
                                     "\" must be dot-separated non-empty tokens of [A-Za-z0-9_-]");
    }
  }

  TESSERA_RETURN_IF_ERROR(internal::ValidateNatsSecurity(options));

  std::vector<std::string> urls;
  for (size_t pos = 0; pos <= options.url.size();) {
    const size_t comma = std::min(options.url.find(',', pos), options.url.size());
    if (comma > pos) urls.push_back(options.url.substr(pos, comma - pos));
    pos = comma + 1;
  }
  std::vector<const char*> url_ptrs;
  for (const auto& u : urls) url_ptrs.push_back(u.c_str());

  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK) s = natsOptions_SetServers(opts, url_ptrs.data(), static_cast<int>(url_ptrs.size()));
  if (s == NATS_OK) s = natsOptions_SetName(opts, "tessera-wal");
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts, options.connect_timeout.count());
  if (s == NATS_OK) s = natsOptions_SetAllowReconnect(opts, true);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, options.max_reconnect);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, options.reconnect_wait.count());
  if (s == NATS_OK) s = natsOptions_SetRetryOnFailedConnect(opts, false, nullptr, nullptr);
  if (s == NATS_OK) s = natsOptions_SetPingInterval(opts, 5000);
  if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(opts, 2);
  if (s != NATS_OK) {
    natsOptions_Destroy(opts);
    return FromNats(s, static_cast<jsErrCode>(0), "NatsLog: setting connection options for " + options.url);
  }
  if (Status secured = internal::ApplyNatsSecurity(options, opts); !secured.ok()) {
    natsOptions_Destroy(opts);
    return secured;
  }
  auto connection = std::make_shared<Connection>();
  connection->url = options.url;
  s = natsConnection_Connect(&connection->nc, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) {
    connection->nc = nullptr;
    if (Status secure = internal::NatsConnectSecurityError(options, s, NatsText(s)); !secure.ok()) return secure;
    return Status::Unavailable("NatsLog: cannot connect to NATS at " + options.url + " (connect timeout " +
                               std::to_string(options.connect_timeout.count()) + " ms): " + NatsText(s));
  }
  jsOptions js_opts;
  jsOptions_Init(&js_opts);
  js_opts.Wait = options.request_timeout.count();
  s = natsConnection_JetStream(&connection->js, connection->nc, &js_opts);
  if (s != NATS_OK) return FromNats(s, static_cast<jsErrCode>(0), "NatsLog: JetStream context on " + options.url);

  jsAccountInfo* info = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  s = js_GetAccountInfo(&info, connection->js, nullptr, &err);
  if (info != nullptr) jsAccountInfo_Destroy(info);
  if (s == NATS_NO_RESPONDERS || err == JSNotEnabledErr || err == JSNotEnabledForAccountErr) {
    return Status::FailedPrecondition("NatsLog: JetStream is not enabled on the NATS server at " + options.url +
                                      " (" + NatsText(s) +
                                      "); start nats-server with -js or a jetstream {} block, and give the "
                                      "account JetStream limits");
  }
  if (s != NATS_OK) return FromNats(s, err, "NatsLog: JetStream account info from " + options.url);
  return std::unique_ptr<NatsLog>(new NatsLog(std::move(options), std::move(connection)));
}

NatsLog::NatsLog(NatsLogOptions options, std::shared_ptr<Connection> connection)
    : options_(std::move(options)), connection_(std::move(connection)) {}

NatsLog::~NatsLog() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& weak : subscriptions_) {
    if (auto state = weak.lock()) state->cancelled.store(true);
  }
  // Subscriptions still hold the Connection; closing it now releases the server side.
  natsConnection_Close(connection_->nc);
}

std::string NatsLog::StreamName(std::string_view channel) const {
  return options_.stream_prefix + EscapeChannelName(channel);
}

std::string NatsLog::SubjectName(std::string_view channel) const {
  return options_.subject_prefix + "." + EscapeChannelName(channel);
}

Result<std::shared_ptr<NatsLog::Channel>> NatsLog::GetChannel(std::string_view name, bool create) {
  std::shared_ptr<Channel> channel;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = channels_.find(name);
    if (it == channels_.end()) {
      auto made = std::make_shared<Channel>();
      made->name = std::string(name);
      made->stream = StreamName(name);
      made->subject = SubjectName(name);
      it = channels_.emplace(made->name, made).first;
    }
    channel = it->second;
  }
  if (!create) return channel;
  std::lock_guard<std::mutex> lock(channel->mu);
  if (channel->ready) return channel;
  TESSERA_ASSIGN_OR_RETURN(std::optional<StreamState> state, GetStreamState(name));
  if (!state) {
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char* subjects[1] = {channel->subject.c_str()};
    cfg.Name = channel->stream.c_str();
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Retention = js_LimitsPolicy;
    cfg.Replicas = options_.replicas;
    cfg.Duplicates = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.duplicate_window).count();
    cfg.DenyDelete = true;  // single-message deletes would punch holes in the dense offsets
    jsStreamInfo* info = nullptr;
    jsErrCode err = static_cast<jsErrCode>(0);
    const natsStatus s = js_AddStream(&info, connection_->js, &cfg, nullptr, &err);
    if (info != nullptr) jsStreamInfo_Destroy(info);
    // Another writer creating the same stream at the same moment makes the server answer
    // "name exists" or, in nats-server 2.9, "subjects overlap": either way, look again.
    const bool raced = err == JSStreamNameExistErr || err == JSStreamSubjectOverlapErr;
    if (s != NATS_OK && !raced) {
      return FromNats(s, err, "creating stream " + channel->stream + " for channel \"" + channel->name + "\"");
    }
    TESSERA_ASSIGN_OR_RETURN(state, GetStreamState(name));
    if (!state && err == JSStreamSubjectOverlapErr) {
      return Status::FailedPrecondition("creating stream " + channel->stream + " for channel \"" + channel->name +
                                        "\": subject " + channel->subject + " overlaps another stream's subjects");
    }
    if (!state) return Status::Unavailable("stream " + channel->stream + " vanished right after it was created");
  }
  channel->last_seq = state->last_seq;
  channel->ready = true;
  return channel;
}

Result<std::optional<NatsLog::StreamState>> NatsLog::GetStreamState(std::string_view channel) {
  const std::string stream = StreamName(channel);
  jsStreamInfo* info = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetStreamInfo(&info, connection_->js, stream.c_str(), nullptr, &err);
  if (s == NATS_NOT_FOUND || err == JSStreamNotFoundErr) {
    if (info != nullptr) jsStreamInfo_Destroy(info);
    return std::optional<StreamState>();
  }
  if (s != NATS_OK) {
    if (info != nullptr) jsStreamInfo_Destroy(info);
    return FromNats(s, err, "stream info of " + stream + " (channel \"" + std::string(channel) + "\")");
  }
  StreamState state{info->State.FirstSeq, info->State.LastSeq, info->State.Msgs};
  jsStreamInfo_Destroy(info);
  return std::optional<StreamState>(state);
}

Result<std::vector<uint64_t>> NatsLog::Append(std::string_view channel_name, std::span<const std::string> records,
                                              std::string_view idempotency_key) {
  TESSERA_RETURN_IF_ERROR(ValidateChannelName(channel_name));
  if (idempotency_key.size() > kMaxIdempotencyKeyLength) {
    return Status::InvalidArgument("idempotency key of " + std::to_string(idempotency_key.size()) +
                                   " bytes; at most " + std::to_string(kMaxIdempotencyKeyLength) + " are allowed");
  }
  if (records.empty()) return std::vector<uint64_t>{};
  const int64_t max_payload = natsConnection_GetMaxPayload(connection_->nc);
  for (size_t i = 0; i < records.size(); ++i) {
    const auto size = static_cast<int64_t>(records[i].size());
    if (size > INT_MAX || (max_payload > 0 && size + kHeaderAllowance > max_payload)) {
      return Status::InvalidArgument("record " + std::to_string(i) + " of the batch for channel \"" +
                                     std::string(channel_name) + "\" has " + std::to_string(size) +
                                     " bytes; the NATS server's max_payload is " + std::to_string(max_payload) +
                                     " bytes (raise max_payload in its config)");
    }
  }
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<Channel> channel, GetChannel(channel_name, /*create=*/true));
  std::lock_guard<std::mutex> lock(channel->mu);
  if (!channel->ready) {  // an earlier failure left the sequence unknown: reload it
    TESSERA_ASSIGN_OR_RETURN(std::optional<StreamState> state, GetStreamState(channel_name));
    if (!state) return Status::NotFound("stream " + channel->stream + " of channel \"" + channel->name + "\" is gone");
    channel->last_seq = state->last_seq;
    channel->ready = true;
  }

  std::vector<uint64_t> offsets;
  offsets.reserve(records.size());
  int foreign_retries = 0;
  int unanswered = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    // Every record is published expecting the stream's last sequence to be the previous
    // record's (or, for the first, the last one this process knows), so nothing foreign
    // can land inside the batch. A duplicate is recognised before that check.
    const uint64_t expected = i == 0 ? channel->last_seq : offsets.back() + 1;
    std::string msg_id;
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = options_.request_timeout.count();
    if (!idempotency_key.empty()) {
      msg_id = MsgIdFor(idempotency_key, i);
      po.MsgId = msg_id.c_str();
    }
    if (expected > 0) {
      po.ExpectLastSeq = expected;
    } else {
      po.ExpectNoMessage = true;  // the stream has never held a message
    }
    jsPubAck* ack = nullptr;
    jsErrCode err = static_cast<jsErrCode>(0);
    const natsStatus s = js_Publish(&ack, connection_->js, channel->subject.c_str(), records[i].data(),
                                    static_cast<int>(records[i].size()), &po, &err);
    if (s != NATS_OK) {
      if (ack != nullptr) jsPubAck_Destroy(ack);
      const std::string where = "appending record " + std::to_string(i) + " of " + std::to_string(records.size()) +
                                " to channel \"" + channel->name + "\"";
      // No stream answered: nats.c reports "no responders" as JetStream error 10076, "not
      // enabled", but Open checked that. A stream another writer created a moment ago may
      // not listen on its subject yet. Nothing was stored, so the same record goes again.
      if ((s == NATS_NO_RESPONDERS || err == JSNotEnabledErr) && ++unanswered <= kUnansweredRetries) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20 * unanswered));
        --i;  // NOLINT: the same record again (the loop increments)
        continue;
      }
      if (err == JSStreamWrongLastSequenceErr) {
        // Another process appended. Reload the last sequence; if nothing of this batch has
        // been stored yet, start it again at the new end.
        TESSERA_ASSIGN_OR_RETURN(std::optional<StreamState> state, GetStreamState(channel_name));
        channel->last_seq = state ? state->last_seq : 0;
        if (i == 0 && ++foreign_retries <= kForeignWriterRetries) {
          --i;  // NOLINT: restart at record 0 (the loop increments)
          continue;
        }
        std::string stored = i == 0 ? "nothing of the batch was stored"
                                    : "records 0.." + std::to_string(i - 1) + " of the batch were stored at offsets " +
                                          std::to_string(offsets.front()) + ".." + std::to_string(offsets.back()) +
                                          " (retry with the same idempotency key to complete it)";
        return Status::Aborted(where + ": another writer appended to the channel meanwhile; " + stored);
      }
      // The outcome of this publish is unknown (it may be stored); reload before the next.
      channel->ready = false;
      Status status = FromNats(s, err, where);
      if (i > 0) {
        return Status(status.code(), status.message() + "; records 0.." + std::to_string(i - 1) +
                                         " of the batch were stored (retry with the same idempotency key)");
      }
      return status;
    }
    const uint64_t seq = ack->Sequence;
    const bool duplicate = ack->Duplicate;
    jsPubAck_Destroy(ack);
    if (seq == 0) {
      channel->ready = false;
      return Status::Internal("JetStream acknowledged record " + std::to_string(i) + " for channel \"" +
                              channel->name + "\" without a sequence");
    }
    if (!duplicate && expected > 0 && seq != expected + 1) {
      channel->ready = false;
      return Status::Internal("JetStream stored record " + std::to_string(i) + " for channel \"" + channel->name +
                              "\" at sequence " + std::to_string(seq) + ", expected " + std::to_string(expected + 1));
    }
    channel->last_seq = std::max(channel->last_seq, seq);
    offsets.push_back(seq - 1);
  }
  for (size_t i = 1; i < offsets.size(); ++i) {
    if (offsets[i] != offsets[i - 1] + 1) {
      return Status::FailedPrecondition("idempotency key reused for a different batch on channel \"" +
                                        channel->name + "\": its records sit at non-consecutive offsets " +
                                        std::to_string(offsets[i - 1]) + " and " + std::to_string(offsets[i]));
    }
  }
  return offsets;
}

Result<std::unique_ptr<Subscription>> NatsLog::Subscribe(std::string_view channel_name, uint64_t from_offset) {
  TESSERA_RETURN_IF_ERROR(ValidateChannelName(channel_name));
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<Channel> channel, GetChannel(channel_name, /*create=*/true));
  TESSERA_ASSIGN_OR_RETURN(std::optional<StreamState> state, GetStreamState(channel_name));
  const uint64_t last_seq = state ? state->last_seq : 0;
  const uint64_t first = state && state->msgs > 0 ? state->first_seq - 1 : last_seq;
  if (from_offset < first || from_offset > last_seq) {
    return Status::OutOfRange("subscribe to channel \"" + channel->name + "\" at offset " +
                              std::to_string(from_offset) + ": readable offsets are [" + std::to_string(first) +
                              ", " + std::to_string(last_seq) + "]");
  }
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = channel->stream.c_str();
  so.Ordered = true;
  so.Config.DeliverPolicy = js_DeliverByStartSequence;
  so.Config.OptStartSeq = from_offset + 1;
  natsSubscription* sub = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  const natsStatus s = js_SubscribeSync(&sub, connection_->js, channel->subject.c_str(), nullptr, &so, &err);
  if (s != NATS_OK) {
    return FromNats(s, err, "subscribing to channel \"" + channel->name + "\" at offset " + std::to_string(from_offset));
  }
  // Deliveries are bounded by flow control; allow up to 256 MiB of 64 MiB-max records.
  natsSubscription_SetPendingLimits(sub, 1 << 20, 256 << 20);
  auto sub_state = std::make_shared<SubState>();
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::erase_if(subscriptions_, [](const std::weak_ptr<SubState>& w) { return w.expired(); });
    subscriptions_.push_back(sub_state);
  }
  return std::unique_ptr<Subscription>(
      new NatsSubscription(connection_, std::move(sub_state), sub, channel->name, from_offset));
}

Status NatsLog::Truncate(std::string_view channel_name, uint64_t before_offset) {
  TESSERA_RETURN_IF_ERROR(ValidateChannelName(channel_name));
  TESSERA_ASSIGN_OR_RETURN(std::optional<StreamState> state, GetStreamState(channel_name));
  const uint64_t last_seq = state ? state->last_seq : 0;
  if (before_offset > last_seq) {
    return Status::OutOfRange("truncate channel \"" + std::string(channel_name) + "\" before offset " +
                              std::to_string(before_offset) + ": past the end (" + std::to_string(last_seq) +
                              " records were appended)");
  }
  if (before_offset == 0) return Status::OK();
  const std::string stream = StreamName(channel_name);
  jsOptions o;
  jsOptions_Init(&o);
  o.Wait = options_.request_timeout.count();
  o.Stream.Purge.Sequence = before_offset + 1;  // purges sequences < this, i.e. offsets < before_offset
  jsErrCode err = static_cast<jsErrCode>(0);
  const natsStatus s = js_PurgeStream(connection_->js, stream.c_str(), &o, &err);
  if (s != NATS_OK) {
    return FromNats(s, err, "truncating channel \"" + std::string(channel_name) + "\" before offset " +
                                std::to_string(before_offset));
  }
  return Status::OK();
}

Result<std::vector<std::string>> NatsLog::ListChannels() {
  jsStreamNamesList* list = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  const natsStatus s = js_StreamNames(&list, connection_->js, nullptr, &err);
  std::vector<std::string> out;
  if (s == NATS_NOT_FOUND) return out;
  if (s != NATS_OK) {
    if (list != nullptr) jsStreamNamesList_Destroy(list);
    return FromNats(s, err, "listing streams");
  }
  for (int i = 0; i < list->Count; ++i) {
    std::string_view name = list->List[i];
    if (!name.starts_with(options_.stream_prefix)) continue;
    if (auto channel = UnescapeChannelName(name.substr(options_.stream_prefix.size()))) out.push_back(*channel);
  }
  jsStreamNamesList_Destroy(list);
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::optional<uint64_t>> NatsLog::LastOffset(std::string_view channel_name) {
  TESSERA_RETURN_IF_ERROR(ValidateChannelName(channel_name));
  TESSERA_ASSIGN_OR_RETURN(std::optional<StreamState> state, GetStreamState(channel_name));
  if (!state || state->last_seq == 0) return std::optional<uint64_t>();
  return std::optional<uint64_t>(state->last_seq - 1);
}

Result<uint64_t> NatsLog::FirstOffset(std::string_view channel_name) {
  TESSERA_RETURN_IF_ERROR(ValidateChannelName(channel_name));
  TESSERA_ASSIGN_OR_RETURN(std::optional<StreamState> state, GetStreamState(channel_name));
  if (!state) return uint64_t{0};
  return state->msgs > 0 ? state->first_seq - 1 : state->last_seq;
}

Status NatsLog::DeleteChannel(std::string_view channel_name) {
  TESSERA_RETURN_IF_ERROR(ValidateChannelName(channel_name));
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<Channel> channel, GetChannel(channel_name, /*create=*/false));
  std::lock_guard<std::mutex> lock(channel->mu);
  channel->ready = false;
  jsErrCode err = static_cast<jsErrCode>(0);
  const natsStatus s = js_DeleteStream(connection_->js, channel->stream.c_str(), nullptr, &err);
  if (s == NATS_OK || s == NATS_NOT_FOUND || err == JSStreamNotFoundErr) return Status::OK();
  return FromNats(s, err, "deleting stream " + channel->stream + " of channel \"" + channel->name + "\"");
}

}  // namespace tessera::storage
