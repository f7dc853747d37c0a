#include "datanode/growing_buffer.h"

#include <limits>
#include <string>
#include <variant>

#include "common/check.h"

namespace tessera::datanode {

Status CheckMessage(const msg::WalMessage& message, const coord::CollectionInfo& collection,
                    std::string_view where) {
  auto fail = [&](const std::string& what) {
    return Status::FailedPrecondition("WAL record " + std::string(where) + ": " + what);
  };
  if (message.collection_id != collection.id) {
    return fail("belongs to collection " + std::to_string(message.collection_id) + ", expected " +
                std::to_string(collection.id));
  }
  if (message.timestamp > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return fail("timestamp " + std::to_string(message.timestamp) + " does not fit a hybrid timestamp");
  }
  const core::FieldSchema* pk = collection.schema.PrimaryKey();
  if (pk == nullptr) return fail("the collection has no primary key");
  const bool int_pk = pk->data_type == core::DataType::kInt64;
  for (const segment::PrimaryKey& key : message.deleted_pks) {
    if (std::holds_alternative<int64_t>(key) != int_pk) {
      return fail(std::string("deletes a ") + (int_pk ? "VarChar" : "Int64") + " key but the primary key '" +
                  pk->name + "' is " + std::string(core::DataTypeName(pk->data_type)));
    }
  }
  const size_t rows = message.rows ? message.rows->num_rows() : 0;
  if (message.partition_ids.size() != rows) {
    return fail(std::to_string(message.partition_ids.size()) + " partition ids for " + std::to_string(rows) + " rows");
  }
  if (message.rows && message.rows->schema().fields.size() != collection.schema.fields.size()) {
    return fail("rows of another schema");
  }
  return Status::OK();
}

Result<std::unique_ptr<GrowingBuffer>> GrowingBuffer::Create(const core::CollectionSchema& schema,
                                                             uint64_t start_offset) {
  TESSERA_ASSIGN_OR_RETURN(SegmentData data, SegmentData::Create(schema));
  return std::unique_ptr<GrowingBuffer>(new GrowingBuffer(std::move(data), start_offset));
}

void GrowingBuffer::Append(const msg::WalMessage& message, uint64_t offset) {
  TESSERA_CHECK(offset >= end_offset_) << "GrowingBuffer::Append: offset " << offset << " before end " << end_offset_;
  const auto ts = static_cast<int64_t>(message.timestamp);
  if (message.type == msg::MessageType::kTimeTick) time_tick_ = std::max(time_tick_, message.timestamp);
  if (message.rows) {
    const core::ColumnSet& rows = *message.rows;
    for (size_t row = 0; row < rows.num_rows(); ++row) {
      data_.rows->AppendRowFrom(rows, row);
      // Int64 columns accept any int64 JSON number, so these appends cannot fail.
      TESSERA_CHECK(data_.timestamps->Append(ts).ok());
      TESSERA_CHECK(data_.partitions->Append(message.partition_ids[row]).ok());
      ++rows_per_partition_[message.partition_ids[row]];
    }
    bytes_ += rows.MemoryUsage() + rows.num_rows() * 2 * sizeof(int64_t);
  }
  for (const segment::PrimaryKey& key : message.deleted_pks) {
    data_.deletes.push_back({key, message.timestamp});
    bytes_ += sizeof(segment::DeleteEntry);
    if (const auto* s = std::get_if<std::string>(&key)) bytes_ += s->size();
  }
  end_offset_ = offset + 1;
}

uint64_t GrowingBuffer::Rows(std::optional<int64_t> partition) const {
  if (!partition) return num_rows();
  auto it = rows_per_partition_.find(*partition);
  return it == rows_per_partition_.end() ? 0 : it->second;
}

}  // namespace tessera::datanode
