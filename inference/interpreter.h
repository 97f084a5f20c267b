// Interpreter: runs subgraph 0 of a verified Model.
//
// Lifecycle (all init-time until Invoke):
//   Interpreter interp(model, resolver, options);
//   TRIAGE_RETURN_IF_ERROR(interp.Prepare());       // validate ops + plan arena
//   size_t need = interp.arena_bytes();              // bytes the arena must hold
//   TRIAGE_RETURN_IF_ERROR(interp.AllocateTensors(arena_span));  // or {} to own one
//   copy into interp.input(0).data ...; interp.Invoke(); read interp.output(0)
//
// Memory: every non-constant tensor lives in one arena, planned once by
// lifetime (greedy offsets). Graph inputs are pinned for the whole run, so the
// same input can be invoked again (redundant execution and replay rely on
// it). Invoke never allocates and never throws.
// Ownership: the Model (and its bytes) and the OpResolver must outlive the
// interpreter; a caller-provided arena must too.
// Thread safety: one interpreter is used by one thread at a time (its own
// workers, InterpreterOptions::threads, are internal to Invoke). Separate
// interpreters on the same Model may run concurrently. Results are
// deterministic: the same inputs give the same output bytes on every run.
#ifndef TRIAGE_INFERENCE_INTERPRETER_H_
#define TRIAGE_INFERENCE_INTERPRETER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/span.h"
#include "core/status.h"
#include "inference/model.h"
#include "inference/op_context.h"
#include "inference/op_resolver.h"
#include "kernels/kernel_table.h"
#include "kernels/parallel.h"

namespace triage::inference {

class Interpreter;

// Called after each operator during Invoke (debug dumps, conformance
// bisection, fault injection between ops). Must not allocate on the flight
// path. A non-OK return aborts Invoke with that status.
using OpObserver = Status (*)(void* user, const Interpreter& interpreter, int op_index);

struct InterpreterOptions {
  kernels::KernelSet kernel_set = kernels::KernelSet::kReference;
  // Threads the optimized kernels may use, the caller's included (1 to
  // kernels::WorkerPool::kMaxThreads). Workers start at Prepare and sleep
  // between invocations; the output bytes do not depend on this number.
  // The reference kernels always run on the calling thread.
  int threads = 1;
  // Operators with fewer multiply-accumulates than this stay on the calling
  // thread (tests set 0 to split every operator).
  int64_t min_parallel_work = kernels::WorkerPool::kDefaultMinParallelWork;
  OpObserver observer = nullptr;
  void* observer_user = nullptr;
};

// Typed view of an input or output tensor.
struct TensorView {
  int index = -1;
  const char* name = "";
  DataType type = DataType::kFloat32;
  Shape shape;
  uint8_t* data = nullptr;
  size_t bytes = 0;
  float scale = 0.0f;        // 0 when not quantized
  int32_t zero_point = 0;
  template <typename T>
  T* As() const { return reinterpret_cast<T*>(data); }
};

// A block of packed weights (PrepareContext::PackGemm): read-only after
// Prepare, derived only from the model's constant tensors (source).
struct PackedRegion {
  const uint8_t* data = nullptr;
  size_t bytes = 0;
  kernels::optimized::GemmPackSource source;
};

class Interpreter {
 public:
  Interpreter(const Model& model, const OpResolver& resolver, const InterpreterOptions& options = {});
  ~Interpreter();
  Interpreter(Interpreter&&) noexcept;
  Interpreter& operator=(Interpreter&&) = delete;
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  // Resolves every operator, runs its Prepare (types, shapes, quantization,
  // precomputed multipliers) and plans the arena. Errors name the op index,
  // op name and tensor. Out of memory is a kResourceExhausted Status, never
  // an exception. Idempotent.
  Status Prepare();
  // Binds the arena: a caller-owned buffer of at least arena_bytes(), 16-byte
  // aligned; or an empty span to let the interpreter allocate its own.
  Status AllocateTensors(Span<uint8_t> arena = {});
  // Prepare + AllocateTensors.
  Status PrepareAndAllocate(Span<uint8_t> arena = {});

  // Runs every operator in order. Fails cleanly (never crashes) if called
  // before AllocateTensors.
  Status Invoke();

  size_t num_inputs() const { return model_.inputs().size(); }
  size_t num_outputs() const { return model_.outputs().size(); }
  TensorView input(size_t i) const;
  TensorView output(size_t i) const;
  // Any tensor by model index (constants point into the model; read-only).
  TensorView tensor(int index) const;
  size_t num_tensors() const { return model_.tensors().size(); }
  size_t num_operators() const { return model_.operators().size(); }

  const Model& model() const { return model_; }
  size_t arena_bytes() const { return arena_bytes_; }        // planned activation memory
  size_t op_data_bytes() const { return op_data_bytes_; }    // precomputed per-op data and scratch
  size_t packed_bytes() const { return packed_bytes_; }      // packed weights (optimized kernels)
  Span<const PackedRegion> packed_regions() const {
    return Span<const PackedRegion>(packed_regions_.data(), packed_regions_.size());
  }
  // Re-derives packed region i in place from its source (the scrubber's
  // repair of a packed-weight upset). No allocation; false if i is out of range.
  bool RepackRegion(size_t i) noexcept;
  const kernels::KernelTable& kernels() const { return *kernels_; }
  // Threads the kernels run on (1 until Prepare, or with reference kernels).
  int threads() const { return pool_ ? pool_->threads() : 1; }
  bool prepared() const { return prepared_; }
  bool allocated() const { return allocated_; }
  // The bound arena (for inspection and fault injection between operators).
  Span<uint8_t> arena() const { return arena_; }

 private:
  struct OpState;
  class PrepareCtx;
  Status PrepareUnchecked();
  class EvalCtx;

  const Model& model_;
  const OpResolver& resolver_;
  InterpreterOptions options_;
  const kernels::KernelTable* kernels_;
  std::vector<OpState> ops_;
  std::vector<RuntimeTensor> tensors_;
  std::vector<size_t> offsets_;            // arena offset per tensor (SIZE_MAX: constant)
  std::vector<std::unique_ptr<std::max_align_t[]>> op_blocks_;
  std::unique_ptr<std::max_align_t[]> owned_arena_;
  Span<uint8_t> arena_;
  size_t arena_bytes_ = 0;
  size_t op_data_bytes_ = 0;
  size_t packed_bytes_ = 0;
  std::vector<PackedRegion> packed_regions_;
  std::unique_ptr<kernels::WorkerPool> pool_;  // null for one thread
  bool prepared_ = false;
  bool allocated_ = false;
};

}  // namespace triage::inference

#endif  // TRIAGE_INFERENCE_INTERPRETER_H_
