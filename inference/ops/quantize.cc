// QUANTIZE (float -> int8/uint8/int16, and 8-bit requantization) and
// DEQUANTIZE (int8/uint8/int16 -> float) glue.
#include "inference/ops/op_util.h"
#include "kernels/reference/elementwise.h"

namespace triage::inference::ops {
namespace {

struct QuantizeData {
  DataType in_type, out_type;
  int64_t size;
  double scale;         // output scale (quantize) or input scale (dequantize)
  int32_t zero_point;
  kernels::RequantizeParams requant;
};

Status PrepareCommon(PrepareContext& ctx, const TensorSpec** in, const TensorSpec** out, QuantizeData** data) {
  TRIAGE_RETURN_IF_ERROR(ExpectCounts(ctx, 1, 1, 1));
  TRIAGE_RETURN_IF_ERROR(RequireInput(ctx, 0, in));
  TRIAGE_RETURN_IF_ERROR(RequireOutput(ctx, 0, out));
  TRIAGE_RETURN_IF_ERROR(ExpectSameShape(**in, ctx.input_index(0), **out, ctx.output_index(0)));
  *data = ctx.AllocateOpData<QuantizeData>();
  if (!*data) return Status::Error(StatusCode::kResourceExhausted, "cannot allocate op data");
  ctx.SetOpData(*data);
  (*data)->in_type = (*in)->type;
  (*data)->out_type = (*out)->type;
  (*data)->size = (*in)->shape.FlatSize();
  return Status::Ok();
}

Status PrepareQuantize(PrepareContext& ctx) {
  const TensorSpec *in, *out;
  QuantizeData* d;
  TRIAGE_RETURN_IF_ERROR(PrepareCommon(ctx, &in, &out, &d));
  const int ii = ctx.input_index(0), oi = ctx.output_index(0);
  TRIAGE_RETURN_IF_ERROR(ExpectPerTensorQuant(*out, oi, "output"));
  d->scale = out->quant.scales[0];
  d->zero_point = static_cast<int32_t>(out->quant.zero_points[0]);
  if (in->type == DataType::kFloat32) {
    if (!IsQuantized8(out->type) && out->type != DataType::kInt16) {
      return Status::Error(StatusCode::kUnsupported, "output tensor %d: type %s unsupported", oi,
                           kernels::DataTypeName(out->type));
    }
    return Status::Ok();
  }
  if (!IsQuantized8(in->type) || !IsQuantized8(out->type)) {
    return Status::Error(StatusCode::kUnsupported, "requantize %s -> %s unsupported", kernels::DataTypeName(in->type),
                         kernels::DataTypeName(out->type));
  }
  TRIAGE_RETURN_IF_ERROR(ExpectPerTensorQuant(*in, ii, "input"));
  kernels::RequantizeParams& r = d->requant;
  r.input_zero_point = static_cast<int32_t>(in->quant.zero_points[0]);
  r.output_zero_point = d->zero_point;
  const double real = static_cast<double>(in->quant.scales[0]) / static_cast<double>(out->quant.scales[0]);
  TRIAGE_RETURN_IF_ERROR(CheckedMultiplier(real, &r.multiplier, &r.shift));
  r.qrange = out->type == DataType::kUint8 ? kernels::QuantizedRange{0, 255} : kernels::QuantizedRange{-128, 127};
  return Status::Ok();
}

Status EvalQuantize(const EvalContext& ctx) {
  const auto& d = ctx.data<QuantizeData>();
  const RuntimeTensor &in = ctx.input(0), &out = ctx.output(0);
  namespace ref = kernels::reference;
  if (d.in_type == DataType::kFloat32) {
    switch (d.out_type) {
      case DataType::kUint8: ref::AffineQuantize(d.scale, d.zero_point, d.size, in.As<float>(), out.As<uint8_t>()); break;
      case DataType::kInt8: ref::AffineQuantize(d.scale, d.zero_point, d.size, in.As<float>(), out.As<int8_t>()); break;
      case DataType::kInt16: ref::AffineQuantize(d.scale, d.zero_point, d.size, in.As<float>(), out.As<int16_t>()); break;
      default: return Status::Error(StatusCode::kInternal, "unexpected type");
    }
    return Status::Ok();
  }
  const bool in_u8 = d.in_type == DataType::kUint8, out_u8 = d.out_type == DataType::kUint8;
  if (in_u8 && out_u8) ref::Requantize(d.requant, d.size, in.As<uint8_t>(), out.As<uint8_t>());
  if (in_u8 && !out_u8) ref::Requantize(d.requant, d.size, in.As<uint8_t>(), out.As<int8_t>());
  if (!in_u8 && out_u8) ref::Requantize(d.requant, d.size, in.As<int8_t>(), out.As<uint8_t>());
  if (!in_u8 && !out_u8) ref::Requantize(d.requant, d.size, in.As<int8_t>(), out.As<int8_t>());
  return Status::Ok();
}

Status PrepareDequantize(PrepareContext& ctx) {
  const TensorSpec *in, *out;
  QuantizeData* d;
  TRIAGE_RETURN_IF_ERROR(PrepareCommon(ctx, &in, &out, &d));
  const int ii = ctx.input_index(0), oi = ctx.output_index(0);
  TRIAGE_RETURN_IF_ERROR(ExpectType(ctx, *out, oi, "output", DataType::kFloat32));
  if (!IsQuantized8(in->type) && in->type != DataType::kInt16) {
    return Status::Error(StatusCode::kUnsupported, "input tensor %d: type %s unsupported", ii,
                         kernels::DataTypeName(in->type));
  }
  TRIAGE_RETURN_IF_ERROR(ExpectPerTensorQuant(*in, ii, "input"));
  d->scale = in->quant.scales[0];
  d->zero_point = static_cast<int32_t>(in->quant.zero_points[0]);
  return Status::Ok();
}

Status EvalDequantize(const EvalContext& ctx) {
  const auto& d = ctx.data<QuantizeData>();
  const RuntimeTensor &in = ctx.input(0), &out = ctx.output(0);
  namespace ref = kernels::reference;
  switch (d.in_type) {
    case DataType::kUint8: ref::Dequantize(d.scale, d.zero_point, d.size, in.As<uint8_t>(), out.As<float>()); break;
    case DataType::kInt8: ref::Dequantize(d.scale, d.zero_point, d.size, in.As<int8_t>(), out.As<float>()); break;
    case DataType::kInt16: ref::Dequantize(d.scale, d.zero_point, d.size, in.As<int16_t>(), out.As<float>()); break;
    default: return Status::Error(StatusCode::kInternal, "unexpected type");
  }
  return Status::Ok();
}

}  // namespace
}  // namespace triage::inference::ops

namespace triage::inference {
const OpRegistration& RegisterQuantize() {
  static const OpRegistration r{static_cast<int32_t>(BuiltinOp::kQuantize), "QUANTIZE", 1, 3,
                                &ops::PrepareQuantize, &ops::EvalQuantize};
  return r;
}
const OpRegistration& RegisterDequantize() {
  static const OpRegistration r{static_cast<int32_t>(BuiltinOp::kDequantize), "DEQUANTIZE", 1, 4,
                                &ops::PrepareDequantize, &ops::EvalDequantize};
  return r;
}
}  // namespace triage::inference
