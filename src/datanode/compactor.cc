#include "datanode/compactor.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>
#include <variant>

#include "common/crash_point.h"
#include "core/column_set.h"
#include "datanode/segment_layout.h"
#include "datanode/segment_writer.h"
#include "segment/binlog.h"
#include "segment/deltalog.h"
#include "segment/stats.h"

namespace tessera::datanode {

namespace {

using GetFn = std::function<Result<std::string>(const std::string&)>;

/// Newest delete timestamp per primary key.
using DeleteIndex = std::unordered_map<segment::PrimaryKey, uint64_t>;

/// Deltalogs read so far, by object key.
using Deltalogs = std::map<std::string, segment::Deltalog>;

/// Reads each of `keys` not in `logs` yet (so a deltalog is read once per compaction) and
/// checks its key type against the primary key's.
Status ReadDeltalogs(const std::vector<std::string>& keys, core::DataType pk_type, const GetFn& get,
                     Deltalogs* logs) {
  for (const std::string& key : keys) {
    if (logs->count(key) != 0) continue;
    TESSERA_ASSIGN_OR_RETURN(std::string bytes, get(key));
    TESSERA_ASSIGN_OR_RETURN(segment::Deltalog log, segment::ReadDeltalog(bytes, key));
    if (log.pk_type != pk_type && !log.entries.empty()) {
      return Status::DataLoss("deltalog " + key + " holds " + std::string(core::DataTypeName(log.pk_type)) +
                              " keys but the primary key is " + std::string(core::DataTypeName(pk_type)));
    }
    logs->emplace(key, std::move(log));
  }
  return Status::OK();
}

/// The newest delete timestamp per key over the deltalogs `keys` (read into `logs`).
DeleteIndex IndexDeletes(const std::vector<std::string>& keys, const Deltalogs& logs) {
  DeleteIndex deletes;
  for (const std::string& key : keys) {
    for (const segment::DeleteEntry& entry : logs.at(key).entries) {
      uint64_t& ts = deletes[entry.pk];
      ts = std::max(ts, entry.timestamp);
    }
  }
  return deletes;
}

/// Reads the binlog of `field` from `input` and checks its row count.
Result<std::unique_ptr<core::Column>> ReadColumn(const coord::SegmentInfo& input, const core::FieldSchema& field,
                                                 const GetFn& get) {
  auto it = input.binlogs.find(field.id);
  if (it == input.binlogs.end()) {
    return Status::DataLoss("segment " + std::to_string(input.id) + " has no binlog for field '" + field.name +
                            "' (id " + std::to_string(field.id) + ")");
  }
  TESSERA_ASSIGN_OR_RETURN(std::string bytes, get(it->second));
  TESSERA_ASSIGN_OR_RETURN(auto column, segment::ReadBinlog(field, bytes, it->second));
  if (column->size() != input.num_rows) {
    return Status::DataLoss("binlog " + it->second + " holds " + std::to_string(column->size()) +
                            " rows, segment " + std::to_string(input.id) + " has " +
                            std::to_string(input.num_rows));
  }
  return column;
}

/// The inputs' own delete entries (their deltalogs, read into `logs` already) that `retire`
/// does not allow to drop, in `kept`; returns how many it dropped.
Result<uint64_t> KeepUnretiredDeletes(const std::vector<coord::SegmentInfo>& inputs, const coord::DeleteRetirement& retire,
                                      const Deltalogs& logs, const GetFn& get, std::vector<segment::DeleteEntry>* kept) {
  if (retire.up_to_ts == 0) return uint64_t{0};
  std::vector<segment::SegmentStats> others;
  for (const std::string& key : retire.other_stats) {
    TESSERA_ASSIGN_OR_RETURN(std::string bytes, get(key));
    TESSERA_ASSIGN_OR_RETURN(segment::SegmentStats stats, segment::ReadStats(bytes, key));
    others.push_back(std::move(stats));
  }
  uint64_t dropped = 0;
  std::set<std::string> seen;
  for (const coord::SegmentInfo& input : inputs) {
    for (const std::string& key : input.deltalogs) {
      if (!seen.insert(key).second) continue;
      for (const segment::DeleteEntry& entry : logs.at(key).entries) {
        const bool retired = entry.timestamp <= retire.up_to_ts &&
                             std::none_of(others.begin(), others.end(),
                                          [&](const segment::SegmentStats& s) { return s.MayContain(entry.pk); });
        if (retired) {
          ++dropped;
        } else {
          kept->push_back(entry);
        }
      }
    }
  }
  return dropped;
}

/// Appends the rows of `input` that no delete hides, in a live partition and not expired
/// (timestamp below `expired_before`, when not 0) to `out`.
Status CopyLiveRows(const coord::CollectionInfo& collection, const coord::SegmentInfo& input,
                    const DeleteIndex& deletes, uint64_t expired_before, const GetFn& get, SegmentData* out) {
  const core::CollectionSchema& schema = collection.schema;
  std::vector<std::unique_ptr<core::Column>> columns;
  size_t pk_index = 0;
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    TESSERA_ASSIGN_OR_RETURN(auto column, ReadColumn(input, schema.fields[i], get));
    columns.push_back(std::move(column));
    if (schema.fields[i].is_primary_key) pk_index = i;
  }
  TESSERA_ASSIGN_OR_RETURN(auto timestamps, ReadColumn(input, TimestampField(), get));
  TESSERA_ASSIGN_OR_RETURN(auto partitions, ReadColumn(input, PartitionField(), get));
  auto rows = core::ColumnSet::FromColumns(schema, std::move(columns), nullptr);
  if (!rows.ok()) return Status::DataLoss("segment " + std::to_string(input.id) + ": " + rows.status().message());

  const core::Column& pk = (*rows)->column(pk_index);
  const auto& ts = static_cast<const core::Int64Column&>(*timestamps);
  const auto& partition_ids = static_cast<const core::Int64Column&>(*partitions);
  // Rows of a dropped partition are dropped (a collection listing no partitions keeps all).
  const std::set<int64_t> live_partitions = collection.LivePartitionIds();
  for (size_t row = 0; row < input.num_rows; ++row) {
    if (pk.IsNull(row)) return Status::DataLoss("segment " + std::to_string(input.id) + ": null primary key");
    if (!live_partitions.empty() && live_partitions.count(partition_ids.Value(row)) == 0) continue;
    if (static_cast<uint64_t>(ts.Value(row)) < expired_before) continue;
    auto it = deletes.find(PrimaryKeyAt(pk, row));
    if (it != deletes.end() && static_cast<uint64_t>(ts.Value(row)) < it->second) continue;
    out->rows->AppendRowFrom(**rows, row);
    out->timestamps->AppendFrom(*timestamps, row);
    out->partitions->AppendFrom(*partitions, row);
  }
  return Status::OK();
}

}  // namespace

Result<CompactionResult> CompactSegments(const coord::CollectionInfo& collection,
                                           const std::vector<coord::SegmentInfo>& inputs,
                                           const std::vector<std::string>& all_deltalogs, int64_t new_segment_id,
                                           const coord::DeleteRetirement& retire, storage::ObjectStore& objects,
                                           const std::function<bool(std::chrono::milliseconds)>& sleep,
                                           Backoff backoff) {
  const std::string what = "compaction into segment " + std::to_string(new_segment_id);
  if (inputs.empty()) return Status::InvalidArgument(what + ": no input segments");
  const core::FieldSchema* pk = collection.schema.PrimaryKey();
  if (pk == nullptr) return Status::InvalidArgument(what + ": the collection has no primary key");
  for (const coord::SegmentInfo& input : inputs) {
    if (input.collection_id != collection.id) {
      return Status::InvalidArgument(what + ": segment " + std::to_string(input.id) + " belongs to collection " +
                                     std::to_string(input.collection_id) + ", not " + std::to_string(collection.id));
    }
    if (input.channel != inputs.front().channel) {
      return Status::InvalidArgument(what + ": inputs span channels " + inputs.front().channel + " and " +
                                     input.channel);
    }
    if (input.id == new_segment_id) {
      return Status::InvalidArgument(what + ": the new segment id is also an input");
    }
  }

  GetFn get = [&](const std::string& key) -> Result<std::string> {
    Result<std::string> out = Status::Unavailable("not attempted");
    Status status = RetryTransient(
        "data node: reading " + key,
        [&] {
          out = objects.Get(key);
          return out.status();
        },
        sleep, backoff);
    if (!status.ok()) {
      if (status.code() == StatusCode::kNotFound) return Status::DataLoss(key + " is missing: " + status.message());
      return status;
    }
    return out;
  };

  Deltalogs logs;
  TESSERA_RETURN_IF_ERROR(ReadDeltalogs(all_deltalogs, pk->data_type, get, &logs).WithContext(what));
  if (retire.up_to_ts > 0) {  // the inputs' own deltalogs are normally among all_deltalogs
    for (const coord::SegmentInfo& input : inputs) {
      TESSERA_RETURN_IF_ERROR(ReadDeltalogs(input.deltalogs, pk->data_type, get, &logs).WithContext(what));
    }
  }
  const DeleteIndex deletes = IndexDeletes(all_deltalogs, logs);
  auto data = SegmentData::Create(collection.schema);
  if (!data.ok()) return data.status().WithContext(what);
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const uint64_t expired_before = collection.ExpiredBefore(now_ms);  // TTL: expired rows are dropped
  for (const coord::SegmentInfo& input : inputs) {
    if (input.num_rows == 0) continue;
    TESSERA_RETURN_IF_ERROR(
        CopyLiveRows(collection, input, deletes, expired_before, get, &*data).WithContext(what));
  }
  auto retired = KeepUnretiredDeletes(inputs, retire, logs, get, &data->deletes);
  if (!retired.ok()) return retired.status().WithContext(what);
  if (*retired == 0) data->deletes.clear();  // nothing dropped: the inputs' deltalogs are carried as they are

  const std::string& channel = inputs.front().channel;
  auto encoded = EncodeSegment(collection, channel, new_segment_id, *data);
  if (!encoded.ok()) return encoded.status().WithContext(what);
  coord::SegmentInfo& info = encoded->info;
  info.start_offset = inputs.front().start_offset;
  info.end_offset = inputs.front().end_offset;
  std::set<std::string> seen;
  for (const coord::SegmentInfo& input : inputs) {
    info.start_offset = std::min(info.start_offset, input.start_offset);
    info.end_offset = std::max(info.end_offset, input.end_offset);
    info.time_tick = std::max(info.time_tick, input.time_tick);
    info.compacted_from.push_back(input.id);
    if (*retired > 0) continue;  // EncodeSegment wrote the kept deletes as the output's own deltalog
    for (const std::string& key : input.deltalogs) {
      if (seen.insert(key).second) info.deltalogs.push_back(key);
    }
  }
  for (const auto& [key, bytes] : encoded->files) {
    TESSERA_RETURN_IF_ERROR(RetryTransient(
        "data node: writing " + key, [&] { return objects.Put(key, bytes); }, sleep, backoff));
    crash_point::Reach(crash_point::Site::kCompactionMidUpload);
  }
  return CompactionResult{.segment = std::move(encoded->info), .retired_deletes = *retired};
}

}  // namespace tessera::datanode
