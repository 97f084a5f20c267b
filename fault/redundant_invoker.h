// RedundantInvoker: redundant execution of one model, with a vote on the
// output bytes. Wraps inference::Interpreter; inference/ knows nothing of it.
//
// Modes (fault::RedundancyMode):
//   none        one run; the result is unverified by configuration (kSingle).
//   dmr         replicas 0 and 1; if their output bytes differ, replica 2
//               runs and the three are voted.
//   tmr         replicas 0, 1 and 2 always; majority vote.
//   crosscheck  replica 0 on the optimized kernels, replica 1 on the reference
//               kernels; on a mismatch replica 2 (reference) runs and votes.
// Each replica is its own Interpreter with its own arena. Replica i reads
// weights from models[min(i, models.size() - 1)]: pass one Model to share the
// weights, or three (ModelStore copies) so that a weight upset in one copy is
// outvoted instead of being a common-mode fault.
//
// A vote compares every output tensor byte for byte. Two matching runs out of
// three decide (kCorrected when a third disagreed); if no two runs match the
// result is kNoMajority and carries no usable output: the caller keeps the
// frame thumbnail-only and marks it. Every disagreement raises an event and
// increments a counter. A run that fails (error Status) counts as a dissenting
// vote.
//
// Inputs: the caller fills the staging input buffers (input(i)); Run copies
// them into each replica's input tensor before that replica runs. The staging
// buffer itself is common to all replicas (an upset there is not caught here).
//
// Phase: Create is init-time (interpreters, op data, arenas, staging inputs).
// Run, input() and output() are flight-safe: no allocation, no exceptions.
// Thread safety: one thread at a time. Ownership: the Models, the resolver,
// the hooks and the event log must outlive the invoker.
#ifndef TRIAGE_FAULT_REDUNDANT_INVOKER_H_
#define TRIAGE_FAULT_REDUNDANT_INVOKER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/event.h"
#include "core/result.h"
#include "core/span.h"
#include "fault/fault_config.h"
#include "inference/interpreter.h"
#include "inference/model.h"
#include "inference/op_resolver.h"

namespace triage::fault {

constexpr int kMaxReplicas = 3;

enum class Verdict : uint8_t {
  kSingle = 0,      // mode none: one run, not verified
  kAgreed = 1,      // every run agreed
  kCorrected = 2,   // a run disagreed and was outvoted by two matching runs
  kNoMajority = 3,  // no two runs matched: no usable output
  kFailed = 4,      // nothing usable: runs failed (see status)
};
const char* VerdictName(Verdict verdict);
// True when output() may be used for a decision.
constexpr bool VerdictUsable(Verdict v) {
  return v == Verdict::kSingle || v == Verdict::kAgreed || v == Verdict::kCorrected;
}

struct RunResult {
  Verdict verdict = Verdict::kFailed;
  int runs = 0;               // interpreters invoked
  uint8_t dissent_mask = 0;   // bit r: replica r disagreed with the majority (or failed)
  int winner = -1;            // replica whose output was chosen; -1 if none
  Status status;              // first run error, if any
  bool usable() const { return VerdictUsable(verdict); }
  bool disagreement() const { return verdict == Verdict::kCorrected || verdict == Verdict::kNoMajority; }
};

// Test and fault-injection hooks; null in flight. Called on the Run thread.
class RunHooks {
 public:
  virtual ~RunHooks() = default;
  // After the staging input was copied into this replica, before Invoke.
  virtual void BeforeInvoke(int replica, inference::Interpreter& interpreter) noexcept {
    (void)replica;
    (void)interpreter;
  }
  // After each operator (inference::OpObserver). Non-OK aborts the run.
  virtual Status AfterOp(int replica, const inference::Interpreter& interpreter, int op_index) noexcept {
    (void)replica;
    (void)interpreter;
    (void)op_index;
    return Status::Ok();
  }
  // After Invoke returned OK, before the vote.
  virtual void AfterInvoke(int replica, inference::Interpreter& interpreter) noexcept {
    (void)replica;
    (void)interpreter;
  }
};

struct InvokerCounters {
  uint64_t runs = 0;            // Run() calls
  uint64_t invocations = 0;     // interpreter invocations
  uint64_t agreed = 0;
  uint64_t corrected = 0;
  uint64_t no_majority = 0;
  uint64_t failed_runs = 0;     // invocations that returned an error
  uint64_t disagreements = 0;   // corrected + no_majority
  // Packed weights (the optimized kernels' own copy of the weights, one per
  // replica), checked by ScrubPackedStep.
  uint64_t packed_bytes_checked = 0;
  uint64_t packed_mismatches = 0;
  uint64_t packed_repairs = 0;
  uint64_t packed_repair_failures = 0;
};

struct PackedScrubResult {
  size_t bytes_checked = 0;
  int mismatches = 0;   // regions found corrupted in this step
  int repaired = 0;     // ... of which re-derived and verified
};

struct InvokerOptions {
  RedundancyMode mode = RedundancyMode::kNone;
  EventLog* events = nullptr;   // may be null
  RunHooks* hooks = nullptr;    // may be null (flight)
  // Kernel set of the replicas in none/dmr/tmr (crosscheck fixes its own).
  kernels::KernelSet kernel_set = kernels::KernelSet::kOptimized;
  // Threads each replica's optimized kernels use. Replicas run one after
  // another, each on every core, so dmr costs two such runs.
  int threads = 1;
};

class RedundantInvoker {
 public:
  // models: 1..3 Models of the same network (identical bytes), outliving the
  // invoker. Fails if the models differ in their inputs or outputs.
  static Result<std::unique_ptr<RedundantInvoker>> Create(Span<const inference::Model* const> models,
                                                          const inference::OpResolver& resolver,
                                                          const InvokerOptions& options);
  ~RedundantInvoker();

  RedundancyMode mode() const { return options_.mode; }
  // Replicas this mode may run (1 for none, 3 otherwise).
  int replica_count() const { return static_cast<int>(replicas_.size()); }
  size_t num_inputs() const { return staging_.size(); }
  // Staging input buffer i (the size of input tensor i).
  Span<uint8_t> input(size_t i) { return Span<uint8_t>(staging_[i].data(), staging_[i].size()); }
  inference::TensorView input_view(size_t i) const;  // type, shape, quantization of input i (data: staging)

  // Runs the mode's schedule and votes. Flight-safe.
  RunResult Run() noexcept;

  // Output i of the last Run's winning replica; data == nullptr when the last
  // result was not usable.
  inference::TensorView output(size_t i = 0) const;
  size_t num_outputs() const;
  // A replica's own interpreter (tests, injection, telemetry).
  inference::Interpreter& replica(int r) { return *replicas_[static_cast<size_t>(r)]->interpreter; }
  const InvokerCounters& counters() const { return counters_; }
  size_t arena_bytes_total() const;
  size_t packed_bytes_total() const;

  // Checks the next packed-weight regions of every replica against the CRC32
  // taken at Create, at most byte_budget bytes (at least one region). A
  // corrupted region is re-derived in place from the replica's model copy
  // (Interpreter::RepackRegion, no allocation) and re-checked; each step
  // raises kEventPackedWeightsRepaired or kEventPackedWeightsRepairFailed.
  // Run it after the model scrubber, so the model copy it re-derives from is
  // the verified one. Flight-safe; between frames only.
  PackedScrubResult ScrubPackedStep(size_t byte_budget) noexcept;

 private:
  struct Replica {
    std::unique_ptr<inference::Interpreter> interpreter;
    RedundantInvoker* owner = nullptr;
    int index = 0;
    Status status;
    bool ran = false;
  };
  explicit RedundantInvoker(const InvokerOptions& options) : options_(options) {}
  static Status Observer(void* user, const inference::Interpreter& interpreter, int op_index);
  bool RunReplica(int r) noexcept;
  bool SameOutputs(int a, int b) const noexcept;
  RunResult Vote(int runs) noexcept;
  void Report(const RunResult& result) noexcept;

  InvokerOptions options_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::vector<std::vector<uint8_t>> staging_;
  struct PackedRef {
    int replica;
    size_t region;
    uint32_t crc;
  };
  std::vector<PackedRef> packed_;  // every replica's packed regions, with their CRC32 at Create
  size_t packed_cursor_ = 0;
  int winner_ = -1;
  InvokerCounters counters_;
};

}  // namespace triage::fault

#endif  // TRIAGE_FAULT_REDUNDANT_INVOKER_H_
