// CONV_2D and DEPTHWISE_CONV_2D glue. Both share validation and
// precomputation (conv_common): output multipliers exactly as TensorFlow Lite
// computes them (uint8: per-tensor, from the float product of input and filter
// scales; int8: per-channel, in double).
#include "inference/ops/conv_common.h"

namespace triage::inference::ops {
namespace {

template <typename Options>
ConvGeometry GeometryFrom(const Options& o) {
  ConvGeometry g;
  g.padding = o.padding();
  g.stride_h = o.stride_h();
  g.stride_w = o.stride_w();
  g.dilation_h = o.dilation_h_factor();
  g.dilation_w = o.dilation_w_factor();
  g.activation = o.fused_activation_function();
  return g;
}

Status PrepareConv(PrepareContext& ctx) {
  const auto* options = Options<tflite::Conv2DOptions>(ctx);
  if (!options) return Status::Error(StatusCode::kInvalidArgument, "missing Conv2DOptions");
  return PrepareConvLike(ctx, GeometryFrom(*options), /*depthwise=*/false);
}

Status PrepareDepthwise(PrepareContext& ctx) {
  const auto* options = Options<tflite::DepthwiseConv2DOptions>(ctx);
  if (!options) return Status::Error(StatusCode::kInvalidArgument, "missing DepthwiseConv2DOptions");
  return PrepareConvLike(ctx, GeometryFrom(*options), /*depthwise=*/true);
}

// Calls the depthwise or the plain convolution kernel for element type T.
template <typename T, typename TBias, typename ConvFn, typename DepthwiseFn>
void Run(const EvalContext& ctx, const ConvData& d, ConvFn conv, DepthwiseFn depthwise) {
  const RuntimeTensor &in = ctx.input(0), &filter = ctx.input(1), &bias = ctx.input(2), &out = ctx.output(0);
  if (d.depthwise) {
    depthwise(d.params, in.shape, in.As<T>(), filter.shape, filter.As<T>(), bias.As<TBias>(), out.shape, out.As<T>());
  } else {
    conv(d.params, in.shape, in.As<T>(), filter.shape, filter.As<T>(), bias.As<TBias>(), out.shape, out.As<T>());
  }
}

Status Eval(const EvalContext& ctx) {
  const auto& d = ctx.data<ConvData>();
  const kernels::KernelTable& k = ctx.kernels();
  switch (d.type) {
    case DataType::kFloat32: Run<float, float>(ctx, d, k.conv_float, k.depthwise_float); break;
    case DataType::kUint8: Run<uint8_t, int32_t>(ctx, d, k.conv_uint8, k.depthwise_uint8); break;
    case DataType::kInt8: Run<int8_t, int32_t>(ctx, d, k.conv_int8, k.depthwise_int8); break;
    default: return Status::Error(StatusCode::kInternal, "unexpected type");
  }
  return Status::Ok();
}

}  // namespace
}  // namespace triage::inference::ops

namespace triage::inference {
const OpRegistration& RegisterConv2d() {
  static const OpRegistration r{static_cast<int32_t>(BuiltinOp::kConv2d), "CONV_2D", 1, 5, &ops::PrepareConv,
                                &ops::Eval};
  return r;
}
const OpRegistration& RegisterDepthwiseConv2d() {
  static const OpRegistration r{static_cast<int32_t>(BuiltinOp::kDepthwiseConv2d), "DEPTHWISE_CONV_2D", 1, 6,
                                &ops::PrepareDepthwise, &ops::Eval};
  return r;
}
}  // namespace triage::inference
