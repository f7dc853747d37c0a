#include "segment/format.h"

#include <zstd.h>

#include "common/crc32c.h"

namespace tessera::segment::internal {
namespace {

template <typename T>
T LoadLE(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

std::string Hex(uint32_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s = "0x";
  for (int shift = 28; shift >= 0; shift -= 4) s += kDigits[(v >> shift) & 0xF];
  return s;
}

}  // namespace

Status Decoder::CorruptAt(std::string_view what, size_t pos) const {
  return Status::DataLoss(context_ + ": " + std::string(what) + " at " + std::string(offset_name_) + " " +
                          std::to_string(base_offset_ + pos));
}

Status Decoder::Need(size_t size, std::string_view what) const {
  if (size <= remaining()) return Status::OK();
  return CorruptAt("truncated reading " + std::string(what) + " (" + std::to_string(remaining()) +
                       " bytes left)",
                   pos_);
}

std::string FileContext(std::string_view kind, std::string_view key) {
  return std::string(kind) + " '" + std::string(key) + "'";
}

Decoder BlockDecoder(std::string_view kind, std::string_view key, size_t index, const Block& block) {
  return Decoder(block.payload,
                 FileContext(kind, key) + " block " + std::to_string(index) + " (file offset " +
                     std::to_string(block.offset) + ")",
                 0, "payload offset");
}

FileBuilder::FileBuilder(uint32_t magic, std::string_view metadata) : magic_(magic) {
  Encoder e;
  e.Put<uint32_t>(magic);
  e.Put<uint16_t>(kFormatVersion);
  e.Put<uint16_t>(0);
  e.Put<uint32_t>(static_cast<uint32_t>(metadata.size()));
  e.PutBytes(metadata.data(), metadata.size());
  e.Put<uint32_t>(crc32c::Value(e.str().data(), e.size()));
  out_ = std::move(e.str());
}

Status FileBuilder::AddBlock(std::string_view payload, const Compression& compression) {
  if (payload.size() > kMaxBlockBytes) {
    return Status::InvalidArgument("segment block of " + std::to_string(payload.size()) +
                                   " bytes exceeds the limit of " + std::to_string(kMaxBlockBytes) +
                                   " bytes; write fewer rows per block");
  }
  std::string compressed;
  uint8_t flag = kCompressionNone;
  std::string_view stored = payload;
  if (compression.codec == Compression::Codec::kZstd && !payload.empty()) {
    compressed.resize(ZSTD_compressBound(payload.size()));
    const size_t n = ZSTD_compress(compressed.data(), compressed.size(), payload.data(), payload.size(),
                                   compression.zstd_level);
    if (ZSTD_isError(n)) {
      return Status::Internal(std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
    }
    if (n < payload.size()) {
      compressed.resize(n);
      stored = compressed;
      flag = kCompressionZstd;
    }
  }
  Encoder header;
  header.Put<uint32_t>(static_cast<uint32_t>(payload.size()));
  header.Put<uint32_t>(static_cast<uint32_t>(stored.size()));
  header.Put<uint8_t>(flag);
  header.Put<uint8_t>(0);
  header.Put<uint16_t>(0);
  const uint32_t crc = crc32c::Extend(crc32c::Value(header.str().data(), header.size()), stored.data(),
                                      stored.size());
  header.Put<uint32_t>(crc);
  out_.append(header.str());
  out_.append(stored);
  block_crcs_.push_back(crc);
  ++block_count_;
  return Status::OK();
}

std::string FileBuilder::Finish() {
  Encoder footer;
  footer.Put<uint64_t>(out_.size());
  footer.Put<uint32_t>(block_count_);
  uint32_t crc = crc32c::Value(footer.str().data(), footer.size());
  for (uint32_t block_crc : block_crcs_) crc = crc32c::Extend(crc, &block_crc, sizeof(block_crc));
  footer.Put<uint32_t>(crc);
  footer.Put<uint32_t>(magic_);
  out_.append(footer.str());
  return std::move(out_);
}

Result<ParsedFile> ParseFile(std::string_view bytes, uint32_t magic, std::string_view kind,
                             std::string_view key) {
  Decoder d(bytes, FileContext(kind, key));
  ParsedFile file;

  // Header.
  uint32_t file_magic = 0;
  uint16_t version = 0;
  uint16_t reserved = 0;
  uint32_t metadata_size = 0;
  TESSERA_RETURN_IF_ERROR(d.Get(&file_magic, "magic"));
  if (file_magic != magic) {
    return d.CorruptAt("bad magic " + Hex(file_magic) + " (expected " + Hex(magic) + ")", 0);
  }
  TESSERA_RETURN_IF_ERROR(d.Get(&version, "format version"));
  if (version != kFormatVersion) {
    return d.CorruptAt("unsupported format version " + std::to_string(version) + " (this build reads " +
                           std::to_string(kFormatVersion) + ")",
                       4);
  }
  TESSERA_RETURN_IF_ERROR(d.Get(&reserved, "header"));
  if (reserved != 0) return d.CorruptAt("non-zero reserved header bytes", 6);
  TESSERA_RETURN_IF_ERROR(d.Get(&metadata_size, "metadata length"));
  if (metadata_size > kMaxMetadataBytes) {
    return d.CorruptAt("metadata length " + std::to_string(metadata_size) + " exceeds " +
                           std::to_string(kMaxMetadataBytes),
                       8);
  }
  std::string_view metadata;
  TESSERA_RETURN_IF_ERROR(d.GetView(metadata_size, &metadata, "metadata"));
  const size_t header_crc_pos = d.position();
  uint32_t header_crc = 0;
  TESSERA_RETURN_IF_ERROR(d.Get(&header_crc, "header checksum"));
  if (header_crc != crc32c::Value(bytes.data(), header_crc_pos)) {
    return d.CorruptAt("header checksum mismatch", header_crc_pos);
  }
  file.metadata.assign(metadata);
  const size_t blocks_begin = d.position();

  // Footer.
  if (bytes.size() - blocks_begin < kFooterBytes) {
    return d.CorruptAt("truncated: no room for the footer (" + std::to_string(bytes.size()) +
                           " bytes in all)",
                       blocks_begin);
  }
  const size_t footer_pos = bytes.size() - kFooterBytes;
  const char* footer = bytes.data() + footer_pos;
  const uint64_t blocks_end = LoadLE<uint64_t>(footer);
  const uint32_t block_count = LoadLE<uint32_t>(footer + 8);
  const uint32_t footer_crc = LoadLE<uint32_t>(footer + 12);
  const uint32_t end_magic = LoadLE<uint32_t>(footer + 16);
  if (end_magic != magic) {
    return d.CorruptAt("bad trailing magic " + Hex(end_magic) + " (truncated or damaged file)",
                       footer_pos + 16);
  }
  if (blocks_end != footer_pos) {
    return d.CorruptAt("footer says blocks end at " + std::to_string(blocks_end) + " but the footer is",
                       footer_pos);
  }

  // Blocks.
  uint32_t crc = crc32c::Value(footer, 12);
  Decoder blocks(bytes.substr(0, footer_pos), FileContext(kind, key));
  TESSERA_RETURN_IF_ERROR(blocks.GetView(blocks_begin, &metadata, "header"));
  while (!blocks.done()) {
    const size_t block_pos = blocks.position();
    if (file.blocks.size() >= block_count) {
      return blocks.Corrupt("more blocks than the footer's count of " + std::to_string(block_count));
    }
    std::string_view header;
    TESSERA_RETURN_IF_ERROR(blocks.GetView(kBlockHeaderBytes, &header, "block header"));
    const uint32_t raw_size = LoadLE<uint32_t>(header.data());
    const uint32_t stored_size = LoadLE<uint32_t>(header.data() + 4);
    const uint8_t flag = static_cast<uint8_t>(header[8]);
    const uint32_t block_crc = LoadLE<uint32_t>(header.data() + 12);
    std::string_view stored;
    TESSERA_RETURN_IF_ERROR(blocks.GetView(stored_size, &stored, "block data"));
    if (crc32c::Extend(crc32c::Value(header.data(), 12), stored.data(), stored.size()) != block_crc) {
      return blocks.CorruptAt("block checksum mismatch", block_pos);
    }
    if (header[9] != 0 || header[10] != 0 || header[11] != 0) {
      return blocks.CorruptAt("non-zero reserved block header bytes", block_pos);
    }
    if (raw_size > kMaxBlockBytes) {
      return blocks.CorruptAt("block length " + std::to_string(raw_size) + " exceeds the limit", block_pos);
    }
    Block block;
    block.offset = block_pos;
    if (flag == kCompressionNone) {
      if (raw_size != stored_size) {
        return blocks.CorruptAt("uncompressed block with length " + std::to_string(raw_size) +
                                    " != stored length " + std::to_string(stored_size),
                                block_pos);
      }
      block.payload.assign(stored);
    } else if (flag == kCompressionZstd) {
      const unsigned long long content_size = ZSTD_getFrameContentSize(stored.data(), stored.size());
      if (content_size != raw_size) {
        return blocks.CorruptAt("zstd frame size does not match block length " + std::to_string(raw_size),
                                block_pos);
      }
      block.payload.resize(raw_size);
      const size_t n = ZSTD_decompress(block.payload.data(), block.payload.size(), stored.data(), stored.size());
      if (ZSTD_isError(n) || n != raw_size) {
        return blocks.CorruptAt(std::string("zstd decompression failed: ") +
                                    (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short output"),
                                block_pos);
      }
    } else {
      return blocks.CorruptAt("unknown compression " + std::to_string(flag), block_pos);
    }
    crc = crc32c::Extend(crc, &block_crc, sizeof(block_crc));
    file.blocks.push_back(std::move(block));
  }
  if (file.blocks.size() != block_count) {
    return d.CorruptAt("footer counts " + std::to_string(block_count) + " blocks, file holds " +
                           std::to_string(file.blocks.size()),
                       footer_pos + 8);
  }
  if (crc != footer_crc) return d.CorruptAt("footer checksum mismatch", footer_pos + 12);
  return file;
}

}  // namespace tessera::segment::internal
