#include "storage/storage_factory.h"

#include <filesystem>
#include <string>
#include <system_error>

#include "common/durable_dir.h"
#include "storage/log/local_log.h"
#include "storage/log/nats_log.h"
#include "storage/meta/etcd_meta_store.h"
#include "storage/meta/sqlite_meta_store.h"
#include "storage/object/local_object_store.h"
#include "storage/object/s3_object_store.h"

namespace tessera::storage {
namespace {

Status UnknownType(std::string_view section, const std::string& type, std::string_view known) {
  return Status::InvalidArgument("config key '" + std::string(section) + ".type': unknown type '" +
                                 type + "' (expected " + std::string(known) + ")");
}

// Creates `dir` (and parents) so an embedded backend can start on a fresh data directory;
// durably, so a power cut cannot take the new directory away with what is acknowledged in it.
Status EnsureDirectory(const std::filesystem::path& dir, std::string_view key) {
  Status created = CreateDirectoriesDurably(dir.string());
  if (!created.ok()) return created.WithContext("config key '" + std::string(key) + "'");
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<ObjectStore>> OpenObjectStore(const config::Config& config) {
  const std::string& type = config.GetString("object_store.type");
  if (type == "local") {
    const std::string& path = config.GetString("object_store.path");
    TESSERA_RETURN_IF_ERROR(EnsureDirectory(path, "object_store.path"));
    TESSERA_ASSIGN_OR_RETURN(auto store, LocalObjectStore::Open(path));
    return std::unique_ptr<ObjectStore>(std::move(store));
  }
  if (type == "s3") {
    S3Options options = S3Options::FromConfig(config);
    if (options.bucket.empty()) {
      return Status::InvalidArgument("config key 'object_store.bucket' must be set when object_store.type is s3");
    }
    TESSERA_ASSIGN_OR_RETURN(auto store, S3ObjectStore::Open(std::move(options)));
    return std::unique_ptr<ObjectStore>(std::move(store));
  }
  return UnknownType("object_store", type, "local or s3");
}

Result<std::unique_ptr<MetaStore>> OpenMetaStore(const config::Config& config) {
  const std::string& type = config.GetString("meta.type");
  if (type == "sqlite") {
    const std::filesystem::path path = config.GetString("meta.path");
    if (path.has_parent_path()) TESSERA_RETURN_IF_ERROR(EnsureDirectory(path.parent_path(), "meta.path"));
    TESSERA_ASSIGN_OR_RETURN(auto store, SqliteMetaStore::Open(path));
    return std::unique_ptr<MetaStore>(std::move(store));
  }
  if (type == "etcd") {
    const auto& endpoints = config.GetStringList("meta.endpoints");
    if (endpoints.empty()) return Status::InvalidArgument("config key 'meta.endpoints' must list at least one endpoint when meta.type is etcd");
    EtcdMetaStoreOptions options;
    options.ca_file = config.GetString("meta.ca_file");
    options.cert_file = config.GetString("meta.cert_file");
    options.key_file = config.GetString("meta.key_file");
    options.username = config.GetString("meta.username");
    options.password = config.GetString("meta.password");
    TESSERA_ASSIGN_OR_RETURN(auto store, EtcdMetaStore::Open(endpoints, options));
    return std::unique_ptr<MetaStore>(std::move(store));
  }
  return UnknownType("meta", type, "sqlite or etcd");
}

Result<std::unique_ptr<Log>> OpenLog(const config::Config& config) {
  const std::string& type = config.GetString("log.type");
  if (type == "local") {
    const std::string& path = config.GetString("log.path");
    TESSERA_RETURN_IF_ERROR(EnsureDirectory(path, "log.path"));
    LocalLogOptions options;
    options.segment_bytes = config.GetBytes("log.segment_size");
    TESSERA_ASSIGN_OR_RETURN(auto log, LocalLog::Open(path, options));
    return std::unique_ptr<Log>(std::move(log));
  }
  if (type == "nats") {
    NatsLogOptions options;
    options.url = config.GetString("log.url");
    options.replicas = static_cast<int>(config.GetInt("log.replicas"));
    options.ca_file = config.GetString("log.ca_file");
    options.cert_file = config.GetString("log.cert_file");
    options.key_file = config.GetString("log.key_file");
    options.username = config.GetString("log.username");
    options.password = config.GetString("log.password");
    options.token = config.GetString("log.token");
    if (options.url.empty()) return Status::InvalidArgument("config key 'log.url' must be set when log.type is nats");
    TESSERA_ASSIGN_OR_RETURN(auto log, NatsLog::Open(std::move(options)));
    return std::unique_ptr<Log>(std::move(log));
  }
  return UnknownType("log", type, "local or nats");
}

}  // namespace tessera::storage
