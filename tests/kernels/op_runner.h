// A tiny "run one op without a model" runner for kernel tests.
//
// Each op is described by a small spec (shapes, strides, padding, fused
// activation) plus float data. The runner does what an op's Prepare would do,
// the TFLite way: quantizes tensors, derives offsets, multipliers and
// activation ranges, and then calls the kernel through a KernelTable, so the
// same case can be run through the reference and the optimized set and
// compared byte for byte. Test-only; allocates freely.
#ifndef TRIAGE_TESTS_KERNELS_OP_RUNNER_H_
#define TRIAGE_TESTS_KERNELS_OP_RUNNER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/kernel_table.h"
#include "kernels/types.h"
#include "tests/kernels/kernel_test_util.h"

namespace triage::kernels::testing {

// The worker pool every Run below hands the optimized kernels (through the
// params' parallel field, with one scratch block per thread); nullptr (the
// default) runs them on the calling thread. Not owned.
void SetRunnerParallel(Parallel* parallel);

// ---------------------------------------------------------------------------
// CONV_2D and DEPTHWISE_CONV_2D.

struct ConvSpec {
  bool depthwise = false;
  int batches = 1, in_h = 1, in_w = 1, in_d = 1;
  int out_d = 1;              // conv: output channels; depthwise: in_d * depth_multiplier (derived)
  int groups = 1;             // conv only: filter depth is in_d / groups
  int depth_multiplier = 1;   // depthwise only
  int f_h = 1, f_w = 1;
  int stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  Padding padding = Padding::kValid;
  Activation act = Activation::kNone;
  bool has_bias = true;
  std::string ToString() const;
};

struct ConvGeometry {
  Shape input, filter, output;
  int pad_h = 0, pad_w = 0;
};
ConvGeometry GeometryOf(const ConvSpec& s);

struct ConvData {
  std::vector<float> input, filter, bias;  // bias empty when absent
};
ConvData RandomConvData(Rng& rng, const ConvSpec& s);

std::vector<float> RunConvFloat(const KernelTable& t, const ConvSpec& s, const ConvData& d);

// A prepared quantized conv: uint8 is per-tensor (asymmetric filter), int8 is
// per-channel (symmetric filter), as in TFLite.
template <typename T>
struct QuantizedConv {
  ConvSpec spec;
  ConvGeometry geo;
  QuantSpec in_q, out_q;
  std::vector<QuantSpec> filter_q;  // one (uint8) or one per output channel (int8)
  std::vector<T> input, filter;
  std::vector<int32_t> bias;        // empty when absent
  std::vector<int32_t> multipliers, shifts;
  DepthwiseParams params;           // pointers filled in by Run

  // Float tensors holding exactly the quantized values (for the float model).
  ConvData Dequantized() const;
  // Re-derives multipliers and ranges for a new output quantization.
  void SetOutput(const QuantSpec& out);
  std::vector<T> Run(const KernelTable& t) const;
};

// Quantizes d; the output is calibrated from the float model on the
// dequantized data unless out_q is given.
template <typename T>
QuantizedConv<T> QuantizeConv(const ConvSpec& s, const ConvData& d, const QuantSpec* out_q = nullptr);

// ---------------------------------------------------------------------------
// FULLY_CONNECTED.

struct FcSpec {
  int batches = 1, accum_depth = 1, output_depth = 1;
  Activation act = Activation::kNone;
  bool has_bias = true;
  std::string ToString() const;
};
struct FcData {
  std::vector<float> input, filter, bias;
};
FcData RandomFcData(Rng& rng, const FcSpec& s);
std::vector<float> RunFcFloat(const KernelTable& t, const FcSpec& s, const FcData& d);

template <typename T>
struct QuantizedFc {
  FcSpec spec;
  QuantSpec in_q, filter_q, out_q;
  std::vector<T> input, filter;
  std::vector<int32_t> bias;
  FullyConnectedParams params;
  FcData Dequantized() const;
  std::vector<T> Run(const KernelTable& t) const;
};
// int8 filters are symmetric (zero point 0) unless filter_zero_point_nonzero.
template <typename T>
QuantizedFc<T> QuantizeFc(const FcSpec& s, const FcData& d, bool filter_zero_point_nonzero = false);

// ---------------------------------------------------------------------------
// AVERAGE_POOL_2D and MAX_POOL_2D (input and output share quantization).

struct PoolSpec {
  bool max = false;
  int batches = 1, in_h = 1, in_w = 1, depth = 1;
  int f_h = 1, f_w = 1, stride_h = 1, stride_w = 1;
  Padding padding = Padding::kValid;
  Activation act = Activation::kNone;
  std::string ToString() const;
};
struct PoolGeometry {
  Shape input, output;
  PoolParams params;
};
PoolGeometry GeometryOf(const PoolSpec& s);
std::vector<float> RunPoolFloat(const KernelTable& t, const PoolSpec& s, const std::vector<float>& in);
template <typename T>
std::vector<T> RunPoolQuantized(const KernelTable& t, const PoolSpec& s, const QuantSpec& q, const std::vector<T>& in);

// ---------------------------------------------------------------------------
// ADD and MUL with broadcasting.

struct BinarySpec {
  bool mul = false;
  Shape s1, s2, out;
  Activation act = Activation::kNone;
  std::string ToString() const;
};
// Broadcast output shape of two shapes (each dim equal or 1).
Shape BroadcastShape(const Shape& a, const Shape& b);
std::vector<float> RunBinaryFloat(const KernelTable& t, const BinarySpec& s, const std::vector<float>& a,
                                  const std::vector<float>& b);
// TFLite Prepare for ADD (left shift 20, twice the larger input scale) and MUL.
AddParams MakeAddParams(const QuantSpec& q1, const QuantSpec& q2, const QuantSpec& qo, Activation act, int32_t qmin,
                        int32_t qmax);
MulParams MakeMulParams(const QuantSpec& q1, const QuantSpec& q2, const QuantSpec& qo, Activation act, int32_t qmin,
                        int32_t qmax);
template <typename T>
std::vector<T> RunBinaryQuantized(const KernelTable& t, const BinarySpec& s, const QuantSpec& q1,
                                  const std::vector<T>& a, const QuantSpec& q2, const std::vector<T>& b,
                                  const QuantSpec& qo);

// ---------------------------------------------------------------------------
// SOFTMAX (quantized output: scale 1/256, zero point at the type minimum).

// TFLite's Prepare: PreprocessSoftmaxScaling with 5 integer bits and
// diff_min = -CalculateInputRadius(5, left_shift).
SoftmaxParams MakeSoftmaxParams(float beta, float input_scale, int outer, int depth);
template <typename T>
QuantSpec SoftmaxOutputQuant() {
  return QuantSpec{1.0f / 256.0f, TypeMin<T>()};
}

}  // namespace triage::kernels::testing

#endif  // TRIAGE_TESTS_KERNELS_OP_RUNNER_H_
