#include "common/logging.h"

#include <spdlog/sinks/base_sink.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>
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

  /// Appends a line that is already formatted (newline included).
  void AppendFormatted(std::string_view line) {
    std::lock_guard lock(mutex_);
    buffer_.append(line);
    if (buffer_.size() >= kBatchBytes) WriteOut();
  }

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

// The sink Init installed (null before Init): InfoLine writes to it directly.
std::shared_ptr<BufferedStderrSink> g_sink;

// "YYYY-MM-DDTHH:MM:SS.mmmZ info [tid] " for now, as Init's pattern writes it; the part up
// to the second is formatted once per second per thread.
void AppendInfoPrefix(std::string* out) {
  thread_local std::time_t cached_second = -1;
  thread_local char cached[24];
  thread_local std::string tid_part;
  if (tid_part.empty()) tid_part = " info [" + std::to_string(::gettid()) + "] ";
  const auto now = std::chrono::system_clock::now();
  const std::time_t second = std::chrono::system_clock::to_time_t(now);
  if (second != cached_second) {
    std::tm utc{};
    ::gmtime_r(&second, &utc);
    std::strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &utc);
    cached_second = second;
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  const char millis[6] = {'.', static_cast<char>('0' + ms / 100), static_cast<char>('0' + ms / 10 % 10),
                          static_cast<char>('0' + ms % 10), 'Z', '\0'};
  out->append(cached);
  out->append(millis, 5);
  out->append(tid_part);
}

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
    g_sink = std::make_shared<BufferedStderrSink>();
    logger = std::make_shared<spdlog::logger>("tessera", g_sink);
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

void InfoLine(std::string_view message) {
  spdlog::logger* logger = spdlog::default_logger_raw();
  if (!logger->should_log(spdlog::level::info)) return;
  if (g_sink == nullptr || logger->sinks().size() != 1 || logger->sinks().front() != g_sink) {
    TESSERA_LOG_INFO("{}", message);  // not Init's logger: let it format
    return;
  }
  std::string line;
  line.reserve(message.size() + 48);
  AppendInfoPrefix(&line);
  line.append(message);
  line.push_back('\n');
  g_sink->AppendFormatted(line);
}

}  // namespace tessera::logging
