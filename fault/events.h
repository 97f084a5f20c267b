// Event ids raised by fault/ (EventSource::kFault). Arguments are listed per
// id; every event is a fixed-size record through core/event.h.
#ifndef TRIAGE_FAULT_EVENTS_H_
#define TRIAGE_FAULT_EVENTS_H_

#include <cstdint>

#include "core/event.h"

namespace triage::fault {

constexpr uint8_t kFaultEventCount = 20;

// Redundant inference. args: mode, dissenting-replica mask, runs.
constexpr uint16_t kEventVoteDisagreement = MakeEventId(EventSource::kFault, 1);
// No two runs agreed; the frame must be kept thumbnail-only. args: mode, runs, 0.
constexpr uint16_t kEventVoteNoMajority = MakeEventId(EventSource::kFault, 2);
// An interpreter run returned an error. args: replica, status code, runs.
constexpr uint16_t kEventRunFailed = MakeEventId(EventSource::kFault, 3);

// Scrubbing. args: copy, byte offset of the mismatching block, weight buffer index (-1: not a weight).
constexpr uint16_t kEventScrubMismatch = MakeEventId(EventSource::kFault, 4);
// In-memory copies restored from a verified disk image. args: copies restored, 0 primary / 1 backup, repairs.
constexpr uint16_t kEventScrubRepaired = MakeEventId(EventSource::kFault, 5);
// No verified disk image: the corrupted copy stays. args: status code, 0, 0.
constexpr uint16_t kEventScrubRepairFailed = MakeEventId(EventSource::kFault, 6);
// The primary model file failed its SHA-256 and was rewritten from the backup. args: file bytes, 0, 0.
constexpr uint16_t kEventModelFileRepaired = MakeEventId(EventSource::kFault, 7);

// Health. args: stage, overdue ms, last key.
constexpr uint16_t kEventStageMissedDeadline = MakeEventId(EventSource::kFault, 8);
// args: stage, consecutive misses, 0.
constexpr uint16_t kEventStageRestartRequested = MakeEventId(EventSource::kFault, 9);
// args: stage, consecutive misses, 0.
constexpr uint16_t kEventPipelineRestartRequested = MakeEventId(EventSource::kFault, 10);
// args: reason (SafeModeReason), stage or reset count, misses in window.
constexpr uint16_t kEventSafeModeEntered = MakeEventId(EventSource::kFault, 11);
// A heartbeat whose key did not rise. args: stage, key, last key.
constexpr uint16_t kEventStaleHeartbeatKey = MakeEventId(EventSource::kFault, 12);
// args: errno, 0, 0.
constexpr uint16_t kEventWatchdogFailed = MakeEventId(EventSource::kFault, 13);
// args: resets in window, max resets, window s.
constexpr uint16_t kEventResetLoop = MakeEventId(EventSource::kFault, 14);
// The boot-counter file was unreadable or corrupt and was started afresh. args: status code, 0, 0.
constexpr uint16_t kEventBootCounterReset = MakeEventId(EventSource::kFault, 15);
// A stage heartbeat arrived after a miss. args: stage, ms since the miss, key.
constexpr uint16_t kEventStageRecovered = MakeEventId(EventSource::kFault, 16);
// Inference refused because the guard is in safe mode. args: 0, 0, 0.
constexpr uint16_t kEventInferenceSkipped = MakeEventId(EventSource::kFault, 17);
// A state file (boot counter, supervisor heartbeat, safe-mode record) could not be written. args: errno or status code.
constexpr uint16_t kEventStateWriteFailed = MakeEventId(EventSource::kFault, 18);
// A replica's packed weights (optimized kernels) failed their CRC32 and were
// re-derived from its model copy. args: replica, region, packed repairs so far.
constexpr uint16_t kEventPackedWeightsRepaired = MakeEventId(EventSource::kFault, 19);
// ... and still differ after re-deriving (the model copy is corrupt too; the
// model scrubber's next sweep repairs it, and this is retried). args: replica, region, 0.
constexpr uint16_t kEventPackedWeightsRepairFailed = MakeEventId(EventSource::kFault, 20);

}  // namespace triage::fault

#endif  // TRIAGE_FAULT_EVENTS_H_
