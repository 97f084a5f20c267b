// CONV_2D glue: validates the operator contract and precomputes the output
// multipliers exactly as TensorFlow Lite does (uint8: per-tensor, from the
// float product of input and filter scales; int8: per-channel, in double).
#include <cmath>

#include "inference/ops/conv_common.h"
#include "inference/ops/op_util.h"

namespace triage::inference::ops {
namespace {

Status Prepare(PrepareContext& ctx) {
  const auto* options = Options<tflite::Conv2DOptions>(ctx);
  if (!options) return Status::Error(StatusCode::kInvalidArgument, "missing Conv2DOptions");
  ConvGeometry g;
  g.padding = options->padding();
  g.stride_h = options->stride_h();
  g.stride_w = options->stride_w();
  g.dilation_h = options->dilation_h_factor();
  g.dilation_w = options->dilation_w_factor();
  g.activation = options->fused_activation_function();
  return PrepareConvLike(ctx, g, /*depthwise=*/false);
}

Status Eval(const EvalContext& ctx) {
  const auto& d = ctx.data<ConvData>();
  const RuntimeTensor& in = ctx.input(0);
  const RuntimeTensor& filter = ctx.input(1);
  const RuntimeTensor& bias = ctx.input(2);
  const RuntimeTensor& out = ctx.output(0);
  switch (d.type) {
    case DataType::kFloat32:
      ctx.kernels().conv_float(d.params, in.shape, in.As<float>(), filter.shape, filter.As<float>(),
                               bias.As<float>(), out.shape, out.As<float>());
      break;
    case DataType::kUint8:
      ctx.kernels().conv_uint8(d.params, in.shape, in.As<uint8_t>(), filter.shape, filter.As<uint8_t>(),
                               bias.As<int32_t>(), out.shape, out.As<uint8_t>());
      break;
    case DataType::kInt8:
      ctx.kernels().conv_int8(d.params, in.shape, in.As<int8_t>(), filter.shape, filter.As<int8_t>(),
                              bias.As<int32_t>(), out.shape, out.As<int8_t>());
      break;
    default:
      return Status::Error(StatusCode::kInternal, "unexpected type");
  }
  return Status::Ok();
}

}  // namespace
}  // namespace triage::inference::ops

namespace triage::inference {
const OpRegistration& RegisterConv2d() {
  static const OpRegistration r{static_cast<int32_t>(BuiltinOp::kConv2d), "CONV_2D", 1, 5, &ops::Prepare,
                                &ops::Eval};
  return r;
}
}  // namespace triage::inference
