#include "segment/stats.h"

#include "common/utf8.h"
#include "segment/format.h"

namespace tessera::segment {
namespace {

using core::DataType;
using internal::Decoder;
using internal::Encoder;

constexpr std::string_view kKind = "stats";
constexpr size_t kMetadataBytes = 16;

void PutKey(Encoder& e, const PrimaryKey& pk) {
  if (const auto* i = std::get_if<int64_t>(&pk)) {
    e.Put<int64_t>(*i);
  } else {
    const auto& s = std::get<std::string>(pk);
    e.Put<uint32_t>(static_cast<uint32_t>(s.size()));
    e.PutBytes(s.data(), s.size());
  }
}

Status GetKey(Decoder& d, DataType type, std::optional<PrimaryKey>* out, std::string_view what) {
  if (type == DataType::kInt64) {
    int64_t v = 0;
    TESSERA_RETURN_IF_ERROR(d.Get(&v, what));
    *out = v;
    return Status::OK();
  }
  uint32_t size = 0;
  TESSERA_RETURN_IF_ERROR(d.Get(&size, what));
  const size_t pos = d.position();
  std::string_view text;
  TESSERA_RETURN_IF_ERROR(d.GetView(size, &text, what));
  if (!IsValidUtf8(text)) return d.CorruptAt(std::string(what) + " is not valid UTF-8", pos);
  *out = std::string(text);
  return Status::OK();
}

}  // namespace

Result<SegmentStats> ComputeStats(const core::Column& pk_column, double fp_rate) {
  SegmentStats stats;
  stats.pk_type = pk_column.field().data_type;
  stats.row_count = pk_column.size();
  stats.bloom = BloomFilter::ForCapacity(pk_column.size(), fp_rate);
  if (const auto* ints = dynamic_cast<const core::Int64Column*>(&pk_column)) {
    for (size_t row = 0; row < ints->size(); ++row) {
      if (ints->IsNull(row)) return Status::InvalidArgument("primary key column has a null at row " + std::to_string(row));
      const int64_t v = ints->Value(row);
      stats.bloom.Add(v);
      if (!stats.min_pk || v < std::get<int64_t>(*stats.min_pk)) stats.min_pk = v;
      if (!stats.max_pk || v > std::get<int64_t>(*stats.max_pk)) stats.max_pk = v;
    }
  } else if (const auto* strings = dynamic_cast<const core::VarCharColumn*>(&pk_column)) {
    std::string_view min, max;
    for (size_t row = 0; row < strings->size(); ++row) {
      if (strings->IsNull(row)) return Status::InvalidArgument("primary key column has a null at row " + std::to_string(row));
      const std::string_view v = strings->View(row);
      stats.bloom.Add(v);
      if (row == 0 || v < min) min = v;
      if (row == 0 || v > max) max = v;
    }
    if (strings->size() > 0) {
      stats.min_pk = std::string(min);
      stats.max_pk = std::string(max);
    }
  } else {
    return Status::InvalidArgument("primary key field '" + pk_column.field().name + "' must be Int64 or VarChar, not " +
                                   std::string(core::DataTypeName(stats.pk_type)));
  }
  return stats;
}

Result<std::string> WriteStats(const SegmentStats& stats, const Compression& compression) {
  if (stats.pk_type != DataType::kInt64 && stats.pk_type != DataType::kVarChar) {
    return Status::InvalidArgument("stats primary key type must be Int64 or VarChar, not " +
                                   std::string(core::DataTypeName(stats.pk_type)));
  }
  const bool is_int = stats.pk_type == DataType::kInt64;
  if (stats.min_pk.has_value() != stats.max_pk.has_value()) {
    return Status::InvalidArgument("stats: min_pk and max_pk must both be set or both empty");
  }
  if (stats.min_pk.has_value() != (stats.row_count > 0)) {
    return Status::InvalidArgument("stats: min_pk/max_pk must be set exactly when row_count > 0");
  }
  if (stats.min_pk) {
    if (std::holds_alternative<int64_t>(*stats.min_pk) != is_int ||
        std::holds_alternative<int64_t>(*stats.max_pk) != is_int) {
      return Status::InvalidArgument("stats: min_pk/max_pk do not hold the primary key type");
    }
    if (*stats.max_pk < *stats.min_pk) return Status::InvalidArgument("stats: min_pk > max_pk");
    if (!is_int) {
      for (const auto* pk : {&*stats.min_pk, &*stats.max_pk}) {
        const auto& s = std::get<std::string>(*pk);
        if (s.size() > static_cast<size_t>(core::kMaxVarCharLength) || !IsValidUtf8(s)) {
          return Status::InvalidArgument("stats: VarChar min/max key is not valid UTF-8 of at most 65535 bytes");
        }
      }
    }
  }
  Encoder meta;
  meta.Put<uint64_t>(stats.row_count);
  meta.Put<uint8_t>(static_cast<uint8_t>(stats.pk_type));
  for (int i = 0; i < 7; ++i) meta.Put<uint8_t>(0);
  internal::FileBuilder builder(internal::kStatsMagic, meta.str());

  Encoder e;
  e.Put<uint8_t>(stats.min_pk ? 1 : 0);
  if (stats.min_pk) {
    PutKey(e, *stats.min_pk);
    PutKey(e, *stats.max_pk);
  }
  e.Put<uint32_t>(stats.bloom.num_hashes());
  e.Put<uint32_t>(0);
  e.Put<uint64_t>(stats.bloom.words().size());
  e.PutBytes(stats.bloom.words().data(), stats.bloom.words().size() * sizeof(uint64_t));
  TESSERA_RETURN_IF_ERROR(builder.AddBlock(e.str(), compression));
  return builder.Finish();
}

bool SegmentStats::MayContain(const PrimaryKey& pk) const {
  if (!min_pk.has_value() || !max_pk.has_value()) return false;
  if (pk.index() != min_pk->index() || pk < *min_pk || *max_pk < pk) return false;
  return std::visit([&](const auto& key) { return bloom.MightContain(key); }, pk);
}

Result<SegmentStats> ReadStats(std::string_view bytes, std::string_view object_key) {
  TESSERA_ASSIGN_OR_RETURN(auto file, internal::ParseFile(bytes, internal::kStatsMagic, kKind, object_key));
  Decoder m(file.metadata, internal::FileContext(kKind, object_key), internal::kFileHeaderFixedBytes);
  if (file.metadata.size() != kMetadataBytes) return m.CorruptAt("bad metadata length", 0);
  SegmentStats stats;
  uint8_t pk_type = 0;
  TESSERA_RETURN_IF_ERROR(m.Get(&stats.row_count, "row count"));
  TESSERA_RETURN_IF_ERROR(m.Get(&pk_type, "primary key type"));
  for (int i = 0; i < 7; ++i) {
    uint8_t reserved = 0;
    TESSERA_RETURN_IF_ERROR(m.Get(&reserved, "reserved"));
    if (reserved != 0) return m.CorruptAt("non-zero reserved byte", 9 + i);
  }
  stats.pk_type = static_cast<DataType>(pk_type);
  if (stats.pk_type != DataType::kInt64 && stats.pk_type != DataType::kVarChar) {
    return m.CorruptAt("bad primary key type " + std::to_string(pk_type), 8);
  }
  if (file.blocks.size() != 1) {
    return Status::DataLoss(internal::FileContext(kKind, object_key) + ": expected 1 block, found " +
                            std::to_string(file.blocks.size()) + " at offset " +
                            std::to_string(bytes.size() - internal::kFooterBytes + 8));
  }
  Decoder d = internal::BlockDecoder(kKind, object_key, 0, file.blocks[0]);
  uint8_t has_range = 0;
  TESSERA_RETURN_IF_ERROR(d.Get(&has_range, "range flag"));
  if (has_range > 1) return d.CorruptAt("bad range flag", 0);
  if (has_range) {
    TESSERA_RETURN_IF_ERROR(GetKey(d, stats.pk_type, &stats.min_pk, "min primary key"));
    TESSERA_RETURN_IF_ERROR(GetKey(d, stats.pk_type, &stats.max_pk, "max primary key"));
    if (*stats.max_pk < *stats.min_pk) return d.CorruptAt("min primary key > max primary key", 1);
  }
  if (has_range != (stats.row_count > 0 ? 1 : 0)) {
    return d.CorruptAt("range flag does not match row count " + std::to_string(stats.row_count), 0);
  }
  uint32_t num_hashes = 0, reserved = 0;
  uint64_t num_words = 0;
  const size_t bloom_pos = d.position();
  TESSERA_RETURN_IF_ERROR(d.Get(&num_hashes, "bloom hash count"));
  TESSERA_RETURN_IF_ERROR(d.Get(&reserved, "bloom reserved"));
  TESSERA_RETURN_IF_ERROR(d.Get(&num_words, "bloom word count"));
  if (reserved != 0) return d.CorruptAt("non-zero bloom reserved field", bloom_pos + 4);
  if (num_words > SIZE_MAX / 8) return d.Corrupt("bad bloom word count");
  std::vector<uint64_t> words;
  TESSERA_RETURN_IF_ERROR(d.GetArray(static_cast<size_t>(num_words), &words, "bloom bits"));
  if (!d.done()) return d.Corrupt(std::to_string(d.remaining()) + " unexpected trailing bytes");
  auto bloom = BloomFilter::FromWords(num_hashes, std::move(words));
  if (!bloom.ok()) return d.CorruptAt(bloom.status().message(), bloom_pos);
  stats.bloom = std::move(bloom).value();
  return stats;
}

}  // namespace tessera::segment
