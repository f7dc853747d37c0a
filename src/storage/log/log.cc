#include "storage/log/log.h"

#include <string>

namespace tessera::storage {

namespace {

bool IsChannelChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

// Printable form of an untrusted name for error messages (control bytes escaped).
std::string Quote(std::string_view name) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  const size_t shown = name.size() > kMaxChannelNameLength + 16 ? kMaxChannelNameLength + 16 : name.size();
  for (size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  if (shown < name.size()) out += "...";
  out += '"';
  return out;
}

}  // namespace

Status ValidateChannelName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("channel name is empty");
  if (name.size() > kMaxChannelNameLength) {
    return Status::InvalidArgument("channel name " + Quote(name) + " is " + std::to_string(name.size()) +
                                   " characters long; at most " + std::to_string(kMaxChannelNameLength) +
                                   " are allowed");
  }
  if (name.front() == '.') {
    return Status::InvalidArgument("channel name " + Quote(name) + " must not start with '.'");
  }
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsChannelChar(name[i])) {
      return Status::InvalidArgument("channel name " + Quote(name) + " has a character outside [A-Za-z0-9_.-] at position " +
                                     std::to_string(i));
    }
  }
  return Status::OK();
}

Result<LogRecord> Subscription::Next(std::chrono::milliseconds timeout) {
  TESSERA_ASSIGN_OR_RETURN(std::vector<LogRecord> records, Poll(1, timeout));
  if (records.empty()) {
    return Status::DeadlineExceeded("no record at offset " + std::to_string(position()) + " within " +
                                    std::to_string(timeout.count()) + " ms");
  }
  return std::move(records.front());
}

}  // namespace tessera::storage
