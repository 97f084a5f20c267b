// Guard: the fault layer as the flight loop sees it. One object built in
// main() that owns the protected model, the redundant invoker, the scrubber,
// the health monitor with its watchdog, the supervisor heartbeat, the boot
// counter and the persistent safe-mode record.
//
// Flight loop (see fault/README.md for the full wiring):
//   auto guard = fault::Guard::Create(options);          // init: allocates
//   each frame:
//     guard->Heartbeat(Stage::kCapture, frame_seq); ...
//     copy the preprocessed tensor into guard->input();
//     InferenceResult r = guard->RunInference();         // redundant per config
//     if (r.usable) decide on r.decision; else keep the frame thumbnail-only
//       and mark it (r.thumbnail_only; r.verdict says why);
//     guard->ScrubStep();                                 // bounded, between frames
//     HealthReport h = guard->Check();                    // watchdog + supervisor beat
//     restart the stages in h.restart_stages, then guard->StageRestarted(s);
//     if (h.restart_pipeline) exit non-zero: the supervisor restarts us.
//   orderly exit: guard->Shutdown().
//
// Safe mode (classification off; thumbnails and catalog only) is entered
// when the health monitor sees misses_to_safe_mode misses within the window,
// when the boot counter sees a reset loop, when the supervisor says so
// (TRIAGE_SAFE_MODE=1), by command, or when a previous run left a safe-mode
// record in state_dir; it is recorded there (crash-safe) and survives
// restarts until ExitSafeMode().
//
// Phase and memory: Create allocates everything (model copies, arenas, op
// data, CRC tables, the staging input). RunInference, Heartbeat, Check and
// ScrubStep never allocate and never throw. Threads: Heartbeat(stage, key)
// from any thread, the keyless Heartbeat(stage) from that stage's thread;
// everything else from the loop thread, which also owns the EventLog.
#ifndef TRIAGE_FAULT_GUARD_H_
#define TRIAGE_FAULT_GUARD_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/event.h"
#include "core/result.h"
#include "fault/boot_counter.h"
#include "fault/decision.h"
#include "fault/fault_config.h"
#include "fault/health_monitor.h"
#include "fault/heartbeat.h"
#include "fault/model_store.h"
#include "fault/redundant_invoker.h"
#include "fault/scrubber.h"
#include "fault/watchdog.h"
#include "inference/op_resolver.h"

namespace triage::fault {

struct GuardOptions {
  Config config;                           // the mission config's fault: section
  std::string model_path;                  // primary model file
  std::optional<Sha256Digest> model_sha256;  // else "<model>.sha256", else trusted at load
  std::string state_dir;                   // boot counter + safe-mode record; "" = not persisted
  const Clock* clock = nullptr;            // monotonic; default SteadyClock
  const Clock* wall_clock = nullptr;       // for the boot counter; default RealtimeClock
  EventLog* events = nullptr;              // may be null
  const inference::OpResolver* resolver = nullptr;  // default: every builtin op (owned by the guard)
  // Kernels of the replicas in none/dmr/tmr (the mission config's model.kernels);
  // crosscheck always pairs optimized with reference.
  kernels::KernelSet kernel_set = kernels::KernelSet::kOptimized;
  int threads = 1;                         // the mission config's model.threads
  Watchdog* watchdog = nullptr;            // default: per config (device, or simulated when "")
  // Supervisor heartbeat file; nullopt = $TRIAGE_HEARTBEAT_FILE (disabled if unset), "" = none.
  std::optional<std::string> heartbeat_file;
  // Start in safe mode (the supervisor's TRIAGE_SAFE_MODE=1 is honoured too).
  bool start_in_safe_mode = false;
};

struct InferenceResult {
  Verdict verdict = Verdict::kFailed;
  bool usable = false;          // decision may be used
  bool thumbnail_only = true;   // keep the frame thumbnail-only and mark it
  bool skipped = false;         // not run: safe mode
  Decision decision;            // valid when usable
  RunResult run;
};

struct GuardTelemetry {
  InvokerCounters invoker;
  ScrubStats scrub;
  uint64_t health_misses = 0;
  uint64_t watchdog_strokes = 0;
  uint64_t supervisor_beats = 0;
  uint64_t inferences_skipped = 0;
  bool safe_mode = false;
};

class Guard {
 public:
  static Result<std::unique_ptr<Guard>> Create(const GuardOptions& options);
  ~Guard();

  // Staging input tensor i (fill before RunInference) and its description.
  Span<uint8_t> input(size_t i = 0) { return invoker_->input(i); }
  inference::TensorView input_view(size_t i = 0) const { return invoker_->input_view(i); }
  // The voted output of the last usable run (data == nullptr otherwise).
  inference::TensorView output(size_t i = 0) const { return invoker_->output(i); }

  InferenceResult RunInference() noexcept;
  // For a caller whose own interpreter is the I/O surface (app's Classifier
  // with its InferenceRunner seam): copies io's input 0 into the staging
  // input, runs RunInference(), and when the result is usable copies the
  // voted output 0 back into io's output 0. io must run the same network
  // (same tensor sizes). Returns kFailedPrecondition in safe mode,
  // kDataLoss when the vote had no majority or the runs failed (io's output
  // is then left untouched: keep the frame thumbnail-only and mark it), and
  // kInvalidArgument on a size mismatch. *result (optional) gets the details.
  Status RunOn(inference::Interpreter& io, InferenceResult* result = nullptr) noexcept;
  // key must rise on every call (a frame sequence number is ideal: a stage
  // stuck re-sending an old frame does not count as alive).
  void Heartbeat(Stage stage, uint64_t key) noexcept { health_.Heartbeat(stage, key); }
  // Convenience form: the guard supplies a rising key per stage. Use one
  // form per stage, not both.
  void Heartbeat(Stage stage) noexcept {
    const auto i = static_cast<size_t>(stage);
    if (i < auto_keys_.size()) health_.Heartbeat(stage, ++auto_keys_[i]);
  }
  HealthReport Check() noexcept;
  void StageRestarted(Stage stage) noexcept { health_.StageRestarted(stage); }
  ScrubStepResult ScrubStep() noexcept;

  bool safe_mode() const { return health_.safe_mode(); }
  const SafeModeRecord& safe_mode_record() const { return health_.safe_mode_record(); }
  void EnterSafeMode() noexcept;  // by command
  Status ExitSafeMode() noexcept;  // by command; removes the record
  // Orderly shutdown: marks the boot clean and disarms the watchdog.
  Status Shutdown() noexcept;

  const BootInfo& boot() const { return boot_; }
  GuardTelemetry telemetry() const;
  ModelStore& model_store() { return *store_; }
  RedundantInvoker& invoker() { return *invoker_; }
  HealthMonitor& health() { return health_; }

 private:
  Guard(const GuardOptions& options, const Clock& clock, Watchdog* watchdog);
  void PersistSafeMode() noexcept;

  GuardOptions options_;
  std::unique_ptr<inference::OpResolver> own_resolver_;
  std::unique_ptr<ModelStore> store_;
  std::unique_ptr<RedundantInvoker> invoker_;
  std::unique_ptr<Scrubber> scrubber_;
  size_t scrub_bytes_per_step_ = 0;
  std::unique_ptr<Watchdog> own_watchdog_;
  Watchdog* watchdog_ = nullptr;
  HealthMonitor health_;
  fault::Heartbeat heartbeat_;
  OutputQuant quant_;
  BootInfo boot_;
  std::string boot_path_;
  std::string safe_mode_path_;
  std::array<uint64_t, kStageCount> auto_keys_{};
  uint64_t skipped_ = 0;
  bool safe_mode_persisted_ = false;
};

}  // namespace triage::fault

#endif  // TRIAGE_FAULT_GUARD_H_
