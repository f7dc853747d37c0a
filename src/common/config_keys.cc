// The one table of Tessera's configuration keys. A component that needs configuration adds
// its rows here (grouped by section, designated initializers so each row reads like a spec);
// docs/configuration.md is generated from this table and a unit test fails when the two
// drift apart. One table rather than self-registration from each component: no static
// initialisation order issues, no keys that silently vanish when a library is not linked,
// and the whole surface is reviewable in one place.

#include <utility>

#include "common/check.h"
#include "common/config_schema.h"

namespace tessera::config {
namespace {

using enum ValueType;

constexpr KeySpec kKeys[] = {
    // server: the process itself.
    {.section = "server", .key = "address", .type = kString, .default_value = "0.0.0.0",
     .doc = "Interface the REST/gRPC front door listens on."},
    {.section = "server", .key = "port", .type = kInt, .default_value = "19530",
     .doc = "Port of the client-facing API.", .min = 1, .max = 65535},
    {.section = "server", .key = "data_dir", .type = kString, .default_value = "./data",
     .doc = "Root directory for local state (local object store, SQLite, WAL, cache)."},
    {.section = "server", .key = "shutdown_timeout", .type = kDuration, .default_value = "30s",
     .doc = "How long a graceful shutdown may take in all (in-flight requests, then the final flushes); past it, or at a second SIGTERM/SIGINT, the process exits 1 without finishing (acknowledged writes are in the WAL)."},
    {.section = "server", .key = "drain_delay", .type = kDuration, .default_value = "0s",
     .doc = "After SIGTERM/SIGINT, how long /readyz answers 503 while requests are still served, before the listener closes: time for a load balancer to take the server out of rotation. Part of server.shutdown_timeout, so it must be shorter."},
    {.section = "server", .key = "http_threads", .type = kInt, .default_value = "64",
     .doc = "HTTP worker threads: requests served at once (connections hold none between requests).",
     .min = 2, .max = 4096},
    {.section = "server", .key = "max_body_size", .type = kBytes, .default_value = "64MiB",
     .doc = "Largest request body accepted; larger bodies are refused before parsing.", .min = 1024},
    {.section = "server", .key = "request_timeout", .type = kDuration, .default_value = "30s",
     .doc = "Default time limit of one request (the Request-Timeout header overrides it)."},

    // logging
    {.section = "logging", .key = "level", .type = kString, .default_value = "info",
     .doc = "Minimum log level.", .choices = "trace,debug,info,warn,error,critical,off"},

    // object_store: segment and index files.
    {.section = "object_store", .key = "type", .type = kString, .default_value = "local",
     .doc = "Object store backend.", .choices = "local,s3"},
    {.section = "object_store", .key = "path", .type = kString, .default_value = "./data/objects",
     .doc = "Directory of the local backend."},
    {.section = "object_store", .key = "endpoint", .type = kString, .default_value = "",
     .doc = "S3 endpoint URL (empty: AWS for the region)."},
    {.section = "object_store", .key = "bucket", .type = kString, .default_value = "",
     .doc = "S3 bucket."},
    {.section = "object_store", .key = "region", .type = kString, .default_value = "",
     .doc = "S3 region."},
    {.section = "object_store", .key = "access_key", .type = kString, .default_value = "",
     .doc = "S3 access key id."},
    {.section = "object_store", .key = "secret_key", .type = kString, .default_value = "",
     .doc = "S3 secret access key.", .secret = true},
    {.section = "object_store", .key = "session_token", .type = kString, .default_value = "",
     .doc = "S3 session token of temporary (STS) credentials, sent as x-amz-security-token "
            "(empty: none).",
     .secret = true},
    {.section = "object_store", .key = "path_style", .type = kBool, .default_value = "false",
     .doc = "Use path-style S3 URLs (MinIO and most self-hosted servers); false puts the bucket "
            "in the host name, which needs a DNS name (not an IP address) in the endpoint."},
    {.section = "object_store", .key = "ca_file", .type = kString, .default_value = "",
     .doc = "PEM file of the CA certificates an https S3 endpoint is verified against (empty: "
            "the system store); checked at start."},
    {.section = "object_store", .key = "prefix", .type = kString, .default_value = "",
     .doc = "Key prefix under which Tessera stores its objects."},
    {.section = "object_store", .key = "request_timeout", .type = kDuration,
     .default_value = "30s", .doc = "Timeout of one object store request."},

    // meta: catalog and segment metadata.
    {.section = "meta", .key = "type", .type = kString, .default_value = "sqlite",
     .doc = "Metadata store backend.", .choices = "sqlite,etcd"},
    {.section = "meta", .key = "path", .type = kString, .default_value = "./data/meta.db",
     .doc = "SQLite database file."},
    {.section = "meta", .key = "endpoints", .type = kStringList, .default_value = "",
     .doc = "etcd endpoints, e.g. [http://host:2379]; https:// endpoints use TLS (all or none)."},
    {.section = "meta", .key = "ca_file", .type = kString, .default_value = "",
     .doc = "PEM file of the CA certificates etcd's certificate is verified against (https "
            "endpoints; empty: the system store); checked at start."},
    {.section = "meta", .key = "cert_file", .type = kString, .default_value = "",
     .doc = "PEM client certificate for etcd's --client-cert-auth (with meta.key_file; empty: none)."},
    {.section = "meta", .key = "key_file", .type = kString, .default_value = "",
     .doc = "Unencrypted PEM private key of meta.cert_file."},
    {.section = "meta", .key = "username", .type = kString, .default_value = "",
     .doc = "etcd user to authenticate as (empty: no authentication)."},
    {.section = "meta", .key = "password", .type = kString, .default_value = "",
     .doc = "Password of meta.username.", .secret = true},

    // log: the write-ahead log.
    {.section = "log", .key = "type", .type = kString, .default_value = "local",
     .doc = "Write-ahead log backend.", .choices = "local,nats"},
    {.section = "log", .key = "path", .type = kString, .default_value = "./data/wal",
     .doc = "Directory of the local WAL."},
    {.section = "log", .key = "segment_size", .type = kBytes, .default_value = "64MiB",
     .doc = "The local WAL writes each channel in files of about this size; flushed records are deleted a whole file at a time (after each garbage-collection pass).",
     .min = 4096},
    {.section = "log", .key = "url", .type = kString, .default_value = "",
     .doc = "NATS server URL, e.g. nats://host:4222."},
    {.section = "log", .key = "replicas", .type = kInt, .default_value = "1",
     .doc = "NATS JetStream stream replicas.", .min = 1, .max = 5},
    {.section = "log", .key = "ca_file", .type = kString, .default_value = "",
     .doc = "PEM file of the CA certificates the NATS server's certificate is verified against; setting it (or "
            "log.cert_file, or a tls:// URL) turns TLS on. Checked at start."},
    {.section = "log", .key = "cert_file", .type = kString, .default_value = "",
     .doc = "PEM client certificate for a NATS server with TLS verify (with log.key_file; empty: none)."},
    {.section = "log", .key = "key_file", .type = kString, .default_value = "",
     .doc = "Unencrypted PEM private key of log.cert_file."},
    {.section = "log", .key = "username", .type = kString, .default_value = "",
     .doc = "NATS user to authenticate as (empty: no user/password authentication)."},
    {.section = "log", .key = "password", .type = kString, .default_value = "",
     .doc = "Password of log.username.", .secret = true},
    {.section = "log", .key = "token", .type = kString, .default_value = "",
     .doc = "NATS authorization token (instead of log.username; empty: none).", .secret = true},

    // coord: the coordinator.
    {.section = "coord", .key = "bounded_staleness", .type = kDuration, .default_value = "1s",
     .doc = "How far behind the newest write a Bounded-consistency read may be."},
    {.section = "coord", .key = "compaction_interval", .type = kDuration, .default_value = "60s",
     .doc = "How often the coordinator looks for segments to compact (0 = only on request)."},
    {.section = "coord", .key = "compaction_target_size", .type = kBytes, .default_value = "512MiB",
     .doc = "Compaction merges a channel's segments smaller than half of this into segments of up to this "
            "size (fewer, larger segments make searches cheaper).",
     .min = 1024},
    {.section = "coord", .key = "compaction_delete_ratio", .type = kDouble, .default_value = "0.2",
     .doc = "Segments with at least this fraction of deleted rows are rewritten by compaction (0 = never for this reason; a new segment more than half deleted within its own WAL range, upsert churn, is always compacted before it is indexed).", .real_min = 0,
     .real_max = 1},
    {.section = "coord", .key = "gc_grace_period", .type = kDuration, .default_value = "10m",
     .doc = "How long an unreferenced file is kept before garbage collection deletes it."},
    {.section = "coord", .key = "gc_interval", .type = kDuration, .default_value = "60s",
     .doc = "How often garbage collection runs."},
    {.section = "coord", .key = "load_retry_interval", .type = kDuration, .default_value = "10s",
     .doc = "How often the query node is offered again what it refused: a loaded collection whose load failed (e.g. for memory), a segment it did not take."},

    // proxy: the client-facing API.
    {.section = "proxy", .key = "time_tick_interval", .type = kDuration, .default_value = "1s",
     .doc = "How often each WAL channel written since its last time tick gets one (a promise that no later record is older; compaction needs it to retire deletes). 0 = never, and deletes are then kept forever."},

    // datanode: WAL consumers that seal and flush segments.
    {.section = "datanode", .key = "segment_size", .type = kBytes, .default_value = "64MiB",
     .doc = "A growing segment is sealed and flushed once its rows take this much memory.", .min = 1024},
    {.section = "datanode", .key = "seal_idle_time", .type = kDuration, .default_value = "10s",
     .doc = "A growing segment with no new record for this long is sealed and flushed."},

    // indexnode: index builders.
    {.section = "indexnode", .key = "parallel_builds", .type = kInt, .default_value = "1",
     .doc = "Index builds run at the same time.", .min = 1, .max = 256},
    {.section = "indexnode", .key = "build_threads", .type = kInt, .default_value = "0",
     .doc = "Threads one build uses (0 = one per CPU core).", .min = 0, .max = 4096},

    // querynode: search serving.
    {.section = "querynode", .key = "search_threads", .type = kInt, .default_value = "0",
     .doc = "Threads executing searches (0 = one per CPU core).", .min = 0, .max = 4096},
    {.section = "querynode", .key = "memory_limit", .type = kBytes, .default_value = "0",
     .doc = "Memory the process may use: loading a collection, segment or index that would take it past this is refused with an error (instead of an out-of-memory kill), and so are inserts and upserts while the process is above it (code 9). 0 = 90% of the memory available to the process (its cgroup's limit, else the physical memory)."},

    // cache: query nodes' disk cache of segment files.
    {.section = "cache", .key = "path", .type = kString, .default_value = "./data/cache",
     .doc = "Directory of the disk cache."},
    {.section = "cache", .key = "size", .type = kBytes, .default_value = "10GiB",
     .doc = "Capacity of the disk cache."},
};

}  // namespace

const ConfigSchema& ConfigSchema::Default() {
  static const ConfigSchema schema = [] {
    auto made = Make(kKeys);
    TESSERA_CHECK(made.ok()) << "built-in config table is invalid: " << made.status().ToString();
    return std::move(made).value();
  }();
  return schema;
}

}  // namespace tessera::config
