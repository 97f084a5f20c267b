// Result<T>: a value or a Status, in the spirit of std::expected.
//
// Accessing value() of an error Result is a programmer error (checked).
#ifndef TRIAGE_CORE_RESULT_H_
#define TRIAGE_CORE_RESULT_H_

#include <optional>
#include <utility>

#include "core/check.h"
#include "core/status.h"

namespace triage {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    TRIAGE_CHECK(!status_.ok());
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & { TRIAGE_CHECK(ok()); return *value_; }
  const T& value() const& { TRIAGE_CHECK(ok()); return *value_; }
  T&& value() && { TRIAGE_CHECK(ok()); return std::move(*value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace triage

#endif  // TRIAGE_CORE_RESULT_H_
