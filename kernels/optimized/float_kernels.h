// Optimized float CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED.
//
// Float addition is not associative, so a fast path that sums in another
// order (a vector dot product, a tree, a fused multiply-add) rounds
// differently. These kernels keep every output's arithmetic exactly the
// reference's: acc = 0, then acc += in * w for the taps in the reference's
// order (filter row, filter column, input channel; padded taps skipped), then
// the bias the same way, then the activation. What they change is how many
// outputs advance together: a block of output channels shares each input
// load, and the independent sums overlap in the pipeline instead of waiting
// on one add chain. The build sets -ffp-contract=off, so the compiler fuses
// nothing either. Where the compiler vectorizes the per-channel depthwise
// loop (x86-64 SSE: IEEE, like the scalar unit), each lane is one output's
// sum; on ARMv7 GCC leaves float NEON alone (it flushes denormals), so the
// loops stay on the IEEE VFP unit.
#ifndef TRIAGE_KERNELS_OPTIMIZED_FLOAT_KERNELS_H_
#define TRIAGE_KERNELS_OPTIMIZED_FLOAT_KERNELS_H_

#include "kernels/reference/conv.h"
#include "kernels/reference/depthwise_conv.h"
#include "kernels/reference/fully_connected.h"

namespace triage::kernels::optimized {

// Output pixels [row_begin, row_end) of the flattened [batches * out_h * out_w].
void ConvFloatRows(const ConvParams& p, const Shape& input_shape, const float* input, const Shape& filter_shape,
                   const float* filter, const float* bias, const Shape& output_shape, float* output, int row_begin,
                   int row_end);

// Output rows [row_begin, row_end) of batches * out_h.
void DepthwiseFloatRows(const DepthwiseParams& p, const Shape& input_shape, const float* input,
                        const Shape& filter_shape, const float* filter, const float* bias, const Shape& output_shape,
                        float* output, int row_begin, int row_end);

// Batches [row_begin, row_end).
void FullyConnectedFloatRows(const FullyConnectedParams& p, const float* input, const float* filter, const float* bias,
                             float* output, int row_begin, int row_end);

}  // namespace triage::kernels::optimized

#endif  // TRIAGE_KERNELS_OPTIMIZED_FLOAT_KERNELS_H_
