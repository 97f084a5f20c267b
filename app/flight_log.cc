#include "app/flight_log.h"

#include <cstdarg>
#include <cstdio>

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "downlink/durable_file.h"

namespace triage::app {
namespace {

spdlog::level::level_enum ToSpd(config::LogLevel level) {
  switch (level) {
    case config::LogLevel::kTrace: return spdlog::level::trace;
    case config::LogLevel::kDebug: return spdlog::level::debug;
    case config::LogLevel::kInfo: return spdlog::level::info;
    case config::LogLevel::kWarn: return spdlog::level::warn;
    case config::LogLevel::kError: return spdlog::level::err;
    case config::LogLevel::kOff: return spdlog::level::off;
  }
  return spdlog::level::info;
}

config::LogLevel FromSeverity(Severity s) {
  switch (s) {
    case Severity::kDebug: return config::LogLevel::kDebug;
    case Severity::kInfo: return config::LogLevel::kInfo;
    case Severity::kWarning: return config::LogLevel::kWarn;
    case Severity::kError:
    case Severity::kFatal: return config::LogLevel::kError;
  }
  return config::LogLevel::kInfo;
}

}  // namespace

struct FlightLog::Impl {
  std::shared_ptr<spdlog::logger> logger;
};

Result<std::unique_ptr<FlightLog>> FlightLog::Open(const std::string& dir, const config::LoggingConfig& logging,
                                                   bool echo_to_stderr) noexcept {
  try {
    TRIAGE_RETURN_IF_ERROR(downlink::MakeDirs(dir.c_str()));
    std::unique_ptr<FlightLog> log(new FlightLog());
    log->path_ = dir + "/triage-flight.log";
    std::vector<spdlog::sink_ptr> sinks;
    auto file = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
        log->path_, static_cast<size_t>(logging.max_file_bytes), static_cast<size_t>(logging.max_files));
    file->set_pattern("%Y-%m-%dT%H:%M:%S.%e %L %v");
    sinks.push_back(file);
    if (echo_to_stderr) {
      auto err = std::make_shared<spdlog::sinks::stderr_sink_mt>();
      err->set_level(spdlog::level::warn);
      err->set_pattern("triage-flight: %l: %v");
      sinks.push_back(err);
    }
    log->impl_.reset(new Impl());
    log->impl_->logger = std::make_shared<spdlog::logger>("triage-flight", sinks.begin(), sinks.end());
    log->impl_->logger->set_level(ToSpd(logging.level));
    log->impl_->logger->flush_on(spdlog::level::warn);
    return log;
  } catch (const std::exception& e) {
    return Status::Error(StatusCode::kIoError, "log %s: %s", dir.c_str(), e.what());
  }
}

std::unique_ptr<FlightLog> FlightLog::Null() {
  std::unique_ptr<FlightLog> log(new FlightLog());
  return log;
}

FlightLog::~FlightLog() { Flush(); }

void FlightLog::Log(config::LogLevel level, const char* fmt, ...) noexcept {
  if (!impl_ || !impl_->logger->should_log(ToSpd(level))) return;
  char buf[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof(buf), fmt, args);
  va_end(args);
  try {
    impl_->logger->log(ToSpd(level), "{}", static_cast<const char*>(buf));
  } catch (...) {
    // A logging failure must not stop the mission.
  }
}

void FlightLog::OnEvent(const Event& e) noexcept {
  Log(FromSeverity(e.severity), "event 0x%04x %s [%lld %lld %lld] %s", e.id, SeverityName(e.severity),
      static_cast<long long>(e.args[0]), static_cast<long long>(e.args[1]), static_cast<long long>(e.args[2]), e.text);
}

void FlightLog::SetLevel(config::LogLevel level) noexcept {
  if (impl_) impl_->logger->set_level(ToSpd(level));
}

void FlightLog::Flush() noexcept {
  if (!impl_) return;
  try {
    impl_->logger->flush();
  } catch (...) {
  }
}

}  // namespace triage::app
