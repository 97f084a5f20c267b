// DEPTHWISE_CONV_2D glue; shares validation with CONV_2D (conv_common).
#include "inference/ops/conv_common.h"

namespace triage::inference::ops {
namespace {

Status Prepare(PrepareContext& ctx) {
  const auto* options = Options<tflite::DepthwiseConv2DOptions>(ctx);
  if (!options) return Status::Error(StatusCode::kInvalidArgument, "missing DepthwiseConv2DOptions");
  ConvGeometry g;
  g.padding = options->padding();
  g.stride_h = options->stride_h();
  g.stride_w = options->stride_w();
  g.dilation_h = options->dilation_h_factor();
  g.dilation_w = options->dilation_w_factor();
  g.activation = options->fused_activation_function();
  return PrepareConvLike(ctx, g, /*depthwise=*/true);
}

Status Eval(const EvalContext& ctx) {
  const auto& d = ctx.data<ConvData>();
  const RuntimeTensor& in = ctx.input(0);
  const RuntimeTensor& filter = ctx.input(1);
  const RuntimeTensor& bias = ctx.input(2);
  const RuntimeTensor& out = ctx.output(0);
  switch (d.type) {
    case DataType::kFloat32:
      ctx.kernels().depthwise_float(d.params, in.shape, in.As<float>(), filter.shape, filter.As<float>(),
                                    bias.As<float>(), out.shape, out.As<float>());
      break;
    case DataType::kUint8:
      ctx.kernels().depthwise_uint8(d.params, in.shape, in.As<uint8_t>(), filter.shape, filter.As<uint8_t>(),
                                    bias.As<int32_t>(), out.shape, out.As<uint8_t>());
      break;
    case DataType::kInt8:
      ctx.kernels().depthwise_int8(d.params, in.shape, in.As<int8_t>(), filter.shape, filter.As<int8_t>(),
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
const OpRegistration& RegisterDepthwiseConv2d() {
  static const OpRegistration r{static_cast<int32_t>(BuiltinOp::kDepthwiseConv2d), "DEPTHWISE_CONV_2D", 1, 6,
                                &ops::Prepare, &ops::Eval};
  return r;
}
}  // namespace triage::inference
