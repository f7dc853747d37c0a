#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "storage/object/object_store.h"

namespace tessera::storage {

/// The operations of ObjectStore, for fault rules and call counters.
enum class ObjectOp : uint8_t { kPut, kGet, kGetRange, kHead, kList, kDelete, kDeleteMany, kCopy };
inline constexpr size_t kNumObjectOps = 8;

/// One fault: which calls it hits and what it does to them.
struct FaultRule {
  enum class Action : uint8_t {
    kFail,       // return `error` without calling the backend
    kFailAfter,  // call the backend, then return `error` anyway (a lost acknowledgement)
    kDelay,      // sleep `delay`, then proceed
    kCorrupt,    // Get/GetRange: flip a byte of the returned data; Put: of the stored data
  };
  ObjectOp op = ObjectOp::kGet;
  Action action = Action::kFail;
  /// Only calls whose key starts with this (List: whose prefix does; DeleteMany: any key;
  /// Copy: the destination). Empty matches every call.
  std::string key_prefix;
  Status error = Status::Unavailable("injected fault");
  std::chrono::milliseconds delay{0};
  /// Matching calls to let through untouched before the rule starts firing.
  uint32_t skip = 0;
  /// How many times it fires; -1 means forever.
  int64_t times = -1;
};

/// A test wrapper that forwards to a backend ObjectStore and fails, delays or corrupts the
/// calls its rules select (in the spirit of leveldb's FaultInjectionTestEnv). It also counts
/// every call per operation, so tests can assert how often a backend was reached.
///
/// Every matching rule applies to a call (e.g. a delay and a corruption). Rules may be added
/// and cleared while other threads use the store.
/// Ownership: borrows `backend`, which must outlive it. Thread-safe.
class FaultInjectingObjectStore final : public ObjectStore {
 public:
  explicit FaultInjectingObjectStore(ObjectStore& backend) : backend_(backend) {}

  void AddRule(FaultRule rule);
  void ClearRules();
  /// Calls of `op` made so far, faulted or not.
  uint64_t calls(ObjectOp op) const { return calls_[static_cast<size_t>(op)].load(); }
  /// Times any rule fired.
  uint64_t faults_injected() const { return faults_.load(); }

  std::string_view name() const override { return "fault_injecting"; }
  Status Put(std::string_view key, std::string_view data) override;
  Result<std::string> Get(std::string_view key) override;
  Result<std::string> GetRange(std::string_view key, uint64_t offset,
                               std::optional<uint64_t> length) override;
  Result<ObjectInfo> Head(std::string_view key) override;
  Result<ListResult> List(const ListOptions& options) override;
  Status Delete(std::string_view key) override;
  Status DeleteMany(std::span<const std::string> keys) override;
  Status Copy(std::string_view src, std::string_view dst) override;

 private:
  // What the rules decided for one call; the delay has already been slept.
  struct Decision {
    Status fail_before;
    Status fail_after;
    bool corrupt = false;
  };
  Decision Decide(ObjectOp op, std::span<const std::string_view> keys);
  static void Corrupt(std::string& data);

  ObjectStore& backend_;
  mutable std::mutex mu_;
  std::vector<FaultRule> rules_;  // guarded by mu_
  std::array<std::atomic<uint64_t>, kNumObjectOps> calls_{};
  std::atomic<uint64_t> faults_{0};
};

}  // namespace tessera::storage
