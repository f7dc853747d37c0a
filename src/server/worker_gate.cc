#include "server/worker_gate.h"

#include <algorithm>

namespace tessera::server {

WorkerGate::WorkerGate(size_t workers) : slots_(workers) {}

void WorkerGate::SetCpus(size_t cpus) {
  std::lock_guard lock(mu_);
  const size_t before = cpus_;
  cpus_ = std::max<size_t>(1, cpus);
  if (cpus_ > before) parked_.notify_all();
}

bool WorkerGate::EnterWait() {
  std::unique_lock lock(mu_);
  parked_.wait(lock, [this] { return stopping_ || waiting_ + running_ < cpus_; });
  if (stopping_) return false;
  ++waiting_;
  return true;
}

void WorkerGate::StartWork(size_t worker) {
  std::lock_guard lock(mu_);
  --waiting_;
  ++running_;
  slots_[worker] = Slot{.working = true, .presumed_blocked = false, .since = Clock::now()};
}

void WorkerGate::FinishWork(size_t worker) {
  std::lock_guard lock(mu_);
  Slot& slot = slots_[worker];
  if (!slot.presumed_blocked) --running_;
  slot = Slot();
  // No wake-up: this worker goes back to EnterWait and takes the place it freed.
}

bool WorkerGate::Monitor(std::chrono::nanoseconds blocked_after) {
  std::lock_guard lock(mu_);
  const auto now = Clock::now();
  bool any_working = false;
  for (Slot& slot : slots_) {
    if (!slot.working) continue;
    any_working = true;
    if (!slot.presumed_blocked && now - slot.since > blocked_after) {
      slot.presumed_blocked = true;
      --running_;
      parked_.notify_one();
    }
  }
  return any_working;
}

void WorkerGate::Stop() {
  std::lock_guard lock(mu_);
  stopping_ = true;
  parked_.notify_all();
}

size_t WorkerGate::waiting() const {
  std::lock_guard lock(mu_);
  return waiting_;
}

size_t WorkerGate::running() const {
  std::lock_guard lock(mu_);
  return running_;
}

}  // namespace tessera::server
