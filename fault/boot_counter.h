// BootCounter: a persistent record of process starts that guards against
// reset loops.
//
// RecordBoot() reads the state file, appends this start, and writes the file
// back crash-safely (tmp + fsync + rename + directory fsync) before flight
// begins. A start counts as a reset when the previous run did not call
// RecordCleanShutdown() (it crashed, was killed, or the board reset). When
// more than Config::max_resets resets fall within Config::reset_window_s the
// result says reset_loop, and the caller starts in safe mode.
//
// Times come from a Clock that must survive reboots (wall time: RealtimeClock
// below, or GPS time); a FakeClock in tests. A missing file starts a fresh
// count; an unreadable or corrupt one (bad magic, size or CRC) is replaced by
// a fresh count and flagged (file_was_reset) so the caller raises an event.
//
// File: little-endian binary, magic "TRBC", version 1, boot count, up to
// kMaxRecords records {time_ns, flags}, CRC32 of everything before it.
// Phase: init and orderly shutdown only (file I/O); no heap allocation (about
// 40 KiB of stack).
#ifndef TRIAGE_FAULT_BOOT_COUNTER_H_
#define TRIAGE_FAULT_BOOT_COUNTER_H_

#include <cstdint>

#include "core/clock.h"
#include "core/result.h"
#include "core/status.h"
#include "fault/fault_config.h"

namespace triage::fault {

// CLOCK_REALTIME in nanoseconds since the Unix epoch (survives restarts and,
// with an RTC or time sync, reboots).
class RealtimeClock final : public Clock {
 public:
  int64_t NowNanos() const noexcept override;
  static RealtimeClock& Instance();
};

struct BootInfo {
  uint64_t boot_count = 0;        // starts ever recorded, including this one
  uint32_t resets_in_window = 0;  // unclean starts within reset_window_s, including this one
  bool this_boot_was_reset = false;
  bool reset_loop = false;        // resets_in_window > max_resets
  bool file_was_reset = false;    // the file was corrupt or unreadable and started afresh
  Status file_error;              // why, when file_was_reset
};

class BootCounter {
 public:
  static constexpr uint32_t kMaxRecords = 1024;  // > the largest max_resets ValidateConfig allows

  static Result<BootInfo> RecordBoot(const char* path, const Clock& wall_clock, const Config& config) noexcept;
  // Marks the newest start as cleanly shut down, so the next start is not a reset.
  static Status RecordCleanShutdown(const char* path) noexcept;
};

}  // namespace triage::fault

#endif  // TRIAGE_FAULT_BOOT_COUNTER_H_
