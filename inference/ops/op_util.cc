#include "inference/ops/op_util.h"

#include "kernels/optimized/gemm.h"

#include <cmath>
#include <cstring>

namespace triage::inference::ops {

const tflite::Operator* FlatbufferOp(const PrepareContext& ctx) {
  return static_cast<const tflite::Operator*>(ctx.op().flatbuffer_op);
}

Status ExpectCounts(const PrepareContext& ctx, int min_inputs, int max_inputs, int outputs) {
  if (ctx.num_inputs() < min_inputs || ctx.num_inputs() > max_inputs) {
    return Status::Error(StatusCode::kInvalidArgument, "expected %d..%d inputs, got %d", min_inputs, max_inputs,
                         ctx.num_inputs());
  }
  if (ctx.num_outputs() != outputs) {
    return Status::Error(StatusCode::kInvalidArgument, "expected %d outputs, got %d", outputs, ctx.num_outputs());
  }
  return Status::Ok();
}

Status RequireInput(const PrepareContext& ctx, int i, const TensorSpec** out) {
  *out = ctx.input(i);
  if (*out == nullptr) return Status::Error(StatusCode::kInvalidArgument, "input %d is missing", i);
  return Status::Ok();
}

Status RequireOutput(const PrepareContext& ctx, int i, const TensorSpec** out) {
  *out = ctx.output(i);
  if (*out == nullptr) return Status::Error(StatusCode::kInvalidArgument, "output %d is missing", i);
  return Status::Ok();
}

Status ExpectType(const PrepareContext&, const TensorSpec& t, int tensor_index, const char* role,
                  DataType expected) {
  if (t.type != expected) {
    return Status::Error(StatusCode::kUnsupported, "%s tensor %d (%s): expected %s, got %s", role, tensor_index,
                         t.name, kernels::DataTypeName(expected), kernels::DataTypeName(t.type));
  }
  return Status::Ok();
}

Status ExpectRank(const TensorSpec& t, int tensor_index, const char* role, int rank) {
  if (t.shape.rank != rank) {
    return Status::Error(StatusCode::kInvalidArgument, "%s tensor %d (%s): expected rank %d, got %d", role,
                         tensor_index, t.name, rank, t.shape.rank);
  }
  return Status::Ok();
}

Status ExpectSameShape(const TensorSpec& a, int ia, const TensorSpec& b, int ib) {
  if (a.shape != b.shape) {
    return Status::Error(StatusCode::kInvalidArgument, "tensors %d and %d must have the same shape", ia, ib);
  }
  return Status::Ok();
}

Status ExpectQuantized(const TensorSpec& t, int tensor_index, const char* role) {
  if (t.quant.scales.empty()) {
    return Status::Error(StatusCode::kInvalidArgument, "%s tensor %d (%s): quantization parameters missing", role,
                         tensor_index, t.name);
  }
  return Status::Ok();
}

Status ExpectPerTensorQuant(const TensorSpec& t, int tensor_index, const char* role) {
  TRIAGE_RETURN_IF_ERROR(ExpectQuantized(t, tensor_index, role));
  if (t.quant.scales.size() != 1) {
    return Status::Error(StatusCode::kUnsupported, "%s tensor %d (%s): per-channel quantization unsupported here",
                         role, tensor_index, t.name);
  }
  return Status::Ok();
}

Status ExpectConstant(const TensorSpec& t, int tensor_index, const char* role) {
  if (!t.is_constant()) {
    return Status::Error(StatusCode::kUnsupported, "%s tensor %d (%s): must be a constant", role, tensor_index,
                         t.name);
  }
  return Status::Ok();
}

bool IsQuantized8(DataType t) { return t == DataType::kUint8 || t == DataType::kInt8; }

Status ActivationFrom(tflite::ActivationFunctionType a, kernels::Activation* out) {
  switch (a) {
    case tflite::ActivationFunctionType::NONE: *out = kernels::Activation::kNone; return Status::Ok();
    case tflite::ActivationFunctionType::RELU: *out = kernels::Activation::kRelu; return Status::Ok();
    case tflite::ActivationFunctionType::RELU_N1_TO_1: *out = kernels::Activation::kReluN1To1; return Status::Ok();
    case tflite::ActivationFunctionType::RELU6: *out = kernels::Activation::kRelu6; return Status::Ok();
    default: break;
  }
  return Status::Error(StatusCode::kUnsupported, "fused activation %d unsupported", static_cast<int>(a));
}

int ComputeOutSize(tflite::Padding padding, int in, int filter, int stride, int dilation) {
  const int effective = (filter - 1) * dilation + 1;
  if (padding == tflite::Padding::SAME) return (in + stride - 1) / stride;
  return (in + stride - effective) / stride;
}

int ComputePadding(int stride, int dilation, int in, int filter, int out) {
  const int effective = (filter - 1) * dilation + 1;
  const int padding = ((out - 1) * stride + effective - in) / 2;
  return padding > 0 ? padding : 0;
}

Status ExpectBias(const PrepareContext& ctx, const TensorSpec* bias, int bias_index, DataType input_type,
                  int channels) {
  if (bias == nullptr) return Status::Ok();
  TRIAGE_RETURN_IF_ERROR(ExpectType(ctx, *bias, bias_index, "bias",
                                    input_type == DataType::kFloat32 ? DataType::kFloat32 : DataType::kInt32));
  if (bias->shape.FlatSize() != channels) {
    return Status::Error(StatusCode::kInvalidArgument, "bias tensor %d: %lld elements, expected %d", bias_index,
                         static_cast<long long>(bias->shape.FlatSize()), channels);
  }
  return Status::Ok();
}

Status CheckedMultiplier(double real, int32_t* multiplier, int* shift) {
  if (!std::isfinite(real) || real < 0.0 || real >= static_cast<double>(1 << 30)) {
    return Status::Error(StatusCode::kUnsupported, "scale ratio %g is outside the representable range", real);
  }
  kernels::QuantizeMultiplier(real, multiplier, shift);
  return Status::Ok();
}

Status CheckAccumulator(int64_t terms, int64_t max_term, const TensorSpec* bias, int bias_index) {
  constexpr int64_t kLimit = int64_t{1} << 30;
  if (terms * max_term > kLimit) {
    return Status::Error(StatusCode::kUnsupported,
                         "%lld accumulated products could overflow the int32 accumulator", static_cast<long long>(terms));
  }
  if (bias != nullptr && bias->type == DataType::kInt32) {
    if (!bias->is_constant()) {
      return Status::Error(StatusCode::kUnsupported, "bias tensor %d must be a constant", bias_index);
    }
    for (int64_t i = 0; i < bias->shape.FlatSize(); ++i) {
      int32_t v;
      std::memcpy(&v, bias->data + 4 * i, 4);
      if (v > kLimit || v < -kLimit) {
        return Status::Error(StatusCode::kUnsupported, "bias tensor %d: value %d at %lld could overflow", bias_index, v,
                             static_cast<long long>(i));
      }
    }
  }
  return Status::Ok();
}

kernels::QuantizedRange QuantizedActivationRange(kernels::Activation act, const TensorSpec& output) {
  int32_t qmin = 0, qmax = 0;
  switch (output.type) {
    case DataType::kUint8: qmin = 0; qmax = 255; break;
    case DataType::kInt8: qmin = -128; qmax = 127; break;
    case DataType::kInt16: qmin = -32768; qmax = 32767; break;
    default: qmin = std::numeric_limits<int32_t>::min(); qmax = std::numeric_limits<int32_t>::max(); break;
  }
  if (output.quant.scales.empty()) return {qmin, qmax};
  return kernels::ActivationRangeQuantized(act, output.quant.scales[0],
                                           static_cast<int32_t>(output.quant.zero_points[0]), qmin, qmax);
}

Status PackGemmWeights(PrepareContext& ctx, const TensorSpec& filter, const TensorSpec* bias, int n, int k,
                       int32_t input_offset, int32_t filter_offset, const void** packed, void** scratch) {
  *packed = nullptr;
  *scratch = nullptr;
  if (ctx.kernels().ukernels == nullptr || !filter.is_constant() || (bias && !bias->is_constant())) {
    return Status::Ok();
  }
  if (filter.type != DataType::kInt8 && filter.type != DataType::kUint8) return Status::Ok();
  if (static_cast<int64_t>(n) * k != static_cast<int64_t>(filter.bytes)) {
    return Status::Error(StatusCode::kInternal, "filter of %zu bytes is not %d x %d", filter.bytes, n, k);
  }
  kernels::optimized::GemmPackSource source;
  source.filter = filter.data;
  source.bias = bias ? bias->data : nullptr;
  source.n = n;
  source.k = k;
  source.input_offset = input_offset;
  source.filter_offset = filter_offset;
  source.filter_signed = filter.type == DataType::kInt8;
  const void* blob = ctx.PackGemm(source);
  void* work = ctx.AllocatePersistent(kernels::optimized::GemmScratchBytes(k) *
                                      static_cast<size_t>(ctx.parallel_threads()));
  if (blob == nullptr || work == nullptr) {
    return Status::Error(StatusCode::kResourceExhausted, "cannot allocate %zu bytes of packed weights",
                         kernels::optimized::PackedGemmBytes(n, k));
  }
  *packed = blob;
  *scratch = work;
  return Status::Ok();
}

}  // namespace triage::inference::ops
