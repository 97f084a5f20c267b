// RESHAPE, SQUEEZE, CONCATENATION, PAD and MEAN glue.
#include <cstring>

#include "inference/ops/op_util.h"
#include "kernels/reference/data_movement.h"

namespace triage::inference::ops {
namespace {

// ---- RESHAPE / SQUEEZE: same bytes, new shape (taken from the model).
struct CopyData {
  size_t bytes;
};

Status PrepareReshapeLike(PrepareContext& ctx, int max_inputs) {
  TRIAGE_RETURN_IF_ERROR(ExpectCounts(ctx, 1, max_inputs, 1));
  const TensorSpec *in, *out;
  TRIAGE_RETURN_IF_ERROR(RequireInput(ctx, 0, &in));
  TRIAGE_RETURN_IF_ERROR(RequireOutput(ctx, 0, &out));
  TRIAGE_RETURN_IF_ERROR(ExpectType(ctx, *out, ctx.output_index(0), "output", in->type));
  if (in->bytes != out->bytes) {
    return Status::Error(StatusCode::kInvalidArgument, "input tensor %d has %zu bytes but output tensor %d has %zu",
                         ctx.input_index(0), in->bytes, ctx.output_index(0), out->bytes);
  }
  auto* d = ctx.AllocateOpData<CopyData>();
  if (!d) return Status::Error(StatusCode::kResourceExhausted, "cannot allocate op data");
  d->bytes = in->bytes;
  ctx.SetOpData(d);
  return Status::Ok();
}
Status PrepareReshape(PrepareContext& ctx) { return PrepareReshapeLike(ctx, 2); }
Status PrepareSqueeze(PrepareContext& ctx) { return PrepareReshapeLike(ctx, 1); }

Status EvalCopy(const EvalContext& ctx) {
  kernels::reference::Copy(ctx.data<CopyData>().bytes, ctx.input(0).data, ctx.output(0).data);
  return Status::Ok();
}

// ---- CONCATENATION
struct ConcatData {
  kernels::ConcatParams params;
  int num_inputs;
  kernels::ConcatInput* inputs;  // data pointers refreshed at Eval
};

Status PrepareConcat(PrepareContext& ctx) {
  const auto* o = Options<tflite::ConcatenationOptions>(ctx);
  if (!o) return Status::Error(StatusCode::kInvalidArgument, "missing ConcatenationOptions");
  if (o->fused_activation_function() != tflite::ActivationFunctionType::NONE) {
    return Status::Error(StatusCode::kUnsupported, "fused activation on CONCATENATION unsupported");
  }
  if (ctx.num_inputs() < 1 || ctx.num_outputs() != 1) {
    return Status::Error(StatusCode::kInvalidArgument, "expected >= 1 inputs and 1 output");
  }
  const TensorSpec* out;
  TRIAGE_RETURN_IF_ERROR(RequireOutput(ctx, 0, &out));
  const int rank = out->shape.rank;
  int axis = o->axis();
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) {
    return Status::Error(StatusCode::kInvalidArgument, "axis %d outside rank %d", o->axis(), rank);
  }
  int64_t axis_sum = 0;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const TensorSpec* in;
    TRIAGE_RETURN_IF_ERROR(RequireInput(ctx, i, &in));
    TRIAGE_RETURN_IF_ERROR(ExpectType(ctx, *in, ctx.input_index(i), "input", out->type));
    TRIAGE_RETURN_IF_ERROR(ExpectRank(*in, ctx.input_index(i), "input", rank));
    for (int dim = 0; dim < rank; ++dim) {
      if (dim != axis && in->shape.dims[dim] != out->shape.dims[dim]) {
        return Status::Error(StatusCode::kInvalidArgument, "input tensor %d: dimension %d is %d, output has %d",
                             ctx.input_index(i), dim, in->shape.dims[dim], out->shape.dims[dim]);
      }
    }
    axis_sum += in->shape.dims[axis];
    if (IsQuantized8(out->type)) TRIAGE_RETURN_IF_ERROR(ExpectPerTensorQuant(*in, ctx.input_index(i), "input"));
  }
  if (axis_sum != out->shape.dims[axis]) {
    return Status::Error(StatusCode::kInvalidArgument, "inputs sum to %lld along axis %d, output has %d",
                         static_cast<long long>(axis_sum), axis, out->shape.dims[axis]);
  }
  auto* d = ctx.AllocateOpData<ConcatData>();
  auto* inputs = ctx.AllocateOpData<kernels::ConcatInput>(static_cast<size_t>(ctx.num_inputs()));
  if (!d || !inputs) return Status::Error(StatusCode::kResourceExhausted, "cannot allocate op data");
  ctx.SetOpData(d);
  d->num_inputs = ctx.num_inputs();
  d->inputs = inputs;
  d->params.axis = axis;
  d->params.element_size = kernels::DataTypeSize(out->type);
  if (IsQuantized8(out->type)) {
    TRIAGE_RETURN_IF_ERROR(ExpectPerTensorQuant(*out, ctx.output_index(0), "output"));
    d->params.requantize = true;
    d->params.is_signed = out->type == DataType::kInt8;
    d->params.output_scale = out->quant.scales[0];
    d->params.output_zero_point = static_cast<int32_t>(out->quant.zero_points[0]);
  }
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const TensorSpec* in = ctx.input(i);
    inputs[i].shape = in->shape;
    inputs[i].scale = in->quant.scales.empty() ? 0.0f : in->quant.scales[0];
    inputs[i].zero_point = in->quant.scales.empty() ? 0 : static_cast<int32_t>(in->quant.zero_points[0]);
  }
  return Status::Ok();
}

Status EvalConcat(const EvalContext& ctx) {
  auto* d = static_cast<ConcatData*>(ctx.op_data());
  for (int i = 0; i < d->num_inputs; ++i) d->inputs[i].data = ctx.input(i).data;
  kernels::reference::Concatenation(d->params, d->inputs, d->num_inputs, ctx.output(0).shape, ctx.output(0).data);
  return Status::Ok();
}

// ---- PAD
struct PadData {
  kernels::PadParams params;
  Shape in4, out4;
};

Status PreparePad(PrepareContext& ctx) {
  TRIAGE_RETURN_IF_ERROR(ExpectCounts(ctx, 2, 2, 1));
  const TensorSpec *in, *paddings, *out;
  TRIAGE_RETURN_IF_ERROR(RequireInput(ctx, 0, &in));
  TRIAGE_RETURN_IF_ERROR(RequireInput(ctx, 1, &paddings));
  TRIAGE_RETURN_IF_ERROR(RequireOutput(ctx, 0, &out));
  const int pi = ctx.input_index(1), oi = ctx.output_index(0);
  TRIAGE_RETURN_IF_ERROR(ExpectType(ctx, *out, oi, "output", in->type));
  TRIAGE_RETURN_IF_ERROR(ExpectConstant(*paddings, pi, "paddings"));
  TRIAGE_RETURN_IF_ERROR(ExpectType(ctx, *paddings, pi, "paddings", DataType::kInt32));
  const int rank = in->shape.rank;
  if (rank > 4 || out->shape.rank != rank) {
    return Status::Error(StatusCode::kUnsupported, "PAD supports rank <= 4 with equal input/output rank");
  }
  if (paddings->shape.rank != 2 || paddings->shape.dims[0] != rank || paddings->shape.dims[1] != 2) {
    return Status::Error(StatusCode::kInvalidArgument, "paddings tensor %d: shape must be [%d, 2]", pi, rank);
  }
  PadData* d = nullptr;
  TRIAGE_RETURN_IF_ERROR(NewOpData(ctx, &d));
  int32_t pads[8];
  std::memcpy(pads, paddings->data, sizeof(int32_t) * 2 * static_cast<size_t>(rank));
  const int offset = 4 - rank;
  for (int i = 0; i < rank; ++i) {
    const int32_t before = pads[2 * i], after = pads[2 * i + 1];
    if (before < 0 || after < 0 || static_cast<int64_t>(in->shape.dims[i]) + before + after != out->shape.dims[i]) {
      return Status::Error(StatusCode::kInvalidArgument,
                           "dimension %d: %d + pad %d/%d does not give output %d", i, in->shape.dims[i], before,
                           after, out->shape.dims[i]);
    }
    d->params.before[offset + i] = before;
    d->params.after[offset + i] = after;
  }
  d->in4 = kernels::ExtendTo4D(in->shape);
  d->out4 = kernels::ExtendTo4D(out->shape);
  d->params.element_size = kernels::DataTypeSize(in->type);
  d->params.pad_value_bits = 0;
  if (IsQuantized8(in->type)) {
    TRIAGE_RETURN_IF_ERROR(ExpectPerTensorQuant(*out, oi, "output"));
    TRIAGE_RETURN_IF_ERROR(ExpectPerTensorQuant(*in, ctx.input_index(0), "input"));
    if (in->quant.scales[0] != out->quant.scales[0] || in->quant.zero_points[0] != out->quant.zero_points[0]) {
      return Status::Error(StatusCode::kUnsupported, "PAD input and output quantization must match");
    }
    const uint8_t zp = static_cast<uint8_t>(out->quant.zero_points[0]);
    std::memcpy(&d->params.pad_value_bits, &zp, 1);
  } else if (in->type != DataType::kFloat32 && in->type != DataType::kInt32) {
    return Status::Error(StatusCode::kUnsupported, "PAD type %s unsupported", kernels::DataTypeName(in->type));
  }
  return Status::Ok();
}

Status EvalPad(const EvalContext& ctx) {
  const auto& d = ctx.data<PadData>();
  kernels::reference::Pad(d.params, d.in4, ctx.input(0).data, d.out4, ctx.output(0).data);
  return Status::Ok();
}

// ---- MEAN
struct MeanData {
  DataType type;
  kernels::MeanParams params;
};

Status PrepareMean(PrepareContext& ctx) {
  TRIAGE_RETURN_IF_ERROR(ExpectCounts(ctx, 2, 2, 1));
  const TensorSpec *in, *axis, *out;
  TRIAGE_RETURN_IF_ERROR(RequireInput(ctx, 0, &in));
  TRIAGE_RETURN_IF_ERROR(RequireInput(ctx, 1, &axis));
  TRIAGE_RETURN_IF_ERROR(RequireOutput(ctx, 0, &out));
  const int ii = ctx.input_index(0), ai = ctx.input_index(1), oi = ctx.output_index(0);
  TRIAGE_RETURN_IF_ERROR(ExpectType(ctx, *out, oi, "output", in->type));
  TRIAGE_RETURN_IF_ERROR(ExpectConstant(*axis, ai, "axis"));
  TRIAGE_RETURN_IF_ERROR(ExpectType(ctx, *axis, ai, "axis", DataType::kInt32));
  const auto* o = Options<tflite::ReducerOptions>(ctx);
  const bool keep_dims = o ? o->keep_dims() : false;
  MeanData* d = nullptr;
  TRIAGE_RETURN_IF_ERROR(NewOpData(ctx, &d));
  d->type = in->type;
  const int rank = in->shape.rank;
  const int64_t n_axes = axis->shape.FlatSize();
  for (int64_t k = 0; k < n_axes; ++k) {
    int32_t a;
    std::memcpy(&a, axis->data + k * 4, 4);
    if (a < 0) a += rank;
    if (a < 0 || a >= rank) {
      return Status::Error(StatusCode::kInvalidArgument, "axis tensor %d: axis %lld outside rank %d", ai,
                           static_cast<long long>(k), rank);
    }
    d->params.reduce_axis[a] = true;
  }
  // Expected output shape.
  Shape expected;
  for (int i = 0; i < rank; ++i) {
    if (!d->params.reduce_axis[i]) {
      expected.dims[expected.rank++] = in->shape.dims[i];
    } else if (keep_dims) {
      expected.dims[expected.rank++] = 1;
    }
  }
  if (expected.FlatSize() != out->shape.FlatSize() || (keep_dims && expected != out->shape)) {
    return Status::Error(StatusCode::kInvalidArgument, "output tensor %d: shape does not match the reduction", oi);
  }
  if (in->type == DataType::kFloat32) return Status::Ok();
  const bool spatial = rank == 4 && d->params.reduce_axis[1] && d->params.reduce_axis[2] &&
                       !d->params.reduce_axis[0] && !d->params.reduce_axis[3];
  if (!IsQuantized8(in->type) || !spatial) {
    return Status::Error(StatusCode::kUnsupported,
                         "quantized MEAN supports only int8/uint8 reduction over axes {1, 2} of a 4-D tensor");
  }
  TRIAGE_RETURN_IF_ERROR(ExpectPerTensorQuant(*in, ii, "input"));
  TRIAGE_RETURN_IF_ERROR(ExpectPerTensorQuant(*out, oi, "output"));
  TRIAGE_RETURN_IF_ERROR(
      CheckAccumulator(static_cast<int64_t>(in->shape.dims[1]) * in->shape.dims[2], 255, nullptr, -1));
  kernels::MeanParams& p = d->params;
  p.input_scale = in->quant.scales[0];
  p.output_scale = out->quant.scales[0];
  p.input_zero_point = static_cast<int32_t>(in->quant.zero_points[0]);
  p.output_zero_point = static_cast<int32_t>(out->quant.zero_points[0]);
  TRIAGE_RETURN_IF_ERROR(CheckedMultiplier(static_cast<double>(p.input_scale) / static_cast<double>(p.output_scale),
                                           &p.multiplier, &p.shift));
  // uint8 folds the element count into its own multiplier and bias.
  if (in->type == DataType::kUint8) kernels::reference::PrepareMeanUint8HW(p, in->shape.dims[1] * in->shape.dims[2]);
  return Status::Ok();
}

Status EvalMean(const EvalContext& ctx) {
  const auto& d = ctx.data<MeanData>();
  const RuntimeTensor &in = ctx.input(0), &out = ctx.output(0);
  switch (d.type) {
    case DataType::kFloat32: kernels::reference::MeanFloat(d.params, in.shape, in.As<float>(), out.As<float>()); break;
    case DataType::kInt8: kernels::reference::MeanInt8HW(d.params, in.shape, in.As<int8_t>(), out.As<int8_t>()); break;
    case DataType::kUint8:
      kernels::reference::MeanUint8HW(d.params, in.shape, in.As<uint8_t>(), out.As<uint8_t>());
      break;
    default: return Status::Error(StatusCode::kInternal, "unexpected type");
  }
  return Status::Ok();
}

}  // namespace
}  // namespace triage::inference::ops

namespace triage::inference {
const OpRegistration& RegisterReshape() {
  static const OpRegistration r{static_cast<int32_t>(BuiltinOp::kReshape), "RESHAPE", 1, 2, &ops::PrepareReshape,
                                &ops::EvalCopy};
  return r;
}
const OpRegistration& RegisterSqueeze() {
  static const OpRegistration r{static_cast<int32_t>(BuiltinOp::kSqueeze), "SQUEEZE", 1, 2, &ops::PrepareSqueeze,
                                &ops::EvalCopy};
  return r;
}
const OpRegistration& RegisterConcatenation() {
  static const OpRegistration r{static_cast<int32_t>(BuiltinOp::kConcatenation), "CONCATENATION", 1, 4,
                                &ops::PrepareConcat, &ops::EvalConcat};
  return r;
}
const OpRegistration& RegisterPad() {
  static const OpRegistration r{static_cast<int32_t>(BuiltinOp::kPad), "PAD", 1, 4, &ops::PreparePad, &ops::EvalPad};
  return r;
}
const OpRegistration& RegisterMean() {
  static const OpRegistration r{static_cast<int32_t>(BuiltinOp::kMean), "MEAN", 1, 3, &ops::PrepareMean,
                                &ops::EvalMean};
  return r;
}
}  // namespace triage::inference
