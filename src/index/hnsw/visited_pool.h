#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace tessera::index::hnsw {

/// A "visited" mark per node for one graph walk. Marking is an epoch store, so starting a
/// new walk costs O(1) instead of clearing n entries (the epoch trick of hnswlib's
/// VisitedList). Single-threaded; obtained from a VisitedPool.
class VisitedTable {
 public:
  explicit VisitedTable(size_t n) : tags_(n, 0) {}

  /// Starts a new walk: every node becomes unvisited.
  void Reset() {
    if (++epoch_ == 0) {  // wrapped: clear for real once every 65535 walks
      std::fill(tags_.begin(), tags_.end(), 0);
      epoch_ = 1;
    }
  }
  bool Visited(uint32_t node) const { return tags_[node] == epoch_; }
  void Visit(uint32_t node) { tags_[node] = epoch_; }
  /// Marks `node` and returns whether it was already marked.
  bool TestAndVisit(uint32_t node) {
    const bool was = tags_[node] == epoch_;
    tags_[node] = epoch_;
    return was;
  }
  const uint16_t* tag_address(uint32_t node) const { return &tags_[node]; }
  size_t capacity() const { return tags_.size(); }

 private:
  std::vector<uint16_t> tags_;
  uint16_t epoch_ = 0;
};

/// Hands out VisitedTables so concurrent searches never allocate n entries per query.
/// Thread-safe.
class VisitedPool {
 public:
  explicit VisitedPool(size_t n) : n_(n) {}

  /// RAII lease: returns the table to the pool when destroyed.
  class Lease {
   public:
    Lease(VisitedPool* pool, std::unique_ptr<VisitedTable> table)
        : pool_(pool), table_(std::move(table)) {}
    ~Lease() { pool_->Return(std::move(table_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    VisitedTable& operator*() { return *table_; }
    VisitedTable* operator->() { return table_.get(); }

   private:
    VisitedPool* pool_;
    std::unique_ptr<VisitedTable> table_;
  };

  /// A table sized for the pool's node count, already Reset().
  Lease Acquire() {
    std::unique_ptr<VisitedTable> table;
    {
      std::lock_guard lock(mu_);
      if (!free_.empty()) {
        table = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (!table || table->capacity() < n_) table = std::make_unique<VisitedTable>(n_);
    table->Reset();
    return Lease(this, std::move(table));
  }

  /// Changes the node count (exclusive access: no lease may be outstanding).
  void Resize(size_t n) {
    std::lock_guard lock(mu_);
    n_ = n;
    free_.clear();
  }

 private:
  void Return(std::unique_ptr<VisitedTable> table) {
    std::lock_guard lock(mu_);
    free_.push_back(std::move(table));
  }

  std::mutex mu_;
  size_t n_;
  std::vector<std::unique_ptr<VisitedTable>> free_;
};

}  // namespace tessera::index::hnsw
