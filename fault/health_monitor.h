// HealthMonitor: per-stage deadlines, restart requests, safe mode and the
// watchdog, in the spirit of F Prime's Health component.
//
// Each pipeline stage calls Heartbeat(stage, key) with a key that rises on
// every call (a frame sequence number, say): a stuck stage that repeats an
// old key does not count as alive. A stage's deadline
// (Config::stage_deadline_ms; 0 = unmonitored) is the longest allowed time
// between two of its heartbeats, measured from Start() or from its last
// restart. Check(), called periodically, then:
//   - on the first deadline a stage misses: raises kEventStageMissedDeadline
//     and asks for that stage to be restarted (HealthReport::restart_stages);
//   - if the stage misses again before any heartbeat (also after the caller
//     restarted it and called StageRestarted): asks for the whole pipeline to
//     be restarted (restart_pipeline; the app exits and the supervisor starts
//     it again);
//   - when Config::misses_to_safe_mode misses fall within
//     Config::miss_window_s: enters safe mode (classification off, thumbnails
//     and catalog only) and records why, when and how many;
//   - strokes the watchdog only if every monitored stage is within its
//     deadline and no pipeline restart is pending.
// A stage that misses keeps counting one miss per further deadline without
// a heartbeat.
//
// Threads: Heartbeat() may be called from any thread (lock-free atomics);
// Check(), StageRestarted() and EnterSafeMode() from one thread, which must
// also own the EventLog given here. Heartbeat() never allocates; nor does
// anything else after construction.
#ifndef TRIAGE_FAULT_HEALTH_MONITOR_H_
#define TRIAGE_FAULT_HEALTH_MONITOR_H_

#include <array>
#include <atomic>
#include <cstdint>

#include "core/clock.h"
#include "core/event.h"
#include "fault/fault_config.h"
#include "fault/watchdog.h"

namespace triage::fault {

enum class SafeModeReason : uint8_t {
  kNone = 0,
  kMissedDeadlines = 1,  // misses_to_safe_mode misses within the window
  kResetLoop = 2,        // boot counter: too many resets within the window
  kCommanded = 3,        // by command or a persisted record from a previous run
};
const char* SafeModeReasonName(SafeModeReason reason);

struct SafeModeRecord {
  SafeModeReason reason = SafeModeReason::kNone;
  int64_t entered_ns = 0;     // clock time
  int32_t stage = -1;         // the stage whose miss tipped it, if any
  uint32_t misses_in_window = 0;
  uint32_t resets_in_window = 0;
};

struct HealthReport {
  uint8_t restart_stages = 0;     // bit (1 << Stage): restart this stage, then call StageRestarted
  bool restart_pipeline = false;  // restart everything (exit; the supervisor restarts the process)
  bool entered_safe_mode = false; // this Check entered safe mode
  bool healthy = true;            // every monitored stage within its deadline
  bool watchdog_stroked = false;
  uint32_t new_misses = 0;
};

struct StageStatus {
  bool monitored = false;
  uint64_t last_key = 0;
  int64_t last_beat_ns = 0;        // 0: none yet
  uint32_t misses = 0;             // total
  uint32_t consecutive_misses = 0; // since the last heartbeat
  uint64_t stale_keys = 0;         // heartbeats whose key did not rise
};

class HealthMonitor {
 public:
  static constexpr size_t kMaxMissHistory = 64;

  // clock, events (may be null) and watchdog (may be null) must outlive the
  // monitor. The config must pass ValidateConfig.
  HealthMonitor(const Config& config, const Clock& clock, EventLog* events, Watchdog* watchdog);

  // Arms every monitored stage at the current time. Call once the pipeline
  // is built; Check before Start treats Start as "now".
  void Start() noexcept;
  void Heartbeat(Stage stage, uint64_t key) noexcept;
  HealthReport Check() noexcept;
  // The caller restarted this stage: its deadline runs from now.
  void StageRestarted(Stage stage) noexcept;
  // Stops monitoring a stage that is idle by design (or resumes it, re-armed).
  void SetMonitored(Stage stage, bool monitored) noexcept;
  void EnterSafeMode(SafeModeReason reason, int32_t stage, uint32_t resets_in_window) noexcept;
  // Ground command: leave safe mode and forget the miss history.
  void ExitSafeMode() noexcept;

  bool safe_mode() const { return safe_mode_.reason != SafeModeReason::kNone; }
  const SafeModeRecord& safe_mode_record() const { return safe_mode_; }
  StageStatus stage_status(Stage stage) const;
  uint64_t total_misses() const { return total_misses_; }
  uint64_t checks() const { return checks_; }
  uint64_t watchdog_strokes() const { return strokes_; }
  uint32_t MissesInWindow() const;

 private:
  struct Slot {
    std::atomic<uint64_t> last_key{0};
    std::atomic<int64_t> last_beat_ns{0};
    std::atomic<uint64_t> beats{0};
    std::atomic<uint64_t> stale_keys{0};
    // Check-thread state.
    int64_t deadline_ns = 0;  // 0: unmonitored
    int64_t armed_ns = 0;
    uint64_t beats_seen = 0;
    uint64_t stale_reported = 0;
    uint32_t misses = 0;
    uint32_t consecutive = 0;
    bool restarted_without_beat = false;
    int64_t first_miss_ns = 0;
  };

  const Config config_;
  const Clock& clock_;
  EventLog* events_;
  Watchdog* watchdog_;
  std::array<Slot, kStageCount> slots_;
  std::array<int64_t, kMaxMissHistory> miss_times_{};
  size_t miss_head_ = 0;
  size_t miss_count_ = 0;
  SafeModeRecord safe_mode_;
  uint64_t total_misses_ = 0;
  uint64_t checks_ = 0;
  uint64_t strokes_ = 0;
  bool started_ = false;
};

}  // namespace triage::fault

#endif  // TRIAGE_FAULT_HEALTH_MONITOR_H_
