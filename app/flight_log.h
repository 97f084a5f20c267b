// FlightLog: the spdlog adapter (the only file in app/ that sees spdlog).
// A rotating file sink (logging.max_file_bytes x logging.max_files) under the
// log directory, optionally echoing warnings and errors to stderr, and an
// EventSink so every core Event is logged with its id and arguments.
//
// Calls are made at init, for events, on reload and for progress lines, not
// on every frame. spdlog formats into a 250-byte inline buffer, so short
// lines do not allocate; longer ones may (documented in docs/FLIGHT.md).
// Never throws: spdlog exceptions are caught here.
#ifndef TRIAGE_APP_FLIGHT_LOG_H_
#define TRIAGE_APP_FLIGHT_LOG_H_

#include <memory>
#include <string>

#include "config/mission.h"
#include "core/event.h"
#include "core/result.h"

namespace triage::app {

class FlightLog final : public EventSink {
 public:
  // dir is created if missing; the file is <dir>/triage-flight.log.
  static Result<std::unique_ptr<FlightLog>> Open(const std::string& dir, const config::LoggingConfig& logging,
                                                 bool echo_to_stderr) noexcept;
  // A log that drops everything (tests, tools).
  static std::unique_ptr<FlightLog> Null();
  ~FlightLog() override;

  void Log(config::LogLevel level, const char* fmt, ...) noexcept __attribute__((format(printf, 3, 4)));
  void OnEvent(const Event& event) noexcept override;
  void SetLevel(config::LogLevel level) noexcept;
  void Flush() noexcept;
  const std::string& path() const { return path_; }

 private:
  FlightLog() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string path_;
};

}  // namespace triage::app

#endif  // TRIAGE_APP_FLIGHT_LOG_H_
