// OpResolver: the fixed-capacity table of operators an interpreter may run.
//
// Only registered operators are linked into the binary: each Register*()
// function lives in its own translation unit (inference/ops/). A model using
// an operator, or an operator version, that is not registered is refused by
// name when the interpreter prepares it, before any kernel runs.
// Phase: build at init. Thread safety: immutable after setup; share freely.
#ifndef TRIAGE_INFERENCE_OP_RESOLVER_H_
#define TRIAGE_INFERENCE_OP_RESOLVER_H_

#include <cstddef>

#include "core/fixed_vector.h"
#include "inference/op_context.h"

namespace triage::inference {

class OpResolver {
 public:
  static constexpr size_t kCapacity = 32;

  // Fails when full or when the code is already registered.
  Status Add(const OpRegistration& registration);
  // The registration for this code, or nullptr.
  const OpRegistration* Find(int32_t code) const;
  size_t size() const { return registrations_.size(); }

 private:
  FixedVector<OpRegistration, kCapacity> registrations_;
};

// Registrations of the builtin operators (inference/ops/*.cc).
const OpRegistration& RegisterConv2d();
const OpRegistration& RegisterDepthwiseConv2d();
const OpRegistration& RegisterFullyConnected();
const OpRegistration& RegisterAveragePool2d();
const OpRegistration& RegisterMaxPool2d();
const OpRegistration& RegisterSoftmax();
const OpRegistration& RegisterAdd();
const OpRegistration& RegisterMul();
const OpRegistration& RegisterRelu();
const OpRegistration& RegisterRelu6();
const OpRegistration& RegisterReluN1To1();
const OpRegistration& RegisterLogistic();
const OpRegistration& RegisterTanh();
const OpRegistration& RegisterHardSwish();
const OpRegistration& RegisterQuantize();
const OpRegistration& RegisterDequantize();
const OpRegistration& RegisterReshape();
const OpRegistration& RegisterSqueeze();
const OpRegistration& RegisterConcatenation();
const OpRegistration& RegisterPad();
const OpRegistration& RegisterMean();

// Registers every builtin above (for tools; flight code may register fewer).
Status AddAllBuiltinOps(OpResolver& resolver);

}  // namespace triage::inference

#endif  // TRIAGE_INFERENCE_OP_RESOLVER_H_
