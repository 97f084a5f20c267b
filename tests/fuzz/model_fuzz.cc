// libFuzzer target: untrusted bytes -> Model::Create -> Prepare -> Invoke.
// Any crash, sanitizer report or hang here is a bug: malformed models must be
// refused with a Status. Work is bounded so the fuzzer explores breadth, not
// giant (valid) models.
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
  Interpreter interp(*model, *resolver);
  if (!interp.Prepare().ok()) return 0;
  if (interp.arena_bytes() > kMaxArenaBytes || TotalMacs(*model) > kMaxMacs) return 0;
  if (!interp.AllocateTensors().ok()) return 0;
  for (size_t i = 0; i < interp.num_inputs(); ++i) {
    TensorView in = interp.input(i);
    for (size_t k = 0; k < in.bytes; ++k) in.data[k] = static_cast<uint8_t>(k * 37 + i);
  }
  (void)interp.Invoke();
  return 0;
}
