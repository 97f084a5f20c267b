// libFuzzer target: untrusted bytes -> Model::Create -> Prepare -> Invoke,
// with both kernel sets: the reference kernels, and the optimized kernels
// split over two threads (every operator handed to the worker). Any crash,
// sanitizer report or hang here is a bug: malformed models must be refused
// with a Status. So is any model the two sets treat differently: a different
// Prepare or Invoke verdict, or different output bytes, traps. Work is
// bounded so the fuzzer explores breadth, not giant (valid) models.
#include <cstdint>
#include <cstring>

#include "inference/interpreter.h"
#include "inference/introspection.h"
#include "inference/model.h"
#include "inference/op_resolver.h"

namespace {
constexpr size_t kMaxArenaBytes = 16u << 20;
constexpr int64_t kMaxMacs = 20'000'000;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace triage::inference;
  AlignedBuffer buffer(size);
  if (size > 0) std::memcpy(buffer.data(), data, size);
  auto model = Model::Create(buffer.span());
  if (!model.ok()) return 0;
  static OpResolver* resolver = [] {
    auto* r = new OpResolver();
    (void)AddAllBuiltinOps(*r);
    return r;
  }();
  InterpreterOptions reference_options;
  InterpreterOptions optimized_options;
  optimized_options.kernel_set = triage::kernels::KernelSet::kOptimized;
  optimized_options.threads = 2;
  optimized_options.min_parallel_work = 0;
  Interpreter ref(*model, *resolver, reference_options);
  Interpreter opt(*model, *resolver, optimized_options);
  const bool ref_ok = ref.Prepare().ok();
  if (opt.Prepare().ok() != ref_ok) __builtin_trap();
  if (!ref_ok) return 0;
  if (ref.arena_bytes() > kMaxArenaBytes || TotalMacs(*model) > kMaxMacs) return 0;
  if (!ref.AllocateTensors().ok() || !opt.AllocateTensors().ok()) return 0;
  for (Interpreter* interp : {&ref, &opt}) {
    for (size_t i = 0; i < interp->num_inputs(); ++i) {
      TensorView in = interp->input(i);
      for (size_t k = 0; k < in.bytes; ++k) in.data[k] = static_cast<uint8_t>(k * 37 + i);
    }
  }
  const bool ran = ref.Invoke().ok();
  if (opt.Invoke().ok() != ran) __builtin_trap();
  if (!ran) return 0;
  for (size_t i = 0; i < ref.num_outputs(); ++i) {
    const TensorView a = ref.output(i), b = opt.output(i);
    if (a.bytes != b.bytes || std::memcmp(a.data, b.data, a.bytes) != 0) __builtin_trap();
  }
  return 0;
}
