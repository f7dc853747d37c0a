#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/result.h"

namespace tessera::index {

/// Appends little-endian primitives and byte runs to a growing buffer. Single-threaded.
class BlobWriter {
 public:
  template <typename T>
    requires std::is_trivially_copyable_v<T>
  void Put(const T& value) {
    PutBytes(&value, sizeof(T));
  }
  void PutBytes(const void* data, size_t size) {
    const auto* p = static_cast<const uint8_t*>(data);
    bytes_.insert(bytes_.end(), p, p + size);
  }
  /// A u64 length, then the bytes.
  void PutString(std::string_view s) {
    Put<uint64_t>(s.size());
    PutBytes(s.data(), s.size());
  }
  template <typename T>
  void PutArray(std::span<const T> values) {
    Put<uint64_t>(values.size());
    PutBytes(values.data(), values.size_bytes());
  }
  size_t size() const { return bytes_.size(); }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

/// Reads what BlobWriter wrote, bounds-checked: running past the end is kDataLoss naming
/// the field and the offset, never an out-of-bounds read. Single-threaded.
class BlobReader {
 public:
  explicit BlobReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  template <typename T>
    requires std::is_trivially_copyable_v<T>
  Status Get(T* value, std::string_view what) {
    TESSERA_RETURN_IF_ERROR(Need(sizeof(T), what));
    std::memcpy(value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return Status::OK();
  }
  Status GetBytes(void* out, size_t size, std::string_view what) {
    TESSERA_RETURN_IF_ERROR(Need(size, what));
    if (size > 0) std::memcpy(out, bytes_.data() + pos_, size);
    pos_ += size;
    return Status::OK();
  }
  Status GetString(std::string* out, std::string_view what) {
    uint64_t size = 0;
    TESSERA_RETURN_IF_ERROR(Get(&size, what));
    TESSERA_RETURN_IF_ERROR(Need(size, what));
    out->assign(reinterpret_cast<const char*>(bytes_.data() + pos_), size);
    pos_ += size;
    return Status::OK();
  }
  /// Reads an array's u64 element count; it must equal `expected_count` unless that is
  /// SIZE_MAX, and the elements must fit in what is left.
  template <typename T>
  Result<size_t> GetCount(std::string_view what, size_t expected_count = SIZE_MAX) {
    uint64_t count = 0;
    TESSERA_RETURN_IF_ERROR(Get(&count, what));
    if (expected_count != SIZE_MAX && count != expected_count) {
      return Status::DataLoss(std::string(what) + ": expected " + std::to_string(expected_count) +
                              " elements, blob says " + std::to_string(count));
    }
    if (count > remaining() / sizeof(T)) return Need(SIZE_MAX, what);
    return static_cast<size_t>(count);
  }
  /// Reads a u64 count (as GetCount) then the elements.
  template <typename T>
  Status GetArray(std::vector<T>* out, std::string_view what, size_t expected_count = SIZE_MAX) {
    TESSERA_ASSIGN_OR_RETURN(const size_t count, GetCount<T>(what, expected_count));
    out->resize(count);
    return GetBytes(out->data(), count * sizeof(T), what);
  }
  /// A view of the next `size` bytes, advancing past them.
  Result<std::span<const uint8_t>> GetView(size_t size, std::string_view what) {
    TESSERA_RETURN_IF_ERROR(Need(size, what));
    auto view = bytes_.subspan(pos_, size);
    pos_ += size;
    return view;
  }

  size_t position() const { return pos_; }
  size_t remaining() const { return bytes_.size() - pos_; }

 private:
  Status Need(size_t size, std::string_view what) const {
    if (size <= remaining()) return Status::OK();
    return Status::DataLoss("index blob truncated reading " + std::string(what) + " at offset " +
                            std::to_string(pos_) + " (" + std::to_string(remaining()) +
                            " bytes left)");
  }

  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

}  // namespace tessera::index
