// kernels/fixed_point.h: gemmlowp-style Q-format helpers used by quantized
// softmax, checked against std::exp / 1/x within documented tolerances and
// against hand-computed goldens for the exact operations.
#include "kernels/fixed_point.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "tests/kernels/kernel_test_util.h"

namespace triage::kernels::fixed_point {
namespace {

constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
constexpr double kQ31 = 2147483648.0;  // 2^31
constexpr double kQ26 = 67108864.0;    // 2^26: one unit in Q5.26

// gemmlowp's exp is accurate to about 2.3e-7 absolute (worst near 0); 3e-7
// leaves margin and is still ~1/13000 of an 8-bit softmax output step.
constexpr double kExpTolerance = 3e-7;
// Newton-Raphson reciprocal: ~3.2e-9 absolute on [0.5, 1].
constexpr double kReciprocalTolerance = 1e-8;

double ExpReal(int32_t raw_q5_26) {
  return ExpOnNegativeValues(FixedPoint<5>::FromRaw(raw_q5_26)).raw / kQ31;
}

TEST(FixedPoint, ExpOfZeroIsExactlyOne) {
  EXPECT_EQ(ExpOnNegativeValues(FixedPoint<5>::FromRaw(0)).raw, kMax);
}

TEST(FixedPoint, ExpOnNegativeValuesMatchesStdExpOverMinus32To0) {
  double max_err = 0.0;
  int32_t worst = 0;
  // Dense stride over the whole Q5.26 negative range [-32, 0], plus every
  // raw value near 0 where the polynomial does all the work.
  for (int64_t raw = kMin; raw <= 0; raw += 4099) {
    const double err = std::fabs(ExpReal(static_cast<int32_t>(raw)) - std::exp(raw / kQ26));
    if (err > max_err) {
      max_err = err;
      worst = static_cast<int32_t>(raw);
    }
  }
  for (int32_t raw = -(1 << 18); raw <= 0; ++raw) {
    const double err = std::fabs(ExpReal(raw) - std::exp(raw / kQ26));
    if (err > max_err) {
      max_err = err;
      worst = raw;
    }
  }
  EXPECT_LE(max_err, kExpTolerance) << "worst at a = " << worst / kQ26;
}

TEST(FixedPoint, ExpAtIntegerAndQuarterPointsIsAccurate) {
  for (int k = 0; k <= 31 * 4; ++k) {
    const int32_t raw = -k * (1 << 24);  // -k/4
    EXPECT_NEAR(ExpReal(raw), std::exp(-k / 4.0), kExpTolerance) << "a = " << -k / 4.0;
  }
  // The most negative input (-32) underflows to (nearly) zero without wrapping.
  const double at_min = ExpReal(kMin);
  EXPECT_GE(at_min, 0.0);
  EXPECT_LE(at_min, 1e-9);
}

TEST(FixedPoint, ExpOnNegativeValuesIsMonotone) {
  int32_t prev = ExpOnNegativeValues(FixedPoint<5>::FromRaw(kMin)).raw;
  for (int64_t raw = static_cast<int64_t>(kMin) + 1013; raw <= 0; raw += 1013) {
    const int32_t r = ExpOnNegativeValues(FixedPoint<5>::FromRaw(static_cast<int32_t>(raw))).raw;
    ASSERT_GE(r, prev) << "a = " << raw / kQ26;
    prev = r;
  }
}

TEST(FixedPoint, ExpOnQuarterIntervalMatchesStdExp) {
  // a in [-1/4, 0) in Q0.31.
  for (int32_t raw = -(1 << 29); raw < 0; raw += 997) {
    const double got = ExpOnIntervalBetweenNegativeOneQuarterAnd0Excl(FixedPoint<0>::FromRaw(raw)).raw / kQ31;
    ASSERT_NEAR(got, std::exp(raw / kQ31), kExpTolerance) << raw;
  }
}

TEST(FixedPoint, OneOverOnePlusXMatchesDivision) {
  for (int64_t raw = 0; raw <= kMax; raw += 65537) {
    const double x = raw / kQ31;
    const double got = OneOverOnePlusXForXIn01(FixedPoint<0>::FromRaw(static_cast<int32_t>(raw))).raw / kQ31;
    ASSERT_NEAR(got, 1.0 / (1.0 + x), kReciprocalTolerance) << x;
  }
  // x = 0 gives (almost exactly) one; x -> 1 gives one half.
  EXPECT_NEAR(OneOverOnePlusXForXIn01(FixedPoint<0>::FromRaw(0)).raw / kQ31, 1.0, kReciprocalTolerance);
  EXPECT_NEAR(OneOverOnePlusXForXIn01(FixedPoint<0>::FromRaw(kMax)).raw / kQ31, 0.5, kReciprocalTolerance);
}

TEST(FixedPoint, GetReciprocalMatchesOneOverXInQ12) {
  // Softmax sums in Q12.19 lie in [1, 4096): the row maximum contributes 1.
  for (int64_t raw = 1 << 19; raw <= kMax; raw += 9973) {
    int bits = -100;
    const int32_t r = GetReciprocal(static_cast<int32_t>(raw), 12, &bits);
    const double x = raw / 524288.0;  // 2^19
    ASSERT_GE(bits, 0);
    ASSERT_LE(bits, 12);
    const double recip = r / kQ31 * std::ldexp(1.0, -bits);
    ASSERT_NEAR(recip * x, 1.0, 2 * kReciprocalTolerance) << x;
  }
}

TEST(FixedPoint, GetReciprocalGoldens) {
  int bits = 0;
  // x = 1.0 in Q12.19: 1 / (1 + 0) with no extra scaling.
  int32_t r = GetReciprocal(1 << 19, 12, &bits);
  EXPECT_EQ(bits, 0);
  EXPECT_NEAR(r / kQ31, 1.0, kReciprocalTolerance);
  // x = 4: 1/(1+0) scaled down by 2 bits.
  r = GetReciprocal(4 << 19, 12, &bits);
  EXPECT_EQ(bits, 2);
  EXPECT_NEAR(r / kQ31, 1.0, kReciprocalTolerance);
  // x = 3: 1/(1 + 0.5) = 2/3, scaled down by 1 bit.
  r = GetReciprocal(3 << 19, 12, &bits);
  EXPECT_EQ(bits, 1);
  EXPECT_NEAR(r / kQ31, 2.0 / 3.0, kReciprocalTolerance);
  // Other formats: x = 1.25 in Q0.31 ... impossible (> 1), use Q2.29.
  r = GetReciprocal(5 << 27, 2, &bits);
  EXPECT_EQ(bits, 0);
  EXPECT_NEAR(r / kQ31, 0.8, kReciprocalTolerance);
}

TEST(FixedPoint, SaturatingRoundingMultiplyByPotSaturatesAndRounds) {
  EXPECT_EQ(SaturatingRoundingMultiplyByPOT<1>(1 << 29), 1 << 30);
  EXPECT_EQ(SaturatingRoundingMultiplyByPOT<1>(1 << 30), kMax);
  EXPECT_EQ(SaturatingRoundingMultiplyByPOT<1>((1 << 30) - 1), 2147483646);
  EXPECT_EQ(SaturatingRoundingMultiplyByPOT<1>(-(1 << 30)), kMin);
  EXPECT_EQ(SaturatingRoundingMultiplyByPOT<1>(-(1 << 30) + 1), -2147483646);
  EXPECT_EQ(SaturatingRoundingMultiplyByPOT<5>(kMax), kMax);
  EXPECT_EQ(SaturatingRoundingMultiplyByPOT<5>(kMin), kMin);
  EXPECT_EQ(SaturatingRoundingMultiplyByPOT<5>(-3), -96);
  EXPECT_EQ(SaturatingRoundingMultiplyByPOT<0>(-3), -3);
  EXPECT_EQ(SaturatingRoundingMultiplyByPOT<-2>(6), 2);    // 1.5 -> 2
  EXPECT_EQ(SaturatingRoundingMultiplyByPOT<-2>(-6), -2);  // -1.5 -> -2
  EXPECT_EQ(SaturatingRoundingMultiplyByPOT<-2>(5), 1);
}

TEST(FixedPoint, RescaleKeepsTheRealValue) {
  // 1.5 in Q5.26 -> Q12.19 and back.
  const FixedPoint<5> a = FixedPoint<5>::FromRaw(3 << 25);
  const FixedPoint<12> b = Rescale<12>(a);
  EXPECT_EQ(b.raw, 3 << 18);
  EXPECT_EQ(Rescale<5>(b).raw, a.raw);
  // Q0.31 one (INT32_MAX) to Q12.19 rounds to exactly 2^19.
  EXPECT_EQ(Rescale<12>(FixedPoint<0>::One()).raw, 1 << 19);
  // Out of range saturates: 2.0 in Q2.29 to Q0.31.
  EXPECT_EQ(Rescale<0>(FixedPoint<2>::FromRaw(1 << 30)).raw, kMax);
}

TEST(FixedPoint, ConstantsAndWrappingArithmetic) {
  EXPECT_EQ(FixedPoint<0>::One().raw, kMax);
  EXPECT_EQ(FixedPoint<5>::One().raw, 1 << 26);
  EXPECT_EQ(FixedPoint<0>::ConstantPOT<-3>().raw, 1 << 28);
  EXPECT_EQ(FixedPoint<5>::ConstantPOT<-2>().raw, 1 << 24);
  EXPECT_EQ(FixedPoint<12>::ConstantPOT<3>().raw, 1 << 22);
  EXPECT_EQ(WrappingAdd(kMax, 1), kMin);
  EXPECT_EQ(WrappingSub(kMin, 1), kMax);
  // Products use the saturating rounding doubling high multiply: 0.5 * 0.5.
  const auto q = FixedPoint<0>::FromRaw(1 << 30) * FixedPoint<0>::FromRaw(1 << 30);
  EXPECT_EQ(q.raw, 1 << 29);
  // Q2 * Q3 -> Q5 keeps raw = a*b/2^31: 1.0 (Q2) * 2.0 (Q3) = 2.0 (Q5).
  const auto p = FixedPoint<2>::One() * FixedPoint<3>::FromRaw(1 << 29);
  EXPECT_EQ(p.raw, 2 << 26);
}

TEST(FixedPoint, RoundingHalfSumRoundsAwayFromZeroWithoutOverflow) {
  using F = FixedPoint<0>;
  EXPECT_EQ(RoundingHalfSum(F::FromRaw(kMax), F::FromRaw(kMax)).raw, kMax);
  EXPECT_EQ(RoundingHalfSum(F::FromRaw(kMin), F::FromRaw(kMin)).raw, kMin);
  EXPECT_EQ(RoundingHalfSum(F::FromRaw(1), F::FromRaw(2)).raw, 2);
  EXPECT_EQ(RoundingHalfSum(F::FromRaw(-1), F::FromRaw(-2)).raw, -2);
  EXPECT_EQ(RoundingHalfSum(F::FromRaw(2), F::FromRaw(4)).raw, 3);
  EXPECT_EQ(RoundingHalfSum(F::FromRaw(0), F::FromRaw(1)).raw, 1);
  EXPECT_EQ(RoundingHalfSum(F::FromRaw(0), F::FromRaw(-1)).raw, -1);
}

}  // namespace
}  // namespace triage::kernels::fixed_point
