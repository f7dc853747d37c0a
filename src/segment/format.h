#pragma once

// PRIVATE header of src/segment: the container shared by every segment file kind (header,
// checksummed blocks, footer) and bounds-checked little-endian helpers. The byte layout is
// documented in docs/format/segment.md; change the two together.

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "segment/options.h"

namespace tessera::segment::internal {

static_assert(std::endian::native == std::endian::little,
              "segment files are little-endian and written with memcpy");

inline constexpr uint32_t kBinlogMagic = 0x4C425354;    // bytes "T S B L"
inline constexpr uint32_t kDeltalogMagic = 0x4C445354;  // bytes "T S D L"
inline constexpr uint32_t kStatsMagic = 0x54535354;     // bytes "T S S T"
inline constexpr uint16_t kFormatVersion = 1;

inline constexpr size_t kFileHeaderFixedBytes = 12;  // magic, version, reserved, metadata length
inline constexpr size_t kMaxMetadataBytes = 4096;
inline constexpr size_t kBlockHeaderBytes = 16;
inline constexpr size_t kFooterBytes = 20;
/// Upper bound of a block's uncompressed and stored length (also bounds what a reader
/// allocates for one block).
inline constexpr uint32_t kMaxBlockBytes = uint32_t{1} << 30;

inline constexpr uint8_t kCompressionNone = 0;
inline constexpr uint8_t kCompressionZstd = 1;

/// Appends little-endian values to a std::string. Single-threaded.
class Encoder {
 public:
  template <typename T>
    requires std::is_trivially_copyable_v<T>
  void Put(T value) {
    out_.append(reinterpret_cast<const char*>(&value), sizeof(T));
  }
  void PutBytes(const void* data, size_t size) { out_.append(static_cast<const char*>(data), size); }
  std::string& str() { return out_; }
  size_t size() const { return out_.size(); }

 private:
  std::string out_;
};

/// Reads what Encoder wrote, bounds-checked. Running past the end is DataLoss naming
/// `context` (object key, block) and the offset (payload offset + `base_offset`).
/// Single-threaded; the viewed bytes must outlive it.
class Decoder {
 public:
  /// Offsets in messages are `base_offset` + position, labelled `offset_name` ("offset" for
  /// file bytes, "payload offset" inside a decompressed block).
  Decoder(std::string_view bytes, std::string context, uint64_t base_offset = 0,
          std::string_view offset_name = "offset")
      : bytes_(bytes), context_(std::move(context)), base_offset_(base_offset), offset_name_(offset_name) {}

  template <typename T>
    requires std::is_trivially_copyable_v<T>
  Status Get(T* value, std::string_view what) {
    TESSERA_RETURN_IF_ERROR(Need(sizeof(T), what));
    std::memcpy(value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return Status::OK();
  }
  /// A view of the next `size` bytes.
  Status GetView(size_t size, std::string_view* out, std::string_view what) {
    TESSERA_RETURN_IF_ERROR(Need(size, what));
    *out = bytes_.substr(pos_, size);
    pos_ += size;
    return Status::OK();
  }
  /// `count` values of T into `out`; the count is checked against the remaining bytes
  /// before anything is allocated.
  template <typename T>
    requires std::is_trivially_copyable_v<T>
  Status GetArray(size_t count, std::vector<T>* out, std::string_view what) {
    if (count > remaining() / sizeof(T)) return Need(SIZE_MAX, what);
    out->resize(count);
    if (count > 0) std::memcpy(out->data(), bytes_.data() + pos_, count * sizeof(T));
    pos_ += count * sizeof(T);
    return Status::OK();
  }

  size_t position() const { return pos_; }
  size_t remaining() const { return bytes_.size() - pos_; }
  bool done() const { return pos_ == bytes_.size(); }

  /// DataLoss "<context>: <what> at offset <base+pos>".
  Status Corrupt(std::string_view what) const { return CorruptAt(what, pos_); }
  Status CorruptAt(std::string_view what, size_t pos) const;

 private:
  Status Need(size_t size, std::string_view what) const;

  std::string_view bytes_;
  std::string context_;
  uint64_t base_offset_;
  std::string_view offset_name_;
  size_t pos_ = 0;
};

/// Builds a file: header with `metadata`, then blocks, then the footer. Single-threaded.
class FileBuilder {
 public:
  FileBuilder(uint32_t magic, std::string_view metadata);
  /// Appends a block holding `payload`, zstd-compressed when `compression` asks for it and
  /// compression makes it smaller. InvalidArgument when the payload exceeds kMaxBlockBytes;
  /// Internal when zstd fails.
  Status AddBlock(std::string_view payload, const Compression& compression);
  /// The finished file. The builder must not be used afterwards.
  std::string Finish();

 private:
  uint32_t magic_;
  std::string out_;
  uint32_t block_count_ = 0;
  std::vector<uint32_t> block_crcs_;
};

/// One decoded block: its payload (decompressed) and the file offset of its header.
struct Block {
  uint64_t offset = 0;
  std::string payload;
};

/// A parsed and fully verified file.
struct ParsedFile {
  std::string metadata;
  std::vector<Block> blocks;
};

/// Parses and verifies `bytes` (magic, version, header CRC, every block's CRC and lengths,
/// footer). Any problem is DataLoss "<kind> '<key>': <reason> at offset <n>".
Result<ParsedFile> ParseFile(std::string_view bytes, uint32_t magic, std::string_view kind,
                             std::string_view key);

/// "<kind> '<key>'", the prefix of every error message about a file.
std::string FileContext(std::string_view kind, std::string_view key);
/// A Decoder over `block`'s payload whose messages read
/// "<kind> '<key>' block <index> (file offset <o>): <what> at payload offset <n>".
Decoder BlockDecoder(std::string_view kind, std::string_view key, size_t index, const Block& block);

}  // namespace tessera::segment::internal
