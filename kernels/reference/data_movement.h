// Kernels that move or reduce data without per-element arithmetic beyond
// requantization: CONCATENATION, PAD, MEAN, and the byte copy behind
// RESHAPE / SQUEEZE.
#ifndef TRIAGE_KERNELS_REFERENCE_DATA_MOVEMENT_H_
#define TRIAGE_KERNELS_REFERENCE_DATA_MOVEMENT_H_

#include <cstddef>
#include <cstdint>

#include "kernels/quant.h"
#include "kernels/types.h"

namespace triage::kernels {

struct ConcatInput {
  const uint8_t* data;  // raw bytes of this input
  Shape shape;
  float scale;          // quantized inputs only
  int32_t zero_point;
};

struct ConcatParams {
  int axis = 0;                // already normalized to [0, rank)
  size_t element_size = 1;
  // For 8-bit inputs whose scale or zero point differ from the output's,
  // values are rescaled as TFLite's ConcatenationWithScaling does.
  bool requantize = false;
  bool is_signed = false;      // int8 (true) or uint8 (false) when requantizing
  float output_scale = 1.0f;
  int32_t output_zero_point = 0;
};

struct PadParams {
  int32_t before[4] = {};  // per dimension of the 4-D extended shape
  int32_t after[4] = {};
  size_t element_size = 1;
  int64_t pad_value_bits = 0;  // bytes of the pad value (float 0 or output zero point)
};

struct MeanParams {
  // Reduction over dims 1 and 2 of an NHWC tensor (global average pooling),
  // the only quantized form supported; float supports any set of axes.
  int32_t multiplier = 0;  // input_scale / output_scale (int8)
  int shift = 0;
  int32_t input_zero_point = 0, output_zero_point = 0;
  float input_scale = 1.0f, output_scale = 1.0f;
  int32_t uint8_bias = 0;  // uint8 only: set by PrepareMeanUint8HW
  bool reduce_axis[Shape::kMaxRank] = {};
};

namespace reference {

void Concatenation(const ConcatParams& p, const ConcatInput* inputs, int num_inputs, const Shape& output_shape,
                   uint8_t* output);
void Pad(const PadParams& p, const Shape& input_shape_4d, const uint8_t* input, const Shape& output_shape_4d,
         uint8_t* output);
// Float mean over the axes flagged in p.reduce_axis (input rank <= 6). The
// output has the input's rank with reduced dims equal to 1 (keep_dims layout).
void MeanFloat(const MeanParams& p, const Shape& input_shape, const float* input, float* output);
// TFLite's int8 mean (QuantizedMeanOrSum) over axes {1, 2} of a 4-D input:
// the 1/count factor is folded into the requantization multiplier.
void MeanInt8HW(const MeanParams& p, const Shape& input_shape, const int8_t* input, int8_t* output);
// TFLite's uint8 reference Mean over axes {1, 2}: float-derived bias and a
// single multiplier of input_scale / (count * output_scale). The constants
// depend only on shapes and scales: PrepareMeanUint8HW computes them once
// (multiplier, shift, uint8_bias) before MeanUint8HW runs.
void PrepareMeanUint8HW(MeanParams& p, int count);
void MeanUint8HW(const MeanParams& p, const Shape& input_shape, const uint8_t* input, uint8_t* output);
void Copy(size_t bytes, const uint8_t* input, uint8_t* output);

}  // namespace reference
}  // namespace triage::kernels

#endif  // TRIAGE_KERNELS_REFERENCE_DATA_MOVEMENT_H_
