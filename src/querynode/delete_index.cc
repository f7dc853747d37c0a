#include "querynode/delete_index.h"

#include <nlohmann/json.hpp>

namespace tessera::querynode {

PrimaryKey PkAt(const core::Column& pk_column, size_t row) {
  if (pk_column.field().data_type == core::DataType::kInt64) {
    return static_cast<const core::Int64Column&>(pk_column).Value(row);
  }
  return std::string(static_cast<const core::VarCharColumn&>(pk_column).View(row));
}

std::string PkToString(const PrimaryKey& pk) {
  if (const int64_t* i = std::get_if<int64_t>(&pk)) return std::to_string(*i);
  return nlohmann::json(std::get<std::string>(pk)).dump();
}

void PkIndex::Reserve(size_t rows) {
  ints_.reserve(rows);
}

void PkIndex::Add(const PrimaryKey& pk, uint32_t row) {
  if (const int64_t* i = std::get_if<int64_t>(&pk)) {
    ints_.emplace(*i, row);
  } else {
    strings_.emplace(std::get<std::string>(pk), row);
  }
}

size_t PkIndex::MemoryUsage() const {
  // Node-based containers: a node per entry plus the bucket array (an estimate).
  size_t bytes = ints_.bucket_count() * sizeof(void*) + ints_.size() * (sizeof(void*) + 16);
  bytes += strings_.bucket_count() * sizeof(void*);
  for (const auto& [pk, row] : strings_) bytes += sizeof(void*) + sizeof(std::string) + 8 + pk.capacity();
  return bytes;
}

bool DeleteMap::Update(const PrimaryKey& pk, uint64_t timestamp) {
  uint64_t* slot;
  if (const int64_t* i = std::get_if<int64_t>(&pk)) {
    slot = &ints_[*i];
  } else {
    slot = &strings_[std::get<std::string>(pk)];
  }
  if (timestamp <= *slot) return false;
  *slot = timestamp;
  return true;
}

uint64_t DeleteMap::Get(const PrimaryKey& pk) const {
  if (const int64_t* i = std::get_if<int64_t>(&pk)) {
    auto it = ints_.find(*i);
    return it == ints_.end() ? 0 : it->second;
  }
  auto it = strings_.find(std::get<std::string>(pk));
  return it == strings_.end() ? 0 : it->second;
}

size_t DeleteMap::MemoryUsage() const {
  size_t bytes = ints_.bucket_count() * sizeof(void*) + ints_.size() * (sizeof(void*) + 16);
  bytes += strings_.bucket_count() * sizeof(void*);
  for (const auto& [pk, ts] : strings_) bytes += sizeof(void*) + sizeof(std::string) + 8 + pk.capacity();
  return bytes;
}

}  // namespace tessera::querynode
