// Element-wise and broadcasting kernels: ADD, MUL (with NumPy-style
// broadcasting up to rank 6), RELU family, table lookups for 8-bit LOGISTIC,
// TANH and HARD_SWISH, QUANTIZE / DEQUANTIZE / requantize.
#ifndef TRIAGE_KERNELS_REFERENCE_ELEMENTWISE_H_
#define TRIAGE_KERNELS_REFERENCE_ELEMENTWISE_H_

#include <cstdint>

#include "kernels/quant.h"
#include "kernels/types.h"

namespace triage::kernels {

// TFLite's quantized ADD: both inputs are shifted left by left_shift (20 for
// 8-bit), scaled to a common scale of twice the larger input scale, summed, and
// scaled to the output.
struct AddParams {
  int32_t input1_offset = 0, input2_offset = 0, output_offset = 0;
  int left_shift = 20;
  int32_t input1_multiplier = 0, input2_multiplier = 0, output_multiplier = 0;
  int input1_shift = 0, input2_shift = 0, output_shift = 0;
  QuantizedRange qrange{0, 0};
  FloatRange frange{0, 0};
  Parallel* parallel = nullptr;  // optimized kernels only: the worker pool (null: one thread)
};

struct MulParams {
  int32_t input1_offset = 0, input2_offset = 0, output_offset = 0;
  int32_t output_multiplier = 0;
  int output_shift = 0;
  QuantizedRange qrange{0, 0};
  FloatRange frange{0, 0};
};

// Requantization of one 8-bit tensor to another scale and zero point, also
// used by quantized RELU / RELU6 / RELU_N1_TO_1 (with a clamped range).
struct RequantizeParams {
  int32_t input_zero_point = 0, output_zero_point = 0;
  int32_t multiplier = 0;
  int shift = 0;
  QuantizedRange qrange{0, 0};
};

namespace reference {

// One element of quantized ADD, as TensorFlow Lite's reference: both inputs
// rescaled to a common 2^-left_shift grid, summed, rescaled to the output.
// Shared by the reference kernel and the optimized one, so the two cannot
// round differently.
template <typename T>
inline T AddQuantizedOne(const AddParams& p, T x1, T x2) {
  const int32_t shifted1 = (p.input1_offset + x1) * (1 << p.left_shift);
  const int32_t shifted2 = (p.input2_offset + x2) * (1 << p.left_shift);
  const int32_t scaled1 = MultiplyByQuantizedMultiplierSmallerThanOneExp(shifted1, p.input1_multiplier, p.input1_shift);
  const int32_t scaled2 = MultiplyByQuantizedMultiplierSmallerThanOneExp(shifted2, p.input2_multiplier, p.input2_shift);
  const int32_t raw_out =
      MultiplyByQuantizedMultiplierSmallerThanOneExp(scaled1 + scaled2, p.output_multiplier, p.output_shift) +
      p.output_offset;
  return static_cast<T>(Clamp(raw_out, p.qrange.min, p.qrange.max));
}

// Broadcast shapes must already be validated (each dim equal or 1).
void AddFloat(const AddParams& p, const Shape& s1, const float* in1, const Shape& s2, const float* in2,
              const Shape& out_shape, float* out);
template <typename T>
void AddQuantized(const AddParams& p, const Shape& s1, const T* in1, const Shape& s2, const T* in2,
                  const Shape& out_shape, T* out);
void MulFloat(const MulParams& p, const Shape& s1, const float* in1, const Shape& s2, const float* in2,
              const Shape& out_shape, float* out);
template <typename T>
void MulQuantized(const MulParams& p, const Shape& s1, const T* in1, const Shape& s2, const T* in2,
                  const Shape& out_shape, T* out);

void ClampFloat(FloatRange r, int64_t n, const float* in, float* out);
template <typename TIn, typename TOut>
void Requantize(const RequantizeParams& p, int64_t n, const TIn* in, TOut* out);

// out[i] = table[in[i] reinterpreted as uint8]; for 8-bit LOGISTIC/TANH/HARD_SWISH.
void Lookup8(const uint8_t table[256], int64_t n, const uint8_t* in, uint8_t* out);
void LogisticFloat(int64_t n, const float* in, float* out);
void TanhFloat(int64_t n, const float* in, float* out);
void HardSwishFloat(int64_t n, const float* in, float* out);

template <typename T>  // float -> uint8/int8/int16, round half away from zero, saturate
void AffineQuantize(double scale, int32_t zero_point, int64_t n, const float* in, T* out);
template <typename T>  // uint8/int8/int16 -> float
void Dequantize(double scale, int32_t zero_point, int64_t n, const T* in, float* out);

}  // namespace reference
}  // namespace triage::kernels

#endif  // TRIAGE_KERNELS_REFERENCE_ELEMENTWISE_H_
