#pragma once

// TEST-ONLY helpers of the data node tests: a collection, WAL messages, a storage fixture.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "datanode/data_node_impl.h"
#include "datanode/segment_layout.h"
#include "datanode/test_coordinator.h"
#include "msg/wal_message.h"
#include "segment/binlog.h"
#include "segment/deltalog.h"
#include "storage/log/local_log.h"
#include "storage/object/local_object_store.h"

namespace tessera::datanode::testing {

inline constexpr int64_t kCollectionId = 7;
inline constexpr int64_t kDefaultPartition = 11;
inline constexpr size_t kDim = 4;

/// id Int64 pk (100), vec FloatVector dim 4 (101), name VarChar (102), $meta (103).
inline coord::CollectionInfo MakeCollection(int32_t shards = 1) {
  coord::CollectionInfo info;
  info.id = kCollectionId;
  info.db_name = "default";
  info.num_shards = shards;
  core::CollectionSchema& s = info.schema;
  s.name = "books";
  s.enable_dynamic_field = true;
  core::FieldSchema id;
  id.id = 100;
  id.name = "id";
  id.data_type = core::DataType::kInt64;
  id.is_primary_key = true;
  core::FieldSchema vec;
  vec.id = 101;
  vec.name = "vec";
  vec.data_type = core::DataType::kFloatVector;
  vec.dim = kDim;
  core::FieldSchema name;
  name.id = 102;
  name.name = "name";
  name.data_type = core::DataType::kVarChar;
  name.max_length = 64;
  core::FieldSchema meta;
  meta.id = 103;
  meta.name = "$meta";
  meta.data_type = core::DataType::kJSON;
  meta.is_dynamic = true;
  s.fields = {id, vec, name, meta};
  info.partitions = {{kDefaultPartition, "_default", false}};
  return info;
}

/// The vector of row `id`: distinct per id, so a search for it finds it.
inline std::vector<float> VectorOf(int64_t id) {
  return {static_cast<float>(id), static_cast<float>(id % 7), static_cast<float>(id * 0.5), 1.0f};
}

inline nlohmann::json RowJson(int64_t id, int version = 0) {
  return {{"id", id},
          {"vec", VectorOf(id)},
          {"name", "n" + std::to_string(id) + "v" + std::to_string(version)},
          {"tag", version}};
}

inline std::unique_ptr<core::ColumnSet> Rows(const coord::CollectionInfo& info, const std::vector<int64_t>& ids,
                                             int version = 0) {
  auto rows = core::ColumnSet::Create(info.schema).value();
  for (int64_t id : ids) EXPECT_TRUE(rows->AppendRow(RowJson(id, version)).ok());
  return rows;
}

inline std::string Encode(const msg::WalMessage& m) {
  auto bytes = msg::EncodeWalMessage(m);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : std::string();
}

inline std::string InsertRecord(const coord::CollectionInfo& info, const std::vector<int64_t>& ids, uint64_t ts,
                                int64_t partition = kDefaultPartition, int version = 0) {
  msg::WalMessage m;
  m.type = msg::MessageType::kInsert;
  m.collection_id = info.id;
  m.timestamp = ts;
  m.rows = Rows(info, ids, version);
  m.partition_ids.assign(ids.size(), partition);
  return Encode(m);
}

inline std::string DeleteRecord(const coord::CollectionInfo& info, const std::vector<int64_t>& ids, uint64_t ts) {
  msg::WalMessage m;
  m.type = msg::MessageType::kDelete;
  m.collection_id = info.id;
  m.timestamp = ts;
  for (int64_t id : ids) m.deleted_pks.emplace_back(id);
  return Encode(m);
}

inline std::string UpsertRecord(const coord::CollectionInfo& info, const std::vector<int64_t>& ids, uint64_t ts,
                                int version) {
  msg::WalMessage m;
  m.type = msg::MessageType::kUpsert;
  m.collection_id = info.id;
  m.timestamp = ts;
  m.rows = Rows(info, ids, version);
  m.partition_ids.assign(ids.size(), kDefaultPartition);
  for (int64_t id : ids) m.deleted_pks.emplace_back(id);
  return Encode(m);
}

inline std::string TimeTickRecord(const coord::CollectionInfo& info, uint64_t ts) {
  msg::WalMessage m;
  m.type = msg::MessageType::kTimeTick;
  m.collection_id = info.id;
  m.timestamp = ts;
  return Encode(m);
}

/// Polls `pred` every 5 ms for up to `timeout`.
inline bool WaitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

/// A temp dir with a LocalLog and a LocalObjectStore, a TestCoordinator knowing
/// MakeCollection(), and helpers to append records and read segments back.
class StorageFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = ::testing::TempDir() + "/tessera_datanode_XXXXXX";
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    OpenLog();
    storage::LocalObjectStoreOptions object_options;
    object_options.sync = false;
    store_ = storage::LocalObjectStore::Open(dir_ / "objects", object_options).value();
    collection_ = MakeCollection();
    coord_.AddCollection(collection_);
  }
  void TearDown() override {
    store_.reset();
    log_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void OpenLog() {
    log_.reset();
    log_ = storage::LocalLog::Open((dir_ / "wal").string()).value();
  }

  std::string Channel(int32_t shard = 0) const { return collection_.Channel(shard); }

  uint64_t Append(const std::string& record, int32_t shard = 0) {
    std::vector<std::string> records{record};
    auto offsets = log_->Append(Channel(shard), records);
    EXPECT_TRUE(offsets.ok()) << offsets.status().ToString();
    return offsets.ok() ? offsets->front() : 0;
  }

  std::unique_ptr<core::Column> ReadColumn(const coord::SegmentInfo& segment, const core::FieldSchema& field) {
    auto it = segment.binlogs.find(field.id);
    EXPECT_NE(it, segment.binlogs.end()) << "no binlog for field " << field.id;
    if (it == segment.binlogs.end()) return nullptr;
    auto bytes = store_->Get(it->second);
    EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
    auto column = segment::ReadBinlog(field, *bytes, it->second);
    EXPECT_TRUE(column.ok()) << column.status().ToString();
    return column.ok() ? std::move(column).value() : nullptr;
  }
  std::vector<int64_t> ReadInt64(const coord::SegmentInfo& segment, const core::FieldSchema& field) {
    auto column = ReadColumn(segment, field);
    if (!column) return {};
    auto data = static_cast<const core::Int64Column&>(*column).data();
    return {data.begin(), data.end()};
  }
  std::vector<int64_t> Ids(const coord::SegmentInfo& segment) {
    return ReadInt64(segment, collection_.schema.fields[0]);
  }
  std::vector<segment::DeleteEntry> ReadDeletes(const std::string& key) {
    auto bytes = store_->Get(key);
    EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
    auto log = segment::ReadDeltalog(*bytes, key);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? log->entries : std::vector<segment::DeleteEntry>{};
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::LocalLog> log_;
  std::unique_ptr<storage::LocalObjectStore> store_;
  coord::CollectionInfo collection_;
  TestCoordinator coord_;
};

}  // namespace tessera::datanode::testing
