#include "storage/object/object_store.h"

#include <algorithm>
#include <string>

#include "common/utf8.h"

namespace tessera::storage {

namespace {

// Shared by key and prefix checks: size bound, UTF-8, no control characters.
Status CheckText(std::string_view what, std::string_view text) {
  if (text.size() > kMaxObjectKeyBytes) {
    return Status::InvalidArgument(std::string(what) + " is " + std::to_string(text.size()) +
                                   " bytes, longer than the limit of " +
                                   std::to_string(kMaxObjectKeyBytes) + ": " +
                                   internal::QuoteKey(text));
  }
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) {
      return Status::InvalidArgument(std::string(what) + " has a control character at byte " +
                                     std::to_string(i) + ": " + internal::QuoteKey(text));
    }
    const size_t len = ValidUtf8SequenceLength(text, i);
    if (len == 0) {
      return Status::InvalidArgument(std::string(what) + " is not valid UTF-8 at byte " +
                                     std::to_string(i) + ": " + internal::QuoteKey(text));
    }
    i += len;
  }
  if (!text.empty() && text.front() == '/') {
    return Status::InvalidArgument(std::string(what) + " starts with '/': " +
                                   internal::QuoteKey(text));
  }
  return Status::OK();
}

constexpr std::string_view kTokenPrefix = "k1:";

}  // namespace

Status ValidateObjectKey(std::string_view key) {
  if (key.empty()) return Status::InvalidArgument("object key is empty");
  TESSERA_RETURN_IF_ERROR(CheckText("object key", key));
  size_t start = 0;
  while (true) {
    const size_t slash = key.find('/', start);
    const std::string_view segment =
        key.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (segment.empty()) {
      return Status::InvalidArgument("object key has an empty segment (\"//\" or a trailing "
                                     "'/'): " + internal::QuoteKey(key));
    }
    if (segment == "." || segment == "..") {
      return Status::InvalidArgument("object key has a \"" + std::string(segment) +
                                     "\" segment: " + internal::QuoteKey(key));
    }
    if (segment.size() > kMaxObjectKeySegmentBytes) {
      return Status::InvalidArgument("object key has a segment of " +
                                     std::to_string(segment.size()) +
                                     " bytes, longer than the limit of " +
                                     std::to_string(kMaxObjectKeySegmentBytes) + ": " +
                                     internal::QuoteKey(key));
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return Status::OK();
}

Status ValidateObjectPrefix(std::string_view prefix) { return CheckText("list prefix", prefix); }

namespace internal {

std::string QuoteKey(std::string_view key) {
  constexpr size_t kMaxShown = 120;
  std::string out = "\"";
  for (size_t i = 0; i < key.size() && i < kMaxShown; ++i) {
    const unsigned char c = static_cast<unsigned char>(key[i]);
    if (c < 0x20 || c == 0x7F || c == '"' || c == '\\') {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  if (key.size() > kMaxShown) out += "... (" + std::to_string(key.size()) + " bytes)";
  return out;
}

std::string EncodeListToken(std::string_view last_key) {
  std::string token(kTokenPrefix);
  token += last_key;
  return token;
}

Result<std::string> DecodeListToken(std::string_view token) {
  if (!token.starts_with(kTokenPrefix)) {
    return Status::InvalidArgument("malformed list continuation token: " + QuoteKey(token));
  }
  std::string key(token.substr(kTokenPrefix.size()));
  Status status = ValidateObjectKey(key);
  if (!status.ok()) {
    return Status::InvalidArgument("malformed list continuation token: " + QuoteKey(token));
  }
  return key;
}

Result<size_t> CheckListOptions(const ListOptions& options) {
  TESSERA_RETURN_IF_ERROR(ValidateObjectPrefix(options.prefix));
  if (options.max_keys == 0) return Status::InvalidArgument("list max_keys must be at least 1");
  return std::min(options.max_keys, kMaxListKeys);
}

Result<uint64_t> ResolveRange(std::string_view key, uint64_t size, uint64_t offset,
                              std::optional<uint64_t> length) {
  if (length.has_value() && *length == 0) {
    return Status::InvalidArgument("range length 0 for " + QuoteKey(key));
  }
  if (offset >= size) {
    return Status::OutOfRange("range offset " + std::to_string(offset) +
                              " is not below the object size " + std::to_string(size) + " of " +
                              QuoteKey(key));
  }
  const uint64_t available = size - offset;
  return length.has_value() ? std::min(*length, available) : available;
}

}  // namespace internal

}  // namespace tessera::storage
