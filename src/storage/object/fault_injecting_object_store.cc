#include "storage/object/fault_injecting_object_store.h"

#include <thread>

namespace tessera::storage {

void FaultInjectingObjectStore::AddRule(FaultRule rule) {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.push_back(std::move(rule));
}

void FaultInjectingObjectStore::ClearRules() {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.clear();
}

FaultInjectingObjectStore::Decision FaultInjectingObjectStore::Decide(ObjectOp op,
                                                                      std::span<const std::string_view> keys) {
  calls_[static_cast<size_t>(op)].fetch_add(1);
  Decision decision;
  std::chrono::milliseconds delay{0};
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (FaultRule& rule : rules_) {
      if (rule.op != op || rule.times == 0) continue;
      bool matches = rule.key_prefix.empty();
      for (std::string_view key : keys) matches = matches || key.starts_with(rule.key_prefix);
      if (!matches) continue;
      if (rule.skip > 0) {
        --rule.skip;
        continue;
      }
      if (rule.times > 0) --rule.times;
      faults_.fetch_add(1);
      switch (rule.action) {
        case FaultRule::Action::kFail:
          if (decision.fail_before.ok()) decision.fail_before = rule.error;
          break;
        case FaultRule::Action::kFailAfter:
          if (decision.fail_after.ok()) decision.fail_after = rule.error;
          break;
        case FaultRule::Action::kDelay:
          delay += rule.delay;
          break;
        case FaultRule::Action::kCorrupt:
          decision.corrupt = true;
          break;
      }
    }
  }
  if (delay.count() > 0) std::this_thread::sleep_for(delay);
  return decision;
}

void FaultInjectingObjectStore::Corrupt(std::string& data) {
  if (!data.empty()) data[data.size() / 2] ^= 0x5A;
}

Status FaultInjectingObjectStore::Put(std::string_view key, std::string_view data) {
  const std::string_view keys[] = {key};
  Decision d = Decide(ObjectOp::kPut, keys);
  if (!d.fail_before.ok()) return d.fail_before;
  Status status;
  if (d.corrupt) {
    std::string bad(data);
    Corrupt(bad);
    status = backend_.Put(key, bad);
  } else {
    status = backend_.Put(key, data);
  }
  return d.fail_after.ok() ? status : d.fail_after;
}

Result<std::string> FaultInjectingObjectStore::Get(std::string_view key) {
  const std::string_view keys[] = {key};
  Decision d = Decide(ObjectOp::kGet, keys);
  if (!d.fail_before.ok()) return d.fail_before;
  Result<std::string> data = backend_.Get(key);
  if (!d.fail_after.ok()) return d.fail_after;
  if (data.ok() && d.corrupt) Corrupt(*data);
  return data;
}

Result<std::string> FaultInjectingObjectStore::GetRange(std::string_view key, uint64_t offset,
                                                        std::optional<uint64_t> length) {
  const std::string_view keys[] = {key};
  Decision d = Decide(ObjectOp::kGetRange, keys);
  if (!d.fail_before.ok()) return d.fail_before;
  Result<std::string> data = backend_.GetRange(key, offset, length);
  if (!d.fail_after.ok()) return d.fail_after;
  if (data.ok() && d.corrupt) Corrupt(*data);
  return data;
}

Result<ObjectInfo> FaultInjectingObjectStore::Head(std::string_view key) {
  const std::string_view keys[] = {key};
  Decision d = Decide(ObjectOp::kHead, keys);
  if (!d.fail_before.ok()) return d.fail_before;
  Result<ObjectInfo> info = backend_.Head(key);
  if (!d.fail_after.ok()) return d.fail_after;
  return info;
}

Result<ListResult> FaultInjectingObjectStore::List(const ListOptions& options) {
  const std::string_view keys[] = {options.prefix};
  Decision d = Decide(ObjectOp::kList, keys);
  if (!d.fail_before.ok()) return d.fail_before;
  Result<ListResult> result = backend_.List(options);
  if (!d.fail_after.ok()) return d.fail_after;
  return result;
}

Status FaultInjectingObjectStore::Delete(std::string_view key) {
  const std::string_view keys[] = {key};
  Decision d = Decide(ObjectOp::kDelete, keys);
  if (!d.fail_before.ok()) return d.fail_before;
  Status status = backend_.Delete(key);
  return d.fail_after.ok() ? status : d.fail_after;
}

Status FaultInjectingObjectStore::DeleteMany(std::span<const std::string> keys) {
  std::vector<std::string_view> views(keys.begin(), keys.end());
  Decision d = Decide(ObjectOp::kDeleteMany, views);
  if (!d.fail_before.ok()) return d.fail_before;
  Status status = backend_.DeleteMany(keys);
  return d.fail_after.ok() ? status : d.fail_after;
}

Status FaultInjectingObjectStore::Copy(std::string_view src, std::string_view dst) {
  const std::string_view keys[] = {dst};
  Decision d = Decide(ObjectOp::kCopy, keys);
  if (!d.fail_before.ok()) return d.fail_before;
  Status status = backend_.Copy(src, dst);
  return d.fail_after.ok() ? status : d.fail_after;
}

}  // namespace tessera::storage
