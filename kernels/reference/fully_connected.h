// FULLY_CONNECTED reference kernels: output[b, o] = sum_d input[b, d] * filter[o, d] + bias[o].
// Quantized forms follow TensorFlow Lite's reference FullyConnected (uint8 and
// int8, per-tensor multiplier; both add filter and input offsets).
#ifndef TRIAGE_KERNELS_REFERENCE_FULLY_CONNECTED_H_
#define TRIAGE_KERNELS_REFERENCE_FULLY_CONNECTED_H_

#include <cstdint>

#include "kernels/quant.h"
#include "kernels/types.h"

namespace triage::kernels {

struct FullyConnectedParams {
  int batches = 1;      // rows of input
  int accum_depth = 0;  // columns of input == columns of filter
  int output_depth = 0; // rows of filter
  int32_t input_offset = 0, filter_offset = 0, output_offset = 0;
  int32_t output_multiplier = 0;
  int output_shift = 0;
  QuantizedRange qrange{0, 0};
  FloatRange frange{0, 0};
  // Optimized kernels only (see ConvParams): packed weights, per-worker
  // scratch and the worker pool.
  const void* packed = nullptr;
  void* scratch = nullptr;
  Parallel* parallel = nullptr;
};

namespace reference {

void FullyConnectedFloat(const FullyConnectedParams& p, const float* input, const float* filter,
                         const float* bias, float* output);
void FullyConnectedUint8(const FullyConnectedParams& p, const uint8_t* input, const uint8_t* filter,
                         const int32_t* bias, uint8_t* output);
void FullyConnectedInt8(const FullyConnectedParams& p, const int8_t* input, const int8_t* filter,
                        const int32_t* bias, int8_t* output);

}  // namespace reference
}  // namespace triage::kernels

#endif  // TRIAGE_KERNELS_REFERENCE_FULLY_CONNECTED_H_
