#include "kernels/reference/softmax.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/fixed_point.h"
#include "kernels/quant.h"

namespace triage::kernels::reference {

void SoftmaxFloat(const SoftmaxParams& p, const float* input, float* output) {
  for (int i = 0; i < p.outer_size; ++i) {
    const float* in = input + static_cast<int64_t>(i) * p.depth;
    float* out = output + static_cast<int64_t>(i) * p.depth;
    float max = std::numeric_limits<float>::lowest();
    for (int c = 0; c < p.depth; ++c) max = std::max(max, in[c]);
    float sum = 0.0f;
    for (int c = 0; c < p.depth; ++c) {
      out[c] = std::exp((in[c] - max) * p.beta);
      sum += out[c];
    }
    for (int c = 0; c < p.depth; ++c) out[c] /= sum;
  }
}

template <typename T>
void SoftmaxQuantized(const SoftmaxParams& p, const T* input, T* output) {
  using fixed_point::FixedPoint;
  constexpr int kScaledDiffIntegerBits = 5;
  constexpr int kAccumulationIntegerBits = 12;
  using ScaledDiff = FixedPoint<kScaledDiffIntegerBits>;
  using F0 = FixedPoint<0>;

  for (int i = 0; i < p.outer_size; ++i) {
    const T* in = input + static_cast<int64_t>(i) * p.depth;
    T* out = output + static_cast<int64_t>(i) * p.depth;
    int32_t max_in_row = std::numeric_limits<T>::min();
    for (int c = 0; c < p.depth; ++c) max_in_row = std::max<int32_t>(max_in_row, in[c]);

    auto scaled_exp = [&](int c, bool* in_range) {
      const int32_t diff = static_cast<int32_t>(in[c]) - max_in_row;
      *in_range = diff >= p.diff_min;
      if (!*in_range) return F0::Zero();
      const int32_t rescaled =
          MultiplyByQuantizedMultiplierGreaterThanOne(diff, p.input_multiplier, p.input_left_shift);
      return fixed_point::ExpOnNegativeValues(ScaledDiff::FromRaw(rescaled));
    };

    uint32_t sum_of_exps = 0;  // Q12.19, non-negative terms
    for (int c = 0; c < p.depth; ++c) {
      bool in_range;
      const F0 e = scaled_exp(c, &in_range);
      if (!in_range) continue;
      const uint32_t term = static_cast<uint32_t>(fixed_point::Rescale<kAccumulationIntegerBits>(e).raw);
      sum_of_exps = sum_of_exps > UINT32_MAX - term ? UINT32_MAX : sum_of_exps + term;
    }

    int num_bits_over_unit = 0;
    const F0 shifted_scale = F0::FromRaw(fixed_point::GetReciprocal(static_cast<int32_t>(sum_of_exps),
                                                                    kAccumulationIntegerBits, &num_bits_over_unit));

    for (int c = 0; c < p.depth; ++c) {
      bool in_range;
      const F0 e = scaled_exp(c, &in_range);
      if (!in_range) {
        out[c] = std::numeric_limits<T>::min();
        continue;
      }
      // A row sum above 2^8 (e.g. 1001 near-equal logits) asks for a shift of
      // more than 31 bits; the exact quotient then rounds to 0. TFLite leaves
      // that shift undefined; we define it.
      const int exponent = num_bits_over_unit + 31 - 8;
      const int32_t unsat = exponent > 31 ? 0 : RoundingDivideByPOT((shifted_scale * e).raw, exponent);
      const int32_t shifted = unsat + QMin<T>();
      out[c] = static_cast<T>(Clamp(shifted, QMin<T>(), QMax<T>()));
    }
  }
}

template void SoftmaxQuantized<uint8_t>(const SoftmaxParams&, const uint8_t*, uint8_t*);
template void SoftmaxQuantized<int8_t>(const SoftmaxParams&, const int8_t*, int8_t*);

}  // namespace triage::kernels::reference
