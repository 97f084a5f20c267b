// FULLY_CONNECTED glue: float, uint8 and int8 with per-tensor weights.
#include <cmath>

#include "inference/ops/op_util.h"
#include "kernels/reference/fully_connected.h"

namespace triage::inference::ops {
namespace {

struct FcData {
  DataType type;
  kernels::FullyConnectedParams params;
};

Status Prepare(PrepareContext& ctx) {
  TRIAGE_RETURN_IF_ERROR(ExpectCounts(ctx, 2, 3, 1));
  const auto* options = Options<tflite::FullyConnectedOptions>(ctx);
  if (!options) return Status::Error(StatusCode::kInvalidArgument, "missing FullyConnectedOptions");
  if (options->weights_format() != tflite::FullyConnectedOptionsWeightsFormat::DEFAULT) {
    return Status::Error(StatusCode::kUnsupported, "shuffled weights format unsupported");
  }
  kernels::Activation act;
  TRIAGE_RETURN_IF_ERROR(ActivationFrom(options->fused_activation_function(), &act));
  const TensorSpec *in, *filter, *out;
  TRIAGE_RETURN_IF_ERROR(RequireInput(ctx, 0, &in));
  TRIAGE_RETURN_IF_ERROR(RequireInput(ctx, 1, &filter));
  TRIAGE_RETURN_IF_ERROR(RequireOutput(ctx, 0, &out));
  const TensorSpec* bias = ctx.input(2);
  const int ii = ctx.input_index(0), fi = ctx.input_index(1), bi = ctx.input_index(2), oi = ctx.output_index(0);
  TRIAGE_RETURN_IF_ERROR(ExpectRank(*filter, fi, "filter", 2));
  const int out_depth = filter->shape.dims[0], accum_depth = filter->shape.dims[1];
  const int64_t in_size = in->shape.FlatSize();
  if (in_size % accum_depth != 0) {
    return Status::Error(StatusCode::kInvalidArgument, "input tensor %d: %lld elements not a multiple of depth %d",
                         ii, static_cast<long long>(in_size), accum_depth);
  }
  const int batches = static_cast<int>(in_size / accum_depth);
  if (out->shape.FlatSize() != static_cast<int64_t>(batches) * out_depth ||
      out->shape.dims[out->shape.rank - 1] != out_depth) {
    return Status::Error(StatusCode::kInvalidArgument, "output tensor %d: shape does not hold %d x %d values", oi,
                         batches, out_depth);
  }
  const DataType type = in->type;
  if (type != DataType::kFloat32 && !IsQuantized8(type)) {
    return Status::Error(StatusCode::kUnsupported, "input tensor %d: type %s unsupported", ii,
                         kernels::DataTypeName(type));
  }
  TRIAGE_RETURN_IF_ERROR(ExpectType(ctx, *filter, fi, "filter", type));
  TRIAGE_RETURN_IF_ERROR(ExpectType(ctx, *out, oi, "output", type));
  TRIAGE_RETURN_IF_ERROR(ExpectBias(ctx, bias, bi, type, out_depth));
  FcData* data = nullptr;
  TRIAGE_RETURN_IF_ERROR(NewOpData(ctx, &data));
  data->type = type;
  kernels::FullyConnectedParams& p = data->params;
  p.batches = batches;
  p.accum_depth = accum_depth;
  p.output_depth = out_depth;
  if (type == DataType::kFloat32) {
    p.frange = kernels::ActivationRangeFloat(act);
    return Status::Ok();
  }
  TRIAGE_RETURN_IF_ERROR(ExpectPerTensorQuant(*in, ii, "input"));
  TRIAGE_RETURN_IF_ERROR(ExpectPerTensorQuant(*filter, fi, "filter"));
  TRIAGE_RETURN_IF_ERROR(ExpectPerTensorQuant(*out, oi, "output"));
  TRIAGE_RETURN_IF_ERROR(CheckAccumulator(accum_depth, 255 * 255, bias, bi));
  p.input_offset = -static_cast<int32_t>(in->quant.zero_points[0]);
  p.filter_offset = -static_cast<int32_t>(filter->quant.zero_points[0]);
  p.output_offset = static_cast<int32_t>(out->quant.zero_points[0]);
  p.qrange = QuantizedActivationRange(act, *out);
  const double input_product_scale = static_cast<double>(in->quant.scales[0] * filter->quant.scales[0]);
  int shift = 0;
  TRIAGE_RETURN_IF_ERROR(CheckedMultiplier(input_product_scale / static_cast<double>(out->quant.scales[0]), &p.output_multiplier,
                              &shift));
  p.output_shift = shift;
  p.parallel = ctx.parallel();
  return PackGemmWeights(ctx, *filter, bias, out_depth, accum_depth, p.input_offset, p.filter_offset, &p.packed,
                         &p.scratch);
}

Status Eval(const EvalContext& ctx) {
  const auto& d = ctx.data<FcData>();
  const RuntimeTensor& in = ctx.input(0);
  const RuntimeTensor& filter = ctx.input(1);
  const RuntimeTensor& bias = ctx.input(2);
  const RuntimeTensor& out = ctx.output(0);
  switch (d.type) {
    case DataType::kFloat32:
      ctx.kernels().fully_connected_float(d.params, in.As<float>(), filter.As<float>(), bias.As<float>(),
                                          out.As<float>());
      break;
    case DataType::kUint8:
      ctx.kernels().fully_connected_uint8(d.params, in.As<uint8_t>(), filter.As<uint8_t>(), bias.As<int32_t>(),
                                          out.As<uint8_t>());
      break;
    case DataType::kInt8:
      ctx.kernels().fully_connected_int8(d.params, in.As<int8_t>(), filter.As<int8_t>(), bias.As<int32_t>(),
                                         out.As<int8_t>());
      break;
    default:
      return Status::Error(StatusCode::kInternal, "unexpected type");
  }
  return Status::Ok();
}

}  // namespace
}  // namespace triage::inference::ops

namespace triage::inference {
const OpRegistration& RegisterFullyConnected() {
  static const OpRegistration r{static_cast<int32_t>(BuiltinOp::kFullyConnected), "FULLY_CONNECTED", 1, 9,
                                &ops::Prepare, &ops::Eval};
  return r;
}
}  // namespace triage::inference
