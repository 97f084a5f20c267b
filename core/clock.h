// Clock: the one source of time for flight logic, behind an interface so that
// the watchdog, health monitor, scrubber and link simulator run on a fake
// clock in tests and on recorded time in ground replay.
//
// Times are monotonic nanoseconds from an arbitrary origin. NowNanos() never
// allocates, never throws and is safe from any thread.
#ifndef TRIAGE_CORE_CLOCK_H_
#define TRIAGE_CORE_CLOCK_H_

#include <atomic>
#include <cstdint>

namespace triage {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowNanos() const noexcept = 0;
};

// std::chrono::steady_clock (CLOCK_MONOTONIC on Linux).
class SteadyClock final : public Clock {
 public:
  int64_t NowNanos() const noexcept override;
  // A process-wide instance, for wiring in main().
  static SteadyClock& Instance();
};

// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_ns = 0) : now_ns_(start_ns) {}
  int64_t NowNanos() const noexcept override { return now_ns_.load(std::memory_order_acquire); }
  void Set(int64_t ns) { now_ns_.store(ns, std::memory_order_release); }
  void AdvanceNanos(int64_t ns) { now_ns_.fetch_add(ns, std::memory_order_acq_rel); }
  void AdvanceMillis(int64_t ms) { AdvanceNanos(ms * 1'000'000); }

 private:
  std::atomic<int64_t> now_ns_;
};

constexpr int64_t kNanosPerMilli = 1'000'000;
constexpr int64_t kNanosPerSecond = 1'000'000'000;

}  // namespace triage

#endif  // TRIAGE_CORE_CLOCK_H_
