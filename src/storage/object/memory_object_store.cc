#include "storage/object/memory_object_store.h"

#include <cstdio>

#include "common/crc32c.h"

namespace tessera::storage {

namespace {

// etag: CRC32C of the bytes plus a per-store version counter, so replacing an object always
// changes it.
std::string MakeEtag(std::string_view data, uint64_t version) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%08x-%llx", crc32c::Value(data.data(), data.size()),
                static_cast<unsigned long long>(version));
  return buf;
}

}  // namespace

ObjectInfo MemoryObjectStore::InfoOf(const std::string& key, const Entry& entry) {
  return ObjectInfo{key, entry.data->size(), entry.etag, entry.mtime};
}

Result<MemoryObjectStore::Entry> MemoryObjectStore::Lookup(std::string_view key) const {
  TESSERA_RETURN_IF_ERROR(ValidateObjectKey(key));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return Status::NotFound("no object " + internal::QuoteKey(key));
  return it->second;
}

Status MemoryObjectStore::Put(std::string_view key, std::string_view data) {
  TESSERA_RETURN_IF_ERROR(ValidateObjectKey(key));
  auto bytes = std::make_shared<const std::string>(data);
  const auto now = std::chrono::system_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  objects_.insert_or_assign(std::string(key), Entry{std::move(bytes), MakeEtag(data, next_version_++), now});
  return Status::OK();
}

Result<std::string> MemoryObjectStore::Get(std::string_view key) {
  TESSERA_ASSIGN_OR_RETURN(Entry entry, Lookup(key));
  return std::string(*entry.data);
}

Result<std::string> MemoryObjectStore::GetRange(std::string_view key, uint64_t offset,
                                                std::optional<uint64_t> length) {
  TESSERA_ASSIGN_OR_RETURN(Entry entry, Lookup(key));
  TESSERA_ASSIGN_OR_RETURN(uint64_t count,
                           internal::ResolveRange(key, entry.data->size(), offset, length));
  return entry.data->substr(offset, count);
}

Result<ObjectInfo> MemoryObjectStore::Head(std::string_view key) {
  TESSERA_ASSIGN_OR_RETURN(Entry entry, Lookup(key));
  return InfoOf(std::string(key), entry);
}

Result<ListResult> MemoryObjectStore::List(const ListOptions& options) {
  TESSERA_ASSIGN_OR_RETURN(size_t max_keys, internal::CheckListOptions(options));
  std::string after;
  if (!options.continuation_token.empty()) {
    TESSERA_ASSIGN_OR_RETURN(after, internal::DecodeListToken(options.continuation_token));
  }
  ListResult result;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = (after.empty() || after < options.prefix) ? objects_.lower_bound(options.prefix)
                                                      : objects_.upper_bound(after);
  for (; it != objects_.end() && it->first.starts_with(options.prefix); ++it) {
    if (result.objects.size() == max_keys) {
      result.next_token = internal::EncodeListToken(result.objects.back().key);
      break;
    }
    result.objects.push_back(InfoOf(it->first, it->second));
  }
  return result;
}

Status MemoryObjectStore::Delete(std::string_view key) {
  TESSERA_RETURN_IF_ERROR(ValidateObjectKey(key));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it != objects_.end()) objects_.erase(it);
  return Status::OK();
}

Status MemoryObjectStore::DeleteMany(std::span<const std::string> keys) {
  for (const std::string& key : keys) TESSERA_RETURN_IF_ERROR(ValidateObjectKey(key));
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& key : keys) objects_.erase(key);
  return Status::OK();
}

Status MemoryObjectStore::Copy(std::string_view src, std::string_view dst) {
  TESSERA_RETURN_IF_ERROR(ValidateObjectKey(dst));
  TESSERA_ASSIGN_OR_RETURN(Entry entry, Lookup(src));
  std::lock_guard<std::mutex> lock(mu_);
  entry.etag = MakeEtag(*entry.data, next_version_++);
  entry.mtime = std::chrono::system_clock::now();
  objects_.insert_or_assign(std::string(dst), std::move(entry));
  return Status::OK();
}

uint64_t MemoryObjectStore::TotalBytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t total = 0;
  for (const auto& [key, entry] : objects_) total += entry.data->size();
  return total;
}

}  // namespace tessera::storage
