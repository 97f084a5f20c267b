// ADD and MUL glue, with NumPy-style broadcasting up to rank 6.
#include <algorithm>

#include "inference/ops/op_util.h"
#include "kernels/reference/elementwise.h"

namespace triage::inference::ops {
namespace {

struct AddData {
  DataType type;
  kernels::AddParams params;
};
struct MulData {
  DataType type;
  kernels::MulParams params;
};

// Checks that in1 and in2 broadcast to exactly the output's shape.
Status CheckBroadcast(const PrepareContext& ctx, const TensorSpec& a, const TensorSpec& b, const TensorSpec& out) {
  const int rank = std::max(a.shape.rank, b.shape.rank);
  if (out.shape.rank != rank) {
    return Status::Error(StatusCode::kInvalidArgument, "output tensor %d: rank %d, expected %d",
                         ctx.output_index(0), out.shape.rank, rank);
  }
  for (int i = 0; i < rank; ++i) {
    const int ia = i - (rank - a.shape.rank), ib = i - (rank - b.shape.rank);
    const int32_t da = ia >= 0 ? a.shape.dims[ia] : 1, db = ib >= 0 ? b.shape.dims[ib] : 1;
    if (da != db && da != 1 && db != 1) {
      return Status::Error(StatusCode::kInvalidArgument, "dimension %d: %d and %d do not broadcast", i, da, db);
    }
    if (out.shape.dims[i] != std::max(da, db)) {
      return Status::Error(StatusCode::kInvalidArgument, "output tensor %d: dimension %d is %d, expected %d",
                           ctx.output_index(0), i, out.shape.dims[i], std::max(da, db));
    }
  }
  return Status::Ok();
}

Status CommonChecks(PrepareContext& ctx, const TensorSpec** a, const TensorSpec** b, const TensorSpec** out) {
  TRIAGE_RETURN_IF_ERROR(ExpectCounts(ctx, 2, 2, 1));
  TRIAGE_RETURN_IF_ERROR(RequireInput(ctx, 0, a));
  TRIAGE_RETURN_IF_ERROR(RequireInput(ctx, 1, b));
  TRIAGE_RETURN_IF_ERROR(RequireOutput(ctx, 0, out));
  const DataType type = (*a)->type;
  if (type != DataType::kFloat32 && !IsQuantized8(type)) {
    return Status::Error(StatusCode::kUnsupported, "input tensor %d: type %s unsupported", ctx.input_index(0),
                         kernels::DataTypeName(type));
  }
  TRIAGE_RETURN_IF_ERROR(ExpectType(ctx, **b, ctx.input_index(1), "input", type));
  TRIAGE_RETURN_IF_ERROR(ExpectType(ctx, **out, ctx.output_index(0), "output", type));
  TRIAGE_RETURN_IF_ERROR(CheckBroadcast(ctx, **a, **b, **out));
  if (type != DataType::kFloat32) {
    TRIAGE_RETURN_IF_ERROR(ExpectPerTensorQuant(**a, ctx.input_index(0), "input"));
    TRIAGE_RETURN_IF_ERROR(ExpectPerTensorQuant(**b, ctx.input_index(1), "input"));
    TRIAGE_RETURN_IF_ERROR(ExpectPerTensorQuant(**out, ctx.output_index(0), "output"));
  }
  return Status::Ok();
}

Status PrepareAdd(PrepareContext& ctx) {
  const auto* o = Options<tflite::AddOptions>(ctx);
  kernels::Activation act = kernels::Activation::kNone;
  if (o) TRIAGE_RETURN_IF_ERROR(ActivationFrom(o->fused_activation_function(), &act));
  const TensorSpec *a, *b, *out;
  TRIAGE_RETURN_IF_ERROR(CommonChecks(ctx, &a, &b, &out));
  AddData* data = nullptr;
  TRIAGE_RETURN_IF_ERROR(NewOpData(ctx, &data));
  data->type = a->type;
  kernels::AddParams& p = data->params;
  if (a->type == DataType::kFloat32) {
    p.frange = kernels::ActivationRangeFloat(act);
    return Status::Ok();
  }
  const float s1 = a->quant.scales[0], s2 = b->quant.scales[0], so = out->quant.scales[0];
  p.input1_offset = -static_cast<int32_t>(a->quant.zero_points[0]);
  p.input2_offset = -static_cast<int32_t>(b->quant.zero_points[0]);
  p.output_offset = static_cast<int32_t>(out->quant.zero_points[0]);
  p.left_shift = 20;
  // Same expression types as TFLite's add.cc (float products, double ratios).
  const double twice_max_input_scale = 2 * std::max(s1, s2);
  const double real1 = s1 / twice_max_input_scale;
  const double real2 = s2 / twice_max_input_scale;
  const double real_out = twice_max_input_scale / ((1 << p.left_shift) * so);
  TRIAGE_RETURN_IF_ERROR(CheckedMultiplier(real1, &p.input1_multiplier, &p.input1_shift));
  TRIAGE_RETURN_IF_ERROR(CheckedMultiplier(real2, &p.input2_multiplier, &p.input2_shift));
  TRIAGE_RETURN_IF_ERROR(CheckedMultiplier(real_out, &p.output_multiplier, &p.output_shift));
  if (p.input1_shift > 0 || p.input2_shift > 0 || p.output_shift > 0) {
    return Status::Error(StatusCode::kUnsupported, "output scale %g too small relative to input scales",
                         static_cast<double>(so));
  }
  p.qrange = QuantizedActivationRange(act, *out);
  p.parallel = ctx.parallel();
  return Status::Ok();
}

Status EvalAdd(const EvalContext& ctx) {
  const auto& d = ctx.data<AddData>();
  const RuntimeTensor &a = ctx.input(0), &b = ctx.input(1), &o = ctx.output(0);
  switch (d.type) {
    case DataType::kFloat32:
      ctx.kernels().add_float(d.params, a.shape, a.As<float>(), b.shape, b.As<float>(), o.shape, o.As<float>());
      break;
    case DataType::kUint8:
      ctx.kernels().add_uint8(d.params, a.shape, a.As<uint8_t>(), b.shape, b.As<uint8_t>(), o.shape,
                              o.As<uint8_t>());
      break;
    case DataType::kInt8:
      ctx.kernels().add_int8(d.params, a.shape, a.As<int8_t>(), b.shape, b.As<int8_t>(), o.shape, o.As<int8_t>());
      break;
    default: return Status::Error(StatusCode::kInternal, "unexpected type");
  }
  return Status::Ok();
}

Status PrepareMul(PrepareContext& ctx) {
  const auto* o = Options<tflite::MulOptions>(ctx);
  kernels::Activation act = kernels::Activation::kNone;
  if (o) TRIAGE_RETURN_IF_ERROR(ActivationFrom(o->fused_activation_function(), &act));
  const TensorSpec *a, *b, *out;
  TRIAGE_RETURN_IF_ERROR(CommonChecks(ctx, &a, &b, &out));
  MulData* data = nullptr;
  TRIAGE_RETURN_IF_ERROR(NewOpData(ctx, &data));
  data->type = a->type;
  kernels::MulParams& p = data->params;
  if (a->type == DataType::kFloat32) {
    p.frange = kernels::ActivationRangeFloat(act);
    return Status::Ok();
  }
  p.input1_offset = -static_cast<int32_t>(a->quant.zero_points[0]);
  p.input2_offset = -static_cast<int32_t>(b->quant.zero_points[0]);
  p.output_offset = static_cast<int32_t>(out->quant.zero_points[0]);
  const double real = static_cast<double>(a->quant.scales[0]) * static_cast<double>(b->quant.scales[0]) /
                      static_cast<double>(out->quant.scales[0]);
  TRIAGE_RETURN_IF_ERROR(CheckedMultiplier(real, &p.output_multiplier, &p.output_shift));
  p.qrange = QuantizedActivationRange(act, *out);
  return Status::Ok();
}

Status EvalMul(const EvalContext& ctx) {
  const auto& d = ctx.data<MulData>();
  const RuntimeTensor &a = ctx.input(0), &b = ctx.input(1), &o = ctx.output(0);
  switch (d.type) {
    case DataType::kFloat32:
      ctx.kernels().mul_float(d.params, a.shape, a.As<float>(), b.shape, b.As<float>(), o.shape, o.As<float>());
      break;
    case DataType::kUint8:
      ctx.kernels().mul_uint8(d.params, a.shape, a.As<uint8_t>(), b.shape, b.As<uint8_t>(), o.shape,
                              o.As<uint8_t>());
      break;
    case DataType::kInt8:
      ctx.kernels().mul_int8(d.params, a.shape, a.As<int8_t>(), b.shape, b.As<int8_t>(), o.shape, o.As<int8_t>());
      break;
    default: return Status::Error(StatusCode::kInternal, "unexpected type");
  }
  return Status::Ok();
}

}  // namespace
}  // namespace triage::inference::ops

namespace triage::inference {
const OpRegistration& RegisterAdd() {
  static const OpRegistration r{static_cast<int32_t>(BuiltinOp::kAdd), "ADD", 1, 4, &ops::PrepareAdd,
                                &ops::EvalAdd};
  return r;
}
const OpRegistration& RegisterMul() {
  static const OpRegistration r{static_cast<int32_t>(BuiltinOp::kMul), "MUL", 1, 5, &ops::PrepareMul,
                                &ops::EvalMul};
  return r;
}
}  // namespace triage::inference
