// Helpers shared by operator glue: validation with precise messages, padding
// arithmetic and option access. Private to inference/.
#ifndef TRIAGE_INFERENCE_OPS_OP_UTIL_H_
#define TRIAGE_INFERENCE_OPS_OP_UTIL_H_

#include "inference/op_context.h"
#include "inference/schema_internal.h"
#include "kernels/quant.h"

namespace triage::inference::ops {

const tflite::Operator* FlatbufferOp(const PrepareContext& ctx);

// Typed builtin options, or nullptr if the operator carries other/no options.
template <typename T>
const T* Options(const PrepareContext& ctx) {
  return FlatbufferOp(ctx)->builtin_options_as<T>();
}

Status ExpectCounts(const PrepareContext& ctx, int min_inputs, int max_inputs, int outputs);
// Input i must be present (not omitted).
Status RequireInput(const PrepareContext& ctx, int i, const TensorSpec** out);
Status RequireOutput(const PrepareContext& ctx, int i, const TensorSpec** out);
Status ExpectType(const PrepareContext& ctx, const TensorSpec& t, int tensor_index, const char* role,
                  DataType expected);
Status ExpectRank(const TensorSpec& t, int tensor_index, const char* role, int rank);
Status ExpectSameShape(const TensorSpec& a, int ia, const TensorSpec& b, int ib);
// Per-tensor quantization present (one scale).
Status ExpectPerTensorQuant(const TensorSpec& t, int tensor_index, const char* role);
Status ExpectQuantized(const TensorSpec& t, int tensor_index, const char* role);
Status ExpectConstant(const TensorSpec& t, int tensor_index, const char* role);
bool IsQuantized8(DataType t);

Status ActivationFrom(tflite::ActivationFunctionType a, kernels::Activation* out);

// Spatial output size for SAME/VALID padding (TFLite's ComputeOutSize).
int ComputeOutSize(tflite::Padding padding, int in, int filter, int stride, int dilation);
// Leading (top/left) padding (TFLite's ComputePadding).
int ComputePadding(int stride, int dilation, int in, int filter, int out);

// Optional bias of a conv/FC layer: float for float layers, int32 for
// quantized ones, one value per output channel.
Status ExpectBias(const PrepareContext& ctx, const TensorSpec* bias, int bias_index, DataType input_type,
                  int channels);

// Allocates the operator's data block and attaches it to the operator.
template <typename T>
Status NewOpData(PrepareContext& ctx, T** out) {
  *out = ctx.AllocateOpData<T>();
  if (*out == nullptr) return Status::Error(StatusCode::kResourceExhausted, "cannot allocate op data");
  ctx.SetOpData(*out);
  return Status::Ok();
}

// QuantizeMultiplier for a real multiplier derived from model scales, refusing
// values whose shift would leave the 32-bit range (hostile or broken scales).
Status CheckedMultiplier(double real, int32_t* multiplier, int* shift);
// Refuses accumulations whose int32 sum could overflow: `terms` products of
// at most `max_term` magnitude, plus an optional constant int32 bias.
Status CheckAccumulator(int64_t terms, int64_t max_term, const TensorSpec* bias, int bias_index);

// Activation range in the output's quantized domain.
// When the interpreter's kernel table is an optimized one and the filter
// (and bias, if any) are constants: packs the n x k filter for the optimized
// GEMM (kernels/optimized/gemm.h) into packed storage and allocates one
// block of scratch per worker thread (ctx.parallel_threads()). Leaves
// *packed and *scratch null otherwise, which makes
// the optimized kernel call the reference one.
Status PackGemmWeights(PrepareContext& ctx, const TensorSpec& filter, const TensorSpec* bias, int n, int k,
                       int32_t input_offset, int32_t filter_offset, const void** packed, void** scratch);

kernels::QuantizedRange QuantizedActivationRange(kernels::Activation act, const TensorSpec& output);

}  // namespace triage::inference::ops

#endif  // TRIAGE_INFERENCE_OPS_OP_UTIL_H_
