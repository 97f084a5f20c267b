// SOFTMAX glue: float, and TFLite's fixed-point softmax for uint8/int8 with
// the conventional output quantization (scale 1/256, zero point at the type's
// minimum).
#include <cmath>

#include "inference/ops/op_util.h"
#include "kernels/reference/softmax.h"

namespace triage::inference::ops {
namespace {

struct SoftmaxData {
  DataType type;
  kernels::SoftmaxParams params;
};

Status Prepare(PrepareContext& ctx) {
  TRIAGE_RETURN_IF_ERROR(ExpectCounts(ctx, 1, 1, 1));
  const auto* o = Options<tflite::SoftmaxOptions>(ctx);
  if (!o) return Status::Error(StatusCode::kInvalidArgument, "missing SoftmaxOptions");
  const TensorSpec *in, *out;
  TRIAGE_RETURN_IF_ERROR(RequireInput(ctx, 0, &in));
  TRIAGE_RETURN_IF_ERROR(RequireOutput(ctx, 0, &out));
  const int ii = ctx.input_index(0), oi = ctx.output_index(0);
  TRIAGE_RETURN_IF_ERROR(ExpectType(ctx, *out, oi, "output", in->type));
  TRIAGE_RETURN_IF_ERROR(ExpectSameShape(*in, ii, *out, oi));
  if (in->shape.rank < 1) return Status::Error(StatusCode::kInvalidArgument, "input tensor %d: rank 0", ii);
  const float beta = o->beta();
  if (!std::isfinite(beta) || !(beta > 0.0f)) {
    return Status::Error(StatusCode::kInvalidArgument, "beta %g must be finite and > 0", static_cast<double>(beta));
  }
  SoftmaxData* data = nullptr;
  TRIAGE_RETURN_IF_ERROR(NewOpData(ctx, &data));
  data->type = in->type;
  kernels::SoftmaxParams& p = data->params;
  p.beta = beta;
  p.depth = in->shape.dims[in->shape.rank - 1];
  p.outer_size = static_cast<int>(in->shape.FlatSize() / p.depth);
  if (in->type == DataType::kFloat32) return Status::Ok();
  if (!IsQuantized8(in->type)) {
    return Status::Error(StatusCode::kUnsupported, "input tensor %d: type %s unsupported", ii,
                         kernels::DataTypeName(in->type));
  }
  TRIAGE_RETURN_IF_ERROR(ExpectPerTensorQuant(*in, ii, "input"));
  TRIAGE_RETURN_IF_ERROR(ExpectPerTensorQuant(*out, oi, "output"));
  const int32_t expected_zp = in->type == DataType::kUint8 ? 0 : -128;
  if (out->quant.zero_points[0] != expected_zp ||
      std::abs(out->quant.scales[0] - 1.0f / 256) > 0.001f * 1.0f / 256) {
    return Status::Error(StatusCode::kUnsupported,
                         "output tensor %d: quantized softmax needs scale 1/256 and zero point %d", oi, expected_zp);
  }
  constexpr int kScaledDiffIntegerBits = 5;
  const double real = static_cast<double>(beta) * static_cast<double>(in->quant.scales[0]) *
                      static_cast<double>(1 << (31 - kScaledDiffIntegerBits));
  if (!(real > 1.0)) {
    return Status::Error(StatusCode::kUnsupported, "input tensor %d: scale %g too small for fixed-point softmax", ii,
                         static_cast<double>(in->quant.scales[0]));
  }
  kernels::PreprocessSoftmaxScaling(beta, in->quant.scales[0], kScaledDiffIntegerBits, &p.input_multiplier,
                                    &p.input_left_shift);
  p.diff_min = -kernels::CalculateInputRadius(kScaledDiffIntegerBits, p.input_left_shift);
  return Status::Ok();
}

Status Eval(const EvalContext& ctx) {
  const auto& d = ctx.data<SoftmaxData>();
  const RuntimeTensor& in = ctx.input(0);
  const RuntimeTensor& out = ctx.output(0);
  switch (d.type) {
    case DataType::kFloat32: ctx.kernels().softmax_float(d.params, in.As<float>(), out.As<float>()); break;
    case DataType::kUint8: ctx.kernels().softmax_uint8(d.params, in.As<uint8_t>(), out.As<uint8_t>()); break;
    case DataType::kInt8: ctx.kernels().softmax_int8(d.params, in.As<int8_t>(), out.As<int8_t>()); break;
    default: return Status::Error(StatusCode::kInternal, "unexpected type");
  }
  return Status::Ok();
}

}  // namespace
}  // namespace triage::inference::ops

namespace triage::inference {
const OpRegistration& RegisterSoftmax() {
  static const OpRegistration r{static_cast<int32_t>(BuiltinOp::kSoftmax), "SOFTMAX", 1, 2, &ops::Prepare,
                                &ops::Eval};
  return r;
}
}  // namespace triage::inference
