#pragma once

#include <sstream>

namespace tessera::internal {

/// Collects a message and aborts when destroyed. Used only by TESSERA_CHECK for programmer
/// errors; never for conditions caused by input data (those return a Status).
class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition);
  [[noreturn]] ~CheckFailure();
  template <typename T>
  CheckFailure& operator<<(const T& value) {
    stream_ << value;
    return *this;
  }

 private:
  std::ostringstream stream_;
};

/// Called by a failing check before it prints and aborts (logging::Init sets it to write
/// out buffered log lines). Not synchronized: set it before starting threads.
void SetCheckFailureHook(void (*hook)());

struct Voidify {
  void operator&(const CheckFailure&) {}
};

}  // namespace tessera::internal

/// Aborts with file, line, condition and the streamed message when `cond` is false.
#define TESSERA_CHECK(cond)       \
  (cond) ? (void)0                \
         : ::tessera::internal::Voidify() & ::tessera::internal::CheckFailure(__FILE__, __LINE__, #cond)

#ifdef NDEBUG
#define TESSERA_DCHECK(cond) \
  while (false) TESSERA_CHECK(cond)
#else
#define TESSERA_DCHECK(cond) TESSERA_CHECK(cond)
#endif
