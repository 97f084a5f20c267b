// The contract between the interpreter and operator glue (TFLM-style
// Init/Prepare/Eval, without macros or void* option structs).
//
// Prepare runs once per operator before any data flows: it validates types,
// shapes and quantization, precomputes multipliers into op data allocated from
// the interpreter's persistent storage, and may fail with a Status. Eval runs
// on every Invoke, must not allocate, and trusts what Prepare validated.
#ifndef TRIAGE_INFERENCE_OP_CONTEXT_H_
#define TRIAGE_INFERENCE_OP_CONTEXT_H_

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>

#include "core/status.h"
#include "inference/model.h"
#include "kernels/kernel_table.h"
#include "kernels/optimized/gemm.h"
#include "kernels/parallel.h"

namespace triage::inference {

// A tensor as operators see it at Eval time.
struct RuntimeTensor {
  int index = -1;                  // tensor index in the model
  DataType type = DataType::kFloat32;
  Shape shape;
  uint8_t* data = nullptr;         // arena memory, or model memory for constants (never written)
  size_t bytes = 0;
  float scale = 0.0f;              // per-tensor quantization (first entry if per-channel)
  int32_t zero_point = 0;
  template <typename T>
  T* As() const { return reinterpret_cast<T*>(data); }
};

class PrepareContext {
 public:
  virtual ~PrepareContext() = default;
  virtual int op_index() const = 0;
  virtual const OperatorSpec& op() const = 0;
  virtual const Model& model() const = 0;
  int num_inputs() const { return static_cast<int>(op().inputs.size()); }
  int num_outputs() const { return static_cast<int>(op().outputs.size()); }
  // Tensor index of input i, or -1 when omitted or i >= num_inputs().
  int input_index(int i) const {
    return i >= 0 && i < num_inputs() ? op().inputs[static_cast<size_t>(i)] : -1;
  }
  int output_index(int i) const {
    return i >= 0 && i < num_outputs() ? op().outputs[static_cast<size_t>(i)] : -1;
  }
  // nullptr when omitted or out of range.
  const TensorSpec* input(int i) const {
    const int t = input_index(i);
    return t < 0 ? nullptr : &model().tensors()[static_cast<size_t>(t)];
  }
  const TensorSpec* output(int i) const {
    const int t = output_index(i);
    return t < 0 ? nullptr : &model().tensors()[static_cast<size_t>(t)];
  }
  // Persistent, zeroed, max_align_t-aligned storage owned by the interpreter;
  // lives as long as it. Init-time only. Returns nullptr if it cannot allocate.
  virtual void* AllocatePersistent(size_t bytes) = 0;
  // Constructs count value-initialized T in persistent storage. T must be
  // trivially destructible: op data is released without running destructors.
  template <typename T>
  T* AllocateOpData(size_t count = 1) {
    static_assert(std::is_trivially_destructible_v<T>, "op data must be trivially destructible");
    static_assert(alignof(T) <= alignof(std::max_align_t), "over-aligned op data");
    void* p = AllocatePersistent(sizeof(T) * count);
    if (p == nullptr) return nullptr;
    T* items = static_cast<T*>(p);
    for (size_t i = 0; i < count; ++i) new (&items[i]) T();
    return items;
  }
  virtual void SetOpData(void* data) = 0;
  // The kernel set this interpreter runs (its Eval will see the same table).
  virtual const kernels::KernelTable& kernels() const = 0;
  // Packs weights for the optimized GEMM (kernels/optimized/gemm.h) into
  // storage counted apart from op data (Interpreter::packed_bytes) and listed
  // with its source (Interpreter::packed_regions), so the fault layer can
  // check this second copy of the weights and re-derive it in place.
  // nullptr if it cannot allocate.
  virtual const void* PackGemm(const kernels::optimized::GemmPackSource& source) = 0;
  // The worker pool optimized kernels split their rows over, for the
  // params' `parallel` field; nullptr when the interpreter runs one thread.
  // Per-worker scratch is parallel_threads() blocks.
  virtual kernels::Parallel* parallel() const = 0;
  int parallel_threads() const { return parallel() ? parallel()->threads() : 1; }
};

class EvalContext {
 public:
  virtual ~EvalContext() = default;
  virtual const RuntimeTensor& input(int i) const = 0;   // omitted inputs have data == nullptr
  virtual const RuntimeTensor& output(int i) const = 0;
  virtual void* op_data() const = 0;
  virtual const kernels::KernelTable& kernels() const = 0;
  template <typename T>
  const T& data() const { return *static_cast<const T*>(op_data()); }
};

struct OpRegistration {
  int32_t code = -1;          // BuiltinOp value
  const char* name = "";
  int min_version = 1;
  int max_version = 1;
  Status (*prepare)(PrepareContext& ctx) = nullptr;
  Status (*eval)(const EvalContext& ctx) = nullptr;
};

}  // namespace triage::inference

#endif  // TRIAGE_INFERENCE_OP_CONTEXT_H_
