#include "kernels/quant.h"

#include <algorithm>
#include <cmath>

namespace triage::kernels {

void QuantizeMultiplier(double real_multiplier, int32_t* quantized_multiplier, int* shift) {
  if (real_multiplier == 0.0 || !std::isfinite(real_multiplier)) {
    *quantized_multiplier = 0;
    *shift = 0;
    return;
  }
  const double q = std::frexp(real_multiplier, shift);
  // std::round is round-half-away-from-zero, matching TFLite's TfLiteRound.
  int64_t q_fixed = static_cast<int64_t>(std::round(q * static_cast<double>(int64_t{1} << 31)));
  if (q_fixed == (int64_t{1} << 31)) {
    q_fixed /= 2;
    ++*shift;
  }
  // Shifting by more than 31 bits would discard everything: represent as 0.
  if (*shift < -31) {
    *shift = 0;
    q_fixed = 0;
  }
  *quantized_multiplier = static_cast<int32_t>(q_fixed);
}

QuantizedRange ActivationRangeQuantized(Activation act, float output_scale, int32_t output_zero_point,
                                        int32_t qmin, int32_t qmax) {
  // Rounded in float as TFLite does. Values past the type's range (tiny
  // output scales from a hostile model) are clamped just outside it before
  // the integer conversion, so the result stays defined and the min/max
  // below still saturate to [qmin, qmax].
  auto quantize = [&](float f) {
    const double q = static_cast<double>(std::round(f / output_scale));
    const double lo = static_cast<double>(qmin) - output_zero_point - 1.0;
    const double hi = static_cast<double>(qmax) - output_zero_point + 1.0;
    return output_zero_point + static_cast<int32_t>(std::min(std::max(q, lo), hi));
  };
  switch (act) {
    case Activation::kRelu:
      return {std::max(qmin, quantize(0.0f)), qmax};
    case Activation::kRelu6:
      return {std::max(qmin, quantize(0.0f)), std::min(qmax, quantize(6.0f))};
    case Activation::kReluN1To1:
      return {std::max(qmin, quantize(-1.0f)), std::min(qmax, quantize(1.0f))};
    case Activation::kNone:
      break;
  }
  return {qmin, qmax};
}

FloatRange ActivationRangeFloat(Activation act) {
  switch (act) {
    case Activation::kRelu: return {0.0f, std::numeric_limits<float>::max()};
    case Activation::kRelu6: return {0.0f, 6.0f};
    case Activation::kReluN1To1: return {-1.0f, 1.0f};
    case Activation::kNone: break;
  }
  return {std::numeric_limits<float>::lowest(), std::numeric_limits<float>::max()};
}

void PreprocessSoftmaxScaling(double beta, double input_scale, int input_integer_bits,
                              int32_t* quantized_multiplier, int* left_shift) {
  const double real = std::min<double>(
      beta * input_scale * static_cast<double>(int64_t{1} << (31 - input_integer_bits)),
      static_cast<double>((int64_t{1} << 31) - 1));
  QuantizeMultiplier(real, quantized_multiplier, left_shift);
}

int CalculateInputRadius(int input_integer_bits, int input_left_shift, int total_signed_bits) {
  const double max_input_rescaled = 1.0 * ((1 << input_integer_bits) - 1) *
                                    static_cast<double>(int64_t{1} << (total_signed_bits - input_integer_bits)) /
                                    static_cast<double>(int64_t{1} << input_left_shift);
  return static_cast<int>(std::floor(max_input_rescaled));
}

}  // namespace triage::kernels
