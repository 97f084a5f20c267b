// The quantized SOFTMAX row loop, shared by the reference kernel and the
// optimized one: they differ only in where the exponential of a difference
// from the row maximum comes from (computed, or looked up in a table of the
// 256 differences an 8-bit row can have), so they give the same bytes.
#ifndef TRIAGE_KERNELS_REFERENCE_SOFTMAX_ROWS_H_
#define TRIAGE_KERNELS_REFERENCE_SOFTMAX_ROWS_H_

#include <algorithm>
#include <cstdint>
#include <limits>

#include "kernels/fixed_point.h"
#include "kernels/quant.h"
#include "kernels/reference/softmax.h"

namespace triage::kernels::reference {

constexpr int kSoftmaxScaledDiffIntegerBits = 5;
constexpr int kSoftmaxAccumulationIntegerBits = 12;

// exp(beta * scale * diff) in Q0.31 for diff = x - row max <= 0; *in_range is
// false (and the result zero) below diff_min, where TFLite drops the term.
inline fixed_point::FixedPoint<0> SoftmaxScaledExp(const SoftmaxParams& p, int32_t diff, bool* in_range) {
  *in_range = diff >= p.diff_min;
  if (!*in_range) return fixed_point::FixedPoint<0>::Zero();
  const int32_t rescaled = MultiplyByQuantizedMultiplierGreaterThanOne(diff, p.input_multiplier, p.input_left_shift);
  return fixed_point::ExpOnNegativeValues(fixed_point::FixedPoint<kSoftmaxScaledDiffIntegerBits>::FromRaw(rescaled));
}

// exp_of(diff, &in_range) must equal SoftmaxScaledExp(p, diff, &in_range).
template <typename T, typename ExpOf>
void SoftmaxQuantizedRows(const SoftmaxParams& p, const T* input, T* output, const ExpOf& exp_of) {
  using F0 = fixed_point::FixedPoint<0>;
  for (int i = 0; i < p.outer_size; ++i) {
    const T* in = input + static_cast<int64_t>(i) * p.depth;
    T* out = output + static_cast<int64_t>(i) * p.depth;
    int32_t max_in_row = std::numeric_limits<T>::min();
    for (int c = 0; c < p.depth; ++c) max_in_row = std::max<int32_t>(max_in_row, in[c]);

    uint32_t sum_of_exps = 0;  // Q12.19, non-negative terms
    for (int c = 0; c < p.depth; ++c) {
      bool in_range;
      const F0 e = exp_of(static_cast<int32_t>(in[c]) - max_in_row, &in_range);
      if (!in_range) continue;
      const uint32_t term = static_cast<uint32_t>(fixed_point::Rescale<kSoftmaxAccumulationIntegerBits>(e).raw);
      sum_of_exps = sum_of_exps > UINT32_MAX - term ? UINT32_MAX : sum_of_exps + term;
    }

    int num_bits_over_unit = 0;
    const F0 shifted_scale = F0::FromRaw(fixed_point::GetReciprocal(
        static_cast<int32_t>(sum_of_exps), kSoftmaxAccumulationIntegerBits, &num_bits_over_unit));

    for (int c = 0; c < p.depth; ++c) {
      bool in_range;
      const F0 e = exp_of(static_cast<int32_t>(in[c]) - max_in_row, &in_range);
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

}  // namespace triage::kernels::reference

#endif  // TRIAGE_KERNELS_REFERENCE_SOFTMAX_ROWS_H_
