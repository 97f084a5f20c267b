// fault::Config: the mission config's `fault:` section (filled by config/).
//
// Plain data with documented defaults; ValidateConfig (fault/) checks ranges.
// The fault layer owns this struct; config/ only parses YAML into it.
#ifndef TRIAGE_FAULT_FAULT_CONFIG_H_
#define TRIAGE_FAULT_FAULT_CONFIG_H_

#include <cstdint>
#include <string>

#include "core/status.h"

namespace triage::fault {

// How inference is executed redundantly (see fault/redundant_invoker.h).
enum class RedundancyMode : uint8_t {
  kNone,        // one run
  kDmr,         // two runs, compare output bytes; third run and vote on mismatch
  kTmr,         // three runs, majority vote on output bytes
  kCrossCheck,  // optimized kernels vs reference kernels, compare bytes
};
const char* RedundancyModeName(RedundancyMode mode);  // "none", "dmr", "tmr", "crosscheck"

// Pipeline stages that report heartbeats to the health monitor.
enum class Stage : uint8_t { kCapture = 0, kPreprocess, kInfer, kDecide, kDownlink };
constexpr int kStageCount = 5;
const char* StageName(Stage stage);  // "capture", "preprocess", ...

struct Config {
  RedundancyMode redundancy = RedundancyMode::kNone;
  bool separate_weight_copy = false;  // redundant runs read a second copy of the weights

  // Scrubbing: bytes of weights re-checked between two frames (0 = off).
  uint32_t scrub_bytes_per_frame = 64 * 1024;
  std::string model_backup_path;      // second on-disk copy used for repair ("" = none)

  // Health: per-stage deadline, in milliseconds.
  uint32_t stage_deadline_ms[kStageCount] = {2000, 2000, 5000, 500, 5000};
  uint32_t misses_to_safe_mode = 3;   // misses within the window that trigger safe mode
  uint32_t miss_window_s = 600;

  // Watchdog: "" = simulated; otherwise a device such as /dev/watchdog.
  std::string watchdog_device;
  uint32_t watchdog_timeout_s = 30;

  // Boot/reset counter: resets within the window beyond which flight starts in safe mode.
  uint32_t max_resets = 5;
  uint32_t reset_window_s = 3600;
};

// Range checks (fault/fault_config.cc). Messages name the field and value,
// e.g. "fault.misses_to_safe_mode: 0 (must be 1..64)".
Status ValidateConfig(const Config& config);

// Inverse of RedundancyModeName / StageName; false when the name is unknown.
bool ParseRedundancyMode(const char* name, RedundancyMode* mode);
bool ParseStage(const char* name, Stage* stage);

}  // namespace triage::fault

#endif  // TRIAGE_FAULT_FAULT_CONFIG_H_
