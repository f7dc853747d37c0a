#include "common/logging.h"

#include <spdlog/sinks/base_sink.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "common/check.h"

namespace tessera::logging {
namespace {

// Lines go to stderr in batches: one write(2) when 16 KiB have gathered, on a warning or
// worse (flush_on), every second (flush_every) and when the process exits, instead of one
// write per line (the stock stderr sinks flush every line; a line per HTTP request made
// that a syscall per request).
class BufferedStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  ~BufferedStderrSink() override { WriteOut(); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    buffer_.append(formatted.data(), formatted.size());
    if (buffer_.size() >= kBatchBytes) WriteOut();
  }
  void flush_() override { WriteOut(); }

 private:
  static constexpr size_t kBatchBytes = 16 * 1024;

  void WriteOut() {
    size_t done = 0;
    while (done < buffer_.size()) {
      const ssize_t n = ::write(STDERR_FILENO, buffer_.data() + done, buffer_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // stderr is gone: nothing better to do with the lines
      done += static_cast<size_t>(n);
    }
    buffer_.clear();
  }

  std::string buffer_;
};

}  // namespace

Status SetLevel(std::string_view level) {
  const auto parsed = spdlog::level::from_str(std::string(level));
  // from_str maps unknown names to "off"; only accept "off" when asked for it.
  if (parsed == spdlog::level::off && level != "off") {
    return Status::InvalidArgument("unknown log level '" + std::string(level) +
                                   "' (expected trace, debug, info, warn, error, critical, off)");
  }
  spdlog::set_level(parsed);
  return Status::OK();
}

void Init(std::string_view level) {
  auto logger = spdlog::get("tessera");
  if (!logger) {
    logger = std::make_shared<spdlog::logger>("tessera", std::make_shared<BufferedStderrSink>());
    spdlog::register_logger(logger);
    spdlog::flush_every(std::chrono::seconds(1));  // the finest this spdlog offers
  }
  logger->flush_on(spdlog::level::warn);
  internal::SetCheckFailureHook(&Flush);
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l [%t] %v", spdlog::pattern_time_type::utc);
  (void)SetLevel(level);
}

void Flush() {
  if (auto logger = spdlog::default_logger()) logger->flush();
}

}  // namespace tessera::logging
