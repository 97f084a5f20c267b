// Watchdog: the hardware watchdog behind an interface. The health monitor
// strokes it only while every monitored stage is healthy, so a hung or
// repeatedly failing pipeline lets it expire and reset the board.
//
// LinuxWatchdog drives /dev/watchdog (or another watchdog device): opening it
// arms the timer, every Stroke() is a keep-alive, and Disarm() writes the
// magic 'V' before closing (only for an orderly shutdown; with
// CONFIG_WATCHDOG_NOWAYOUT the kernel ignores it). SimulatedWatchdog counts
// strokes on a Clock and reports when the board would have reset.
//
// Flight-safe after Open/construction: Stroke never allocates or throws.
// Thread safety: one caller (the thread that runs HealthMonitor::Check).
#ifndef TRIAGE_FAULT_WATCHDOG_H_
#define TRIAGE_FAULT_WATCHDOG_H_

#include <cstdint>
#include <memory>

#include "core/clock.h"
#include "core/result.h"
#include "core/status.h"

namespace triage::fault {

class Watchdog {
 public:
  virtual ~Watchdog() = default;
  virtual Status Stroke() noexcept = 0;
  // Orderly shutdown: stop the timer if the device allows it.
  virtual Status Disarm() noexcept { return Status::Ok(); }
  virtual uint32_t timeout_s() const = 0;
};

class LinuxWatchdog final : public Watchdog {
 public:
  // Opens and arms the device and asks for timeout_s (drivers may round it;
  // timeout_s() reports what the driver accepted). Init-time.
  static Result<std::unique_ptr<LinuxWatchdog>> Open(const char* device, uint32_t timeout_s);
  ~LinuxWatchdog() override;
  Status Stroke() noexcept override;
  Status Disarm() noexcept override;
  uint32_t timeout_s() const override { return timeout_s_; }

 private:
  LinuxWatchdog(int fd, uint32_t timeout_s) : fd_(fd), timeout_s_(timeout_s) {}
  int fd_;
  uint32_t timeout_s_;
};

class SimulatedWatchdog final : public Watchdog {
 public:
  // Armed at construction time (clock's now). The clock must outlive it.
  SimulatedWatchdog(const Clock& clock, uint32_t timeout_s);
  Status Stroke() noexcept override;
  Status Disarm() noexcept override;
  uint32_t timeout_s() const override { return timeout_s_; }

  // True once more than timeout_s passed without a stroke while armed: the
  // moment a real watchdog would have reset the board.
  bool expired() const;
  uint64_t strokes() const { return strokes_; }
  int64_t last_stroke_ns() const { return last_stroke_ns_; }

 private:
  const Clock& clock_;
  uint32_t timeout_s_;
  int64_t last_stroke_ns_;
  uint64_t strokes_ = 0;
  bool armed_ = true;
};

}  // namespace triage::fault

#endif  // TRIAGE_FAULT_WATCHDOG_H_
