#include "kernels/reference/depthwise_conv.h"

namespace triage::kernels::reference {
namespace {

template <typename TIn, typename TFilter, typename TOut, typename TAcc, typename Accumulate, typename Finish>
void DepthwiseLoop(const DepthwiseParams& p, const Shape& input_shape, const TIn* input,
                   const Shape& filter_shape, const TFilter* filter, const Shape& output_shape, TOut* output,
                   Accumulate accumulate, Finish finish) {
  const int batches = input_shape.Dim(0);
  const int in_h = input_shape.Dim(1), in_w = input_shape.Dim(2), in_d = input_shape.Dim(3);
  const int f_h = filter_shape.Dim(1), f_w = filter_shape.Dim(2);
  const int out_h = output_shape.Dim(1), out_w = output_shape.Dim(2);
  for (int b = 0; b < batches; ++b) {
    for (int oy = 0; oy < out_h; ++oy) {
      for (int ox = 0; ox < out_w; ++ox) {
        for (int ic = 0; ic < in_d; ++ic) {
          for (int m = 0; m < p.depth_multiplier; ++m) {
            const int oc = m + ic * p.depth_multiplier;
            const int in_x0 = ox * p.stride_w - p.pad_w;
            const int in_y0 = oy * p.stride_h - p.pad_h;
            TAcc acc = 0;
            for (int fy = 0; fy < f_h; ++fy) {
              const int in_y = in_y0 + p.dilation_h * fy;
              if (in_y < 0 || in_y >= in_h) continue;
              for (int fx = 0; fx < f_w; ++fx) {
                const int in_x = in_x0 + p.dilation_w * fx;
                if (in_x < 0 || in_x >= in_w) continue;
                accumulate(acc, input[Offset4D(input_shape, b, in_y, in_x, ic)],
                           filter[Offset4D(filter_shape, 0, fy, fx, oc)]);
              }
            }
            output[Offset4D(output_shape, b, oy, ox, oc)] = finish(acc, oc);
          }
        }
      }
    }
  }
}

}  // namespace

void DepthwiseConvFloat(const DepthwiseParams& p, const Shape& input_shape, const float* input,
                        const Shape& filter_shape, const float* filter, const float* bias,
                        const Shape& output_shape, float* output) {
  DepthwiseLoop<float, float, float, float>(
      p, input_shape, input, filter_shape, filter, output_shape, output,
      [](float& acc, float in, float f) { acc += in * f; },
      [&](float acc, int oc) { return ActivationFunction(acc + (bias ? bias[oc] : 0.0f), p.frange); });
}

void DepthwiseConvUint8(const DepthwiseParams& p, const Shape& input_shape, const uint8_t* input,
                        const Shape& filter_shape, const uint8_t* filter, const int32_t* bias,
                        const Shape& output_shape, uint8_t* output) {
  DepthwiseLoop<uint8_t, uint8_t, uint8_t, int32_t>(
      p, input_shape, input, filter_shape, filter, output_shape, output,
      [&](int32_t& acc, uint8_t in, uint8_t f) {
        acc += (static_cast<int32_t>(f) + p.filter_offset) * (static_cast<int32_t>(in) + p.input_offset);
      },
      [&](int32_t acc, int oc) { return ConvOutputUint8(acc, bias, oc, p); });
}

void DepthwiseConvInt8PerChannel(const DepthwiseParams& p, const Shape& input_shape, const int8_t* input,
                                 const Shape& filter_shape, const int8_t* filter, const int32_t* bias,
                                 const Shape& output_shape, int8_t* output) {
  DepthwiseLoop<int8_t, int8_t, int8_t, int32_t>(
      p, input_shape, input, filter_shape, filter, output_shape, output,
      [&](int32_t& acc, int8_t in, int8_t f) {
        acc += static_cast<int32_t>(f) * (static_cast<int32_t>(in) + p.input_offset);
      },
      [&](int32_t acc, int oc) { return ConvOutputInt8PerChannel(acc, bias, oc, p); });
}

}  // namespace triage::kernels::reference
