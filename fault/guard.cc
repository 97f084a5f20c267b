#include "fault/guard.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "fault/events.h"
#include "fault/file_util.h"
#include "fault/supervisor.h"

namespace triage::fault {

Guard::Guard(const GuardOptions& options, const Clock& clock, Watchdog* watchdog)
    : options_(options), watchdog_(watchdog),
      health_(options.config, clock, options.events, watchdog) {}

Guard::~Guard() = default;

Result<std::unique_ptr<Guard>> Guard::Create(const GuardOptions& options) {
  TRIAGE_RETURN_IF_ERROR(ValidateConfig(options.config));
  const Clock& clock = options.clock != nullptr ? *options.clock : SteadyClock::Instance();
  const Config& cfg = options.config;

  std::unique_ptr<Watchdog> own_watchdog;
  Watchdog* watchdog = options.watchdog;
  if (watchdog == nullptr) {
    if (cfg.watchdog_device.empty()) {
      own_watchdog = std::make_unique<SimulatedWatchdog>(clock, cfg.watchdog_timeout_s);
    } else {
      auto w = LinuxWatchdog::Open(cfg.watchdog_device.c_str(), cfg.watchdog_timeout_s);
      if (!w.ok()) return w.status();
      own_watchdog = std::move(*w);
    }
    watchdog = own_watchdog.get();
  }
  std::unique_ptr<Guard> g(new (std::nothrow) Guard(options, clock, watchdog));
  if (!g) return Status::Error(StatusCode::kResourceExhausted, "guard: out of memory");
  g->own_watchdog_ = std::move(own_watchdog);

  // The protected model: one weight copy per replica when asked for.
  ModelStoreOptions so;
  so.path = options.model_path;
  so.backup_path = cfg.model_backup_path;
  so.copies = cfg.redundancy != RedundancyMode::kNone && cfg.separate_weight_copy ? kMaxModelCopies : 1;
  so.expected_sha256 = options.model_sha256;
  auto store = ModelStore::Load(so);
  if (!store.ok()) return store.status();
  g->store_ = std::move(*store);

  const inference::OpResolver* resolver = options.resolver;
  if (resolver == nullptr) {
    g->own_resolver_ = std::make_unique<inference::OpResolver>();
    TRIAGE_RETURN_IF_ERROR(inference::AddAllBuiltinOps(*g->own_resolver_));
    resolver = g->own_resolver_.get();
  }
  const inference::Model* models[kMaxModelCopies];
  for (int c = 0; c < g->store_->copies(); ++c) models[c] = &g->store_->model(c);
  InvokerOptions io;
  io.mode = cfg.redundancy;
  io.events = options.events;
  io.kernel_set = options.kernel_set;
  io.threads = options.threads;
  auto invoker = RedundantInvoker::Create(
      Span<const inference::Model* const>(models, static_cast<size_t>(g->store_->copies())), *resolver, io);
  if (!invoker.ok()) return invoker.status();
  g->invoker_ = std::move(*invoker);
  g->quant_ = CaptureOutputQuant(g->invoker_->replica(0).output(0));

  if (cfg.scrub_bytes_per_frame > 0) {
    ScrubberOptions sco;
    sco.bytes_per_step = cfg.scrub_bytes_per_frame;
    g->scrub_bytes_per_step_ = cfg.scrub_bytes_per_frame;
    auto scrubber = Scrubber::Create(*g->store_, sco, options.events);
    if (!scrubber.ok()) return scrubber.status();
    g->scrubber_ = std::move(*scrubber);
  }

  if (options.heartbeat_file.has_value()) {
    auto hb = Heartbeat::Open(options.heartbeat_file->c_str());
    if (!hb.ok()) return hb.status();
    g->heartbeat_ = std::move(*hb);
  } else {
    auto hb = Heartbeat::FromEnvironment();
    if (!hb.ok()) return hb.status();
    g->heartbeat_ = std::move(*hb);
  }

  // Persistent state: boot counter and the safe-mode record.
  bool safe = options.start_in_safe_mode;
  if (const char* env = std::getenv(kSafeModeEnv); env != nullptr && std::strcmp(env, "1") == 0) safe = true;
  SafeModeReason reason = SafeModeReason::kCommanded;
  if (!options.state_dir.empty()) {
    g->boot_path_ = options.state_dir + "/boot_counter";
    g->safe_mode_path_ = options.state_dir + "/safe_mode";
    const Clock& wall = options.wall_clock != nullptr ? *options.wall_clock : RealtimeClock::Instance();
    auto boot = BootCounter::RecordBoot(g->boot_path_.c_str(), wall, cfg);
    if (!boot.ok()) return boot.status().WithContext("guard: boot counter");
    g->boot_ = *boot;
    if (g->boot_.file_was_reset && options.events != nullptr) {
      options.events->Report(kEventBootCounterReset, Severity::kWarning,
                             static_cast<int64_t>(g->boot_.file_error.code()), 0, 0, "boot counter restarted: %.60s",
                             g->boot_.file_error.message());
    }
    if (g->boot_.reset_loop) {
      safe = true;
      reason = SafeModeReason::kResetLoop;
      if (options.events != nullptr) {
        options.events->Report(kEventResetLoop, Severity::kError, g->boot_.resets_in_window, cfg.max_resets,
                               cfg.reset_window_s, "%u resets in %u s: safe mode", g->boot_.resets_in_window,
                               cfg.reset_window_s);
      }
    }
    if (FileExists(g->safe_mode_path_.c_str())) {
      safe = true;
      g->safe_mode_persisted_ = true;
      // Keep the recorded reason when it is readable.
      char text[128] = {};
      auto n = ReadFileInto(g->safe_mode_path_.c_str(), Span<uint8_t>(reinterpret_cast<uint8_t*>(text), sizeof(text) - 1));
      if (n.ok() && std::strncmp(text, "reason=missed_deadlines", 23) == 0 && reason != SafeModeReason::kResetLoop) {
        reason = SafeModeReason::kMissedDeadlines;
      }
    }
  }
  g->health_.Start();
  if (safe) {
    g->health_.EnterSafeMode(reason, -1, g->boot_.resets_in_window);
    g->PersistSafeMode();
  }
  return g;
}

void Guard::PersistSafeMode() noexcept {
  if (safe_mode_path_.empty() || safe_mode_persisted_ || !safe_mode()) return;
  const SafeModeRecord& r = health_.safe_mode_record();
  char text[160];
  const int n = std::snprintf(text, sizeof(text), "reason=%s stage=%d misses=%u resets=%u wall_ns=%lld\n",
                              SafeModeReasonName(r.reason), r.stage, r.misses_in_window, r.resets_in_window,
                              static_cast<long long>((options_.wall_clock != nullptr ? *options_.wall_clock
                                                                                      : RealtimeClock::Instance())
                                                         .NowNanos()));
  Status s = WriteFileAtomically(safe_mode_path_.c_str(),
                                 Span<const uint8_t>(reinterpret_cast<const uint8_t*>(text), static_cast<size_t>(n)));
  if (s.ok()) {
    safe_mode_persisted_ = true;
  } else if (options_.events != nullptr) {
    options_.events->Report(kEventStateWriteFailed, Severity::kError, static_cast<int64_t>(s.code()), 0, 0,
                            "safe-mode record: %.70s", s.message());
  }
}

InferenceResult Guard::RunInference() noexcept {
  InferenceResult result;
  if (safe_mode()) {
    ++skipped_;
    result.skipped = true;
    result.verdict = Verdict::kFailed;
    if (options_.events != nullptr) {
      options_.events->Report(kEventInferenceSkipped, Severity::kInfo, "safe mode: classification off");
    }
    return result;
  }
  result.run = invoker_->Run();
  result.verdict = result.run.verdict;
  result.usable = result.run.usable();
  result.thumbnail_only = !result.usable;
  if (result.usable) result.decision = DecideArgmax(invoker_->output(0).data, quant_);
  return result;
}

Status Guard::RunOn(inference::Interpreter& io, InferenceResult* result) noexcept {
  const inference::TensorView in = io.input(0);
  const inference::TensorView out = io.output(0);
  const Span<uint8_t> staging = invoker_->input(0);
  const inference::TensorView voted_view = invoker_->replica(0).output(0);
  if (in.data == nullptr || out.data == nullptr || in.bytes != staging.size() || out.bytes != voted_view.bytes) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "guard: interpreter tensors (input %zu, output %zu bytes) do not match the guarded model "
                         "(input %zu, output %zu bytes)",
                         in.bytes, out.bytes, staging.size(), voted_view.bytes);
  }
  std::memcpy(staging.data(), in.data, in.bytes);
  InferenceResult r = RunInference();
  if (result != nullptr) *result = r;
  if (r.skipped) return Status::Error(StatusCode::kFailedPrecondition, "guard: safe mode: classification off");
  if (!r.usable) {
    return Status::Error(StatusCode::kDataLoss, "guard: %s after %d runs: frame kept thumbnail-only",
                         VerdictName(r.verdict), r.run.runs);
  }
  std::memcpy(out.data, invoker_->output(0).data, out.bytes);
  return Status::Ok();
}

HealthReport Guard::Check() noexcept {
  HealthReport report = health_.Check();
  if (report.entered_safe_mode) PersistSafeMode();
  // The supervisor's heartbeat follows the same rule as the watchdog.
  if (report.healthy) (void)heartbeat_.Beat();
  return report;
}

ScrubStepResult Guard::ScrubStep() noexcept {
  if (!scrubber_) return ScrubStepResult{};
  ScrubStepResult result = scrubber_->Step();
  // Then the packed weights, re-derived (if corrupt) from the copies the
  // model scrubber has just verified; same byte budget.
  const PackedScrubResult packed = invoker_->ScrubPackedStep(scrub_bytes_per_step_);
  result.bytes_checked += packed.bytes_checked;
  if (packed.mismatches > 0) {
    result.repaired = (result.mismatch ? result.repaired : true) && packed.repaired == packed.mismatches;
    result.mismatch = true;
  }
  return result;
}

void Guard::EnterSafeMode() noexcept {
  health_.EnterSafeMode(SafeModeReason::kCommanded, -1, boot_.resets_in_window);
  PersistSafeMode();
}

Status Guard::ExitSafeMode() noexcept {
  health_.ExitSafeMode();
  safe_mode_persisted_ = false;
  if (safe_mode_path_.empty()) return Status::Ok();
  if (::unlink(safe_mode_path_.c_str()) != 0 && errno != ENOENT) {
    return Status::Error(StatusCode::kIoError, "remove %s: %s", safe_mode_path_.c_str(), std::strerror(errno));
  }
  return Status::Ok();
}

Status Guard::Shutdown() noexcept {
  Status result = Status::Ok();
  if (!boot_path_.empty()) result = BootCounter::RecordCleanShutdown(boot_path_.c_str());
  if (watchdog_ != nullptr) {
    Status w = watchdog_->Disarm();
    if (result.ok()) result = w;
  }
  return result;
}

GuardTelemetry Guard::telemetry() const {
  GuardTelemetry t;
  t.invoker = invoker_->counters();
  if (scrubber_) t.scrub = scrubber_->stats();
  t.health_misses = health_.total_misses();
  t.watchdog_strokes = health_.watchdog_strokes();
  t.supervisor_beats = heartbeat_.beats();
  t.inferences_skipped = skipped_;
  t.safe_mode = safe_mode();
  return t;
}

}  // namespace triage::fault
