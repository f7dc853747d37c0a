#pragma once

// PRIVATE header of src/querynode: the primary-key structures behind delete handling.

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "core/column.h"
#include "segment/deltalog.h"

namespace tessera::querynode {

using segment::PrimaryKey;

/// The primary key of `row` of a primary-key column (Int64 or VarChar, checked by the
/// caller when the segment is built).
PrimaryKey PkAt(const core::Column& pk_column, size_t row);

/// Orders primary keys as Query returns them: Int64 numerically, VarChar bytewise.
inline bool PkLess(const PrimaryKey& a, const PrimaryKey& b) { return a < b; }

/// "1" or "\"abc\"" for messages.
std::string PkToString(const PrimaryKey& pk);

/// Primary key -> rows of one segment holding it, so a delete finds its rows without a
/// scan. A key usually has one row; a growing segment may hold several (inserted twice).
/// Thread-compatible.
class PkIndex {
 public:
  void Reserve(size_t rows);
  void Add(const PrimaryKey& pk, uint32_t row);

  /// Calls fn(row) for every row holding `pk`.
  template <typename Fn>
  void ForEachRow(const PrimaryKey& pk, Fn&& fn) const {
    if (const int64_t* i = std::get_if<int64_t>(&pk)) {
      auto [begin, end] = ints_.equal_range(*i);
      for (auto it = begin; it != end; ++it) fn(it->second);
    } else {
      auto [begin, end] = strings_.equal_range(std::get<std::string>(pk));
      for (auto it = begin; it != end; ++it) fn(it->second);
    }
  }

  size_t MemoryUsage() const;

 private:
  std::unordered_multimap<int64_t, uint32_t> ints_;
  std::unordered_multimap<std::string, uint32_t> strings_;
};

/// Primary key -> timestamp of its newest delete, collection-wide (WAL deletes and the
/// deltalogs of every loaded segment). A row is hidden when its key's delete timestamp is
/// greater than the row's timestamp. Only grows: a delete is never undone.
/// Thread-compatible.
class DeleteMap {
 public:
  /// Records a delete; true when it raised the key's timestamp (new information).
  bool Update(const PrimaryKey& pk, uint64_t timestamp);
  /// The newest delete timestamp of `pk`, 0 when it was never deleted.
  uint64_t Get(const PrimaryKey& pk) const;
  size_t size() const { return ints_.size() + strings_.size(); }

  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const auto& [pk, ts] : ints_) fn(PrimaryKey(pk), ts);
    for (const auto& [pk, ts] : strings_) fn(PrimaryKey(pk), ts);
  }

  size_t MemoryUsage() const;

 private:
  std::unordered_map<int64_t, uint64_t> ints_;
  std::unordered_map<std::string, uint64_t> strings_;
};

}  // namespace tessera::querynode
