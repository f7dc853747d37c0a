#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "storage/log/log.h"

namespace tessera::storage {

/// Settings of a NatsLog. `url` is required; the rest have defaults for a data node.
struct NatsLogOptions {
  /// NATS server URL(s), comma separated, e.g. "nats://host:4222" (config `log.url`).
  std::string url;
  /// JetStream replicas of each channel's stream, 1..5 (config `log.replicas`). A stream
  /// that already exists keeps its replica count. Default 1.
  int replicas = 1;
  /// Stream names are `stream_prefix` + EscapeChannelName(channel). Streams without this
  /// prefix are not channels of this log. Letters, digits, '_' and '-' only. Default "TESSERA_".
  std::string stream_prefix = "TESSERA_";
  /// Each stream captures the one subject `subject_prefix` + "." + escaped channel name.
  /// Dot-separated tokens of [A-Za-z0-9_-]. Default "tessera.wal".
  std::string subject_prefix = "tessera.wal";
  /// JetStream's duplicate window of new streams: how long an idempotency key is
  /// remembered (the server rebuilds it from the stored messages after a restart).
  /// Default 10 minutes.
  std::chrono::milliseconds duplicate_window = std::chrono::minutes(10);
  /// Bound on establishing the first connection in Open (per server URL). Default 2 s.
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(2);
  /// Bound on each JetStream request (publish ack, stream info, purge). An Append or
  /// other call that does not get its answer in time fails with kUnavailable. Default 5 s.
  std::chrono::milliseconds request_timeout = std::chrono::seconds(5);
  /// After the connection is lost the client reconnects in the background, waiting this
  /// long between attempts; calls made meanwhile fail with kUnavailable after
  /// request_timeout. Default 250 ms.
  std::chrono::milliseconds reconnect_wait = std::chrono::milliseconds(250);
  /// Reconnect attempts before the connection is given up for good (every later call is
  /// kUnavailable); -1 retries forever. Default -1.
  int max_reconnect = -1;

  // TLS and authentication (src/storage/log/README.md, "TLS and authentication"). TLS is
  // used when a URL has the tls:// scheme or ca_file or cert_file is set; Open then fails
  // unless the server offers TLS. Files are checked (exist, readable) at Open.

  /// PEM file of the CA certificates the server's certificate is verified against
  /// (config `log.ca_file`). Empty: OpenSSL's default trust store.
  std::string ca_file;
  /// PEM client certificate (chain) presented for the server's `verify: true`, with its
  /// unencrypted PEM key `key_file` (config `log.cert_file`, `log.key_file`): both or neither.
  std::string cert_file;
  std::string key_file;
  /// NATS user and password (config `log.username`, `log.password`). Empty: none.
  std::string username;
  std::string password;
  /// NATS authorization token (config `log.token`); exclusive with username.
  std::string token;
};

/// The escaped form of a valid channel name used in stream names and subjects: every '.'
/// becomes '~'; the other allowed characters [A-Za-z0-9_-] stay. A bijection between
/// channel names and escaped names, so it is injective and length-preserving.
std::string EscapeChannelName(std::string_view channel);
/// The inverse of EscapeChannelName; nullopt when `escaped` is not the escape of a valid
/// channel name.
std::optional<std::string> UnescapeChannelName(std::string_view escaped);

/// The Log on NATS JetStream (DESIGN.md §2; src/storage/log/README.md and
/// docs/format/wal.md describe the mapping). One file-storage stream per channel; the
/// record at offset N is the stream's message with sequence N + 1.
///
/// Durability: Append returns after JetStream acknowledged every record of the batch
/// (stored by the stream leader and, with replicas > 1, a quorum of replicas).
///
/// Batches: JetStream has no multi-message transaction, so a batch is published record by
/// record. Appends to one channel are serialized in this process, and every record is
/// published with the expected last sequence, so a batch's offsets are always contiguous:
/// a foreign writer (another process) that slips in makes the Append fail with kAborted
/// instead. A failure part-way through a batch (kAborted, kUnavailable) can leave a
/// prefix of the batch stored; retrying with the same idempotency key completes it.
///
/// Thread-safety: thread-safe (see Log). Any number of processes may read a channel; one
/// process at a time should append to it (others are detected, see above).
class NatsLog final : public Log {
 public:
  /// Connects to `options.url` and checks that JetStream is enabled. kUnavailable when no
  /// server answers within connect_timeout or the TLS handshake fails (the message names the
  /// CA / certificate file); kPermissionDenied when the server refuses the credentials
  /// (naming the user), kUnauthenticated when it wants credentials and none were given;
  /// kFailedPrecondition when JetStream is off; kInvalidArgument for bad options or a
  /// missing or unreadable TLS file (naming it). No retry: each of these returns at once.
  static Result<std::unique_ptr<NatsLog>> Open(NatsLogOptions options);

  /// Cancels outstanding subscriptions and closes the connection. No call may be in progress.
  ~NatsLog() override;
  NatsLog(const NatsLog&) = delete;
  NatsLog& operator=(const NatsLog&) = delete;

  Result<std::vector<uint64_t>> Append(std::string_view channel, std::span<const std::string> records,
                                       std::string_view idempotency_key = {}) override;
  Result<std::unique_ptr<Subscription>> Subscribe(std::string_view channel, uint64_t from_offset) override;
  Status Truncate(std::string_view channel, uint64_t before_offset) override;
  Status DeleteChannel(std::string_view channel) override;
  Result<std::vector<std::string>> ListChannels() override;
  Result<std::optional<uint64_t>> LastOffset(std::string_view channel) override;
  Result<uint64_t> FirstOffset(std::string_view channel) override;

  /// The stream and subject of `channel` under these options (no validation).
  std::string StreamName(std::string_view channel) const;
  std::string SubjectName(std::string_view channel) const;

 private:
  struct Connection;
  struct Channel;
  struct SubState;
  class NatsSubscription;

  NatsLog(NatsLogOptions options, std::shared_ptr<Connection> connection);

  /// The in-process state of `channel`; with `create`, makes sure its stream exists.
  Result<std::shared_ptr<Channel>> GetChannel(std::string_view channel, bool create);

  /// Stream state: {first_seq, last_seq, msgs}; nullopt when the stream does not exist.
  struct StreamState {
    uint64_t first_seq = 0;
    uint64_t last_seq = 0;
    uint64_t msgs = 0;
  };
  Result<std::optional<StreamState>> GetStreamState(std::string_view channel);

  const NatsLogOptions options_;
  const std::shared_ptr<Connection> connection_;

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Channel>, std::less<>> channels_;  // guarded by mu_
  std::vector<std::weak_ptr<SubState>> subscriptions_;                       // guarded by mu_
};

}  // namespace tessera::storage
