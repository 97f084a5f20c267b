// SOFTMAX over the last dimension. The quantized form is TensorFlow Lite's
// fixed-point softmax: input differences from the row maximum are scaled to
// Q5.26, exponentiated in fixed point, summed in Q12.19, and normalized with a
// fixed-point reciprocal. The output scale is 1/256 with zero point at the
// type's minimum (0 for uint8, -128 for int8). The Q12.19 row sum is read as
// unsigned (as TFLite's wrapping sum effectively is below 2^32) and saturates
// instead of wrapping past it, so rows of any length stay sane.
#ifndef TRIAGE_KERNELS_REFERENCE_SOFTMAX_H_
#define TRIAGE_KERNELS_REFERENCE_SOFTMAX_H_

#include <cstdint>

#include "kernels/types.h"

namespace triage::kernels {

struct SoftmaxParams {
  float beta = 1.0f;
  int outer_size = 1;  // product of all but the last dimension
  int depth = 0;       // last dimension
  int32_t input_multiplier = 0;
  int input_left_shift = 0;
  int diff_min = 0;
};

namespace reference {

void SoftmaxFloat(const SoftmaxParams& p, const float* input, float* output);
template <typename T>  // uint8_t or int8_t, same type in and out
void SoftmaxQuantized(const SoftmaxParams& p, const T* input, T* output);

}  // namespace reference
}  // namespace triage::kernels

#endif  // TRIAGE_KERNELS_REFERENCE_SOFTMAX_H_
