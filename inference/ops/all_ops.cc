#include "inference/op_resolver.h"

namespace triage::inference {

Status AddAllBuiltinOps(OpResolver& resolver) {
  const OpRegistration* all[] = {
      &RegisterConv2d(),        &RegisterDepthwiseConv2d(), &RegisterFullyConnected(), &RegisterAveragePool2d(),
      &RegisterMaxPool2d(),     &RegisterSoftmax(),         &RegisterAdd(),            &RegisterMul(),
      &RegisterRelu(),          &RegisterRelu6(),           &RegisterReluN1To1(),      &RegisterLogistic(),
      &RegisterTanh(),          &RegisterHardSwish(),       &RegisterQuantize(),       &RegisterDequantize(),
      &RegisterReshape(),       &RegisterSqueeze(),         &RegisterConcatenation(),  &RegisterPad(),
      &RegisterMean(),
  };
  for (const OpRegistration* r : all) TRIAGE_RETURN_IF_ERROR(resolver.Add(*r));
  return Status::Ok();
}

}  // namespace triage::inference
