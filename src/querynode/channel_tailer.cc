#include "querynode/channel_tailer.h"

#include "common/logging.h"

namespace tessera::querynode {
namespace {

constexpr size_t kMaxBatch = 256;
constexpr std::chrono::milliseconds kPollTimeout{200};

}  // namespace

Result<std::unique_ptr<ChannelTailer>> ChannelTailer::Start(storage::Log& log, std::string channel,
                                                            uint64_t from_offset, int64_t collection_id,
                                                            core::CollectionSchema schema, ApplyFn apply) {
  auto sub = log.Subscribe(channel, from_offset);
  if (!sub.ok()) return sub.status().WithContext("subscribing to channel " + channel);
  std::unique_ptr<ChannelTailer> tailer(new ChannelTailer(std::move(channel), from_offset, collection_id,
                                                          std::move(schema), std::move(sub).value(), std::move(apply)));
  tailer->thread_ = std::thread([t = tailer.get()] { t->Run(); });
  return tailer;
}

ChannelTailer::ChannelTailer(std::string channel, uint64_t from_offset, int64_t collection_id,
                             core::CollectionSchema schema, std::unique_ptr<storage::Subscription> subscription,
                             ApplyFn apply)
    : channel_(std::move(channel)),
      collection_id_(collection_id),
      schema_(std::move(schema)),
      subscription_(std::move(subscription)),
      apply_(std::move(apply)),
      position_(from_offset) {}

ChannelTailer::~ChannelTailer() { Stop(); }

void ChannelTailer::Stop() {
  stopping_.store(true);
  subscription_->Cancel();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard<std::mutex> l(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
}

uint64_t ChannelTailer::position() const {
  std::lock_guard<std::mutex> l(mu_);
  return position_;
}

Status ChannelTailer::failure() const {
  std::lock_guard<std::mutex> l(mu_);
  return failure_;
}

Status ChannelTailer::WaitUntil(uint64_t offset, std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_until(l, deadline, [&] { return position_ >= offset || !failure_.ok() || stopped_; });
  if (position_ >= offset) return Status::OK();
  if (!failure_.ok()) return failure_;
  if (stopped_) return Status::Cancelled("channel " + channel_ + " is no longer followed");
  return Status::DeadlineExceeded("channel " + channel_ + " has applied the WAL up to offset " +
                                  std::to_string(position_) + ", waiting for " + std::to_string(offset) +
                                  " timed out");
}

void ChannelTailer::Fail(Status status) {
  TESSERA_LOG_ERROR("query node stops following channel {}: {}", channel_, status.ToString());
  {
    std::lock_guard<std::mutex> l(mu_);
    failure_ = std::move(status);
  }
  cv_.notify_all();
}

void ChannelTailer::Run() {
  while (!stopping_.load()) {
    auto polled = subscription_->Poll(kMaxBatch, kPollTimeout);
    if (!polled.ok()) {
      if (polled.status().code() == StatusCode::kCancelled && stopping_.load()) return;
      const Status& s = polled.status();
      const StatusCode code = s.code() == StatusCode::kDataLoss ? StatusCode::kDataLoss : StatusCode::kUnavailable;
      Fail(Status(code, "channel " + channel_ + " stopped at offset " + std::to_string(position()) +
                            ": reading the WAL failed: " + s.ToString()));
      return;
    }
    if (polled->empty()) continue;
    std::vector<WalRecord> batch;
    batch.reserve(polled->size());
    Status bad;
    for (storage::LogRecord& record : *polled) {
      const std::string where = channel_ + "@" + std::to_string(record.offset);
      auto decoded = msg::DecodeWalMessage(record.payload, schema_, where);
      if (!decoded.ok()) {
        bad = Status(StatusCode::kDataLoss, "channel " + channel_ + " stopped at offset " +
                                                std::to_string(record.offset) +
                                                ": cannot decode WAL record: " + decoded.status().ToString());
        break;
      }
      if (decoded->collection_id != collection_id_) {
        bad = Status::DataLoss("channel " + channel_ + " stopped at offset " + std::to_string(record.offset) +
                               ": the record belongs to collection " + std::to_string(decoded->collection_id) +
                               ", not " + std::to_string(collection_id_));
        break;
      }
      batch.push_back(WalRecord{record.offset, std::move(decoded).value()});
    }
    if (!batch.empty()) {
      const uint64_t next = batch.back().offset + 1;
      Status applied = apply_(channel_, batch);
      if (!applied.ok()) {
        Fail(Status(applied.code() == StatusCode::kDataLoss ? StatusCode::kDataLoss : StatusCode::kUnavailable,
                    "channel " + channel_ + " stopped: applying WAL records failed: " + applied.ToString()));
        return;
      }
      {
        std::lock_guard<std::mutex> l(mu_);
        position_ = next;
      }
      cv_.notify_all();
    }
    if (!bad.ok()) {
      Fail(std::move(bad));
      return;
    }
  }
}

}  // namespace tessera::querynode
