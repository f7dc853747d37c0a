#include "segment/deltalog.h"

#include <algorithm>

#include "common/utf8.h"
#include "segment/format.h"

namespace tessera::segment {
namespace {

using core::DataType;
using internal::Decoder;
using internal::Encoder;

constexpr std::string_view kKind = "deltalog";
constexpr size_t kMetadataBytes = 16;

}  // namespace

Result<std::string> WriteDeltalog(DataType pk_type, std::span<const DeleteEntry> entries,
                                  const DeltalogOptions& options) {
  if (pk_type != DataType::kInt64 && pk_type != DataType::kVarChar) {
    return Status::InvalidArgument("deltalog primary key type must be Int64 or VarChar, not " +
                                   std::string(core::DataTypeName(pk_type)));
  }
  if (options.entries_per_block == 0) return Status::InvalidArgument("DeltalogOptions.entries_per_block must be >= 1");
  const bool is_int = pk_type == DataType::kInt64;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (std::holds_alternative<int64_t>(entries[i].pk) != is_int) {
      return Status::InvalidArgument("delete entry " + std::to_string(i) + " has a primary key of the wrong type (want " +
                                     std::string(core::DataTypeName(pk_type)) + ")");
    }
    if (!is_int) {
      const auto& s = std::get<std::string>(entries[i].pk);
      if (s.size() > static_cast<size_t>(core::kMaxVarCharLength) || !IsValidUtf8(s)) {
        return Status::InvalidArgument("delete entry " + std::to_string(i) +
                                       ": VarChar primary key is not valid UTF-8 of at most 65535 bytes");
      }
    }
  }
  Encoder meta;
  meta.Put<uint64_t>(entries.size());
  meta.Put<uint8_t>(static_cast<uint8_t>(pk_type));
  for (int i = 0; i < 7; ++i) meta.Put<uint8_t>(0);
  internal::FileBuilder builder(internal::kDeltalogMagic, meta.str());
  for (size_t begin = 0; begin < entries.size(); begin += options.entries_per_block) {
    const size_t end = std::min(entries.size(), begin + size_t{options.entries_per_block});
    Encoder e;
    e.Put<uint32_t>(static_cast<uint32_t>(end - begin));
    for (size_t i = begin; i < end; ++i) e.Put<uint64_t>(entries[i].timestamp);
    if (is_int) {
      for (size_t i = begin; i < end; ++i) e.Put<int64_t>(std::get<int64_t>(entries[i].pk));
    } else {
      uint32_t offset = 0;
      e.Put<uint32_t>(0);
      for (size_t i = begin; i < end; ++i) {
        offset += static_cast<uint32_t>(std::get<std::string>(entries[i].pk).size());
        e.Put<uint32_t>(offset);
      }
      for (size_t i = begin; i < end; ++i) {
        const auto& s = std::get<std::string>(entries[i].pk);
        e.PutBytes(s.data(), s.size());
      }
    }
    TESSERA_RETURN_IF_ERROR(builder.AddBlock(e.str(), options.compression));
  }
  return builder.Finish();
}

Result<Deltalog> ReadDeltalog(std::string_view bytes, std::string_view object_key) {
  TESSERA_ASSIGN_OR_RETURN(auto file, internal::ParseFile(bytes, internal::kDeltalogMagic, kKind, object_key));
  Decoder m(file.metadata, internal::FileContext(kKind, object_key), internal::kFileHeaderFixedBytes);
  if (file.metadata.size() != kMetadataBytes) return m.CorruptAt("bad metadata length", 0);
  uint64_t count = 0;
  uint8_t pk_type = 0;
  TESSERA_RETURN_IF_ERROR(m.Get(&count, "entry count"));
  TESSERA_RETURN_IF_ERROR(m.Get(&pk_type, "primary key type"));
  for (int i = 0; i < 7; ++i) {
    uint8_t reserved = 0;
    TESSERA_RETURN_IF_ERROR(m.Get(&reserved, "reserved"));
    if (reserved != 0) return m.CorruptAt("non-zero reserved byte", 9 + i);
  }
  Deltalog log;
  log.pk_type = static_cast<DataType>(pk_type);
  if (log.pk_type != DataType::kInt64 && log.pk_type != DataType::kVarChar) {
    return m.CorruptAt("bad primary key type " + std::to_string(pk_type), 8);
  }
  const bool is_int = log.pk_type == DataType::kInt64;
  for (size_t b = 0; b < file.blocks.size(); ++b) {
    Decoder d = internal::BlockDecoder(kKind, object_key, b, file.blocks[b]);
    uint32_t n = 0;
    TESSERA_RETURN_IF_ERROR(d.Get(&n, "entry count"));
    std::vector<uint64_t> timestamps;
    TESSERA_RETURN_IF_ERROR(d.GetArray(n, &timestamps, "timestamps"));
    if (log.entries.size() + n > count) return d.Corrupt("blocks hold more entries than the header's " + std::to_string(count));
    if (is_int) {
      std::vector<int64_t> pks;
      TESSERA_RETURN_IF_ERROR(d.GetArray(n, &pks, "primary keys"));
      for (size_t i = 0; i < n; ++i) {
        DeleteEntry& entry = log.entries.emplace_back();
        entry.pk.emplace<int64_t>(pks[i]);
        entry.timestamp = timestamps[i];
      }
    } else {
      std::vector<uint32_t> offsets;
      const size_t offsets_pos = d.position();
      TESSERA_RETURN_IF_ERROR(d.GetArray(size_t{n} + 1, &offsets, "primary key offsets"));
      if (offsets[0] != 0) return d.CorruptAt("first primary key offset is not 0", offsets_pos);
      for (size_t i = 1; i < offsets.size(); ++i) {
        if (offsets[i] < offsets[i - 1]) return d.CorruptAt("primary key offsets decrease", offsets_pos + 4 * i);
      }
      std::string_view text;
      const size_t text_pos = d.position();
      TESSERA_RETURN_IF_ERROR(d.GetView(offsets.back(), &text, "primary keys"));
      for (size_t i = 0; i < n; ++i) {
        std::string_view pk = text.substr(offsets[i], offsets[i + 1] - offsets[i]);
        if (!IsValidUtf8(pk)) return d.CorruptAt("primary key is not valid UTF-8", text_pos + offsets[i]);
        DeleteEntry& entry = log.entries.emplace_back();
        entry.pk.emplace<std::string>(pk);
        entry.timestamp = timestamps[i];
      }
    }
    if (!d.done()) return d.Corrupt(std::to_string(d.remaining()) + " unexpected trailing bytes");
  }
  if (log.entries.size() != count) {
    return m.CorruptAt("header counts " + std::to_string(count) + " entries, blocks hold " +
                           std::to_string(log.entries.size()),
                       0);
  }
  return log;
}

}  // namespace tessera::segment
