#include "cli/check.h"

#include <chrono>
#include <random>
#include <string>

#include "storage/storage_factory.h"

namespace tessera::cli {
namespace {

using Clock = std::chrono::steady_clock;

// A scratch name no other process uses, so concurrent checks do not collide.
std::string ScratchSuffix() {
  std::random_device rd;
  return std::to_string(rd()) + std::to_string(rd());
}

Status Expect(bool condition, const std::string& what) {
  return condition ? Status::OK() : Status::DataLoss(what);
}

Status CheckObjectStore(const config::Config& config) {
  TESSERA_ASSIGN_OR_RETURN(auto store, storage::OpenObjectStore(config));
  const std::string key = "_tessera_check/" + ScratchSuffix();
  const std::string payload = "tessera check " + key;
  TESSERA_RETURN_IF_ERROR(store->Put(key, payload).WithContext("put " + key));
  TESSERA_ASSIGN_OR_RETURN(std::string read, store->Get(key));
  TESSERA_RETURN_IF_ERROR(Expect(read == payload, "read back different bytes than written to " + key));
  return store->Delete(key).WithContext("delete " + key);
}

Status CheckMetaStore(const config::Config& config) {
  TESSERA_ASSIGN_OR_RETURN(auto store, storage::OpenMetaStore(config));
  const std::string key = "/_tessera_check/" + ScratchSuffix();
  TESSERA_ASSIGN_OR_RETURN(int64_t revision, store->Put(key, "ping"));
  TESSERA_ASSIGN_OR_RETURN(auto kv, store->Get(key));
  TESSERA_RETURN_IF_ERROR(Expect(kv.has_value() && kv->value == "ping" && kv->mod_revision == revision,
                                 "read back a different value than written to " + key));
  return store->Delete(key).status().WithContext("delete " + key);
}

// A scratch channel, deleted afterwards.
Status CheckLog(const config::Config& config) {
  TESSERA_ASSIGN_OR_RETURN(auto log, storage::OpenLog(config));
  const std::string channel = "tessera-check-" + ScratchSuffix();
  const std::string record = "tessera check " + ScratchSuffix();
  TESSERA_ASSIGN_OR_RETURN(auto offsets, log->Append(channel, std::span<const std::string>(&record, 1)));
  TESSERA_ASSIGN_OR_RETURN(auto subscription, log->Subscribe(channel, offsets.front()));
  TESSERA_ASSIGN_OR_RETURN(storage::LogRecord read, subscription->Next(std::chrono::seconds(5)));
  TESSERA_RETURN_IF_ERROR(Expect(read.payload == record && read.offset == offsets.front(),
                                 "read back a different record than appended to channel " + channel));
  subscription->Cancel();
  subscription.reset();
  return log->DeleteChannel(channel).WithContext("delete channel " + channel);
}

std::string Hint(const Status& status) {
  switch (status.code()) {
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnauthenticated:
      return "check the credentials (object_store.access_key / secret_key, meta.username / password, "
             "log.username / password or log.token)";
    case StatusCode::kNotFound:
      return "the bucket, path or endpoint named in the configuration does not exist";
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
      if (status.message().find("TLS handshake") != std::string_view::npos) {
        return "the TLS handshake failed: set the ca_file named above to the CA that signed the server's "
               "certificate, and the cert_file/key_file the server expects";
      }
      return "the server is unreachable: check the endpoint and that the server is running";
    case StatusCode::kFailedPrecondition:
      if (status.message().find("TLS certificate") != std::string_view::npos) {
        return "the server's TLS certificate is not trusted: set the ca_file named above to the CA that signed it";
      }
      return "the backend refused to open: is another server using this data directory, or is "
             "a required server feature (e.g. JetStream) disabled?";
    case StatusCode::kDataLoss:
      return "stored data is damaged; restore it from a backup";
    case StatusCode::kUnimplemented:
      return "choose a backend this build includes";
    case StatusCode::kInvalidArgument:
      return "fix the configuration value named above";
    default:
      return "see the message above";
  }
}

std::string Describe(const config::Config& config, std::string_view section) {
  const std::string s(section);
  const std::string& type = config.GetString(s + ".type");
  std::string where;
  if (type == "local" || type == "sqlite") where = config.GetString(s + ".path");
  else if (type == "s3") where = config.GetString("object_store.endpoint") + " bucket " + config.GetString("object_store.bucket");
  else if (type == "etcd") {
    for (const auto& e : config.GetStringList("meta.endpoints")) where += (where.empty() ? "" : ",") + e;
  } else if (type == "nats") where = config.GetString("log.url");
  return type + " " + where;
}

}  // namespace

int RunCheck(const config::Config& config, std::FILE* out) {
  struct Backend {
    const char* section;
    Status (*check)(const config::Config&);
  };
  const Backend backends[] = {{"object_store", CheckObjectStore}, {"meta", CheckMetaStore}, {"log", CheckLog}};
  int failures = 0;
  for (const Backend& backend : backends) {
    const auto start = Clock::now();
    const Status status = backend.check(config);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    const std::string what = Describe(config, backend.section);
    if (status.ok()) {
      std::fprintf(out, "%-12s %-40s OK %.1f ms\n", backend.section, what.c_str(), ms);
    } else {
      ++failures;
      std::fprintf(out, "%-12s %-40s FAILED %s (hint: %s)\n", backend.section, what.c_str(),
                   status.ToString().c_str(), Hint(status).c_str());
    }
  }
  std::fflush(out);
  return failures == 0 ? 0 : 1;
}

}  // namespace tessera::cli
