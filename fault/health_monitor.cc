#include "fault/health_monitor.h"

#include "fault/events.h"

namespace triage::fault {

const char* SafeModeReasonName(SafeModeReason reason) {
  switch (reason) {
    case SafeModeReason::kNone: return "none";
    case SafeModeReason::kMissedDeadlines: return "missed_deadlines";
    case SafeModeReason::kResetLoop: return "reset_loop";
    case SafeModeReason::kCommanded: return "commanded";
  }
  return "unknown";
}

HealthMonitor::HealthMonitor(const Config& config, const Clock& clock, EventLog* events, Watchdog* watchdog)
    : config_(config), clock_(clock), events_(events), watchdog_(watchdog) {
  for (int i = 0; i < kStageCount; ++i) {
    slots_[static_cast<size_t>(i)].deadline_ns = static_cast<int64_t>(config.stage_deadline_ms[i]) * kNanosPerMilli;
  }
}

void HealthMonitor::Start() noexcept {
  const int64_t now = clock_.NowNanos();
  for (Slot& s : slots_) s.armed_ns = now;
  started_ = true;
}

void HealthMonitor::Heartbeat(Stage stage, uint64_t key) noexcept {
  const auto i = static_cast<size_t>(stage);
  if (i >= slots_.size()) return;
  Slot& s = slots_[i];
  if (s.beats.load(std::memory_order_relaxed) > 0 && key <= s.last_key.load(std::memory_order_relaxed)) {
    s.stale_keys.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  s.last_key.store(key, std::memory_order_relaxed);
  s.last_beat_ns.store(clock_.NowNanos(), std::memory_order_relaxed);
  s.beats.fetch_add(1, std::memory_order_release);
}

void HealthMonitor::StageRestarted(Stage stage) noexcept {
  const auto i = static_cast<size_t>(stage);
  if (i >= slots_.size()) return;
  Slot& s = slots_[i];
  s.armed_ns = clock_.NowNanos();
  s.consecutive = 0;
  s.restarted_without_beat = true;
}

void HealthMonitor::SetMonitored(Stage stage, bool monitored) noexcept {
  const auto i = static_cast<size_t>(stage);
  if (i >= slots_.size()) return;
  Slot& s = slots_[i];
  s.deadline_ns = monitored ? static_cast<int64_t>(config_.stage_deadline_ms[i]) * kNanosPerMilli : 0;
  s.armed_ns = clock_.NowNanos();
  s.consecutive = 0;
  s.restarted_without_beat = false;
}

uint32_t HealthMonitor::MissesInWindow() const {
  const int64_t now = clock_.NowNanos();
  const int64_t window = static_cast<int64_t>(config_.miss_window_s) * kNanosPerSecond;
  uint32_t n = 0;
  for (size_t k = 0; k < miss_count_; ++k) {
    const size_t idx = (miss_head_ + kMaxMissHistory - 1 - k) % kMaxMissHistory;
    if (now - miss_times_[idx] < window) ++n;
  }
  return n;
}

void HealthMonitor::EnterSafeMode(SafeModeReason reason, int32_t stage, uint32_t resets_in_window) noexcept {
  if (safe_mode()) return;
  safe_mode_.reason = reason;
  safe_mode_.entered_ns = clock_.NowNanos();
  safe_mode_.stage = stage;
  safe_mode_.misses_in_window = MissesInWindow();
  safe_mode_.resets_in_window = resets_in_window;
  if (events_ != nullptr) {
    events_->Report(kEventSafeModeEntered, Severity::kError, static_cast<int64_t>(reason),
                    reason == SafeModeReason::kResetLoop ? static_cast<int64_t>(resets_in_window) : stage,
                    safe_mode_.misses_in_window, "safe mode (%s): classification off", SafeModeReasonName(reason));
  }
}

void HealthMonitor::ExitSafeMode() noexcept {
  safe_mode_ = SafeModeRecord{};
  miss_count_ = 0;
  miss_head_ = 0;
}

StageStatus HealthMonitor::stage_status(Stage stage) const {
  StageStatus st;
  const auto i = static_cast<size_t>(stage);
  if (i >= slots_.size()) return st;
  const Slot& s = slots_[i];
  st.monitored = s.deadline_ns > 0;
  st.last_key = s.last_key.load(std::memory_order_relaxed);
  st.last_beat_ns = s.last_beat_ns.load(std::memory_order_relaxed);
  st.misses = s.misses;
  st.consecutive_misses = s.consecutive;
  st.stale_keys = s.stale_keys.load(std::memory_order_relaxed);
  return st;
}

HealthReport HealthMonitor::Check() noexcept {
  if (!started_) Start();
  ++checks_;
  HealthReport report;
  const int64_t now = clock_.NowNanos();
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    const auto stage = static_cast<int64_t>(i);
    const uint64_t beats = s.beats.load(std::memory_order_acquire);
    const int64_t last_beat = s.last_beat_ns.load(std::memory_order_relaxed);
    const uint64_t stale = s.stale_keys.load(std::memory_order_relaxed);
    if (stale != s.stale_reported) {
      if (events_ != nullptr) {
        events_->Report(kEventStaleHeartbeatKey, Severity::kWarning, stage,
                        static_cast<int64_t>(stale - s.stale_reported),
                        static_cast<int64_t>(s.last_key.load(std::memory_order_relaxed)),
                        "%s: heartbeat key did not rise", StageName(static_cast<Stage>(i)));
      }
      s.stale_reported = stale;
    }
    if (beats != s.beats_seen) {
      s.beats_seen = beats;
      if ((s.consecutive > 0 || s.restarted_without_beat) && events_ != nullptr && s.first_miss_ns != 0) {
        events_->Report(kEventStageRecovered, Severity::kInfo, stage, (last_beat - s.first_miss_ns) / kNanosPerMilli,
                        static_cast<int64_t>(s.last_key.load(std::memory_order_relaxed)), "%s recovered",
                        StageName(static_cast<Stage>(i)));
      }
      s.consecutive = 0;
      s.restarted_without_beat = false;
      s.first_miss_ns = 0;
    }
    if (s.deadline_ns <= 0) continue;
    const int64_t ref = last_beat > s.armed_ns ? last_beat : s.armed_ns;
    const int64_t age = now - ref;
    if (age <= s.deadline_ns) continue;
    report.healthy = false;
    // One miss per elapsed deadline, counted at most once per Check.
    if (static_cast<int64_t>(s.consecutive) >= age / s.deadline_ns) continue;
    ++s.consecutive;
    ++s.misses;
    ++total_misses_;
    ++report.new_misses;
    miss_times_[miss_head_] = now;
    miss_head_ = (miss_head_ + 1) % kMaxMissHistory;
    if (miss_count_ < kMaxMissHistory) ++miss_count_;
    if (s.first_miss_ns == 0) s.first_miss_ns = now;
    if (events_ != nullptr) {
      events_->Report(kEventStageMissedDeadline, Severity::kWarning, stage, (age - s.deadline_ns) / kNanosPerMilli,
                      static_cast<int64_t>(s.last_key.load(std::memory_order_relaxed)),
                      "%s missed its %lld ms deadline", StageName(static_cast<Stage>(i)),
                      static_cast<long long>(s.deadline_ns / kNanosPerMilli));
    }
    if (s.consecutive == 1 && !s.restarted_without_beat) {
      report.restart_stages |= static_cast<uint8_t>(1u << i);
      if (events_ != nullptr) {
        events_->Report(kEventStageRestartRequested, Severity::kWarning, stage, s.consecutive, 0, "restart %s",
                        StageName(static_cast<Stage>(i)));
      }
    } else {
      report.restart_pipeline = true;
      if (events_ != nullptr) {
        events_->Report(kEventPipelineRestartRequested, Severity::kError, stage, s.consecutive, 0,
                        "%s missed again: restart the pipeline", StageName(static_cast<Stage>(i)));
      }
    }
    if (!safe_mode() && MissesInWindow() >= config_.misses_to_safe_mode) {
      EnterSafeMode(SafeModeReason::kMissedDeadlines, static_cast<int32_t>(i), 0);
      report.entered_safe_mode = true;
    }
  }
  if (report.restart_pipeline) report.healthy = false;
  if (report.healthy && watchdog_ != nullptr) {
    Status st = watchdog_->Stroke();
    if (st.ok()) {
      report.watchdog_stroked = true;
      ++strokes_;
    } else if (events_ != nullptr) {
      events_->Report(kEventWatchdogFailed, Severity::kError, static_cast<int64_t>(st.code()), 0, 0,
                      "watchdog: %.80s", st.message());
    }
  }
  return report;
}

}  // namespace triage::fault
