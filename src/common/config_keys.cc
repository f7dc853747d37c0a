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
     .doc = "How long a graceful shutdown waits for in-flight requests."},

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
    {.section = "object_store", .key = "path_style", .type = kBool, .default_value = "false",
     .doc = "Use path-style S3 URLs (MinIO and most self-hosted servers)."},
    {.section = "object_store", .key = "ca_file", .type = kString, .default_value = "",
     .doc = "PEM file of CA certificates for the S3 endpoint (empty: system store)."},
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
     .doc = "etcd endpoints, e.g. [http://host:2379]."},

    // log: the write-ahead log.
    {.section = "log", .key = "type", .type = kString, .default_value = "local",
     .doc = "Write-ahead log backend.", .choices = "local,nats"},
    {.section = "log", .key = "path", .type = kString, .default_value = "./data/wal",
     .doc = "Directory of the local WAL."},
    {.section = "log", .key = "url", .type = kString, .default_value = "",
     .doc = "NATS server URL, e.g. nats://host:4222."},
    {.section = "log", .key = "replicas", .type = kInt, .default_value = "1",
     .doc = "NATS JetStream stream replicas.", .min = 1, .max = 5},

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
