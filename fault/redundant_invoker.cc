#include "fault/redundant_invoker.h"

#include "fault/checksum.h"

#include <cstring>
#include <new>

#include "fault/events.h"

namespace triage::fault {

const char* VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kSingle: return "single";
    case Verdict::kAgreed: return "agreed";
    case Verdict::kCorrected: return "corrected";
    case Verdict::kNoMajority: return "no_majority";
    case Verdict::kFailed: return "failed";
  }
  return "unknown";
}

namespace {

bool SameSignature(const inference::Model& a, const inference::Model& b) {
  if (a.inputs().size() != b.inputs().size() || a.outputs().size() != b.outputs().size()) return false;
  if (a.operators().size() != b.operators().size() || a.tensors().size() != b.tensors().size()) return false;
  for (size_t i = 0; i < a.tensors().size(); ++i) {
    if (a.tensors()[i].bytes != b.tensors()[i].bytes || a.tensors()[i].type != b.tensors()[i].type) return false;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<RedundantInvoker>> RedundantInvoker::Create(Span<const inference::Model* const> models,
                                                                   const inference::OpResolver& resolver,
                                                                   const InvokerOptions& options) {
  if (models.empty() || models.size() > static_cast<size_t>(kMaxReplicas)) {
    return Status::Error(StatusCode::kInvalidArgument, "redundant invoker: %zu models (must be 1..%d)",
                         models.size(), kMaxReplicas);
  }
  if (static_cast<uint8_t>(options.mode) > static_cast<uint8_t>(RedundancyMode::kCrossCheck)) {
    return Status::Error(StatusCode::kInvalidArgument, "redundant invoker: unknown mode %u",
                         static_cast<unsigned>(options.mode));
  }
  for (size_t m = 0; m < models.size(); ++m) {
    if (models[m] == nullptr) return Status::Error(StatusCode::kInvalidArgument, "redundant invoker: model %zu null", m);
    if (!SameSignature(*models[0], *models[m])) {
      return Status::Error(StatusCode::kInvalidArgument, "redundant invoker: model copy %zu differs from copy 0", m);
    }
  }
  if (models[0]->inputs().empty() || models[0]->outputs().empty()) {
    return Status::Error(StatusCode::kInvalidArgument, "redundant invoker: model has no inputs or outputs");
  }
  std::unique_ptr<RedundantInvoker> inv(new (std::nothrow) RedundantInvoker(options));
  if (!inv) return Status::Error(StatusCode::kResourceExhausted, "redundant invoker: out of memory");

  const int count = options.mode == RedundancyMode::kNone ? 1 : kMaxReplicas;
  for (int r = 0; r < count; ++r) {
    auto replica = std::make_unique<Replica>();
    replica->owner = inv.get();
    replica->index = r;
    inference::InterpreterOptions io;
    io.kernel_set = options.kernel_set;
    io.threads = options.threads;
    if (options.mode == RedundancyMode::kCrossCheck) {
      io.kernel_set = r == 0 ? kernels::KernelSet::kOptimized : kernels::KernelSet::kReference;
    }
    if (options.hooks != nullptr) {
      io.observer = &RedundantInvoker::Observer;
      io.observer_user = replica.get();
    }
    const inference::Model& model = *models[std::min(static_cast<size_t>(r), models.size() - 1)];
    replica->interpreter = std::make_unique<inference::Interpreter>(model, resolver, io);
    // Each replica owns its arena: an upset in one run's activations cannot
    // reach another run.
    Status s = replica->interpreter->PrepareAndAllocate();
    if (!s.ok()) return s.WithContext("redundant invoker: replica %d", r);
    inv->replicas_.push_back(std::move(replica));
  }
  const inference::Interpreter& first = *inv->replicas_[0]->interpreter;
  for (size_t i = 0; i < first.num_inputs(); ++i) inv->staging_.emplace_back(first.input(i).bytes, 0);
  for (int r = 0; r < count; ++r) {
    const auto regions = inv->replicas_[static_cast<size_t>(r)]->interpreter->packed_regions();
    for (size_t i = 0; i < regions.size(); ++i) {
      inv->packed_.push_back(PackedRef{r, i, Crc32(Span<const uint8_t>(regions[i].data, regions[i].bytes))});
    }
  }
  return inv;
}

RedundantInvoker::~RedundantInvoker() = default;

Status RedundantInvoker::Observer(void* user, const inference::Interpreter& interpreter, int op_index) {
  auto* replica = static_cast<Replica*>(user);
  return replica->owner->options_.hooks->AfterOp(replica->index, interpreter, op_index);
}

inference::TensorView RedundantInvoker::input_view(size_t i) const {
  inference::TensorView v = replicas_[0]->interpreter->input(i);
  v.data = const_cast<uint8_t*>(staging_[i].data());
  return v;
}

size_t RedundantInvoker::num_outputs() const { return replicas_[0]->interpreter->num_outputs(); }

size_t RedundantInvoker::arena_bytes_total() const {
  size_t total = 0;
  for (const auto& r : replicas_) total += r->interpreter->arena_bytes();
  return total;
}

size_t RedundantInvoker::packed_bytes_total() const {
  size_t total = 0;
  for (const auto& r : replicas_) total += r->interpreter->packed_bytes();
  return total;
}

PackedScrubResult RedundantInvoker::ScrubPackedStep(size_t byte_budget) noexcept {
  PackedScrubResult result;
  for (size_t visited = 0; visited < packed_.size(); ++visited) {
    if (visited > 0 && result.bytes_checked >= byte_budget) break;
    const PackedRef& ref = packed_[packed_cursor_];
    packed_cursor_ = (packed_cursor_ + 1) % packed_.size();
    inference::Interpreter& interp = *replicas_[static_cast<size_t>(ref.replica)]->interpreter;
    const inference::PackedRegion& region = interp.packed_regions()[ref.region];
    const Span<const uint8_t> bytes(region.data, region.bytes);
    result.bytes_checked += region.bytes;
    if (Crc32(bytes) == ref.crc) continue;
    ++result.mismatches;
    ++counters_.packed_mismatches;
    (void)interp.RepackRegion(ref.region);
    if (Crc32(bytes) == ref.crc) {
      ++result.repaired;
      ++counters_.packed_repairs;
      if (options_.events != nullptr) {
        options_.events->Report(kEventPackedWeightsRepaired, Severity::kWarning, ref.replica,
                                static_cast<int64_t>(ref.region), static_cast<int64_t>(counters_.packed_repairs),
                                "packed weights of replica %d region %zu re-derived", ref.replica, ref.region);
      }
    } else {
      ++counters_.packed_repair_failures;
      if (options_.events != nullptr) {
        options_.events->Report(kEventPackedWeightsRepairFailed, Severity::kError, ref.replica,
                                static_cast<int64_t>(ref.region), 0,
                                "packed weights of replica %d region %zu still differ after re-deriving",
                                ref.replica, ref.region);
      }
    }
  }
  counters_.packed_bytes_checked += result.bytes_checked;
  return result;
}

inference::TensorView RedundantInvoker::output(size_t i) const {
  if (winner_ < 0) {
    inference::TensorView v = replicas_[0]->interpreter->output(i);
    v.data = nullptr;
    return v;
  }
  return replicas_[static_cast<size_t>(winner_)]->interpreter->output(i);
}

bool RedundantInvoker::RunReplica(int r) noexcept {
  Replica& rep = *replicas_[static_cast<size_t>(r)];
  inference::Interpreter& interp = *rep.interpreter;
  for (size_t i = 0; i < staging_.size(); ++i) {
    const inference::TensorView in = interp.input(i);
    std::memcpy(in.data, staging_[i].data(), staging_[i].size());
  }
  if (options_.hooks != nullptr) options_.hooks->BeforeInvoke(r, interp);
  rep.status = interp.Invoke();
  rep.ran = true;
  ++counters_.invocations;
  if (!rep.status.ok()) {
    ++counters_.failed_runs;
    if (options_.events != nullptr) {
      options_.events->Report(kEventRunFailed, Severity::kError, r, static_cast<int64_t>(rep.status.code()), 0,
                              "replica %d failed: %.60s", r, rep.status.message());
    }
    return false;
  }
  if (options_.hooks != nullptr) options_.hooks->AfterInvoke(r, interp);
  return true;
}

bool RedundantInvoker::SameOutputs(int a, int b) const noexcept {
  const Replica& ra = *replicas_[static_cast<size_t>(a)];
  const Replica& rb = *replicas_[static_cast<size_t>(b)];
  if (!ra.ran || !rb.ran || !ra.status.ok() || !rb.status.ok()) return false;
  for (size_t i = 0; i < ra.interpreter->num_outputs(); ++i) {
    const inference::TensorView oa = ra.interpreter->output(i);
    const inference::TensorView ob = rb.interpreter->output(i);
    if (oa.bytes != ob.bytes || std::memcmp(oa.data, ob.data, oa.bytes) != 0) return false;
  }
  return true;
}

RunResult RedundantInvoker::Vote(int runs) noexcept {
  RunResult result;
  result.runs = runs;
  for (int r = 0; r < runs; ++r) {
    const Replica& rep = *replicas_[static_cast<size_t>(r)];
    if (!rep.status.ok() && result.status.ok()) result.status = rep.status;
  }
  if (runs == 1) {
    if (replicas_[0]->status.ok()) {
      result.verdict = Verdict::kSingle;
      result.winner = 0;
    } else {
      result.verdict = Verdict::kFailed;
      result.dissent_mask = 1;
    }
    return result;
  }
  static constexpr int kPairs[3][2] = {{0, 1}, {0, 2}, {1, 2}};
  for (const auto& pair : kPairs) {
    if (pair[1] >= runs || !SameOutputs(pair[0], pair[1])) continue;
    result.winner = pair[0];
    for (int r = 0; r < runs; ++r) {
      if (r != pair[0] && r != pair[1] && !SameOutputs(pair[0], r)) result.dissent_mask |= static_cast<uint8_t>(1u << r);
    }
    result.verdict = result.dissent_mask == 0 ? Verdict::kAgreed : Verdict::kCorrected;
    return result;
  }
  int ok_runs = 0;
  for (int r = 0; r < runs; ++r) ok_runs += replicas_[static_cast<size_t>(r)]->status.ok() ? 1 : 0;
  result.dissent_mask = static_cast<uint8_t>((1u << runs) - 1);
  result.verdict = ok_runs >= 2 ? Verdict::kNoMajority : Verdict::kFailed;
  return result;
}

void RedundantInvoker::Report(const RunResult& result) noexcept {
  switch (result.verdict) {
    case Verdict::kSingle:
    case Verdict::kAgreed: ++counters_.agreed; break;
    case Verdict::kCorrected: ++counters_.corrected; ++counters_.disagreements; break;
    case Verdict::kNoMajority: ++counters_.no_majority; ++counters_.disagreements; break;
    case Verdict::kFailed: break;
  }
  if (options_.events == nullptr) return;
  const auto mode = static_cast<int64_t>(options_.mode);
  if (result.verdict == Verdict::kCorrected) {
    options_.events->Report(kEventVoteDisagreement, Severity::kWarning, mode, result.dissent_mask, result.runs,
                            "%s: replica mask 0x%x outvoted", RedundancyModeName(options_.mode),
                            static_cast<unsigned>(result.dissent_mask));
  } else if (result.verdict == Verdict::kNoMajority || result.verdict == Verdict::kFailed) {
    if (options_.mode == RedundancyMode::kNone && result.verdict == Verdict::kFailed) return;  // reported per run
    options_.events->Report(kEventVoteNoMajority, Severity::kError, mode, result.runs, 0,
                            "%s: no majority over %d runs; frame kept thumbnail-only",
                            RedundancyModeName(options_.mode), result.runs);
  }
}

RunResult RedundantInvoker::Run() noexcept {
  ++counters_.runs;
  winner_ = -1;
  for (auto& r : replicas_) {
    r->ran = false;
    r->status = Status::Ok();
  }
  int runs = 0;
  switch (options_.mode) {
    case RedundancyMode::kNone:
      RunReplica(0);
      runs = 1;
      break;
    case RedundancyMode::kDmr:
    case RedundancyMode::kCrossCheck: {
      RunReplica(0);
      RunReplica(1);
      runs = 2;
      if (!SameOutputs(0, 1)) {
        RunReplica(2);
        runs = 3;
      }
      break;
    }
    case RedundancyMode::kTmr:
      RunReplica(0);
      RunReplica(1);
      RunReplica(2);
      runs = 3;
      break;
  }
  RunResult result = Vote(runs);
  winner_ = result.usable() ? result.winner : -1;
  Report(result);
  return result;
}

}  // namespace triage::fault
