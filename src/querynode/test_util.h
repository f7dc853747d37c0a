#pragma once

// PRIVATE test helpers of src/querynode: a real LocalLog and LocalObjectStore in a temp
// directory, WAL records written with the msg codec, and sealed segments written in the
// layout a data node uses (binlogs of every field plus the system columns, deltalogs,
// stats, index files).

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "coord/catalog_types.h"
#include "core/column_set.h"
#include "index/index.h"
#include "msg/wal_message.h"
#include "querynode/query_node_impl.h"
#include "segment/binlog.h"
#include "segment/deltalog.h"
#include "segment/stats.h"
#include "storage/log/local_log.h"
#include "storage/object/local_object_store.h"

namespace tessera::querynode::testing {

using nlohmann::json;

inline constexpr int64_t kCollectionId = 7;
inline constexpr int64_t kDefaultPartition = 1;
inline constexpr int64_t kOtherPartition = 2;
inline constexpr int64_t kPkField = 100;
inline constexpr int64_t kVecField = 101;
inline constexpr int64_t kIndexId = 900;

/// id Int64 (pk), vec FloatVector(4), color VarChar, n Int64, and "$meta" when dynamic.
inline coord::CollectionInfo MakeCollection(int32_t shards = 1, bool dynamic = true, std::string index_type = "",
                                            std::string metric = "L2") {
  coord::CollectionInfo info;
  info.id = kCollectionId;
  info.db_name = "default";
  info.num_shards = shards;
  core::CollectionSchema& s = info.schema;
  s.name = "things";
  auto add = [&](int64_t id, std::string name, core::DataType type) -> core::FieldSchema& {
    core::FieldSchema f;
    f.id = id;
    f.name = std::move(name);
    f.data_type = type;
    s.fields.push_back(f);
    return s.fields.back();
  };
  add(kPkField, "id", core::DataType::kInt64).is_primary_key = true;
  add(kVecField, "vec", core::DataType::kFloatVector).dim = 4;
  add(102, "color", core::DataType::kVarChar).max_length = 64;
  add(103, "n", core::DataType::kInt64);
  if (dynamic) {
    s.enable_dynamic_field = true;
    add(104, "$meta", core::DataType::kJSON).is_dynamic = true;
  }
  info.partitions = {{kDefaultPartition, "_default", true}, {kOtherPartition, "p2", true}};
  if (!index_type.empty()) {
    coord::IndexInfo idx;
    idx.id = kIndexId;
    idx.name = "vec_idx";
    idx.field_id = kVecField;
    idx.field_name = "vec";
    idx.index_type = index_type;
    idx.metric_type = metric;
    info.indexes.push_back(idx);
  }
  info.loaded = true;
  return info;
}

/// A row {id, vec: [x, 0, 0, 0], color, n} (+ extra keys): its L2 distance to the origin
/// is x^2.
inline json Row(int64_t id, float x, std::string color = "red", int64_t n = 0, json extra = json::object()) {
  json row = {{"id", id}, {"vec", {x, 0.0f, 0.0f, 0.0f}}, {"color", color}, {"n", n}};
  for (auto it = extra.begin(); it != extra.end(); ++it) row[it.key()] = it.value();
  return row;
}

/// A sealed segment to write: rows with their timestamps and partitions, deletes, and
/// optionally a built index.
struct SegmentSpec {
  int64_t id = 0;
  std::string channel;
  uint64_t start_offset = 0;
  uint64_t end_offset = 0;
  std::vector<json> rows;
  std::vector<uint64_t> timestamps;  // one per row; empty = all `timestamp`
  uint64_t timestamp = 100;
  std::vector<int64_t> partitions;   // one per row; empty = all default
  std::vector<segment::DeleteEntry> deletes;
  std::optional<index::IndexType> index;  // build and attach an index file
  nlohmann::json index_params = nlohmann::json::object();
  std::vector<int64_t> compacted_from;
};

class QueryNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "qn_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto log = storage::LocalLog::Open((dir_ / "wal").string());
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
    storage::LocalObjectStoreOptions opts;
    opts.sync = false;
    auto store = storage::LocalObjectStore::Open(dir_ / "objects", opts);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    QueryNodeOptions options;
    options.search_threads = 4;
    node_ = CreateQueryNode(options, log_.get(), store_.get());
  }

  void TearDown() override {
    node_.reset();
    store_.reset();
    log_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string Channel(int32_t shard = 0) const {
    std::string name("c");  // piecewise: GCC 12 warns (-Wrestrict) on "c" + std::to_string()
    name += std::to_string(kCollectionId);
    name += "_s";
    name += std::to_string(shard);
    return name;
  }

  std::unique_ptr<core::ColumnSet> Rows(const coord::CollectionInfo& info, const std::vector<json>& rows) {
    auto set = core::ColumnSet::Create(info.schema);
    EXPECT_TRUE(set.ok()) << set.status().ToString();
    for (const auto& row : rows) {
      Status s = (*set)->AppendRow(row);
      EXPECT_TRUE(s.ok()) << s.ToString() << " for " << row.dump();
    }
    return std::move(set).value();
  }

  uint64_t Append(const std::string& channel, const msg::WalMessage& m) {
    auto bytes = msg::EncodeWalMessage(m);
    EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
    std::vector<std::string> records{*bytes};
    auto offsets = log_->Append(channel, records);
    EXPECT_TRUE(offsets.ok()) << offsets.status().ToString();
    return offsets->front();
  }

  /// Appends an insert record; returns its offset.
  uint64_t Insert(const coord::CollectionInfo& info, const std::vector<json>& rows, uint64_t ts,
                  int64_t partition = kDefaultPartition, int32_t shard = 0) {
    msg::WalMessage m;
    m.type = msg::MessageType::kInsert;
    m.collection_id = info.id;
    m.timestamp = ts;
    m.rows = Rows(info, rows);
    m.partition_ids.assign(rows.size(), partition);
    return Append(Channel(shard), m);
  }

  uint64_t Delete(const coord::CollectionInfo& info, std::vector<segment::PrimaryKey> pks, uint64_t ts,
                  int32_t shard = 0) {
    msg::WalMessage m;
    m.type = msg::MessageType::kDelete;
    m.collection_id = info.id;
    m.timestamp = ts;
    m.deleted_pks = std::move(pks);
    return Append(Channel(shard), m);
  }

  uint64_t Upsert(const coord::CollectionInfo& info, const std::vector<json>& rows, uint64_t ts,
                  int64_t partition = kDefaultPartition, int32_t shard = 0) {
    msg::WalMessage m;
    m.type = msg::MessageType::kUpsert;
    m.collection_id = info.id;
    m.timestamp = ts;
    m.rows = Rows(info, rows);
    m.partition_ids.assign(rows.size(), partition);
    for (const auto& row : rows) m.deleted_pks.emplace_back(std::in_place_type<int64_t>, row["id"].get<int64_t>());
    return Append(Channel(shard), m);
  }

  std::string Prefix(const SegmentSpec& spec) const {
    return "collections/" + std::to_string(kCollectionId) + "/" + spec.channel + "/" + std::to_string(spec.id) + "/";
  }

  void Put(const std::string& key, const std::string& bytes) {
    Status s = store_->Put(key, bytes);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  /// Writes the files of a sealed segment and returns its SegmentInfo.
  coord::SegmentInfo WriteSegment(const coord::CollectionInfo& info, SegmentSpec spec) {
    if (spec.channel.empty()) spec.channel = Channel();
    coord::SegmentInfo out;
    out.id = spec.id;
    out.collection_id = info.id;
    out.channel = spec.channel;
    out.start_offset = spec.start_offset;
    out.end_offset = spec.end_offset;
    out.num_rows = spec.rows.size();
    out.compacted_from = spec.compacted_from;
    const std::string prefix = Prefix(spec);
    if (!spec.rows.empty()) {
      auto rows = Rows(info, spec.rows);
      for (size_t i = 0; i < info.schema.fields.size(); ++i) {
        const auto& field = info.schema.fields[i];
        auto bytes = segment::WriteBinlog(field, rows->column(i));
        EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
        const std::string key = prefix + "binlog/" + std::to_string(field.id) + "/1";
        Put(key, *bytes);
        out.binlogs[field.id] = key;
      }
      auto system = [&](int64_t field_id, const std::vector<int64_t>& values) {
        core::FieldSchema f;
        f.id = field_id;
        f.name = field_id == coord::kTimestampFieldId ? "$ts" : "$partition";
        f.data_type = core::DataType::kInt64;
        auto column = core::Column::Create(f);
        for (int64_t v : values) EXPECT_TRUE(column->Append(v).ok());
        auto bytes = segment::WriteBinlog(f, *column);
        EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
        const std::string key = prefix + "binlog/" + std::to_string(field_id) + "/1";
        Put(key, *bytes);
        out.binlogs[field_id] = key;
      };
      std::vector<int64_t> ts, parts;
      for (size_t i = 0; i < spec.rows.size(); ++i) {
        ts.push_back(static_cast<int64_t>(spec.timestamps.empty() ? spec.timestamp : spec.timestamps[i]));
        parts.push_back(spec.partitions.empty() ? kDefaultPartition : spec.partitions[i]);
      }
      system(coord::kTimestampFieldId, ts);
      system(coord::kPartitionFieldId, parts);

      auto stats = segment::ComputeStats(*rows->FindColumn("id"));
      EXPECT_TRUE(stats.ok());
      auto stats_bytes = segment::WriteStats(*stats);
      EXPECT_TRUE(stats_bytes.ok());
      out.stats = prefix + "stats/1";
      Put(out.stats, *stats_bytes);

      if (spec.index) {
        auto metric = index::MetricType::kL2;
        if (const auto* def = FindIndex(info)) metric = *index::ParseMetricType(def->metric_type);
        const size_t dim = static_cast<size_t>(info.schema.FindField("vec")->dim);
        auto idx = index::CreateIndex(*spec.index, metric, dim, spec.index_params);
        EXPECT_TRUE(idx.ok()) << idx.status().ToString();
        const auto& vec = static_cast<const core::FloatVectorColumn&>(*rows->FindColumn("vec"));
        EXPECT_TRUE((*idx)->Build(vec.data().data(), vec.size(), nullptr).ok());
        auto blob = (*idx)->Serialize();
        EXPECT_TRUE(blob.ok());
        const std::string key = prefix + "index/" + std::to_string(kIndexId) + "/1";
        Put(key, std::string(blob->begin(), blob->end()));
        out.index_files[kIndexId] = key;
      }
    }
    if (!spec.deletes.empty()) {
      auto bytes = segment::WriteDeltalog(core::DataType::kInt64, spec.deletes);
      EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
      const std::string key = prefix + "deltalog/1";
      Put(key, *bytes);
      out.deltalogs.push_back(key);
    }
    return out;
  }

  static const coord::IndexInfo* FindIndex(const coord::CollectionInfo& info) {
    for (const auto& idx : info.indexes) {
      if (idx.field_id == kVecField) return &idx;
    }
    return nullptr;
  }

  void Load(const coord::CollectionInfo& info, const std::vector<coord::SegmentInfo>& segments = {},
            std::map<std::string, uint64_t> checkpoints = {}) {
    Status s = node_->LoadCollection(info, segments, checkpoints);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_TRUE(node_->IsLoaded(info.id));
  }

  SearchRequest Near(float x, size_t limit = 10, std::string filter = "") {
    SearchRequest r;
    r.collection_id = kCollectionId;
    r.field_id = kVecField;
    r.vectors = {x, 0, 0, 0};
    r.num_queries = 1;
    r.limit = limit;
    r.filter = std::move(filter);
    return r;
  }

  /// The primary keys of the first query's hits, best first.
  std::vector<int64_t> SearchIds(const SearchRequest& r) {
    auto res = node_->Search(r);
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    std::vector<int64_t> ids;
    if (!res.ok()) return ids;
    for (const auto& hit : res->hits.at(0)) ids.push_back(std::get<int64_t>(hit.pk));
    return ids;
  }

  QueryRequest Q(std::string filter = "", size_t limit = 100, size_t offset = 0) {
    QueryRequest r;
    r.collection_id = kCollectionId;
    r.filter = std::move(filter);
    r.limit = limit;
    r.offset = offset;
    return r;
  }

  std::vector<int64_t> QueryIds(QueryRequest r) {
    r.output_fields = {"id"};
    auto res = node_->Query(r);
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    std::vector<int64_t> ids;
    if (!res.ok()) return ids;
    for (const auto& row : res->rows) ids.push_back(row["id"].get<int64_t>());
    return ids;
  }

  uint64_t Count(std::string filter = "") {
    QueryRequest r = Q(std::move(filter));
    r.count_only = true;
    auto res = node_->Query(r);
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    return res.ok() ? res->count : ~uint64_t{0};
  }

  /// Waits (bounded) until the collection's channel 0 has applied every record appended so far.
  WaitOffsets CaughtUp(int32_t shard = 0) {
    auto last = log_->LastOffset(Channel(shard));
    EXPECT_TRUE(last.ok());
    return WaitOffsets{{Channel(shard), last->has_value() ? **last + 1 : 0}};
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::LocalLog> log_;
  std::unique_ptr<storage::LocalObjectStore> store_;
  std::unique_ptr<QueryNodeImpl> node_;
};

}  // namespace tessera::querynode::testing
