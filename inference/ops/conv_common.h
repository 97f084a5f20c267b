// Validation and precomputation shared by CONV_2D and DEPTHWISE_CONV_2D.
#ifndef TRIAGE_INFERENCE_OPS_CONV_COMMON_H_
#define TRIAGE_INFERENCE_OPS_CONV_COMMON_H_

#include "inference/ops/op_util.h"
#include "kernels/reference/depthwise_conv.h"

namespace triage::inference::ops {

struct ConvGeometry {
  tflite::Padding padding = tflite::Padding::SAME;
  int stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  tflite::ActivationFunctionType activation = tflite::ActivationFunctionType::NONE;
};

struct ConvData {
  DataType type = DataType::kFloat32;
  bool depthwise = false;
  // The depthwise params extend ConvParams with the depth multiplier; plain
  // CONV_2D kernels read them as ConvParams.
  kernels::DepthwiseParams params;
};

// Checks inputs (input, filter, optional bias), the output shape, and the
// quantization contract; allocates ConvData with per-channel multipliers.
Status PrepareConvLike(PrepareContext& ctx, const ConvGeometry& g, bool depthwise);

}  // namespace triage::inference::ops

#endif  // TRIAGE_INFERENCE_OPS_CONV_COMMON_H_
