// kernels/quant.h: multiplier quantization, the gemmlowp integer primitives,
// activation ranges and softmax scaling, against hand-computed goldens and
// independent exact models (tests/kernels/kernel_test_util.h).
#include "kernels/quant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "tests/kernels/kernel_test_util.h"

namespace triage::kernels {
namespace {

using testing::ModelMultiplyByQuantizedMultiplier;
using testing::ModelRoundHalfAwayDivPot;
using testing::ModelSrdhm;
using testing::Rng;

constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();

struct QM {
  int32_t multiplier;
  int shift;
};
QM Quantize(double real) {
  QM q{-1, -100};
  QuantizeMultiplier(real, &q.multiplier, &q.shift);
  return q;
}

// --- QuantizeMultiplier ------------------------------------------------------

TEST(Quant, MultiplierOfOneIsOneHalfShiftedLeftByOne) {
  const QM q = Quantize(1.0);
  EXPECT_EQ(q.multiplier, 1 << 30);
  EXPECT_EQ(q.shift, 1);
}

TEST(Quant, MultiplierOfOneHalfIsExact) {
  const QM q = Quantize(0.5);
  EXPECT_EQ(q.multiplier, 1 << 30);
  EXPECT_EQ(q.shift, 0);
}

TEST(Quant, MultiplierOfThreeQuartersIsExact) {
  const QM q = Quantize(0.75);
  EXPECT_EQ(q.multiplier, 1610612736);  // 0.75 * 2^31
  EXPECT_EQ(q.shift, 0);
}

TEST(Quant, MultiplierOfPowersOfTwoKeepsSignificandOneHalf) {
  for (int e = -31; e <= 30; ++e) {
    const QM q = Quantize(std::ldexp(1.0, e));
    EXPECT_EQ(q.multiplier, 1 << 30) << "2^" << e;
    EXPECT_EQ(q.shift, e + 1) << "2^" << e;
  }
}

TEST(Quant, MultiplierOfZeroIsZero) {
  const QM q = Quantize(0.0);
  EXPECT_EQ(q.multiplier, 0);
  EXPECT_EQ(q.shift, 0);
}

// TFLite zeroes multipliers whose frexp exponent is below -31, i.e. values
// below 2^-32 (its comment says "roughly < 2^-31"; the exact cut is the
// exponent test).
TEST(Quant, MultiplierBelowTwoToMinus32BecomesZero) {
  for (double v : {std::ldexp(1.0, -33), std::ldexp(1.0, -32) * (1.0 - std::ldexp(1.0, -20)), 1e-12, 1e-30,
                   std::numeric_limits<double>::denorm_min()}) {
    const QM q = Quantize(v);
    EXPECT_EQ(q.multiplier, 0) << v;
    EXPECT_EQ(q.shift, 0) << v;
  }
}

TEST(Quant, MultiplierOfTwoToMinus32IsTheSmallestRepresented) {
  const QM q = Quantize(std::ldexp(1.0, -32));
  EXPECT_EQ(q.multiplier, 1 << 30);
  EXPECT_EQ(q.shift, -31);
  const QM r = Quantize(std::ldexp(1.5, -32));
  EXPECT_EQ(r.multiplier, 1610612736);
  EXPECT_EQ(r.shift, -31);
}

TEST(Quant, MultiplierThatRoundsUpToTwoTo31IsRenormalized) {
  // Significand 1 - 2^-33: q * 2^31 = 2^31 - 1/4 rounds to 2^31, which does not
  // fit; TFLite halves it and bumps the exponent.
  for (int e : {-20, -1, 0, 1, 7, 20}) {
    const QM q = Quantize(std::ldexp(1.0 - std::ldexp(1.0, -33), e));
    EXPECT_EQ(q.multiplier, 1 << 30) << "e=" << e;
    EXPECT_EQ(q.shift, e + 1) << "e=" << e;
  }
  // Exactly half-way (2^31 - 1/2) rounds away from zero, also to 2^31.
  const QM tie = Quantize(1.0 - std::ldexp(1.0, -32));
  EXPECT_EQ(tie.multiplier, 1 << 30);
  EXPECT_EQ(tie.shift, 1);
  // Just below that stays at INT32_MAX.
  const QM below = Quantize(1.0 - std::ldexp(1.0, -31));
  EXPECT_EQ(below.multiplier, kMax);
  EXPECT_EQ(below.shift, 0);
}

TEST(Quant, MultiplierSignificandRoundsHalfAwayFromZero) {
  const QM tie = Quantize(0.5 + std::ldexp(1.0, -32));  // 2^30 + 1/2
  EXPECT_EQ(tie.multiplier, (1 << 30) + 1);
  EXPECT_EQ(tie.shift, 0);
  const QM quarter = Quantize(0.5 + std::ldexp(1.0, -33));  // 2^30 + 1/4
  EXPECT_EQ(quarter.multiplier, 1 << 30);
  const QM three_quarters = Quantize(0.5 + 3 * std::ldexp(1.0, -33));  // 2^30 + 3/4
  EXPECT_EQ(three_quarters.multiplier, (1 << 30) + 1);
}

TEST(Quant, MultiplierReconstructsRandomValuesWithinHalfAUnitOfQ31) {
  Rng rng(1);
  for (int i = 0; i < 20000; ++i) {
    const double v = std::ldexp(rng.Double(0.5, 1.0), rng.Int(-31, 30));
    const QM q = Quantize(v);
    ASSERT_GE(q.multiplier, 1 << 30) << v;
    ASSERT_LE(q.multiplier, kMax) << v;
    // |multiplier - v * 2^(31 - shift)| <= 1/2 (round to nearest).
    const double scaled = std::ldexp(v, 31 - q.shift);
    ASSERT_LE(std::fabs(q.multiplier - scaled), 0.5) << v;
  }
}

TEST(Quant, NonFiniteMultiplierBecomesZero) {
  for (double v : {std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()}) {
    const QM q = Quantize(v);
    EXPECT_EQ(q.multiplier, 0);
    EXPECT_EQ(q.shift, 0);
  }
}

// --- SaturatingRoundingDoublingHighMul -----------------------------------------

TEST(Quant, SrdhmSaturatesMinTimesMinToMax) {
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(kMin, kMin), kMax);
}

TEST(Quant, SrdhmHandComputedGoldens) {
  // (a * b) / 2^31, ties towards +infinity (nudge then truncate).
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(kMin, kMax), -2147483647);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(kMax, kMin), -2147483647);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(kMax, kMax), 2147483646);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(kMin, 1 << 30), -(1 << 30));
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(1 << 30, 1 << 30), 1 << 29);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(0, kMin), 0);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(1, 1 << 30), 1);    // +0.5 -> 1
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(-1, 1 << 30), 0);   // -0.5 -> 0
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(3, 1 << 30), 2);    // +1.5 -> 2
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(-3, 1 << 30), -1);  // -1.5 -> -1
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(-5, 1 << 29), -1);  // -1.25 -> -1
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(-7, 1 << 29), -2);  // -1.75 -> -2
}

TEST(Quant, SrdhmMatchesRoundHalfUpModelOnRandomInputs) {
  Rng rng(2);
  const int32_t specials[] = {kMin, kMin + 1, -(1 << 30), -1, 0, 1, 1 << 30, kMax - 1, kMax};
  for (int32_t a : specials)
    for (int32_t b : specials) ASSERT_EQ(SaturatingRoundingDoublingHighMul(a, b), ModelSrdhm(a, b)) << a << "*" << b;
  for (int i = 0; i < 200000; ++i) {
    const int32_t a = static_cast<int32_t>(rng.Int64(kMin, kMax));
    const int32_t b = i % 2 ? static_cast<int32_t>(rng.Int64(kMin, kMax)) : rng.Int(-1000, 1000);
    const int32_t got = SaturatingRoundingDoublingHighMul(a, b);
    ASSERT_EQ(got, ModelSrdhm(a, b)) << a << "*" << b;
    if (!(a == kMin && b == kMin)) {
      const long double exact = static_cast<long double>(a) * b / 2147483648.0L;
      ASSERT_LE(std::fabs(static_cast<long double>(got) - exact), 0.5L) << a << "*" << b;
    }
  }
}

// --- RoundingDivideByPOT ---------------------------------------------------------

TEST(Quant, RoundingDivideByPotRoundsTiesAwayFromZero) {
  struct Case {
    int32_t x;
    int e;
    int32_t expected;
  };
  const Case cases[] = {
      {1, 1, 1},   {-1, 1, -1},  {3, 1, 2},   {-3, 1, -2},  {5, 1, 3},    {-5, 1, -3},
      {2, 2, 1},   {-2, 2, -1},  {6, 2, 2},   {-6, 2, -2},  {10, 2, 3},   {-10, 2, -3},
      {5, 2, 1},   {-5, 2, -1},  {7, 2, 2},   {-7, 2, -2},  {1, 2, 0},    {-1, 2, 0},
      {4, 3, 1},   {-4, 3, -1},  {3, 3, 0},   {-3, 3, 0},   {12, 3, 2},   {-12, 3, -2},
      {0, 5, 0},   {16, 5, 1},   {-16, 5, -1}, {15, 5, 0},  {-15, 5, 0},  {48, 5, 2}, {-48, 5, -2},
  };
  for (const Case& c : cases) EXPECT_EQ(RoundingDivideByPOT(c.x, c.e), c.expected) << c.x << " / 2^" << c.e;
}

TEST(Quant, RoundingDivideByPotOfExponentZeroIsIdentity) {
  for (int32_t x : {kMin, -7, -1, 0, 1, 7, kMax}) EXPECT_EQ(RoundingDivideByPOT(x, 0), x);
}

TEST(Quant, RoundingDivideByPotHandlesExtremeInputsAndExponents) {
  EXPECT_EQ(RoundingDivideByPOT(kMin, 31), -1);
  EXPECT_EQ(RoundingDivideByPOT(kMax, 31), 1);
  EXPECT_EQ(RoundingDivideByPOT(1 << 30, 31), 1);        // +0.5
  EXPECT_EQ(RoundingDivideByPOT(-(1 << 30), 31), -1);    // -0.5
  EXPECT_EQ(RoundingDivideByPOT((1 << 30) - 1, 31), 0);
  EXPECT_EQ(RoundingDivideByPOT(-(1 << 30) + 1, 31), 0);
  EXPECT_EQ(RoundingDivideByPOT(kMin, 1), -(1 << 30));
  EXPECT_EQ(RoundingDivideByPOT(kMax, 1), 1 << 30);      // 1073741823.5 -> up
  EXPECT_EQ(RoundingDivideByPOT(kMin + 1, 1), -(1 << 30));  // -1073741823.5 -> down
}

TEST(Quant, RoundingDivideByPotMatchesModelOnRandomInputs) {
  Rng rng(3);
  for (int i = 0; i < 200000; ++i) {
    const int32_t x = i % 3 ? static_cast<int32_t>(rng.Int64(kMin, kMax)) : rng.Int(-4096, 4096);
    const int e = rng.Int(0, 31);
    ASSERT_EQ(RoundingDivideByPOT(x, e), ModelRoundHalfAwayDivPot(x, e)) << x << " / 2^" << e;
  }
}

// --- MultiplyByQuantizedMultiplier -----------------------------------------------

TEST(Quant, MultiplyByOneIsIdentity) {
  Rng rng(4);
  for (int i = 0; i < 10000; ++i) {
    const int32_t x = rng.Int(-(1 << 30), (1 << 30) - 1);
    ASSERT_EQ(MultiplyByQuantizedMultiplier(x, 1 << 30, 1), x);
  }
}

// The documented double rounding: the high multiply rounds ties up, then the
// shift rounds ties away from zero. These goldens pin it (TFLite's default,
// non-single-rounding MultiplyByQuantizedMultiplier).
TEST(Quant, MultiplyByQuantizedMultiplierUsesTfliteDoubleRounding) {
  EXPECT_EQ(MultiplyByQuantizedMultiplier(3, 1 << 30, 0), 2);    // 1.5 -> 2
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-3, 1 << 30, 0), -1);  // -1.5 -> -1 (tie up in the high mul)
  EXPECT_EQ(MultiplyByQuantizedMultiplier(6, 1 << 30, -1), 2);   // 1.5 -> 2
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-6, 1 << 30, -1), -2); // -1.5 -> -2 (tie away in the shift)
  EXPECT_EQ(MultiplyByQuantizedMultiplier(1, 1 << 30, -1), 1);   // 0.25: 0.5 -> 1, then 0.5 -> 1
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-1, 1 << 30, -1), 0);  // -0.25: -0.5 -> 0
  EXPECT_EQ(MultiplyByQuantizedMultiplier(100, 1 << 30, 4), 800);
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-100, 1 << 30, 4), -800);
  EXPECT_EQ(MultiplyByQuantizedMultiplier(1000, 1610612736, -3), 94);  // 1000 * 0.75 / 8 = 93.75
}

TEST(Quant, MultiplyByQuantizedMultiplierMatchesExactModelOnRandomInputs) {
  Rng rng(5);
  int exact_ties_checked = 0;
  for (int i = 0; i < 200000; ++i) {
    const double real = std::ldexp(rng.Double(0.5, 1.0), rng.Int(-24, 8));
    int32_t qm;
    int shift;
    QuantizeMultiplier(real, &qm, &shift);
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    // Keep x * 2^left inside int32, as validated models do.
    const int64_t limit = (int64_t{1} << (31 - left)) - 1;
    const int32_t x = static_cast<int32_t>(i % 4 ? rng.Int64(-limit, limit) : rng.Int64(-300, 300));
    const int32_t got = MultiplyByQuantizedMultiplier(x, qm, shift);
    // Bit-exact against the independent two-stage model.
    ASSERT_EQ(got, ModelMultiplyByQuantizedMultiplier(x, qm, shift)) << x << " qm=" << qm << " shift=" << shift;
    // And within the documented rounding of the exact product: 1/2 from the
    // final shift plus 1/2 ulp of the high multiply scaled down by the shift.
    const long double exact = std::ldexp(static_cast<long double>(x) * qm, shift - 31);
    const long double bound = 0.5L + std::ldexp(0.5L, -right);
    ASSERT_LE(std::fabs(static_cast<long double>(got) - exact), bound) << x << " qm=" << qm << " shift=" << shift;
    // Away from ties the result is simply the nearest integer.
    const long double frac = exact - std::floor(exact);
    if (std::fabs(frac - 0.5L) > std::ldexp(0.5L, -right) + 1e-12L) {
      ASSERT_EQ(got, static_cast<int32_t>(std::llround(exact))) << x << " qm=" << qm << " shift=" << shift;
      ++exact_ties_checked;
    }
    // The real multiplier itself is within 2^-31 relative of the quantized one.
    ASSERT_NEAR(static_cast<double>(got), x * real, bound + std::fabs(x * real) * 1e-9 + 1e-9);
  }
  EXPECT_GT(exact_ties_checked, 100000);
}

TEST(Quant, SmallerThanOneAndGreaterThanOneFormsAgreeWithGeneralForm) {
  Rng rng(6);
  for (int i = 0; i < 50000; ++i) {
    const int32_t x = rng.Int(-(1 << 20), 1 << 20);
    int32_t qm;
    int shift;
    QuantizeMultiplier(std::ldexp(rng.Double(0.5, 1.0), rng.Int(-20, 0)), &qm, &shift);
    ASSERT_EQ(MultiplyByQuantizedMultiplierSmallerThanOneExp(x, qm, shift), MultiplyByQuantizedMultiplier(x, qm, shift));
    QuantizeMultiplier(std::ldexp(rng.Double(0.5, 1.0), rng.Int(1, 10)), &qm, &shift);
    ASSERT_EQ(MultiplyByQuantizedMultiplierGreaterThanOne(x, qm, shift), MultiplyByQuantizedMultiplier(x, qm, shift));
  }
}

// --- Activation ranges -------------------------------------------------------------

struct RangeCase {
  Activation act;
  float scale;
  int32_t zero_point;
  int32_t qmin, qmax;
  int32_t expected_min, expected_max;
};

TEST(Quant, ActivationRangeQuantizedHandComputedGoldens) {
  const RangeCase cases[] = {
      // uint8, scale 0.1, zp 10: 0 -> 10, 6 -> 70, -1 -> 0, +1 -> 20.
      {Activation::kNone, 0.1f, 10, 0, 255, 0, 255},
      {Activation::kRelu, 0.1f, 10, 0, 255, 10, 255},
      {Activation::kRelu6, 0.1f, 10, 0, 255, 10, 70},
      {Activation::kReluN1To1, 0.1f, 10, 0, 255, 0, 20},
      // int8, scale 0.05, zp -128: 6 -> -8; -1 -> -148 clamps to -128; +1 -> -108.
      {Activation::kRelu, 0.05f, -128, -128, 127, -128, 127},
      {Activation::kRelu6, 0.05f, -128, -128, 127, -128, -8},
      {Activation::kReluN1To1, 0.05f, -128, -128, 127, -128, -108},
      // Clamping to the type range: 6 / 0.01 = 600 > 127.
      {Activation::kRelu6, 0.01f, 0, -128, 127, 0, 127},
      {Activation::kReluN1To1, 0.01f, 0, -128, 127, -100, 100},
      {Activation::kReluN1To1, 0.001f, 0, -128, 127, -128, 127},
      // Extreme zero points.
      {Activation::kRelu, 1.0f, 255, 0, 255, 255, 255},
      {Activation::kRelu6, 1.0f, 255, 0, 255, 255, 255},
      {Activation::kReluN1To1, 1.0f, 255, 0, 255, 254, 255},
      {Activation::kReluN1To1, 1.0f, 0, 0, 255, 0, 1},
      {Activation::kRelu, 0.5f, 127, -128, 127, 127, 127},
      {Activation::kRelu6, 0.5f, -128, -128, 127, -128, -116},
      // Round half away from zero: 6/12 = 0.5 -> 1, +-1/2 -> +-1, +-1/4 -> 0.
      {Activation::kRelu6, 12.0f, 0, -128, 127, 0, 1},
      {Activation::kReluN1To1, 2.0f, 0, -128, 127, -1, 1},
      {Activation::kReluN1To1, 4.0f, 0, -128, 127, 0, 0},
      // Extreme large scale collapses the range onto the zero point.
      {Activation::kRelu6, 1e6f, 3, 0, 255, 3, 3},
      // int16.
      {Activation::kRelu6, 1.0f / 4096, 0, -32768, 32767, 0, 24576},
      {Activation::kReluN1To1, 1.0f / 4096, 0, -32768, 32767, -4096, 4096},
  };
  for (const RangeCase& c : cases) {
    const QuantizedRange r = ActivationRangeQuantized(c.act, c.scale, c.zero_point, c.qmin, c.qmax);
    EXPECT_EQ(r.min, c.expected_min) << "act=" << static_cast<int>(c.act) << " scale=" << c.scale
                                     << " zp=" << c.zero_point;
    EXPECT_EQ(r.max, c.expected_max) << "act=" << static_cast<int>(c.act) << " scale=" << c.scale
                                     << " zp=" << c.zero_point;
  }
}

TEST(Quant, ActivationRangeQuantizedIsAlwaysInsideTheTypeRange) {
  Rng rng(7);
  for (int i = 0; i < 20000; ++i) {
    const bool is_int8 = rng.Bool();
    const int32_t qmin = is_int8 ? -128 : 0, qmax = is_int8 ? 127 : 255;
    const int32_t zp = rng.Int(qmin, qmax);
    const float scale = static_cast<float>(std::ldexp(rng.Double(0.5, 1.0), rng.Int(-20, 10)));
    const Activation act = rng.Pick({Activation::kNone, Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1});
    const QuantizedRange r = ActivationRangeQuantized(act, scale, zp, qmin, qmax);
    ASSERT_GE(r.min, qmin);
    ASSERT_LE(r.max, qmax);
    ASSERT_LE(r.min, r.max) << "scale=" << scale << " zp=" << zp;
  }
}

TEST(Quant, ActivationRangeFloatGoldens) {
  const FloatRange none = ActivationRangeFloat(Activation::kNone);
  EXPECT_EQ(none.min, std::numeric_limits<float>::lowest());
  EXPECT_EQ(none.max, std::numeric_limits<float>::max());
  const FloatRange relu = ActivationRangeFloat(Activation::kRelu);
  EXPECT_EQ(relu.min, 0.0f);
  EXPECT_EQ(relu.max, std::numeric_limits<float>::max());
  const FloatRange relu6 = ActivationRangeFloat(Activation::kRelu6);
  EXPECT_EQ(relu6.min, 0.0f);
  EXPECT_EQ(relu6.max, 6.0f);
  const FloatRange n1 = ActivationRangeFloat(Activation::kReluN1To1);
  EXPECT_EQ(n1.min, -1.0f);
  EXPECT_EQ(n1.max, 1.0f);
  EXPECT_EQ(ActivationFunction(-3.0f, relu6), 0.0f);
  EXPECT_EQ(ActivationFunction(7.5f, relu6), 6.0f);
  EXPECT_EQ(ActivationFunction(2.5f, relu6), 2.5f);
}

// --- Softmax scaling -----------------------------------------------------------------

TEST(Quant, PreprocessSoftmaxScalingGoldens) {
  int32_t m;
  int s;
  // beta * scale * 2^26 = 2^-8 * 2^26 = 2^18 = 0.5 * 2^19.
  PreprocessSoftmaxScaling(1.0, 1.0 / 256, 5, &m, &s);
  EXPECT_EQ(m, 1 << 30);
  EXPECT_EQ(s, 19);
  // 0.1 * 2^26 = 6710886.4 = 0.8 * 2^23.
  PreprocessSoftmaxScaling(1.0, 0.1, 5, &m, &s);
  EXPECT_EQ(s, 23);
  EXPECT_EQ(m, 1717986918);  // round(0.8 * 2^31)
  // beta = 2 doubles the multiplier: one more left shift, same significand.
  PreprocessSoftmaxScaling(2.0, 0.1, 5, &m, &s);
  EXPECT_EQ(s, 24);
  EXPECT_EQ(m, 1717986918);
}

TEST(Quant, PreprocessSoftmaxScalingCapsAtInt32Max) {
  int32_t m;
  int s;
  PreprocessSoftmaxScaling(1e10, 1.0, 5, &m, &s);
  EXPECT_EQ(m, kMax);  // (2^31 - 1) = (1 - 2^-31) * 2^31
  EXPECT_EQ(s, 31);
}

TEST(Quant, CalculateInputRadiusGoldens) {
  // floor((2^5 - 1) * 2^26 / 2^shift)
  EXPECT_EQ(CalculateInputRadius(5, 19), 3968);
  EXPECT_EQ(CalculateInputRadius(5, 20), 1984);
  EXPECT_EQ(CalculateInputRadius(5, 26), 31);
  EXPECT_EQ(CalculateInputRadius(5, 30), 1);  // 31/16 -> 1
  EXPECT_EQ(CalculateInputRadius(5, 31), 0);  // 31/32 -> 0
  EXPECT_EQ(CalculateInputRadius(5, 0), 31 * (1 << 26));
  EXPECT_EQ(CalculateInputRadius(4, 10, 15), 15 * (1 << 11) / (1 << 10));
}

TEST(Quant, ClampAndTypeLimits) {
  EXPECT_EQ(Clamp(-5, 0, 10), 0);
  EXPECT_EQ(Clamp(15, 0, 10), 10);
  EXPECT_EQ(Clamp(5, 0, 10), 5);
  EXPECT_EQ(QMin<int8_t>(), -128);
  EXPECT_EQ(QMax<int8_t>(), 127);
  EXPECT_EQ(QMin<uint8_t>(), 0);
  EXPECT_EQ(QMax<uint8_t>(), 255);
  EXPECT_EQ(QMin<int16_t>(), -32768);
}

// BUG (kernels/quant.cc, ActivationRangeQuantized): an uplinked model may
// legally carry a tiny positive output scale (model validation only rejects
// scale <= 0 or non-finite). f / scale then exceeds INT32_MAX and
// static_cast<int32_t>(std::round(f / scale)) is undefined behaviour; on x86
// it yields INT32_MIN, so RELU6 / RELU_N1_TO_1 get max = INT32_MIN (an
// inverted range that clamps every output to the minimum), and with the
// usual int8 zero point -128 the following "zp + INT32_MIN" is a signed
// overflow. The documented contract is the type range intersected with the
// activation bounds, i.e. [zp, qmax] for RELU6 here. Kept last in this file
// because UBSan builds (-fno-sanitize-recover) abort here.
TEST(Quant, ActivationRangeWithTinyOutputScaleSaturatesToTheTypeRange) {
  const QuantizedRange relu6 = ActivationRangeQuantized(Activation::kRelu6, 1e-12f, 0, -128, 127);
  EXPECT_EQ(relu6.min, 0);
  EXPECT_EQ(relu6.max, 127) << "6 / 1e-12 overflows int32 in static_cast<int32_t>(std::round(f / scale))";
  const QuantizedRange n1 = ActivationRangeQuantized(Activation::kReluN1To1, 1e-12f, 0, -128, 127);
  EXPECT_EQ(n1.min, -128);
  EXPECT_EQ(n1.max, 127);
  // Just below the overflow threshold (6 / 2^31) still works; just above does not.
  const QuantizedRange edge = ActivationRangeQuantized(Activation::kRelu6, 3e-9f, -128, -128, 127);
  EXPECT_EQ(edge.max, 127);
  const QuantizedRange relu6_zp = ActivationRangeQuantized(Activation::kRelu6, 2e-9f, -128, -128, 127);
  EXPECT_EQ(relu6_zp.min, -128);
  EXPECT_EQ(relu6_zp.max, 127) << "signed overflow: -128 + static_cast<int32_t>(3e9f)";
}

}  // namespace
}  // namespace triage::kernels
