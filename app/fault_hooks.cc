#include "app/fault_hooks.h"

#include <new>

namespace triage::app {

Result<std::unique_ptr<FaultHooks>> FaultHooks::Create(const config::MissionConfig& config,
                                                       const FaultHooksOptions& options) noexcept {
  std::unique_ptr<FaultHooks> hooks(new (std::nothrow) FaultHooks(options));
  if (!hooks) return Status::Error(StatusCode::kResourceExhausted, "fault layer: out of memory");
  hooks->next_ = options.next != nullptr ? options.next : &hooks->default_next_;
  Result<std::unique_ptr<fault::Guard>> guard = hooks->BuildGuard(config);
  if (!guard.ok()) return guard.status();
  hooks->guard_ = std::move(guard.value());
  for (int i = 0; i < fault::kStageCount; ++i) {
    hooks->deadline_ns_[i] = static_cast<int64_t>(config.fault.stage_deadline_ms[i]) * kNanosPerMilli;
  }
  return hooks;
}

FaultHooks::~FaultHooks() = default;

Result<std::unique_ptr<fault::Guard>> FaultHooks::BuildGuard(const config::MissionConfig& config) noexcept {
  try {
    fault::GuardOptions go;
    go.config = config.fault;
    go.model_path = config.model.path;
    go.kernel_set = config.model.optimized_kernels ? kernels::KernelSet::kOptimized : kernels::KernelSet::kReference;
    go.threads = config.model.threads;
    // The digest config/ verified; all zero when files were not checked.
    bool known = false;
    for (uint8_t b : config.model.file_sha256) known = known || b != 0;
    if (known) {
      fault::Sha256Digest d;
      d.bytes = config.model.file_sha256;
      go.model_sha256 = d;
    }
    go.state_dir = options_.state_dir;
    go.clock = options_.clock;
    go.events = options_.events;
    go.heartbeat_file = options_.heartbeat_file;
    Result<std::unique_ptr<fault::Guard>> guard = fault::Guard::Create(go);
    if (!guard.ok()) return guard.status().WithContext("fault layer");
    return std::move(guard.value());
  } catch (const std::bad_alloc&) {
    return Status::Error(StatusCode::kResourceExhausted, "fault layer: out of memory");
  }
}

Status FaultHooks::Rebuild(const config::MissionConfig& config) noexcept {
  const FaultSummary before = Summary();
  (void)guard_->Shutdown();  // the next Create must not count this as a reset
  Result<std::unique_ptr<fault::Guard>> guard = BuildGuard(config);
  if (!guard.ok()) return guard.status();
  carried_ = before;
  stage_restarts_ = 0;
  guard_ = std::move(guard.value());
  for (int64_t& t : frame_ns_) t = 0;
  return Status::Ok();
}

Status FaultHooks::GuardedRunner::Invoke() noexcept {
  if (io_ == nullptr) return Status::Error(StatusCode::kFailedPrecondition, "fault layer: no classifier bound");
  fault::InferenceResult r;
  Status s = owner_->guard_->RunOn(*io_, &r);
  outcome_ = r.skipped ? "skipped" : fault::VerdictName(r.verdict);
  return s;
}

void FaultHooks::OnStageBegin(FlightStage stage, uint64_t frame_id) noexcept {
  next().OnStageBegin(stage, frame_id);
}

void FaultHooks::OnStageEnd(FlightStage stage, uint64_t frame_id, const Status& status, int64_t elapsed_ns) noexcept {
  frame_ns_[static_cast<int>(FaultStageOf(stage))] += elapsed_ns;
  next().OnStageEnd(stage, frame_id, status, elapsed_ns);
}

void FaultHooks::BetweenFrames(uint64_t frames_done) noexcept {
  // A heartbeat for every stage that kept within its deadline this frame
  // (stages the frame did not need are idle, not late); one that overran
  // stays silent and Check() below counts the miss.
  for (int i = 0; i < fault::kStageCount; ++i) {
    if (frame_ns_[i] <= deadline_ns_[i]) guard_->Heartbeat(static_cast<fault::Stage>(i));
    frame_ns_[i] = 0;
  }
  (void)guard_->ScrubStep();
  const fault::HealthReport h = guard_->Check();
  for (int i = 0; i < fault::kStageCount; ++i) {
    if ((h.restart_stages & (1u << i)) == 0) continue;
    // Loop stages hold no state across frames: restarting one is re-arming
    // its deadline (the next frame runs it afresh).
    const auto stage = static_cast<fault::Stage>(i);
    ++stage_restarts_;
    if (options_.events != nullptr) {
      options_.events->Report(kEventStageRestarted, Severity::kWarning, i, static_cast<int64_t>(frames_done), 0,
                              "%s restarted after a missed deadline", fault::StageName(stage));
    }
    guard_->StageRestarted(stage);
  }
  if (h.restart_pipeline) pipeline_restart_ = true;
  next().BetweenFrames(frames_done);
}

void FaultHooks::OnClassifierReady(Classifier& classifier) noexcept {
  runner_.Bind(&classifier.interpreter());
  classifier.set_runner(&runner_);
  next().OnClassifierReady(classifier);
}

bool FaultHooks::InSafeMode() const noexcept { return guard_->safe_mode() || next().InSafeMode(); }

Status FaultHooks::Shutdown() noexcept { return guard_->Shutdown(); }

FaultSummary FaultHooks::Summary() const {
  const fault::GuardTelemetry t = guard_->telemetry();
  FaultSummary s = carried_;
  s.redundancy = fault::RedundancyModeName(guard_->invoker().mode());
  s.separate_weight_copy = guard_->model_store().copies() > 1;
  s.runs += t.invoker.runs;
  s.disagreements += t.invoker.disagreements;
  s.corrected += t.invoker.corrected;
  s.no_majority += t.invoker.no_majority;
  s.failed_runs += t.invoker.failed_runs;
  s.scrub_sweeps += t.scrub.sweeps;
  s.scrub_mismatches += t.scrub.mismatches;
  s.scrub_repairs += t.scrub.repairs + t.invoker.packed_repairs;  // model copies and packed weights
  s.missed_deadlines += t.health_misses;
  s.stage_restarts += stage_restarts_;
  s.watchdog_strokes += t.watchdog_strokes;
  s.supervisor_beats += t.supervisor_beats;
  s.safe_mode = t.safe_mode;
  s.safe_mode_reason = fault::SafeModeReasonName(guard_->safe_mode_record().reason);
  s.boot_count = guard_->boot().boot_count;
  s.resets_in_window = guard_->boot().resets_in_window;
  return s;
}

}  // namespace triage::app
