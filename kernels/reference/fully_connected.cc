#include "kernels/reference/fully_connected.h"

#include "kernels/fixed_point.h"

namespace triage::kernels::reference {
namespace {

template <typename T>
void FullyConnectedQuantized(const FullyConnectedParams& p, const T* input, const T* filter,
                             const int32_t* bias, T* output) {
  for (int b = 0; b < p.batches; ++b) {
    for (int o = 0; o < p.output_depth; ++o) {
      int32_t acc = 0;
      for (int d = 0; d < p.accum_depth; ++d) {
        const int32_t in = static_cast<int32_t>(input[b * p.accum_depth + d]) + p.input_offset;
        const int32_t f = static_cast<int32_t>(filter[o * p.accum_depth + d]) + p.filter_offset;
        acc += f * in;
      }
      if (bias) acc = fixed_point::WrappingAdd(acc, bias[o]);
      acc = MultiplyByQuantizedMultiplier(acc, p.output_multiplier, p.output_shift) + p.output_offset;
      output[b * p.output_depth + o] = static_cast<T>(Clamp(acc, p.qrange.min, p.qrange.max));
    }
  }
}

}  // namespace

void FullyConnectedFloat(const FullyConnectedParams& p, const float* input, const float* filter,
                         const float* bias, float* output) {
  for (int b = 0; b < p.batches; ++b) {
    for (int o = 0; o < p.output_depth; ++o) {
      float acc = 0.0f;
      for (int d = 0; d < p.accum_depth; ++d) acc += input[b * p.accum_depth + d] * filter[o * p.accum_depth + d];
      if (bias) acc += bias[o];
      output[b * p.output_depth + o] = ActivationFunction(acc, p.frange);
    }
  }
}

void FullyConnectedUint8(const FullyConnectedParams& p, const uint8_t* input, const uint8_t* filter,
                         const int32_t* bias, uint8_t* output) {
  FullyConnectedQuantized(p, input, filter, bias, output);
}

void FullyConnectedInt8(const FullyConnectedParams& p, const int8_t* input, const int8_t* filter,
                        const int32_t* bias, int8_t* output) {
  FullyConnectedQuantized(p, input, filter, bias, output);
}

}  // namespace triage::kernels::reference
