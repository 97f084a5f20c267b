#include "fault/fault_config.h"

#include <cstring>

namespace triage::fault {
namespace {

// Bounds shared with the classes that size fixed tables from them.
constexpr uint32_t kMaxDeadlineMs = 3'600'000;    // one hour
constexpr uint32_t kMaxMissesToSafeMode = 64;     // HealthMonitor::kMaxMissHistory
constexpr uint32_t kMaxWindowS = 7 * 24 * 3600;   // one week
constexpr uint32_t kMaxScrubBytesPerFrame = 1u << 30;  // as config/ accepts
constexpr uint32_t kMaxWatchdogTimeoutS = 3600;
constexpr uint32_t kMaxResets = 1000;             // < BootCounter::kMaxRecords

constexpr const char* kModeNames[] = {"none", "dmr", "tmr", "crosscheck"};
constexpr const char* kStageNames[] = {"capture", "preprocess", "infer", "decide", "downlink"};

}  // namespace

const char* RedundancyModeName(RedundancyMode mode) {
  const auto i = static_cast<size_t>(mode);
  return i < sizeof(kModeNames) / sizeof(kModeNames[0]) ? kModeNames[i] : "unknown";
}

const char* StageName(Stage stage) {
  const auto i = static_cast<size_t>(stage);
  return i < static_cast<size_t>(kStageCount) ? kStageNames[i] : "unknown";
}

bool ParseRedundancyMode(const char* name, RedundancyMode* mode) {
  if (name == nullptr) return false;
  for (size_t i = 0; i < sizeof(kModeNames) / sizeof(kModeNames[0]); ++i) {
    if (std::strcmp(name, kModeNames[i]) == 0) {
      *mode = static_cast<RedundancyMode>(i);
      return true;
    }
  }
  return false;
}

bool ParseStage(const char* name, Stage* stage) {
  if (name == nullptr) return false;
  for (int i = 0; i < kStageCount; ++i) {
    if (std::strcmp(name, kStageNames[i]) == 0) {
      *stage = static_cast<Stage>(i);
      return true;
    }
  }
  return false;
}

Status ValidateConfig(const Config& c) {
  if (static_cast<uint8_t>(c.redundancy) > static_cast<uint8_t>(RedundancyMode::kCrossCheck)) {
    return Status::Error(StatusCode::kInvalidArgument, "fault.redundancy: %u (must be none, dmr, tmr or crosscheck)",
                         static_cast<unsigned>(c.redundancy));
  }
  if (c.scrub_bytes_per_frame > kMaxScrubBytesPerFrame) {
    return Status::Error(StatusCode::kInvalidArgument, "fault.scrub_bytes_per_frame: %u (must be 0..%u)",
                         c.scrub_bytes_per_frame, kMaxScrubBytesPerFrame);
  }
  for (int i = 0; i < kStageCount; ++i) {
    if (c.stage_deadline_ms[i] > kMaxDeadlineMs) {
      return Status::Error(StatusCode::kInvalidArgument,
                           "fault.stage_deadline_ms.%s: %u (must be 0 (unmonitored) .. %u)",
                           StageName(static_cast<Stage>(i)), c.stage_deadline_ms[i], kMaxDeadlineMs);
    }
  }
  if (c.misses_to_safe_mode < 1 || c.misses_to_safe_mode > kMaxMissesToSafeMode) {
    return Status::Error(StatusCode::kInvalidArgument, "fault.misses_to_safe_mode: %u (must be 1..%u)",
                         c.misses_to_safe_mode, kMaxMissesToSafeMode);
  }
  if (c.miss_window_s < 1 || c.miss_window_s > kMaxWindowS) {
    return Status::Error(StatusCode::kInvalidArgument, "fault.miss_window_s: %u (must be 1..%u)", c.miss_window_s,
                         kMaxWindowS);
  }
  if (c.watchdog_timeout_s < 1 || c.watchdog_timeout_s > kMaxWatchdogTimeoutS) {
    return Status::Error(StatusCode::kInvalidArgument, "fault.watchdog_timeout_s: %u (must be 1..%u)",
                         c.watchdog_timeout_s, kMaxWatchdogTimeoutS);
  }
  if (c.max_resets < 1 || c.max_resets > kMaxResets) {
    return Status::Error(StatusCode::kInvalidArgument, "fault.max_resets: %u (must be 1..%u)", c.max_resets,
                         kMaxResets);
  }
  if (c.reset_window_s < 1 || c.reset_window_s > kMaxWindowS) {
    return Status::Error(StatusCode::kInvalidArgument, "fault.reset_window_s: %u (must be 1..%u)", c.reset_window_s,
                         kMaxWindowS);
  }
  if (!c.model_backup_path.empty() && c.model_backup_path.size() >= 4096) {
    return Status::Error(StatusCode::kInvalidArgument, "fault.model_backup_path: %zu characters (must be < 4096)",
                         c.model_backup_path.size());
  }
  if (!c.watchdog_device.empty() && c.watchdog_device.size() >= 4096) {
    return Status::Error(StatusCode::kInvalidArgument, "fault.watchdog_device: %zu characters (must be < 4096)",
                         c.watchdog_device.size());
  }
  return Status::Ok();
}

}  // namespace triage::fault
