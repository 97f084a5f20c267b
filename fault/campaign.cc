#include "fault/campaign.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/clock.h"
#include "core/event.h"
#include "fault/decision.h"
#include "fault/file_util.h"
#include "fault/health_monitor.h"
#include "fault/model_store.h"
#include "fault/redundant_invoker.h"
#include "fault/scrubber.h"
#include "fault/synthetic_model.h"
#include "fault/watchdog.h"
#include "inference/model.h"
#include "inference/op_resolver.h"

namespace triage::fault {

namespace {

constexpr const char* kSiteNames[kSiteCount] = {"weights", "activations", "output", "input", "hang", "crash", "packed"};
constexpr int kMaxBits = 64;

// splitmix64: a seeded stream per (seed, site, trial), so a site's results do
// not depend on which other sites ran or in what order.
class Rng {
 public:
  explicit Rng(uint64_t seed) : x_(seed) {}
  uint64_t Next() {
    uint64_t z = (x_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }
  double Uniform() { return static_cast<double>(Next() >> 11) / 9007199254740992.0; }

 private:
  uint64_t x_;
};

uint64_t TrialSeed(uint64_t seed, Site site, uint32_t trial) {
  Rng r(seed * 0x100000001B3ull ^ (static_cast<uint64_t>(site) << 40) ^ trial);
  return r.Next();
}

enum Outcome : uint8_t { kMasked = 0, kCorrected, kDetected, kSdc, kCrash, kHang };

struct TrialRecord {
  uint8_t outcome = kMasked;
  uint8_t output_changed = 0;
  uint8_t noticed = 0;
  uint8_t scrub_detected = 0;
  uint8_t scrub_repaired = 0;
  uint8_t pad[3] = {};
  uint32_t scrub_steps = 0;
};

struct Range {
  size_t offset = 0;
  size_t bytes = 0;
};

struct Flip {
  size_t index = 0;  // byte index within the site's region
  uint8_t mask = 0;
};

// The hooks the invoker calls; configured by the parent before each fork.
class Injector : public RunHooks {
 public:
  enum class Kind { kNone, kActivation, kOutput, kInput, kCrash };

  void Clear() {
    kind = Kind::kNone;
    count = 0;
  }
  void BeforeInvoke(int r, inference::Interpreter& interp) noexcept override {
    if (kind == Kind::kInput && r == replica) Apply(interp.input(0).data);
  }
  Status AfterOp(int r, const inference::Interpreter& interp, int op_index) noexcept override {
    if (r != replica || op_index != op) return Status::Ok();
    if (kind == Kind::kActivation) {
      uint8_t* arena = interp.arena().data();
      for (int i = 0; i < count; ++i) {
        // Map the region index onto the live ranges after this operator.
        size_t idx = flips[i].index;
        for (const Range& range : (*live)[static_cast<size_t>(op)]) {
          if (idx < range.bytes) {
            arena[range.offset + idx] ^= flips[i].mask;
            break;
          }
          idx -= range.bytes;
        }
      }
    } else if (kind == Kind::kCrash) {
      if (crash_signal == SIGKILL) {
        ::kill(::getpid(), SIGKILL);
      } else {
        ::signal(crash_signal, SIG_DFL);
        ::raise(crash_signal);
      }
      ::_exit(99);  // a crash that did not happen still ends the worker abnormally
    }
    return Status::Ok();
  }
  void AfterInvoke(int r, inference::Interpreter& interp) noexcept override {
    if (kind == Kind::kOutput && r == replica) Apply(interp.output(0).data);
  }
  void Apply(uint8_t* base) {
    for (int i = 0; i < count; ++i) base[flips[i].index] ^= flips[i].mask;
  }

  Kind kind = Kind::kNone;
  int replica = 0;
  int op = 0;
  int crash_signal = SIGABRT;
  Flip flips[kMaxBits];
  int count = 0;
  const std::vector<std::vector<Range>>* live = nullptr;
};

enum class WorkerEnd { kReported, kCrashed, kHung };

// Runs fn in a forked child and returns its record, or how it died.
template <typename Fn>
WorkerEnd RunInChild(Fn fn, int64_t timeout_ms, TrialRecord* out) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return WorkerEnd::kCrashed;
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return WorkerEnd::kCrashed;
  }
  if (pid == 0) {
    ::close(fds[0]);
    const TrialRecord rec = fn();
    ssize_t n = ::write(fds[1], &rec, sizeof(rec));
    ::_exit(n == static_cast<ssize_t>(sizeof(rec)) ? 0 : 1);
  }
  ::close(fds[1]);
  TrialRecord rec;
  size_t got = 0;
  bool timed_out = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (got < sizeof(rec)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int pr = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (pr < 0 && errno != EINTR) break;
    if (pr <= 0) continue;
    const ssize_t n = ::read(fds[0], reinterpret_cast<uint8_t*>(&rec) + got, sizeof(rec) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return WorkerEnd::kHung;
  if (got == sizeof(rec) && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    *out = rec;
    return WorkerEnd::kReported;
  }
  return WorkerEnd::kCrashed;
}

void Count(SiteResult& r, uint8_t outcome) {
  switch (outcome) {
    case kMasked: ++r.masked; break;
    case kCorrected: ++r.corrected; break;
    case kDetected: ++r.detected; break;
    case kSdc: ++r.sdc; break;
    case kCrash: ++r.crash; break;
    default: ++r.hang; break;
  }
}

}  // namespace

const char* SiteName(Site site) {
  const auto i = static_cast<size_t>(site);
  return i < static_cast<size_t>(kSiteCount) ? kSiteNames[i] : "unknown";
}

bool ParseSite(const char* name, Site* site) {
  for (int i = 0; i < kSiteCount; ++i) {
    if (std::strcmp(name, kSiteNames[i]) == 0) {
      *site = static_cast<Site>(i);
      return true;
    }
  }
  return false;
}

struct Campaign::Impl {
  CampaignOptions options;
  CampaignInfo info;
  bool own_work_dir = false;
  inference::OpResolver resolver;
  std::unique_ptr<ModelStore> store;
  std::unique_ptr<RedundantInvoker> invoker;
  std::unique_ptr<Scrubber> scrubber;
  Injector injector;
  OutputQuant quant;
  std::vector<std::vector<uint8_t>> frames;
  std::vector<std::vector<uint8_t>> golden;
  std::vector<int> golden_class;
  std::vector<std::vector<Range>> live;  // per operator boundary (after op k)
  std::vector<uint8_t> pristine;
  int primary_replicas = 1;

  ~Impl() {
    if (own_work_dir && !info.work_dir.empty()) {
      for (const char* name : {"/model.tflite", "/model.tflite.tmp", "/backup.tflite", "/backup.tflite.tmp"}) {
        ::unlink((info.work_dir + name).c_str());
      }
      ::rmdir(info.work_dir.c_str());
    }
  }

  void LoadFrame(size_t i) { std::memcpy(invoker->input(0).data(), frames[i].data(), frames[i].size()); }

  // Chooses `bits` distinct (byte, bit) flips within a region of n bytes.
  void ChooseFlips(Rng& rng, size_t n) {
    injector.count = 0;
    const int bits = std::min(options.bits, kMaxBits);
    for (int b = 0; b < bits && n > 0; ++b) {
      Flip f;
      for (int attempt = 0; attempt < 16; ++attempt) {
        f.index = static_cast<size_t>(rng.Below(n));
        f.mask = static_cast<uint8_t>(1u << rng.Below(8));
        bool dup = false;
        for (int k = 0; k < injector.count; ++k) {
          dup = dup || (injector.flips[k].index == f.index && injector.flips[k].mask == f.mask);
        }
        if (!dup) break;
      }
      injector.flips[injector.count++] = f;
    }
  }

  // In the worker: run the frame, classify against the golden output.
  TrialRecord RunAndClassify(size_t frame) {
    TrialRecord rec;
    LoadFrame(frame);
    const RunResult r = invoker->Run();
    bool changed = !r.status.ok();
    for (int k = 0; k < r.runs; ++k) {
      const inference::TensorView o = invoker->replica(k).output(0);
      changed = changed || std::memcmp(o.data, golden[frame].data(), golden[frame].size()) != 0;
    }
    rec.output_changed = changed ? 1 : 0;
    rec.noticed = (r.disagreement() || !r.usable()) ? 1 : 0;
    if (!r.usable()) {
      rec.outcome = kDetected;
    } else {
      const Decision d = DecideArgmax(invoker->output(0).data, quant);
      if (d.class_index != golden_class[frame]) {
        rec.outcome = kSdc;
      } else {
        rec.outcome = r.disagreement() ? kCorrected : kMasked;
      }
    }
    return rec;
  }

  bool CopiesPristine() const {
    for (int c = 0; c < store->copies(); ++c) {
      const Span<const uint8_t> b = static_cast<const ModelStore&>(*store).bytes(c);
      if (std::memcmp(b.data(), pristine.data(), pristine.size()) != 0) return false;
    }
    return true;
  }

  // Bytes of replica r's packed weights, and a flip at index into them.
  size_t PackedBytes(int r) const {
    size_t n = 0;
    for (const inference::PackedRegion& region : invoker->replica(r).packed_regions()) n += region.bytes;
    return n;
  }
  void PackedFlipTarget(size_t index, int r, uint8_t mask) {
    for (const inference::PackedRegion& region : invoker->replica(r).packed_regions()) {
      if (index < region.bytes) {
        const_cast<uint8_t*>(region.data)[index] ^= mask;  // the upset being simulated
        return;
      }
      index -= region.bytes;
    }
  }
  // ScrubPackedStep calls for one pass over every replica's packed weights.
  size_t PackedPeriodSteps() const {
    size_t total = 0;
    for (int r = 0; r < invoker->replica_count(); ++r) total += PackedBytes(r);
    const size_t budget = std::max<size_t>(1, options.scrub_bytes_per_step);
    return (total + budget - 1) / budget + 1;
  }

  void WeightFlipTarget(size_t index, int copy, uint8_t mask) {
    for (const WeightBuffer& w : store->weight_buffers()) {
      if (index < w.bytes) {
        store->bytes(copy)[w.offset + index] ^= mask;
        return;
      }
      index -= w.bytes;
    }
  }

  SiteResult RunDataSite(Site site);
  SiteResult RunHangSite();
  SiteResult RunCrashSite();
};

SiteResult Campaign::Impl::RunDataSite(Site site) {
  SiteResult res;
  res.site = site;
  res.scrub_period_steps = static_cast<uint32_t>(site == Site::kPacked ? PackedPeriodSteps()
                                                                        : scrubber->period_steps());
  const size_t n_ops = store->model(0).operators().size();
  for (uint32_t t = 0; t < options.trials; ++t) {
    Rng rng(TrialSeed(options.seed, site, t));
    const size_t frame = static_cast<size_t>(rng.Below(frames.size()));
    injector.Clear();
    injector.replica = static_cast<int>(rng.Below(static_cast<uint64_t>(primary_replicas)));
    int copy = 0;
    size_t scrub_start = 0;
    switch (site) {
      case Site::kWeights:
        copy = static_cast<int>(rng.Below(static_cast<uint64_t>(store->copies())));
        ChooseFlips(rng, store->weight_bytes());
        scrub_start = static_cast<size_t>(rng.Below(scrubber->stats().total_blocks));
        break;
      case Site::kActivations: {
        // Operator boundaries with live activations (not after the last op).
        size_t live_bytes = 0;
        for (int attempt = 0; attempt < 64 && live_bytes == 0; ++attempt) {
          injector.op = n_ops > 1 ? static_cast<int>(rng.Below(n_ops - 1)) : 0;
          live_bytes = 0;
          for (const Range& r : live[static_cast<size_t>(injector.op)]) live_bytes += r.bytes;
        }
        injector.kind = Injector::Kind::kActivation;
        ChooseFlips(rng, live_bytes);
        break;
      }
      case Site::kPacked:
        // crosscheck: the reference replica has no packed weights.
        if (PackedBytes(injector.replica) == 0) injector.replica = 0;
        ChooseFlips(rng, PackedBytes(injector.replica));
        break;
      case Site::kOutput:
        injector.kind = Injector::Kind::kOutput;
        ChooseFlips(rng, golden[frame].size());
        break;
      case Site::kInput:
        injector.kind = Injector::Kind::kInput;
        ChooseFlips(rng, frames[frame].size());
        break;
      default:
        break;
    }
    TrialRecord rec;
    const WorkerEnd end = RunInChild(
        [&]() {
          if (site == Site::kWeights) {
            for (int i = 0; i < injector.count; ++i) WeightFlipTarget(injector.flips[i].index, copy, injector.flips[i].mask);
          }
          if (site == Site::kPacked) {
            for (int i = 0; i < injector.count; ++i) {
              PackedFlipTarget(injector.flips[i].index, injector.replica, injector.flips[i].mask);
            }
          }
          TrialRecord r = RunAndClassify(frame);
          if (site == Site::kPacked) {
            const size_t period = PackedPeriodSteps();
            for (size_t step = 1; step <= period; ++step) {
              const PackedScrubResult s = invoker->ScrubPackedStep(options.scrub_bytes_per_step);
              if (s.mismatches > 0) {
                r.scrub_detected = 1;
                r.scrub_steps = static_cast<uint32_t>(step);
                r.scrub_repaired = s.repaired == s.mismatches ? 1 : 0;
                break;
              }
            }
          }
          if (site == Site::kWeights) {
            scrubber->SeekBlock(scrub_start);
            const size_t period = scrubber->period_steps();
            for (size_t step = 1; step <= period; ++step) {
              const ScrubStepResult s = scrubber->Step();
              if (s.mismatch) {
                r.scrub_detected = 1;
                r.scrub_steps = static_cast<uint32_t>(step);
                r.scrub_repaired = (s.repaired && CopiesPristine()) ? 1 : 0;
                break;
              }
            }
          }
          return r;
        },
        info.trial_timeout_ms, &rec);
    ++res.trials;
    if (end == WorkerEnd::kCrashed) {
      ++res.crash;
      continue;
    }
    if (end == WorkerEnd::kHung) {
      ++res.hang;
      continue;
    }
    Count(res, rec.outcome);
    res.output_changed += rec.output_changed;
    res.output_changed_detected += (rec.output_changed && rec.noticed) ? 1 : 0;
    res.scrub_detected += rec.scrub_detected;
    res.scrub_repaired += rec.scrub_repaired;
    res.scrub_max_steps = std::max(res.scrub_max_steps, rec.scrub_steps);
  }
  injector.Clear();
  return res;
}

SiteResult Campaign::Impl::RunCrashSite() {
  SiteResult res;
  res.site = Site::kCrash;
  const size_t n_ops = store->model(0).operators().size();
  static constexpr int kSignals[3] = {SIGABRT, SIGKILL, SIGSEGV};
  for (uint32_t t = 0; t < options.trials; ++t) {
    Rng rng(TrialSeed(options.seed, Site::kCrash, t));
    const size_t frame = static_cast<size_t>(rng.Below(frames.size()));
    injector.Clear();
    injector.kind = Injector::Kind::kCrash;
    injector.replica = static_cast<int>(rng.Below(static_cast<uint64_t>(primary_replicas)));
    injector.op = static_cast<int>(rng.Below(n_ops));
    injector.crash_signal = kSignals[rng.Below(3)];
    TrialRecord rec;
    ++res.trials;
    const WorkerEnd end = RunInChild([&]() { return RunAndClassify(frame); }, info.trial_timeout_ms, &rec);
    if (end == WorkerEnd::kReported) {  // the crash did not happen: score the run itself
      Count(res, rec.outcome);
      continue;
    }
    ++res.injected;
    // The supervisor's part: the death was seen (waitpid); restart and redo the frame.
    injector.Clear();
    TrialRecord again;
    const WorkerEnd restart = RunInChild([&]() { return RunAndClassify(frame); }, info.trial_timeout_ms, &again);
    if (restart == WorkerEnd::kReported && again.outcome == kMasked) {
      ++res.corrected;
      ++res.recovered;
    } else if (restart == WorkerEnd::kReported) {
      Count(res, again.outcome);
    } else if (restart == WorkerEnd::kHung) {
      ++res.hang;
    } else {
      ++res.crash;
    }
  }
  injector.Clear();
  return res;
}

SiteResult Campaign::Impl::RunHangSite() {
  SiteResult res;
  res.site = Site::kHang;
  const Config& cfg = options.fault_config;
  const HangModel& m = options.hang_model;
  int monitored[kStageCount];
  int n_monitored = 0;
  for (int i = 0; i < kStageCount; ++i) {
    if (cfg.stage_deadline_ms[i] > 0) monitored[n_monitored++] = i;
  }
  if (n_monitored == 0) return res;
  constexpr int64_t kBase = 1'000'000'000;
  for (uint32_t t = 0; t < options.trials; ++t) {
    Rng rng(TrialSeed(options.seed, Site::kHang, t));
    const int s = monitored[rng.Below(static_cast<uint64_t>(n_monitored))];
    const int64_t deadline = cfg.stage_deadline_ms[s];
    const int64_t hang_start = 1000 + static_cast<int64_t>(rng.Below(1000));
    const int64_t hang_len = static_cast<int64_t>(static_cast<double>(deadline) * (0.25 + 4.75 * rng.Uniform()));
    const int64_t horizon = hang_start + 20 * deadline + m.pipeline_restart_ms + 1000;

    FakeClock clock(kBase);
    auto events = std::make_unique<EventLog>(clock);
    SimulatedWatchdog watchdog(clock, cfg.watchdog_timeout_s);
    auto monitor = std::make_unique<HealthMonitor>(cfg, clock, events.get(), &watchdog);
    monitor->Start();
    int64_t stalled_until = hang_start + hang_len;
    int64_t restart_done = -1;
    int64_t pipeline_done = -1;
    int64_t last_beat_before = 0;
    int64_t recovered_at = -1;
    bool missed = false;
    bool expired = false;
    uint64_t key = 0;
    for (int64_t now = 0; now <= horizon; now += m.check_ms) {
      clock.Set(kBase + now * kNanosPerMilli);
      if (restart_done >= 0 && now >= restart_done) {
        monitor->StageRestarted(static_cast<Stage>(s));
        stalled_until = std::min(stalled_until, now);
        restart_done = -1;
      }
      if (pipeline_done >= 0 && now >= pipeline_done) {
        // A new process: a fresh monitor, every stage running again.
        monitor = std::make_unique<HealthMonitor>(cfg, clock, events.get(), &watchdog);
        monitor->Start();
        stalled_until = std::min(stalled_until, now);
        pipeline_done = -1;
        restart_done = -1;
      }
      const bool process_up = pipeline_done < 0;
      if (process_up && now % m.cycle_ms == 0) {
        ++key;
        for (int i = 0; i < kStageCount; ++i) {
          const bool stalled = i == s && now >= hang_start && now < stalled_until;
          if (stalled) continue;
          monitor->Heartbeat(static_cast<Stage>(i), key);
          if (i == s) {
            if (now < hang_start) last_beat_before = now;
            else if (recovered_at < 0) recovered_at = now;
          }
        }
      }
      if (process_up) {
        const HealthReport report = monitor->Check();
        if (monitor->stage_status(static_cast<Stage>(s)).misses > 0) missed = true;
        if ((report.restart_stages & (1u << s)) != 0 && restart_done < 0) restart_done = now + m.stage_restart_ms;
        if (report.restart_pipeline && pipeline_done < 0) pipeline_done = now + m.pipeline_restart_ms;
      }
      expired = expired || watchdog.expired();
      if (recovered_at >= 0 && now > recovered_at + 2 * deadline) break;
    }
    ++res.trials;
    res.watchdog_expired += expired ? 1 : 0;
    if (!missed) {
      ++res.masked;
      continue;
    }
    ++res.injected;
    if (recovered_at < 0) {
      ++res.hang;
      continue;
    }
    const double ratio = static_cast<double>(recovered_at - last_beat_before) / static_cast<double>(deadline);
    res.max_recovery_ratio = std::max(res.max_recovery_ratio, ratio);
    if (ratio <= 2.0) {
      ++res.corrected;
      ++res.recovered;
    } else {
      ++res.detected;
    }
  }
  return res;
}

Campaign::Campaign(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Campaign::~Campaign() = default;
const CampaignInfo& Campaign::info() const { return impl_->info; }

SiteResult Campaign::Run(Site site) {
  switch (site) {
    case Site::kHang: return impl_->RunHangSite();
    case Site::kCrash: return impl_->RunCrashSite();
    default: return impl_->RunDataSite(site);
  }
}

Result<std::unique_ptr<Campaign>> Campaign::Create(const CampaignOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (options.trials == 0) return Status::Error(StatusCode::kInvalidArgument, "--trials must be at least 1");
  if (options.bits < 1 || options.bits > kMaxBits) {
    return Status::Error(StatusCode::kInvalidArgument, "--bits %d (must be 1..%d)", options.bits, kMaxBits);
  }
  if (options.frames == 0) return Status::Error(StatusCode::kInvalidArgument, "--frames must be at least 1");
  TRIAGE_RETURN_IF_ERROR(ValidateConfig(options.fault_config));

  // Model bytes: the synthetic classifier or the given file.
  std::vector<uint8_t> bytes;
  const bool synthetic = options.model_path == "synthetic";
  if (synthetic) {
    bytes = BuildSyntheticClassifier();
  } else {
    auto size = FileSize(options.model_path.c_str());
    if (!size.ok()) {
      if (size.status().code() == StatusCode::kNotFound) {
        return Status::Error(StatusCode::kNotFound, "model %s not found (pass --model PATH or --model synthetic)",
                             options.model_path.c_str());
      }
      return size.status();
    }
    bytes.resize(*size);
    auto n = ReadFileInto(options.model_path.c_str(), Span<uint8_t>(bytes));
    if (!n.ok()) return n.status();
  }
  impl->info.model = synthetic ? "synthetic" : options.model_path;

  // Scratch copies of the model file, so repairs never touch the original.
  std::string dir = options.work_dir;
  if (dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp != nullptr && tmp[0] != '\0' ? tmp : "/tmp") + "/triage_faultinject_XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) {
      return Status::Error(StatusCode::kIoError, "cannot create a scratch directory under %s: %s", tmpl.c_str(),
                           std::strerror(errno));
    }
    dir = buf.data();
    impl->own_work_dir = true;
  }
  impl->info.work_dir = dir;
  TRIAGE_RETURN_IF_ERROR(WriteFileAtomically((dir + "/model.tflite").c_str(), Span<const uint8_t>(bytes)));

  const bool redundant = options.mode != RedundancyMode::kNone;
  ModelStoreOptions so;
  so.path = dir + "/model.tflite";
  so.backup_path = dir + "/backup.tflite";
  so.copies = redundant && options.separate_weights ? kMaxModelCopies : 1;
  auto store = ModelStore::Load(so);
  if (!store.ok()) return store.status();
  impl->store = std::move(*store);
  impl->pristine = bytes;
  TRIAGE_RETURN_IF_ERROR(inference::AddAllBuiltinOps(impl->resolver));

  const inference::Model* models[kMaxModelCopies];
  for (int c = 0; c < impl->store->copies(); ++c) models[c] = &impl->store->model(c);
  InvokerOptions io;
  io.mode = options.mode;
  io.hooks = &impl->injector;
  auto invoker = RedundantInvoker::Create(
      Span<const inference::Model* const>(models, static_cast<size_t>(impl->store->copies())), impl->resolver, io);
  if (!invoker.ok()) return invoker.status();
  impl->invoker = std::move(*invoker);
  if (impl->invoker->num_inputs() != 1 || impl->invoker->num_outputs() < 1) {
    return Status::Error(StatusCode::kUnsupported, "campaign: the model must have one input (it has %zu)",
                         impl->invoker->num_inputs());
  }
  impl->primary_replicas = options.mode == RedundancyMode::kNone  ? 1
                           : options.mode == RedundancyMode::kTmr ? 3
                                                                  : 2;
  ScrubberOptions sco;
  sco.bytes_per_step = options.scrub_bytes_per_step;
  sco.block_bytes = options.scrub_block_bytes;
  auto scrubber = Scrubber::Create(*impl->store, sco, nullptr);
  if (!scrubber.ok()) return scrubber.status();
  impl->scrubber = std::move(*scrubber);
  impl->injector.live = &impl->live;

  // Live activation ranges after each operator, from the arena plan.
  const inference::Model& model = impl->store->model(0);
  const inference::Interpreter& interp = impl->invoker->replica(0);
  const size_t n_ops = model.operators().size();
  const size_t n_tensors = model.tensors().size();
  std::vector<int> producer(n_tensors, -1), last_use(n_tensors, -1);
  std::vector<bool> is_input(n_tensors, false), is_output(n_tensors, false);
  for (int32_t t : model.inputs()) is_input[static_cast<size_t>(t)] = true;
  for (int32_t t : model.outputs()) is_output[static_cast<size_t>(t)] = true;
  for (size_t k = 0; k < n_ops; ++k) {
    for (int32_t t : model.operators()[k].outputs) {
      if (t >= 0 && producer[static_cast<size_t>(t)] < 0) producer[static_cast<size_t>(t)] = static_cast<int>(k);
    }
    for (int32_t t : model.operators()[k].inputs) {
      if (t >= 0) last_use[static_cast<size_t>(t)] = static_cast<int>(k);
    }
  }
  impl->live.assign(n_ops, {});
  const uint8_t* arena = interp.arena().data();
  for (size_t k = 0; k < n_ops; ++k) {
    for (size_t t = 0; t < n_tensors; ++t) {
      if (model.tensors()[t].is_constant() || is_input[t] || producer[t] < 0) continue;
      const bool alive = producer[t] <= static_cast<int>(k) && (last_use[t] > static_cast<int>(k) || is_output[t]);
      if (!alive) continue;
      const inference::TensorView v = interp.tensor(static_cast<int>(t));
      if (v.data == nullptr || v.bytes == 0) continue;
      impl->live[k].push_back(Range{static_cast<size_t>(v.data - arena), v.bytes});
    }
  }

  // Frames and their clean outputs.
  const inference::TensorView in = impl->invoker->input_view(0);
  const bool nhwc = in.shape.rank == 4;
  impl->quant = CaptureOutputQuant(impl->invoker->replica(0).output(0));
  double total_ms = 0.0;
  for (uint32_t f = 0; f < options.frames; ++f) {
    std::vector<uint8_t> frame(in.bytes);
    FillSyntheticFrame(frame.data(), frame.size(), nhwc ? in.shape.dims[1] : 0, nhwc ? in.shape.dims[2] : 0,
                       nhwc ? in.shape.dims[3] : 0, in.type == kernels::DataType::kInt8,
                       static_cast<uint32_t>(options.seed * 7919u + f));
    impl->frames.push_back(std::move(frame));
    impl->LoadFrame(f);
    const auto t0 = std::chrono::steady_clock::now();
    const RunResult r = impl->invoker->Run();
    total_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!r.usable() || r.disagreement()) {
      return Status::Error(StatusCode::kInternal, "campaign: the clean run of frame %u was not unanimous (%s): %s", f,
                           VerdictName(r.verdict), r.status.message());
    }
    const inference::TensorView o = impl->invoker->output(0);
    impl->golden.emplace_back(o.data, o.data + o.bytes);
    impl->golden_class.push_back(DecideArgmax(o.data, impl->quant).class_index);
  }
  impl->info.model_bytes = bytes.size();
  impl->info.weight_bytes = impl->store->weight_bytes();
  impl->info.operators = n_ops;
  impl->info.copies = impl->store->copies();
  impl->info.clean_run_ms = total_ms / options.frames;
  impl->info.trial_timeout_ms = options.trial_timeout_ms > 0
                                    ? options.trial_timeout_ms
                                    : std::max<int64_t>(5000, static_cast<int64_t>(100.0 * impl->info.clean_run_ms));
  return std::unique_ptr<Campaign>(new Campaign(std::move(impl)));
}

const char* FaultInjectUsage() {
  return "usage: triage-faultinject --mode none|dmr|tmr|crosscheck --site SITE[,SITE...]|all --trials N --seed S\n"
         "                         [--model M|synthetic] [--json] [--bits B] [--shared-weights] [--frames F]\n"
         "                         [--scrub-bytes N] [--work-dir D] [--trial-timeout-ms T]\n"
         "Injects seeded bit flips (and stage hangs and worker crashes) into the fault layer and reports,\n"
         "per site, how many trials were masked, corrected, detected, silent data corruption (sdc),\n"
         "crash or hang. Sites: weights activations output input hang crash (all = every one).\n"
         "  --model M          .tflite model (default models/triage_int8.tflite); 'synthetic' builds a\n"
         "                     small int8 classifier shaped like the flight model\n"
         "  --bits B           bit flips per upset (default 1)\n"
         "  --shared-weights   all replicas read one weight copy (default: one copy per replica)\n"
         "  --frames F         distinct seeded synthetic input frames (default 8)\n"
         "  --scrub-bytes N    scrubber budget per step (default 65536)\n"
         "  --json             one JSON object per site (one per line) instead of a table\n";
}

bool ParseFaultInjectArgs(int argc, const char* const* argv, CampaignOptions* o, bool* json, std::string* error,
                          bool* help) {
  *help = false;
  *json = false;
  bool have_mode = false, have_site = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) {
        *error = a + ": missing value";
        return false;
      }
      *out = argv[++i];
      return true;
    };
    auto number = [&](uint64_t* out) {
      std::string v;
      if (!value(&v)) return false;
      char* end = nullptr;
      errno = 0;
      const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      if (errno != 0 || end == v.c_str() || *end != '\0' || v[0] == '-') {
        *error = a + ": not a non-negative number: " + v;
        return false;
      }
      *out = n;
      return true;
    };
    std::string v;
    uint64_t n = 0;
    if (a == "--help" || a == "-h") {
      *help = true;
      *error = FaultInjectUsage();
      return false;
    } else if (a == "--json") {
      *json = true;
    } else if (a == "--shared-weights") {
      o->separate_weights = false;
    } else if (a == "--mode") {
      if (!value(&v)) return false;
      if (!ParseRedundancyMode(v.c_str(), &o->mode)) {
        *error = "--mode: unknown mode '" + v + "' (none, dmr, tmr, crosscheck)";
        return false;
      }
      have_mode = true;
    } else if (a == "--site") {
      if (!value(&v)) return false;
      o->sites.clear();
      if (v == "all") {
        for (int s = 0; s < kSiteCount; ++s) o->sites.push_back(static_cast<Site>(s));
      } else {
        size_t start = 0;
        while (start <= v.size()) {
          const size_t comma = v.find(',', start);
          const std::string name = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
          Site site;
          if (!ParseSite(name.c_str(), &site)) {
            *error = "--site: unknown site '" + name + "' (weights, activations, output, input, hang, crash, packed, all)";
            return false;
          }
          o->sites.push_back(site);
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
      }
      have_site = true;
    } else if (a == "--trials") {
      if (!number(&n)) return false;
      o->trials = static_cast<uint32_t>(n);
    } else if (a == "--seed") {
      if (!number(&n)) return false;
      o->seed = n;
    } else if (a == "--bits") {
      if (!number(&n)) return false;
      o->bits = static_cast<int>(n);
    } else if (a == "--frames") {
      if (!number(&n)) return false;
      o->frames = static_cast<uint32_t>(n);
    } else if (a == "--scrub-bytes") {
      if (!number(&n)) return false;
      o->scrub_bytes_per_step = static_cast<uint32_t>(n);
    } else if (a == "--trial-timeout-ms") {
      if (!number(&n)) return false;
      o->trial_timeout_ms = static_cast<int64_t>(n);
    } else if (a == "--model") {
      if (!value(&o->model_path)) return false;
    } else if (a == "--work-dir") {
      if (!value(&o->work_dir)) return false;
    } else {
      *error = "unknown option " + a;
      return false;
    }
  }
  if (!have_mode || !have_site) {
    *error = std::string("missing ") + (!have_mode ? "--mode" : "--site") + " (see --help)";
    return false;
  }
  if (o->trials == 0) {
    *error = "--trials must be at least 1";
    return false;
  }
  return true;
}

std::string SiteResultJson(const CampaignOptions& o, const SiteResult& r) {
  char buf[1024];
  int n = std::snprintf(buf, sizeof(buf),
                        "{\"site\":\"%s\",\"mode\":\"%s\",\"weights\":\"%s\",\"bits\":%d,\"seed\":%llu,\"trials\":%u,"
                        "\"masked\":%u,\"corrected\":%u,\"detected\":%u,\"sdc\":%u,\"crash\":%u,\"hang\":%u,"
                        "\"output_changed\":%u,\"output_changed_detected\":%u",
                        SiteName(r.site), RedundancyModeName(o.mode),
                        o.mode != RedundancyMode::kNone && o.separate_weights ? "separate" : "shared", o.bits,
                        static_cast<unsigned long long>(o.seed), r.trials, r.masked, r.corrected, r.detected, r.sdc,
                        r.crash, r.hang, r.output_changed, r.output_changed_detected);
  std::string out(buf, static_cast<size_t>(n));
  if (r.site == Site::kWeights || r.site == Site::kPacked) {
    n = std::snprintf(buf, sizeof(buf),
                      ",\"scrub_detected\":%u,\"scrub_repaired\":%u,\"scrub_max_steps\":%u,\"scrub_period_steps\":%u",
                      r.scrub_detected, r.scrub_repaired, r.scrub_max_steps, r.scrub_period_steps);
    out.append(buf, static_cast<size_t>(n));
  }
  if (r.site == Site::kHang || r.site == Site::kCrash) {
    n = std::snprintf(buf, sizeof(buf), ",\"injected\":%u,\"recovered\":%u", r.injected, r.recovered);
    out.append(buf, static_cast<size_t>(n));
  }
  if (r.site == Site::kHang) {
    n = std::snprintf(buf, sizeof(buf), ",\"max_recovery_ratio\":%.3f,\"watchdog_expired\":%u", r.max_recovery_ratio,
                      r.watchdog_expired);
    out.append(buf, static_cast<size_t>(n));
  }
  out += "}";
  return out;
}

std::string SiteResultsTable(const CampaignOptions& o, const std::vector<SiteResult>& results) {
  std::string out =
      "| mode | site | trials | masked | corrected | detected | sdc | crash | hang | notes |\n"
      "|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n";
  char buf[512];
  for (const SiteResult& r : results) {
    char notes[256] = "";
    if (r.site == Site::kHang) {
      std::snprintf(notes, sizeof(notes), "%u stalls past deadline, %u recovered <= 2x deadline (worst %.2fx)",
                    r.injected, r.recovered, r.max_recovery_ratio);
    } else if (r.site == Site::kCrash) {
      std::snprintf(notes, sizeof(notes), "%u crashes seen, %u restarted with the correct decision", r.injected,
                    r.recovered);
    } else {
      int m = std::snprintf(notes, sizeof(notes), "output changed %u, noticed %u", r.output_changed,
                            r.output_changed_detected);
      if ((r.site == Site::kWeights || r.site == Site::kPacked) && m > 0) {
        std::snprintf(notes + m, sizeof(notes) - static_cast<size_t>(m),
                      "; scrub found %u (worst %u/%u steps), repaired %u", r.scrub_detected, r.scrub_max_steps,
                      r.scrub_period_steps, r.scrub_repaired);
      }
    }
    std::snprintf(buf, sizeof(buf), "| %s%s | %s | %u | %u | %u | %u | %u | %u | %u | %s |\n",
                  RedundancyModeName(o.mode),
                  o.mode != RedundancyMode::kNone && !o.separate_weights ? " (shared weights)" : "",
                  SiteName(r.site), r.trials, r.masked, r.corrected, r.detected, r.sdc, r.crash, r.hang, notes);
    out += buf;
  }
  return out;
}

}  // namespace triage::fault
