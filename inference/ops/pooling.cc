// AVERAGE_POOL_2D and MAX_POOL_2D glue.
#include <algorithm>

#include "inference/ops/op_util.h"
#include "kernels/reference/pooling.h"

namespace triage::inference::ops {
namespace {

struct PoolData {
  DataType type;
  kernels::PoolParams params;
};

Status Prepare(PrepareContext& ctx) {
  TRIAGE_RETURN_IF_ERROR(ExpectCounts(ctx, 1, 1, 1));
  const auto* o = Options<tflite::Pool2DOptions>(ctx);
  if (!o) return Status::Error(StatusCode::kInvalidArgument, "missing Pool2DOptions");
  const TensorSpec *in, *out;
  TRIAGE_RETURN_IF_ERROR(RequireInput(ctx, 0, &in));
  TRIAGE_RETURN_IF_ERROR(RequireOutput(ctx, 0, &out));
  const int ii = ctx.input_index(0), oi = ctx.output_index(0);
  TRIAGE_RETURN_IF_ERROR(ExpectRank(*in, ii, "input", 4));
  TRIAGE_RETURN_IF_ERROR(ExpectType(ctx, *out, oi, "output", in->type));
  if (o->stride_h() <= 0 || o->stride_w() <= 0 || o->filter_height() <= 0 || o->filter_width() <= 0) {
    return Status::Error(StatusCode::kInvalidArgument, "filter %dx%d and stride %dx%d must be positive",
                         o->filter_height(), o->filter_width(), o->stride_h(), o->stride_w());
  }
  kernels::Activation act;
  TRIAGE_RETURN_IF_ERROR(ActivationFrom(o->fused_activation_function(), &act));
  const int in_h = in->shape.dims[1], in_w = in->shape.dims[2];
  const int out_h = ComputeOutSize(o->padding(), in_h, o->filter_height(), o->stride_h(), 1);
  const int out_w = ComputeOutSize(o->padding(), in_w, o->filter_width(), o->stride_w(), 1);
  const Shape expected = kernels::MakeShape({in->shape.dims[0], out_h, out_w, in->shape.dims[3]});
  if (out_h <= 0 || out_w <= 0 || out->shape != expected) {
    return Status::Error(StatusCode::kInvalidArgument, "output tensor %d: shape does not match the computed %dx%d",
                         oi, out_h, out_w);
  }
  if (in->type != DataType::kFloat32 && !IsQuantized8(in->type)) {
    return Status::Error(StatusCode::kUnsupported, "input tensor %d: type %s unsupported", ii,
                         kernels::DataTypeName(in->type));
  }
  PoolData* data = nullptr;
  TRIAGE_RETURN_IF_ERROR(NewOpData(ctx, &data));
  data->type = in->type;
  kernels::PoolParams& p = data->params;
  p.stride_h = o->stride_h();
  p.stride_w = o->stride_w();
  p.filter_h = o->filter_height();
  p.filter_w = o->filter_width();
  p.pad_h = ComputePadding(p.stride_h, 1, in_h, p.filter_h, out_h);
  p.pad_w = ComputePadding(p.stride_w, 1, in_w, p.filter_w, out_w);
  p.parallel = ctx.parallel();
  if (in->type == DataType::kFloat32) {
    p.frange = kernels::ActivationRangeFloat(act);
    return Status::Ok();
  }
  TRIAGE_RETURN_IF_ERROR(ExpectPerTensorQuant(*in, ii, "input"));
  TRIAGE_RETURN_IF_ERROR(ExpectPerTensorQuant(*out, oi, "output"));
  if (in->quant.scales[0] != out->quant.scales[0] || in->quant.zero_points[0] != out->quant.zero_points[0]) {
    return Status::Error(StatusCode::kUnsupported, "input and output quantization must match for pooling");
  }
  TRIAGE_RETURN_IF_ERROR(CheckAccumulator(static_cast<int64_t>(std::min(p.filter_h, in_h)) * std::min(p.filter_w, in_w),
                                          255, nullptr, -1));
  p.qrange = QuantizedActivationRange(act, *out);
  return Status::Ok();
}

Status EvalAverage(const EvalContext& ctx) {
  const auto& d = ctx.data<PoolData>();
  const RuntimeTensor& in = ctx.input(0);
  const RuntimeTensor& out = ctx.output(0);
  switch (d.type) {
    case DataType::kFloat32:
      ctx.kernels().average_pool_float(d.params, in.shape, in.As<float>(), out.shape, out.As<float>());
      break;
    case DataType::kUint8:
      ctx.kernels().average_pool_uint8(d.params, in.shape, in.As<uint8_t>(), out.shape, out.As<uint8_t>());
      break;
    case DataType::kInt8:
      ctx.kernels().average_pool_int8(d.params, in.shape, in.As<int8_t>(), out.shape, out.As<int8_t>());
      break;
    default:
      return Status::Error(StatusCode::kInternal, "unexpected type");
  }
  return Status::Ok();
}

Status EvalMax(const EvalContext& ctx) {
  const auto& d = ctx.data<PoolData>();
  const RuntimeTensor& in = ctx.input(0);
  const RuntimeTensor& out = ctx.output(0);
  switch (d.type) {
    case DataType::kFloat32:
      ctx.kernels().max_pool_float(d.params, in.shape, in.As<float>(), out.shape, out.As<float>());
      break;
    case DataType::kUint8:
      ctx.kernels().max_pool_uint8(d.params, in.shape, in.As<uint8_t>(), out.shape, out.As<uint8_t>());
      break;
    case DataType::kInt8:
      ctx.kernels().max_pool_int8(d.params, in.shape, in.As<int8_t>(), out.shape, out.As<int8_t>());
      break;
    default:
      return Status::Error(StatusCode::kInternal, "unexpected type");
  }
  return Status::Ok();
}

}  // namespace
}  // namespace triage::inference::ops

namespace triage::inference {
const OpRegistration& RegisterAveragePool2d() {
  static const OpRegistration r{static_cast<int32_t>(BuiltinOp::kAveragePool2d), "AVERAGE_POOL_2D", 1, 3,
                                &ops::Prepare, &ops::EvalAverage};
  return r;
}
const OpRegistration& RegisterMaxPool2d() {
  static const OpRegistration r{static_cast<int32_t>(BuiltinOp::kMaxPool2d), "MAX_POOL_2D", 1, 3, &ops::Prepare,
                                &ops::EvalMax};
  return r;
}
}  // namespace triage::inference
