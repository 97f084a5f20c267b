// Optimized CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and pooling kernels.
//
// Same signatures and the same output bytes as kernels/reference; only the
// loop structure differs. Quantized CONV_2D (one group) and FULLY_CONNECTED
// run as an integer GEMM over the weights PackGemm laid out at Prepare
// (params.packed, with params.scratch for the left operand); without packed
// weights they call the reference kernel. The float kernels are in
// float_kernels.h (the reference's summation order, several outputs at once).
#ifndef TRIAGE_KERNELS_OPTIMIZED_CONV_H_
#define TRIAGE_KERNELS_OPTIMIZED_CONV_H_

#include "kernels/optimized/ukernels.h"
#include "kernels/reference/depthwise_conv.h"
#include "kernels/reference/fully_connected.h"
#include "kernels/reference/pooling.h"

namespace triage::kernels::optimized {

// Output rows [row_begin, row_end) of the flattened [batches * out_h * out_w]
// pixels; scratch holds GemmScratchBytes(filter depth) bytes.
template <typename T>
void ConvGemmRows(const Ukernels& u, const ConvParams& p, const Shape& input_shape, const T* input,
                  const Shape& filter_shape, const Shape& output_shape, T* output, int row_begin, int row_end,
                  void* scratch);

// Output rows [row_begin, row_end) of batches * out_h.
template <typename T>
void DepthwiseRows(const Ukernels& u, const DepthwiseParams& p, const Shape& input_shape, const T* input,
                   const Shape& filter_shape, const T* filter, const int32_t* bias, const Shape& output_shape,
                   T* output, int row_begin, int row_end);

template <typename T>
void FullyConnectedRows(const Ukernels& u, const FullyConnectedParams& p, const T* input, T* output,
                        int row_begin, int row_end, void* scratch);

template <typename T>
void AveragePoolRows(const Ukernels& u, const PoolParams& p, const Shape& input_shape, const T* input,
                     const Shape& output_shape, T* output, int row_begin, int row_end);

}  // namespace triage::kernels::optimized

#endif  // TRIAGE_KERNELS_OPTIMIZED_CONV_H_
