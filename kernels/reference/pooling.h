// AVERAGE_POOL_2D and MAX_POOL_2D reference kernels (NHWC). Windows are clipped
// to the input; the average divides by the number of in-bounds elements and
// rounds half away from zero, as TensorFlow Lite's reference pooling does.
#ifndef TRIAGE_KERNELS_REFERENCE_POOLING_H_
#define TRIAGE_KERNELS_REFERENCE_POOLING_H_

#include <cstdint>

#include "kernels/quant.h"
#include "kernels/types.h"

namespace triage::kernels {

struct PoolParams {
  int stride_h = 1, stride_w = 1;
  int filter_h = 1, filter_w = 1;
  int pad_h = 0, pad_w = 0;
  QuantizedRange qrange{0, 0};
  FloatRange frange{0, 0};
  Parallel* parallel = nullptr;  // optimized kernels only: the worker pool (null: one thread)
};

namespace reference {

void AveragePoolFloat(const PoolParams& p, const Shape& input_shape, const float* input,
                      const Shape& output_shape, float* output);
template <typename T>  // uint8_t or int8_t
void AveragePoolQuantized(const PoolParams& p, const Shape& input_shape, const T* input,
                          const Shape& output_shape, T* output);
void MaxPoolFloat(const PoolParams& p, const Shape& input_shape, const float* input, const Shape& output_shape,
                  float* output);
template <typename T>
void MaxPoolQuantized(const PoolParams& p, const Shape& input_shape, const T* input, const Shape& output_shape,
                      T* output);

}  // namespace reference
}  // namespace triage::kernels

#endif  // TRIAGE_KERNELS_REFERENCE_POOLING_H_
