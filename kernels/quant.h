// Quantized arithmetic with TensorFlow Lite's reference semantics, bit for bit.
//
// A real multiplier M is represented as a Q0.31 significand in [2^30, 2^31)
// and a power-of-two exponent ("shift", positive = left), derived from the
// double-precision value with frexp and round-half-away-from-zero. Products
// use a saturating, rounding, doubling high multiply; divisions by powers of
// two round half away from zero. These are pure functions: no state, no
// allocation, safe from any thread.
#ifndef TRIAGE_KERNELS_QUANT_H_
#define TRIAGE_KERNELS_QUANT_H_

#include <cstdint>
#include <limits>

#include "kernels/types.h"

namespace triage::kernels {

// Splits a non-negative real multiplier into significand and exponent.
// Multipliers too small to represent (exponent < -31) become (0, 0).
void QuantizeMultiplier(double real_multiplier, int32_t* quantized_multiplier, int* shift);

// (a * b * 2) >> 32 with rounding to nearest; saturates the one overflow case.
inline int32_t SaturatingRoundingDoublingHighMul(int32_t a, int32_t b) {
  const bool overflow = a == b && a == std::numeric_limits<int32_t>::min();
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  const int32_t high = static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
  return overflow ? std::numeric_limits<int32_t>::max() : high;
}

// x / 2^exponent, rounding half away from zero. exponent in [0, 31].
inline int32_t RoundingDivideByPOT(int32_t x, int exponent) {
  TRIAGE_DCHECK(exponent >= 0 && exponent <= 31);
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// x * M where M = quantized_multiplier * 2^(shift - 31). TFLite's default
// (double-rounding) form: left shift first, then high multiply, then
// rounding right shift.
inline int32_t MultiplyByQuantizedMultiplier(int32_t x, int32_t quantized_multiplier, int shift) {
  const int left_shift = shift > 0 ? shift : 0;
  const int right_shift = shift > 0 ? 0 : -shift;
  // The left shift is done in wrapping 32-bit arithmetic, as TFLite does;
  // validated models never overflow here.
  const int32_t shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << left_shift);
  return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(shifted, quantized_multiplier),
                             right_shift);
}

// For multipliers < 1 (left_shift <= 0).
inline int32_t MultiplyByQuantizedMultiplierSmallerThanOneExp(int32_t x, int32_t quantized_multiplier,
                                                              int left_shift) {
  return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x, quantized_multiplier), -left_shift);
}

// For multipliers > 1 (left_shift >= 0).
inline int32_t MultiplyByQuantizedMultiplierGreaterThanOne(int32_t x, int32_t quantized_multiplier,
                                                           int left_shift) {
  const int32_t shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << left_shift);
  return SaturatingRoundingDoublingHighMul(shifted, quantized_multiplier);
}

// Range of the quantized output after a fused activation (TFLite's
// CalculateActivationRangeQuantized): 0, 6 and +-1 are quantized with the
// output's float scale and round-half-away-from-zero, then intersected with
// the type's range [qmin, qmax].
QuantizedRange ActivationRangeQuantized(Activation act, float output_scale, int32_t output_zero_point,
                                        int32_t qmin, int32_t qmax);
FloatRange ActivationRangeFloat(Activation act);

inline float ActivationFunction(float x, const FloatRange& r) {
  return x < r.min ? r.min : (x > r.max ? r.max : x);
}

// Softmax input scaling (TFLite's PreprocessSoftmaxScaling): beta * input_scale
// as a Q(integer_bits) multiplier > 1 and its left shift.
void PreprocessSoftmaxScaling(double beta, double input_scale, int input_integer_bits,
                              int32_t* quantized_multiplier, int* left_shift);
// Largest input difference (in raw units) that softmax still distinguishes.
int CalculateInputRadius(int input_integer_bits, int input_left_shift, int total_signed_bits = 31);

template <typename T>
constexpr int32_t QMin() {
  return static_cast<int32_t>(std::numeric_limits<T>::min());
}
template <typename T>
constexpr int32_t QMax() {
  return static_cast<int32_t>(std::numeric_limits<T>::max());
}

inline int32_t Clamp(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

}  // namespace triage::kernels

#endif  // TRIAGE_KERNELS_QUANT_H_
