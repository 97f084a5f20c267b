#include "kernels/fixed_point.h"

namespace triage::kernels::fixed_point {

FixedPoint<0> ExpOnIntervalBetweenNegativeOneQuarterAnd0Excl(FixedPoint<0> a) {
  using F = FixedPoint<0>;
  const F constant_term = F::FromRaw(1895147668);      // exp(-1/8)
  const F constant_1_over_3 = F::FromRaw(715827883);   // 1/3
  const F x = a + F::ConstantPOT<-3>();
  const F x2 = x * x;
  const F x3 = x2 * x;
  const F x4 = x2 * x2;
  const F x4_over_4 = F::FromRaw(SaturatingRoundingMultiplyByPOT<-2>(x4.raw));
  const F poly = F::FromRaw(
      SaturatingRoundingMultiplyByPOT<-1>((((x4_over_4 + x3) * constant_1_over_3) + x2).raw));
  return constant_term + constant_term * (x + poly);
}

FixedPoint<0> ExpOnNegativeValues(FixedPoint<5> a) {
  using InputF = FixedPoint<5>;
  using ResultF = FixedPoint<0>;
  constexpr int kFractionalBits = InputF::kFractionalBits;
  const InputF one_quarter = InputF::ConstantPOT<-2>();
  const int32_t mask = one_quarter.raw - 1;
  const InputF a_mod_quarter_minus_one_quarter = InputF::FromRaw((a.raw & mask)) - one_quarter;
  ResultF result =
      ExpOnIntervalBetweenNegativeOneQuarterAnd0Excl(Rescale<0>(a_mod_quarter_minus_one_quarter));
  const int32_t remainder = (a_mod_quarter_minus_one_quarter - a).raw;

  // Barrel shifter: multiply by exp(-2^k) for each bit k set in the remainder.
  struct Step {
    int exponent;
    int32_t multiplier;  // exp(-2^exponent) in Q0.31
  };
  static constexpr Step kSteps[] = {{-2, 1672461947}, {-1, 1302514674}, {0, 790015084},
                                    {1, 290630308},   {2, 39332535},    {3, 720401},
                                    {4, 242}};
  for (const Step& step : kSteps) {
    // All seven steps apply for 5 integer bits (5 > exponent for each).
    const int shift = kFractionalBits + step.exponent;
    if (remainder & (int32_t{1} << shift)) result = result * ResultF::FromRaw(step.multiplier);
  }
  if (a.raw == 0) result = ResultF::One();
  return result;
}

FixedPoint<0> OneOverOnePlusXForXIn01(FixedPoint<0> a) {
  using F0 = FixedPoint<0>;
  using F2 = FixedPoint<2>;
  const F0 half_denominator = RoundingHalfSum(a, F0::One());
  const F2 constant_48_over_17 = F2::FromRaw(1515870810);
  const F2 constant_neg_32_over_17 = F2::FromRaw(-1010580540);
  F2 x = constant_48_over_17 + half_denominator * constant_neg_32_over_17;
  for (int i = 0; i < 3; ++i) {
    const F2 half_denominator_times_x = half_denominator * x;
    const F2 one_minus = F2::One() - half_denominator_times_x;
    x = x + Rescale<2>(x * one_minus);
  }
  // x / 2 reinterpreted with one integer bit (exact), then back to Q0.31.
  return Rescale<0>(FixedPoint<1>::FromRaw(x.raw));
}

int32_t GetReciprocal(int32_t x, int x_integer_digits, int* num_bits_over_unit) {
  const uint32_t ux = static_cast<uint32_t>(x);
  const int headroom_plus_one = ux == 0 ? 32 : __builtin_clz(ux);
  *num_bits_over_unit = x_integer_digits - headroom_plus_one;
  const int32_t shifted_sum_minus_one =
      static_cast<int32_t>((headroom_plus_one >= 32 ? 0u : (ux << headroom_plus_one)) - (uint32_t{1} << 31));
  return OneOverOnePlusXForXIn01(FixedPoint<0>::FromRaw(shifted_sum_minus_one)).raw;
}

}  // namespace triage::kernels::fixed_point
