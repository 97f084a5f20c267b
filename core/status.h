// Status: the error type of every flight-path call.
//
// A Status is a code plus a short, formatted message held inline (no heap), so
// it can be created and returned inside Invoke or the frame loop without
// allocating. Messages name what failed and where, e.g.
// "op 3 (CONV_2D): input tensor 7: expected rank 4, got 2".
//
// Thread safety: a Status is a value; distinct objects are independent.
#ifndef TRIAGE_CORE_STATUS_H_
#define TRIAGE_CORE_STATUS_H_

#include <cstddef>
#include <cstdint>

namespace triage {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,    // caller passed something malformed (bad model, bad image)
  kOutOfRange,         // index or value outside its allowed range
  kNotFound,           // file or named item missing
  kUnsupported,        // valid input we deliberately do not handle (op, type)
  kFailedPrecondition, // call made in the wrong phase (Invoke before Prepare)
  kResourceExhausted,  // a fixed-capacity buffer or arena is too small
  kDataLoss,           // corrupted or truncated data
  kIoError,            // the OS refused a read or write
  kInternal,           // a broken invariant that was caught without crashing
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  static constexpr size_t kMaxMessage = 200;

  Status() = default;  // OK
  static Status Ok() { return Status(); }
  // printf-style message; truncated (never overflowed) at kMaxMessage - 1 chars.
  static Status Error(StatusCode code, const char* fmt, ...)
      __attribute__((format(printf, 2, 3)));

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const char* message() const { return message_; }

  // Returns a copy whose message is "<prefix>: <old message>", keeping the code.
  // Used to add context while an error travels up ("model: op 3: ...").
  Status WithContext(const char* fmt, ...) const
      __attribute__((format(printf, 2, 3)));

 private:
  StatusCode code_ = StatusCode::kOk;
  char message_[kMaxMessage] = {};
};

}  // namespace triage

// Propagates a non-OK Status to the caller. The only propagation macro.
#define TRIAGE_RETURN_IF_ERROR(expr)            \
  do {                                          \
    ::triage::Status triage_status_ = (expr);   \
    if (!triage_status_.ok()) return triage_status_; \
  } while (0)

#endif  // TRIAGE_CORE_STATUS_H_
