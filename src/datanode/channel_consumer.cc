#include "datanode/channel_consumer.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "common/check.h"
#include "common/crash_point.h"
#include "common/logging.h"
#include "datanode/data_node_metrics.h"
#include "datanode/segment_writer.h"
#include "msg/wal_message.h"

namespace tessera::datanode {

namespace {

/// Records taken from the subscription per poll.
constexpr size_t kPollBatch = 256;

}  // namespace

Result<std::unique_ptr<ChannelConsumer>> ChannelConsumer::Create(
    ChannelDeps deps, std::shared_ptr<const coord::CollectionInfo> collection, std::string channel,
    uint64_t start_offset, std::unique_ptr<storage::Subscription> subscription) {
  TESSERA_CHECK(deps.coordinator != nullptr && deps.objects != nullptr && subscription != nullptr)
      << "ChannelConsumer::Create: missing dependency";
  auto first = GrowingBuffer::Create(collection->schema, start_offset);
  if (!first.ok()) return first.status().WithContext("channel " + channel);
  return std::unique_ptr<ChannelConsumer>(new ChannelConsumer(std::move(deps), std::move(collection),
                                                              std::move(channel), std::move(subscription),
                                                              std::move(first).value()));
}

ChannelConsumer::ChannelConsumer(ChannelDeps deps, std::shared_ptr<const coord::CollectionInfo> collection,
                                 std::string channel, std::unique_ptr<storage::Subscription> subscription,
                                 std::unique_ptr<GrowingBuffer> first)
    : deps_(std::move(deps)),
      collection_(std::move(collection)),
      channel_(std::move(channel)),
      subscription_(std::move(subscription)),
      current_(std::move(first)),
      position_(current_->start_offset()),
      last_arrival_(Clock::now()) {}

ChannelConsumer::~ChannelConsumer() { Stop(); }

void ChannelConsumer::Start() {
  std::lock_guard<std::mutex> stop_lock(stop_mu_);
  TESSERA_CHECK(!consumer_.joinable()) << "ChannelConsumer::Start called twice for " << channel_;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    last_arrival_ = Clock::now();
  }
  TESSERA_LOG_INFO("data node: consuming channel {} of collection {} from offset {}", channel_, collection_->id,
                   position());
  consumer_ = std::thread([this] { ConsumeLoop(); });
  flusher_ = std::thread([this] { FlushLoop(); });
}

void ChannelConsumer::Stop() {
  std::lock_guard<std::mutex> stop_lock(stop_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  subscription_->Cancel();
  if (consumer_.joinable()) consumer_.join();
  if (flusher_.joinable()) flusher_.join();
  std::lock_guard<std::mutex> lock(mu_);
  DataNodeMetrics::Get().growing_rows.Add(-static_cast<double>(gauge_rows_));
  gauge_rows_ = 0;
}

void ChannelConsumer::ConsumeLoop() {
  const auto poll_timeout =
      std::clamp(deps_.seal_idle_time / 4, std::chrono::milliseconds(5), std::chrono::milliseconds(100));
  auto& metrics = DataNodeMetrics::Get();
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (!WaitForRoomLocked(lock)) return;
    }
    auto batch = subscription_->Poll(kPollBatch, poll_timeout);
    if (!batch.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_ || !status_.ok()) return;
      FailLocked(batch.status().WithContext("reading channel " + channel_ + " at offset " +
                                            std::to_string(position_)));
      return;
    }

    // Decode outside the lock; stop at the first bad record and keep the good ones before it.
    std::vector<std::pair<msg::WalMessage, uint64_t>> decoded;
    decoded.reserve(batch->size());
    Status error;
    for (storage::LogRecord& record : *batch) {
      const std::string where = channel_ + "@" + std::to_string(record.offset);
      auto message = msg::DecodeWalMessage(record.payload, collection_->schema, where);
      error = message.ok() ? CheckMessage(*message, *collection_, where) : message.status();
      if (!error.ok()) break;
      decoded.emplace_back(std::move(message).value(), record.offset);
    }

    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_ || !status_.ok()) return;
    bool data_arrived = false;  // time ticks alone do not keep a buffer from going idle
    for (auto& [message, offset] : decoded) {
      if (!WaitForRoomLocked(lock)) return;
      data_arrived = data_arrived || message.type != msg::MessageType::kTimeTick;
      const size_t rows_before = current_->num_rows();
      current_->Append(message, offset);
      const auto added = static_cast<int64_t>(current_->num_rows() - rows_before);
      gauge_rows_ += added;
      metrics.growing_rows.Add(static_cast<double>(added));
      position_ = offset + 1;
      if (current_->MemoryUsage() >= deps_.segment_size) SealLocked();
    }
    metrics.records_consumed.Inc(static_cast<double>(decoded.size()));
    if (!error.ok()) {
      FailLocked(error);
      return;
    }
    const auto now = Clock::now();
    if (data_arrived) {
      last_arrival_ = now;
    } else if (!current_->empty() && now - last_arrival_ >= deps_.seal_idle_time) {
      SealLocked();
    }
    cv_.notify_all();
  }
}

bool ChannelConsumer::WaitForRoomLocked(std::unique_lock<std::mutex>& lock) {
  const size_t limit = std::max<size_t>(deps_.max_sealed_buffers, 1);
  cv_.wait(lock, [&] { return stopping_ || !status_.ok() || sealed_.size() < limit; });
  return !stopping_ && status_.ok();
}

void ChannelConsumer::SealLocked() {
  TESSERA_DCHECK(!current_->empty());
  auto next = GrowingBuffer::Create(collection_->schema, current_->end_offset());
  // The schema was accepted when the first buffer was created.
  TESSERA_CHECK(next.ok()) << next.status().ToString();
  TESSERA_LOG_DEBUG("data node: sealed channel {} range [{}, {}): {} rows, {} deletes", channel_,
                    current_->start_offset(), current_->end_offset(), current_->num_rows(),
                    current_->num_deletes());
  sealed_.push_back(std::move(current_));
  current_ = std::move(next).value();
  ++sealed_count_;
  cv_.notify_all();
}

void ChannelConsumer::FailLocked(const Status& status) {
  if (!status_.ok()) return;
  status_ = status;
  TESSERA_LOG_ERROR("data node: channel {} of collection {} STOPPED: {}", channel_, collection_->id,
                    status.ToString());
  DataNodeMetrics::Get().channel_errors.Inc();
  subscription_->Cancel();
  cv_.notify_all();
}

bool ChannelConsumer::SleepUnlessStopping(std::chrono::milliseconds duration) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, duration, [this] { return stopping_; });
}

void ChannelConsumer::FlushLoop() {
  auto& metrics = DataNodeMetrics::Get();
  while (true) {
    const GrowingBuffer* buffer = nullptr;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !sealed_.empty(); });
      if (stopping_) return;
      // Sealed buffers are immutable and only this thread removes them, so the pointer
      // stays valid without the lock.
      buffer = sealed_.front().get();
    }
    const auto start = Clock::now();
    Status status = FlushBuffer(*buffer);
    std::lock_guard<std::mutex> lock(mu_);
    if (!status.ok()) {
      if (stopping_) return;
      metrics.flush_failures.Inc();
      flusher_failed_ = true;
      FailLocked(status.WithContext("flushing channel " + channel_ + " range [" +
                                    std::to_string(buffer->start_offset()) + ", " +
                                    std::to_string(buffer->end_offset()) + ")"));
      return;
    }
    metrics.flushes.Inc();
    metrics.flush_seconds.Observe(std::chrono::duration<double>(Clock::now() - start).count());
    metrics.rows_flushed.Inc(static_cast<double>(buffer->num_rows()));
    metrics.deletes_flushed.Inc(static_cast<double>(buffer->num_deletes()));
    const auto rows = static_cast<int64_t>(buffer->num_rows());
    gauge_rows_ -= rows;
    metrics.growing_rows.Add(-static_cast<double>(rows));
    sealed_.pop_front();
    ++flushed_count_;
    cv_.notify_all();
  }
}

Status ChannelConsumer::FlushBuffer(const GrowingBuffer& buffer) {
  auto sleep = [this](std::chrono::milliseconds d) { return SleepUnlessStopping(d); };
  int64_t segment_id = 0;
  TESSERA_RETURN_IF_ERROR(RetryTransient(
      "data node: allocating a segment id for channel " + channel_,
      [&] {
        auto id = deps_.coordinator->AllocateIds(1);
        if (id.ok()) segment_id = *id;
        return id.status();
      },
      sleep, deps_.backoff));

  TESSERA_ASSIGN_OR_RETURN(EncodedSegment encoded, EncodeSegment(*collection_, channel_, segment_id, buffer.data()));
  encoded.info.start_offset = buffer.start_offset();
  encoded.info.end_offset = buffer.end_offset();
  encoded.info.time_tick = buffer.time_tick();
  for (const auto& [key, bytes] : encoded.files) {
    TESSERA_RETURN_IF_ERROR(RetryTransient(
        "data node: writing " + key, [&] { return deps_.objects->Put(key, bytes); }, sleep, deps_.backoff));
    crash_point::Reach(crash_point::Site::kFlushMidUpload);
  }
  crash_point::Reach(crash_point::Site::kFlushBeforeCommit);
  TESSERA_RETURN_IF_ERROR(RetryTransient(
      "data node: reporting segment " + std::to_string(segment_id) + " of channel " + channel_,
      [&] { return deps_.coordinator->SegmentFlushed(encoded.info); }, sleep, deps_.backoff));
  TESSERA_LOG_INFO("data node: flushed segment {} of channel {}: WAL [{}, {}), {} rows, {} deletes", segment_id,
                   channel_, encoded.info.start_offset, encoded.info.end_offset, buffer.num_rows(),
                   buffer.num_deletes());
  return Status::OK();
}

Result<uint64_t> ChannelConsumer::SealUpTo(uint64_t target, Clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_until(lock, deadline, [&] { return position_ >= target || !status_.ok() || stopping_; });
  if (!status_.ok()) return status_;
  if (stopping_) return Status::Unavailable("channel " + channel_ + " is stopping");
  if (position_ < target) {
    return Status::DeadlineExceeded("channel " + channel_ + ": consumed up to offset " + std::to_string(position_) +
                                    ", flush needs offset " + std::to_string(target));
  }
  if (!current_->empty()) SealLocked();
  return sealed_count_;
}

Status ChannelConsumer::WaitFlushed(uint64_t ticket, Clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_until(lock, deadline, [&] { return flushed_count_ >= ticket || flusher_failed_ || stopping_; });
  if (flushed_count_ >= ticket) return Status::OK();
  if (flusher_failed_) return status_;
  if (stopping_) return Status::Unavailable("channel " + channel_ + " is stopping");
  return Status::DeadlineExceeded("channel " + channel_ + ": " + std::to_string(ticket - flushed_count_) +
                                  " sealed segment(s) not flushed yet");
}

uint64_t ChannelConsumer::GrowingRows(std::optional<int64_t> partition) const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t rows = current_->Rows(partition);
  for (const auto& buffer : sealed_) rows += buffer->Rows(partition);
  return rows;
}

Status ChannelConsumer::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

uint64_t ChannelConsumer::position() const {
  std::lock_guard<std::mutex> lock(mu_);
  return position_;
}

}  // namespace tessera::datanode
