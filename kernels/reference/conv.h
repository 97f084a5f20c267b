// CONV_2D reference kernels (NHWC input, OHWI filter), after TensorFlow Lite's
// reference_ops::Conv (float, uint8 per-tensor) and
// reference_integer_ops::ConvPerChannel (int8). Filters may cover a subset of
// the input channels (grouped convolution): groups = in_depth / filter_depth.
#ifndef TRIAGE_KERNELS_REFERENCE_CONV_H_
#define TRIAGE_KERNELS_REFERENCE_CONV_H_

#include <cstdint>

#include "kernels/fixed_point.h"
#include "kernels/quant.h"
#include "kernels/types.h"

namespace triage::kernels {

struct ConvParams {
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  int pad_h = 0, pad_w = 0;  // top and left padding; bottom/right follow from shapes
  // Quantized only. Offsets are added to raw values: input_offset = -input_zp,
  // filter_offset = -filter_zp (uint8), output_offset = +output_zp.
  int32_t input_offset = 0, filter_offset = 0, output_offset = 0;
  int32_t output_multiplier = 0;  // per-tensor (uint8)
  int output_shift = 0;
  const int32_t* per_channel_multiplier = nullptr;  // int8: one per output channel
  const int32_t* per_channel_shift = nullptr;
  QuantizedRange qrange{0, 0};
  FloatRange frange{0, 0};
  // Set at Prepare for the optimized kernels, ignored by the reference ones:
  // weights laid out by optimized::PackGemm (persistent, read-only at Eval)
  // and scratch for each worker (optimized::GemmScratchBytes apiece), and
  // the interpreter's worker pool (null: one thread). Depthwise uses only
  // parallel.
  const void* packed = nullptr;
  void* scratch = nullptr;
  Parallel* parallel = nullptr;
};

namespace reference {

// Output stage shared by the convolution kernels: add the bias, requantize
// (per-tensor for uint8, per-channel for int8), add the output offset, clamp.
// The bias add wraps instead of overflowing: Prepare bounds every sum a valid
// model can produce, so only a bias corrupted after Prepare (a radiation
// upset) reaches the wrap; the result is then wrong but defined, and the
// fault layer's vote or scrubber catches it.
inline uint8_t ConvOutputUint8(int32_t acc, const int32_t* bias, int oc, const ConvParams& p) {
  if (bias) acc = fixed_point::WrappingAdd(acc, bias[oc]);
  acc = MultiplyByQuantizedMultiplier(acc, p.output_multiplier, p.output_shift) + p.output_offset;
  return static_cast<uint8_t>(Clamp(acc, p.qrange.min, p.qrange.max));
}
inline int8_t ConvOutputInt8PerChannel(int32_t acc, const int32_t* bias, int oc, const ConvParams& p) {
  if (bias) acc = fixed_point::WrappingAdd(acc, bias[oc]);
  acc = MultiplyByQuantizedMultiplier(acc, p.per_channel_multiplier[oc], p.per_channel_shift[oc]) + p.output_offset;
  return static_cast<int8_t>(Clamp(acc, p.qrange.min, p.qrange.max));
}

void ConvFloat(const ConvParams& p, const Shape& input_shape, const float* input, const Shape& filter_shape,
               const float* filter, const float* bias, const Shape& output_shape, float* output);
void ConvUint8(const ConvParams& p, const Shape& input_shape, const uint8_t* input, const Shape& filter_shape,
               const uint8_t* filter, const int32_t* bias, const Shape& output_shape, uint8_t* output);
void ConvInt8PerChannel(const ConvParams& p, const Shape& input_shape, const int8_t* input,
                        const Shape& filter_shape, const int8_t* filter, const int32_t* bias,
                        const Shape& output_shape, int8_t* output);

}  // namespace reference
}  // namespace triage::kernels

#endif  // TRIAGE_KERNELS_REFERENCE_CONV_H_
