#pragma once

#include <cstdlib>
#include <utility>
#include <variant>

#include "common/check.h"
#include "common/status.h"

namespace tessera {

/// Either a value of type T or a non-OK Status (modelled on absl::StatusOr).
/// Constructing a Result from an OK Status is a programmer error and aborts.
/// Accessing value() of an error aborts with the status message.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(const T& value) : data_(value) {}                  // NOLINT: implicit by design
  Result(T&& value) : data_(std::move(value)) {}            // NOLINT
  Result(Status status) : data_(std::move(status)) {        // NOLINT
    TESSERA_CHECK(!std::get<Status>(data_).ok()) << "Result constructed from an OK Status";
  }
  template <typename U>
    requires(std::is_convertible_v<U&&, T> && !std::is_same_v<std::decay_t<U>, Status> &&
             !std::is_same_v<std::decay_t<U>, T>)
  Result(U&& value) : data_(T(std::forward<U>(value))) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(data_); }
  /// OK when a value is held.
  Status status() const { return ok() ? Status::OK() : std::get<Status>(data_); }

  const T& value() const& { CheckOk(); return std::get<T>(data_); }
  T& value() & { CheckOk(); return std::get<T>(data_); }
  T&& value() && { CheckOk(); return std::get<T>(std::move(data_)); }

  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  void CheckOk() const {
    TESSERA_CHECK(ok()) << "Result::value() on error: " << std::get<Status>(data_).ToString();
  }
  std::variant<T, Status> data_;
};

}  // namespace tessera

#define TESSERA_CONCAT_INNER(a, b) a##b
#define TESSERA_CONCAT(a, b) TESSERA_CONCAT_INNER(a, b)

/// `TESSERA_ASSIGN_OR_RETURN(auto x, Foo());` declares/assigns x from a Result or returns
/// its error Status from the enclosing function.
#define TESSERA_ASSIGN_OR_RETURN(lhs, expr) \
  TESSERA_ASSIGN_OR_RETURN_IMPL(TESSERA_CONCAT(_tessera_result_, __LINE__), lhs, expr)
#define TESSERA_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
