#pragma once

// PRIVATE header of LocalLog: the byte layout of WAL segment files, shared by the writer, the
// recovery scan, the subscription reader and the tests. docs/format/wal.md is the prose
// version of this file; change both together.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tessera::storage::wal {

/// First four bytes of every segment file: "TWAL" in file order (little-endian u32).
inline constexpr uint32_t kSegmentMagic = 0x4C415754;
inline constexpr uint32_t kFormatVersion = 1;

/// Segment header: magic u32, version u32, base_offset u64, reserved (12 zero bytes),
/// CRC32C u32 of the first 28 bytes.
inline constexpr size_t kSegmentHeaderSize = 32;

/// Record frame header: crc u32, payload_length u32, offset u64, group_delta u32, flags u8,
/// key_length u8, reserved u16; then key_length key bytes, then the payload. The CRC32C
/// covers every byte of the frame after the crc field.
inline constexpr size_t kFrameHeaderSize = 24;

/// Frame flags. A batch (one Append) is a run of frames from one with kFirstInBatch to one
/// with kLastInBatch (a single-record batch has both).
inline constexpr uint8_t kFirstInBatch = 0x01;
inline constexpr uint8_t kLastInBatch = 0x02;
inline constexpr uint8_t kKnownFlags = kFirstInBatch | kLastInBatch;

/// Hard upper bound on one payload; a frame header claiming more is corrupt.
inline constexpr uint32_t kMaxPayloadBytes = 1u << 30;

/// "00000000000000000042.wal" for base offset 42 (20 digits, so names sort by offset).
std::string SegmentFileName(uint64_t base_offset);
/// Parses a SegmentFileName; false for any other name.
bool ParseSegmentFileName(std::string_view name, uint64_t* base_offset);

std::string EncodeSegmentHeader(uint64_t base_offset);
/// Checks length, magic, version and CRC; sets *base_offset. On failure returns false and
/// sets *why.
bool DecodeSegmentHeader(std::string_view bytes, uint64_t* base_offset, std::string* why);

/// Size of the frame holding `key` and `payload`.
inline size_t FrameSize(size_t key_size, size_t payload_size) {
  return kFrameHeaderSize + key_size + payload_size;
}

/// Appends one encoded frame to *dst.
void AppendFrame(std::string* dst, uint64_t offset, uint32_t group_delta, uint8_t flags,
                 std::string_view key, std::string_view payload);

/// A decoded frame; the views point into the parsed buffer.
struct Frame {
  uint64_t offset = 0;
  uint32_t group_delta = 0;  ///< offset minus the first offset of its group-commit write
  uint8_t flags = 0;
  std::string_view key;
  std::string_view payload;
  size_t size = 0;  ///< bytes of the whole frame

  uint64_t group_start() const { return offset - group_delta; }
};

/// Fields of a frame header read without any validation (`header` must hold at least
/// kFrameHeaderSize bytes): the record offset, and the frame size the header claims.
uint64_t PeekFrameOffset(const char* header);
size_t PeekFrameSize(const char* header);

enum class ParseOutcome {
  kOk,
  kIncomplete,  ///< the frame (as its header describes it) extends past the end of `data`
  kCorrupt,     ///< impossible header or CRC mismatch; *why says which
};

/// Decodes the frame at the start of `data`. Checks the header fields (known flags, key
/// only on a first-in-batch frame, reserved zero, group_delta <= offset, payload at most
/// kMaxPayloadBytes) before completeness, and the CRC last.
ParseOutcome ParseFrame(std::string_view data, Frame* frame, std::string* why);

}  // namespace tessera::storage::wal
