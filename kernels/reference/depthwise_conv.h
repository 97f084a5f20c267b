// DEPTHWISE_CONV_2D reference kernels (NHWC input, [1, H, W, in_d * multiplier]
// filter), after TensorFlow Lite's reference DepthwiseConv (uint8, rounding
// away from zero) and reference_integer_ops::DepthwiseConvPerChannel (int8).
#ifndef TRIAGE_KERNELS_REFERENCE_DEPTHWISE_CONV_H_
#define TRIAGE_KERNELS_REFERENCE_DEPTHWISE_CONV_H_

#include "kernels/reference/conv.h"

namespace triage::kernels {

struct DepthwiseParams : ConvParams {
  int depth_multiplier = 1;
};

namespace reference {

void DepthwiseConvFloat(const DepthwiseParams& p, const Shape& input_shape, const float* input,
                        const Shape& filter_shape, const float* filter, const float* bias,
                        const Shape& output_shape, float* output);
void DepthwiseConvUint8(const DepthwiseParams& p, const Shape& input_shape, const uint8_t* input,
                        const Shape& filter_shape, const uint8_t* filter, const int32_t* bias,
                        const Shape& output_shape, uint8_t* output);
void DepthwiseConvInt8PerChannel(const DepthwiseParams& p, const Shape& input_shape, const int8_t* input,
                                 const Shape& filter_shape, const int8_t* filter, const int32_t* bias,
                                 const Shape& output_shape, int8_t* output);

}  // namespace reference
}  // namespace triage::kernels

#endif  // TRIAGE_KERNELS_REFERENCE_DEPTHWISE_CONV_H_
