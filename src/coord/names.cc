#include "coord/names.h"

#include <string>

namespace tessera::coord {

namespace {

bool IsLetterOrUnderscore(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Status ValidateName(std::string_view kind, std::string_view name) {
  const std::string what(kind);
  if (name.empty()) return Status::InvalidArgument(what + " name must not be empty");
  if (name.size() > kMaxNameLength) {
    return Status::InvalidArgument("invalid " + what + " name: longer than 255 characters (" +
                                   std::to_string(name.size()) + ")");
  }
  if (!IsLetterOrUnderscore(name[0])) {
    return Status::InvalidArgument("invalid " + what + " name '" + std::string(name) +
                                   "': the first character must be a letter or an underscore");
  }
  for (char c : name) {
    if (!IsLetterOrUnderscore(c) && !IsDigit(c)) {
      return Status::InvalidArgument("invalid " + what + " name '" + std::string(name) +
                                     "': only letters, digits and underscores are allowed");
    }
  }
  return Status::OK();
}

}  // namespace tessera::coord
