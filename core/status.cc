#include "core/status.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace triage {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid argument";
    case StatusCode::kOutOfRange: return "out of range";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kUnsupported: return "unsupported";
    case StatusCode::kFailedPrecondition: return "failed precondition";
    case StatusCode::kResourceExhausted: return "resource exhausted";
    case StatusCode::kDataLoss: return "data loss";
    case StatusCode::kIoError: return "I/O error";
    case StatusCode::kInternal: return "internal";
  }
  return "unknown";
}

Status Status::Error(StatusCode code, const char* fmt, ...) {
  Status s;
  s.code_ = code == StatusCode::kOk ? StatusCode::kInternal : code;
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(s.message_, sizeof(s.message_), fmt, args);
  va_end(args);
  return s;
}

Status Status::WithContext(const char* fmt, ...) const {
  if (ok()) return *this;
  Status s;
  s.code_ = code_;
  va_list args;
  va_start(args, fmt);
  int n = std::vsnprintf(s.message_, sizeof(s.message_), fmt, args);
  va_end(args);
  if (n < 0) n = 0;
  size_t used = static_cast<size_t>(n) < sizeof(s.message_) ? static_cast<size_t>(n)
                                                              : sizeof(s.message_) - 1;
  // Append ": <old message>", truncating the tail if the result is too long.
  const char* parts[2] = {": ", message_};
  for (const char* part : parts) {
    for (const char* c = part; *c != '\0' && used + 1 < sizeof(s.message_); ++c) s.message_[used++] = *c;
  }
  s.message_[used] = '\0';
  return s;
}

}  // namespace triage
