#include "common/check.h"

#include <cstdio>
#include <cstdlib>

namespace tessera::internal {
namespace {
void (*check_failure_hook)() = nullptr;
}  // namespace

void SetCheckFailureHook(void (*hook)()) { check_failure_hook = hook; }

CheckFailure::CheckFailure(const char* file, int line, const char* condition) {
  stream_ << file << ":" << line << ": check failed: " << condition << " ";
}

CheckFailure::~CheckFailure() {
  if (check_failure_hook != nullptr) check_failure_hook();  // e.g. the log lines that led here
  std::fprintf(stderr, "%s\n", stream_.str().c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace tessera::internal
