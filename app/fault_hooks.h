// FaultHooks: the fault layer (fault::Guard) wired into the flight loop
// through the loop's seams. Built by FlightLoop::Init from the mission
// config's `fault:` section (app/ is the only composition root; fault/ never
// includes app/).
//
//   OnClassifierReady  installs a GuardedRunner as the classifier's
//                      InferenceRunner: Invoke() = Guard::RunOn(interpreter),
//                      i.e. redundant execution per fault.redundancy (none,
//                      dmr, tmr, crosscheck) on the guard's own protected
//                      copies of the model; the classifier's interpreter is
//                      only the input/output surface.
//   OnStageEnd         adds the stage's elapsed time to its fault::Stage
//                      (FaultStageOf) for this frame.
//   BetweenFrames      one heartbeat per fault::Stage that kept within its
//                      deadline this frame (the guard's rising key; a stage
//                      the frame skipped is idle, not late), ScrubStep()
//                      (bounded), then Check() once per frame: it strokes the
//                      watchdog and the supervisor heartbeat file only when
//                      every stage is healthy; restart requests are served
//                      (event, then StageRestarted); a pipeline restart
//                      request makes the loop stop (FlightLoop::Run ->
//                      StopReason::kRestart, triage-flight exits 3 and the
//                      supervisor restarts it).
//   InSafeMode         guard.safe_mode(): classification off, thumbnails and
//                      catalog only.
// Every hook then forwards to `next` (the caller's FlightOptions::hooks), so
// tests still see every stage; a runner that `next` installs in
// OnClassifierReady replaces the guarded one (tests only).
//
// So in this single-threaded loop a stage's deadline (fault.stage_deadline_ms)
// bounds its own run time within one frame: a stage that overran gets no
// heartbeat, and the Check() that follows finds it silent for longer than its
// deadline (miss: event, stage restart; a second consecutive miss: pipeline
// restart; misses_to_safe_mode in the window: safe mode). A stage that hangs
// for good stops the loop thread and with it Check(): that is the
// supervisor's job (no heartbeat-file change) and, last, the hardware
// watchdog's (fault/README.md).
//
// Phase: Create and Rebuild allocate (start-up, model swap between frames);
// every hook and Invoke are noexcept and allocation-free.
#ifndef TRIAGE_APP_FAULT_HOOKS_H_
#define TRIAGE_APP_FAULT_HOOKS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "app/flight_types.h"
#include "app/flight_stages.h"
#include "config/mission.h"
#include "core/clock.h"
#include "core/event.h"
#include "core/result.h"
#include "fault/guard.h"

namespace triage::app {

// App events of the fault wiring (ids (kApp << 8) | n, after flight_loop.h's).
constexpr uint16_t kEventFrameUnverified = MakeEventId(EventSource::kApp, 15);  // no majority: thumbnail-only
constexpr uint16_t kEventStageRestarted = MakeEventId(EventSource::kApp, 16);

struct FaultHooksOptions {
  std::string state_dir;                    // boot counter + safe-mode record ("" = not persisted)
  const Clock* clock = nullptr;             // the loop's clock (deadlines); default SteadyClock
  EventLog* events = nullptr;               // the loop's EventLog
  std::optional<std::string> heartbeat_file;  // nullopt = $TRIAGE_HEARTBEAT_FILE
  FlightHooks* next = nullptr;              // forwarded to after the fault layer (may be null)
};

// Fault-layer figures for telemetry and the summary (cumulative, this run).
struct FaultSummary {
  const char* redundancy = "none";
  bool separate_weight_copy = false;
  uint64_t runs = 0;
  uint64_t disagreements = 0;  // corrected + no majority
  uint64_t corrected = 0;
  uint64_t no_majority = 0;
  uint64_t failed_runs = 0;
  uint64_t scrub_sweeps = 0;
  uint64_t scrub_mismatches = 0;
  uint64_t scrub_repairs = 0;
  uint64_t missed_deadlines = 0;
  uint64_t stage_restarts = 0;
  uint64_t watchdog_strokes = 0;
  uint64_t supervisor_beats = 0;
  bool safe_mode = false;
  const char* safe_mode_reason = "none";
  uint64_t boot_count = 0;
  uint32_t resets_in_window = 0;
};

class FaultHooks final : public FlightHooks {
 public:
  static Result<std::unique_ptr<FaultHooks>> Create(const config::MissionConfig& config,
                                                    const FaultHooksOptions& options) noexcept;
  ~FaultHooks() override;
  FaultHooks(const FaultHooks&) = delete;
  FaultHooks& operator=(const FaultHooks&) = delete;

  // A model swap (reload) at the safe point: shuts the current guard down
  // cleanly (boot counter, watchdog) and builds one for `config`'s model.
  // On failure the old guard stays in use and the error is returned.
  Status Rebuild(const config::MissionConfig& config) noexcept;

  void OnStageBegin(FlightStage stage, uint64_t frame_id) noexcept override;
  void OnStageEnd(FlightStage stage, uint64_t frame_id, const Status& status, int64_t elapsed_ns) noexcept override;
  void BetweenFrames(uint64_t frames_done) noexcept override;
  void OnClassifierReady(Classifier& classifier) noexcept override;
  bool InSafeMode() const noexcept override;

  // Set by a Check() that asked for the whole pipeline to be restarted.
  bool pipeline_restart_requested() const { return pipeline_restart_; }
  // Orderly end of the flight: boot marked clean, watchdog disarmed.
  Status Shutdown() noexcept;
  FaultSummary Summary() const;
  fault::Guard& guard() { return *guard_; }
  const fault::Guard& guard() const { return *guard_; }

 private:
  // Classifier::Infer -> Guard::RunOn(classifier.interpreter()).
  class GuardedRunner final : public InferenceRunner {
   public:
    explicit GuardedRunner(FaultHooks* owner) : owner_(owner) {}
    void Bind(inference::Interpreter* io) { io_ = io; }
    Status Invoke() noexcept override;
    const char* outcome() const noexcept override { return outcome_; }

   private:
    FaultHooks* owner_;
    inference::Interpreter* io_ = nullptr;
    const char* outcome_ = nullptr;
  };

  FaultHooks(const FaultHooksOptions& options) : options_(options), runner_(this) {}
  Result<std::unique_ptr<fault::Guard>> BuildGuard(const config::MissionConfig& config) noexcept;
  FlightHooks& next() const { return *next_; }

  FaultHooksOptions options_;
  FlightHooks default_next_;
  FlightHooks* next_ = nullptr;
  std::unique_ptr<fault::Guard> guard_;
  GuardedRunner runner_;
  int64_t frame_ns_[fault::kStageCount] = {};     // elapsed this frame, per fault stage
  int64_t deadline_ns_[fault::kStageCount] = {};
  bool pipeline_restart_ = false;
  uint64_t stage_restarts_ = 0;
  FaultSummary carried_;  // counters of guards replaced by Rebuild
};

}  // namespace triage::app

#endif  // TRIAGE_APP_FAULT_HOOKS_H_
