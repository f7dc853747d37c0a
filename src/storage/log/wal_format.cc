#include "storage/log/wal_format.h"

#include <cinttypes>
#include <cstdio>

#include "common/crc32c.h"

namespace tessera::storage::wal {

namespace {

void PutU16(char* p, uint16_t v) {
  p[0] = static_cast<char>(v & 0xff);
  p[1] = static_cast<char>(v >> 8);
}
void PutU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void PutU64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint16_t GetU16(const char* p) {
  return static_cast<uint16_t>(static_cast<uint8_t>(p[0]) | (static_cast<uint8_t>(p[1]) << 8));
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace

std::string SegmentFileName(uint64_t base_offset) {
  char name[32];
  std::snprintf(name, sizeof(name), "%020" PRIu64 ".wal", base_offset);
  return name;
}

bool ParseSegmentFileName(std::string_view name, uint64_t* base_offset) {
  if (name.size() != 24 || name.substr(20) != ".wal") return false;
  uint64_t v = 0;
  for (size_t i = 0; i < 20; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) return false;
    v = v * 10 + digit;
  }
  *base_offset = v;
  return true;
}

std::string EncodeSegmentHeader(uint64_t base_offset) {
  std::string header(kSegmentHeaderSize, '\0');
  PutU32(header.data(), kSegmentMagic);
  PutU32(header.data() + 4, kFormatVersion);
  PutU64(header.data() + 8, base_offset);
  PutU32(header.data() + 28, crc32c::Value(header.data(), 28));
  return header;
}

bool DecodeSegmentHeader(std::string_view bytes, uint64_t* base_offset, std::string* why) {
  if (bytes.size() < kSegmentHeaderSize) {
    *why = "segment header truncated: " + std::to_string(bytes.size()) + " of " +
           std::to_string(kSegmentHeaderSize) + " bytes";
    return false;
  }
  const uint32_t magic = GetU32(bytes.data());
  if (magic != kSegmentMagic) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "bad segment magic 0x%08x (expected 0x%08x)", magic, kSegmentMagic);
    *why = buf;
    return false;
  }
  const uint32_t crc = GetU32(bytes.data() + 28);
  if (crc != crc32c::Value(bytes.data(), 28)) {
    *why = "segment header checksum mismatch";
    return false;
  }
  const uint32_t version = GetU32(bytes.data() + 4);
  if (version != kFormatVersion) {
    *why = "unsupported segment format version " + std::to_string(version) + " (this build reads " +
           std::to_string(kFormatVersion) + ")";
    return false;
  }
  *base_offset = GetU64(bytes.data() + 8);
  return true;
}

void AppendFrame(std::string* dst, uint64_t offset, uint32_t group_delta, uint8_t flags,
                 std::string_view key, std::string_view payload) {
  const size_t start = dst->size();
  dst->resize(start + kFrameHeaderSize);
  char* h = dst->data() + start;
  PutU32(h + 4, static_cast<uint32_t>(payload.size()));
  PutU64(h + 8, offset);
  PutU32(h + 16, group_delta);
  h[20] = static_cast<char>(flags);
  h[21] = static_cast<char>(key.size());
  PutU16(h + 22, 0);
  dst->append(key);
  dst->append(payload);
  h = dst->data() + start;  // append may have reallocated
  PutU32(h, crc32c::Value(h + 4, dst->size() - start - 4));
}

uint64_t PeekFrameOffset(const char* header) { return GetU64(header + 8); }

size_t PeekFrameSize(const char* header) {
  return FrameSize(static_cast<uint8_t>(header[21]), GetU32(header + 4));
}

ParseOutcome ParseFrame(std::string_view data, Frame* frame, std::string* why) {
  if (data.size() < kFrameHeaderSize) {
    *why = "frame header truncated";
    return ParseOutcome::kIncomplete;
  }
  const char* h = data.data();
  const uint32_t crc = GetU32(h);
  const uint32_t length = GetU32(h + 4);
  const uint64_t offset = GetU64(h + 8);
  const uint32_t group_delta = GetU32(h + 16);
  const auto flags = static_cast<uint8_t>(h[20]);
  const auto key_length = static_cast<uint8_t>(h[21]);
  const uint16_t reserved = GetU16(h + 22);
  if ((flags & ~kKnownFlags) != 0 || reserved != 0 ||
      (key_length != 0 && (flags & kFirstInBatch) == 0) || group_delta > offset) {
    *why = "impossible frame header";
    return ParseOutcome::kCorrupt;
  }
  if (length > kMaxPayloadBytes) {
    *why = "frame length " + std::to_string(length) + " exceeds the maximum";
    return ParseOutcome::kCorrupt;
  }
  const size_t size = FrameSize(key_length, length);
  if (data.size() < size) {
    *why = "frame truncated: " + std::to_string(data.size()) + " of " + std::to_string(size) + " bytes";
    return ParseOutcome::kIncomplete;
  }
  const uint32_t actual = crc32c::Value(h + 4, size - 4);
  if (actual != crc) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), "frame checksum mismatch (stored 0x%08x, computed 0x%08x)", crc, actual);
    *why = buf;
    return ParseOutcome::kCorrupt;
  }
  frame->offset = offset;
  frame->group_delta = group_delta;
  frame->flags = flags;
  frame->key = data.substr(kFrameHeaderSize, key_length);
  frame->payload = data.substr(kFrameHeaderSize + key_length, length);
  frame->size = size;
  return ParseOutcome::kOk;
}

}  // namespace tessera::storage::wal
