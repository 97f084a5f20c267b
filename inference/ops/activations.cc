// RELU, RELU6, RELU_N1_TO_1, LOGISTIC, TANH and HARD_SWISH glue.
//
// 8-bit RELU-family ops requantize into the clamped range (TFLite's ReluX).
// 8-bit LOGISTIC, TANH and HARD_SWISH use a 256-entry table built at Prepare
// from the float function, as TensorFlow Lite's uint8/int8 kernels do.
#include <cmath>
#include <limits>
#include <functional>

#include "inference/ops/op_util.h"
#include "kernels/reference/elementwise.h"

namespace triage::inference::ops {
namespace {

enum class Kind { kRelu, kRelu6, kReluN1To1, kLogistic, kTanh, kHardSwish };

struct ActData {
  DataType type;
  Kind kind;
  int64_t size;
  kernels::FloatRange frange;
  kernels::RequantizeParams requant;
  uint8_t table[256];
};

float Apply(Kind kind, float x) {
  switch (kind) {
    case Kind::kLogistic: return 1.0f / (1.0f + std::exp(-x));
    case Kind::kTanh: return std::tanh(x);
    case Kind::kHardSwish: return x * std::min(6.0f, std::max(0.0f, x + 3.0f)) / 6.0f;
    default: return x;
  }
}

template <typename T>
void BuildTable(Kind kind, const TensorSpec& in, const TensorSpec& out, uint8_t* table) {
  const float in_scale = in.quant.scales[0], out_scale = out.quant.scales[0];
  const int32_t in_zp = static_cast<int32_t>(in.quant.zero_points[0]);
  const int32_t out_zp = static_cast<int32_t>(out.quant.zero_points[0]);
  const float inverse_scale = 1.0f / out_scale;
  for (int32_t v = kernels::QMin<T>(); v <= kernels::QMax<T>(); ++v) {
    const float dequantized = in_scale * static_cast<float>(v - in_zp);
    const float rescaled = std::round(Apply(kind, dequantized) * inverse_scale);
    // TFLite converts with a plain cast, undefined outside int32; x86's
    // conversion gives INT32_MIN there (and for NaN), which is what a
    // hostile scale gets here too, defined on every target.
    const float shifted = rescaled + static_cast<float>(out_zp);
    const int32_t q = shifted >= -2147483648.0f && shifted < 2147483648.0f ? static_cast<int32_t>(shifted)
                                                                           : std::numeric_limits<int32_t>::min();
    table[static_cast<uint8_t>(static_cast<T>(v))] =
        static_cast<uint8_t>(static_cast<T>(kernels::Clamp(q, kernels::QMin<T>(), kernels::QMax<T>())));
  }
}

Status PrepareKind(PrepareContext& ctx, Kind kind) {
  TRIAGE_RETURN_IF_ERROR(ExpectCounts(ctx, 1, 1, 1));
  const TensorSpec *in, *out;
  TRIAGE_RETURN_IF_ERROR(RequireInput(ctx, 0, &in));
  TRIAGE_RETURN_IF_ERROR(RequireOutput(ctx, 0, &out));
  const int ii = ctx.input_index(0), oi = ctx.output_index(0);
  TRIAGE_RETURN_IF_ERROR(ExpectType(ctx, *out, oi, "output", in->type));
  TRIAGE_RETURN_IF_ERROR(ExpectSameShape(*in, ii, *out, oi));
  if (in->type != DataType::kFloat32 && !IsQuantized8(in->type)) {
    return Status::Error(StatusCode::kUnsupported, "input tensor %d: type %s unsupported", ii,
                         kernels::DataTypeName(in->type));
  }
  ActData* data = nullptr;
  TRIAGE_RETURN_IF_ERROR(NewOpData(ctx, &data));
  data->type = in->type;
  data->kind = kind;
  data->size = in->shape.FlatSize();
  const kernels::Activation act = kind == Kind::kRelu6       ? kernels::Activation::kRelu6
                                  : kind == Kind::kReluN1To1 ? kernels::Activation::kReluN1To1
                                                             : kernels::Activation::kRelu;
  if (in->type == DataType::kFloat32) {
    data->frange = kernels::ActivationRangeFloat(act);
    return Status::Ok();
  }
  TRIAGE_RETURN_IF_ERROR(ExpectPerTensorQuant(*in, ii, "input"));
  TRIAGE_RETURN_IF_ERROR(ExpectPerTensorQuant(*out, oi, "output"));
  if (kind == Kind::kRelu || kind == Kind::kRelu6 || kind == Kind::kReluN1To1) {
    kernels::RequantizeParams& r = data->requant;
    r.input_zero_point = static_cast<int32_t>(in->quant.zero_points[0]);
    r.output_zero_point = static_cast<int32_t>(out->quant.zero_points[0]);
    const double real = static_cast<double>(in->quant.scales[0] / out->quant.scales[0]);
    TRIAGE_RETURN_IF_ERROR(CheckedMultiplier(real, &r.multiplier, &r.shift));
    r.qrange = QuantizedActivationRange(act, *out);
  } else if (in->type == DataType::kUint8) {
    BuildTable<uint8_t>(kind, *in, *out, data->table);
  } else {
    BuildTable<int8_t>(kind, *in, *out, data->table);
  }
  return Status::Ok();
}

Status Eval(const EvalContext& ctx) {
  const auto& d = ctx.data<ActData>();
  const RuntimeTensor &in = ctx.input(0), &out = ctx.output(0);
  const bool relu_family = d.kind == Kind::kRelu || d.kind == Kind::kRelu6 || d.kind == Kind::kReluN1To1;
  if (d.type == DataType::kFloat32) {
    if (relu_family) {
      kernels::reference::ClampFloat(d.frange, d.size, in.As<float>(), out.As<float>());
    } else if (d.kind == Kind::kLogistic) {
      kernels::reference::LogisticFloat(d.size, in.As<float>(), out.As<float>());
    } else if (d.kind == Kind::kTanh) {
      kernels::reference::TanhFloat(d.size, in.As<float>(), out.As<float>());
    } else {
      kernels::reference::HardSwishFloat(d.size, in.As<float>(), out.As<float>());
    }
  } else if (relu_family) {
    if (d.type == DataType::kUint8) {
      kernels::reference::Requantize(d.requant, d.size, in.As<uint8_t>(), out.As<uint8_t>());
    } else {
      kernels::reference::Requantize(d.requant, d.size, in.As<int8_t>(), out.As<int8_t>());
    }
  } else {
    kernels::reference::Lookup8(d.table, d.size, in.As<uint8_t>(), out.As<uint8_t>());
  }
  return Status::Ok();
}

Status PrepareRelu(PrepareContext& ctx) { return PrepareKind(ctx, Kind::kRelu); }
Status PrepareRelu6(PrepareContext& ctx) { return PrepareKind(ctx, Kind::kRelu6); }
Status PrepareReluN1To1(PrepareContext& ctx) { return PrepareKind(ctx, Kind::kReluN1To1); }
Status PrepareLogistic(PrepareContext& ctx) { return PrepareKind(ctx, Kind::kLogistic); }
Status PrepareTanh(PrepareContext& ctx) { return PrepareKind(ctx, Kind::kTanh); }
Status PrepareHardSwish(PrepareContext& ctx) { return PrepareKind(ctx, Kind::kHardSwish); }

}  // namespace
}  // namespace triage::inference::ops

namespace triage::inference {
const OpRegistration& RegisterRelu() {
  static const OpRegistration r{static_cast<int32_t>(BuiltinOp::kRelu), "RELU", 1, 3, &ops::PrepareRelu, &ops::Eval};
  return r;
}
const OpRegistration& RegisterRelu6() {
  static const OpRegistration r{static_cast<int32_t>(BuiltinOp::kRelu6), "RELU6", 1, 3, &ops::PrepareRelu6, &ops::Eval};
  return r;
}
const OpRegistration& RegisterReluN1To1() {
  static const OpRegistration r{static_cast<int32_t>(BuiltinOp::kReluN1To1), "RELU_N1_TO_1", 1, 2, &ops::PrepareReluN1To1, &ops::Eval};
  return r;
}
const OpRegistration& RegisterLogistic() {
  static const OpRegistration r{static_cast<int32_t>(BuiltinOp::kLogistic), "LOGISTIC", 1, 3, &ops::PrepareLogistic, &ops::Eval};
  return r;
}
const OpRegistration& RegisterTanh() {
  static const OpRegistration r{static_cast<int32_t>(BuiltinOp::kTanh), "TANH", 1, 3, &ops::PrepareTanh, &ops::Eval};
  return r;
}
const OpRegistration& RegisterHardSwish() {
  static const OpRegistration r{static_cast<int32_t>(BuiltinOp::kHardSwish), "HARD_SWISH", 1, 1, &ops::PrepareHardSwish, &ops::Eval};
  return r;
}
}  // namespace triage::inference
