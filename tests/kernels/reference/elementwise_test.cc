// kernels/reference/elementwise.h: broadcasting ADD/MUL (float and quantized),
// requantization, table lookup, QUANTIZE/DEQUANTIZE round trips and
// saturation, including NaN and infinity.
#include "kernels/reference/elementwise.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "tests/kernels/kernel_test_util.h"
#include "tests/kernels/op_runner.h"

namespace triage::kernels {
namespace {

using testing::ModelMultiplyByQuantizedMultiplier;
using testing::ModelRoundHalfAwayDivPot;
using testing::ModelSrdhm;
using testing::QuantSpec;
using testing::Rng;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Flat index into a right-aligned, broadcast input for output index o.
int64_t BroadcastIndex(const Shape& in, const Shape& out, int64_t o) {
  int64_t idx[Shape::kMaxRank];
  for (int i = out.rank - 1; i >= 0; --i) {
    idx[i] = o % out.dims[i];
    o /= out.dims[i];
  }
  int64_t flat = 0;
  for (int i = 0; i < in.rank; ++i) {
    const int oi = i + out.rank - in.rank;
    flat = flat * in.dims[i] + (in.dims[i] == 1 ? 0 : idx[oi]);
  }
  return flat;
}

std::vector<float> AddF(const Shape& s1, const std::vector<float>& a, const Shape& s2, const std::vector<float>& b,
                        Activation act = Activation::kNone) {
  testing::BinarySpec s{false, s1, s2, testing::BroadcastShape(s1, s2), act};
  return testing::RunBinaryFloat(GetKernelTable(KernelSet::kReference), s, a, b);
}

std::vector<float> Iota(int n, float scale = 1.0f) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<size_t>(i)] = scale * static_cast<float>(i);
  return v;
}

TEST(AddFloat, BroadcastsATrailingVector) {
  const Shape s1 = MakeShape({1, 2, 3, 4}), s2 = MakeShape({4});
  const auto out = AddF(s1, Iota(24), s2, {1000, 2000, 3000, 4000});
  ASSERT_EQ(out.size(), 24u);
  for (int i = 0; i < 24; ++i) EXPECT_EQ(out[static_cast<size_t>(i)], static_cast<float>(i + 1000 * (i % 4 + 1)));
}

TEST(AddFloat, BroadcastsBothOperands) {
  // [2,1,3] + [1,4,1] -> [2,4,3]: a = 10 i + k, b = 100 j.
  std::vector<float> a;
  for (int i = 0; i < 2; ++i)
    for (int k = 0; k < 3; ++k) a.push_back(static_cast<float>(10 * i + k));
  const auto out = AddF(MakeShape({2, 1, 3}), a, MakeShape({1, 4, 1}), {0, 100, 200, 300});
  ASSERT_EQ(out.size(), 24u);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 3; ++k) EXPECT_EQ(out[static_cast<size_t>((i * 4 + j) * 3 + k)], 100 * j + 10 * i + k);
}

TEST(AddFloat, BroadcastsAtRankSix) {
  // a holds bits 5, 3, 1 and b bits 4, 2, 0 of the output index.
  std::vector<float> a, b;
  for (int i0 = 0; i0 < 2; ++i0)
    for (int i2 = 0; i2 < 2; ++i2)
      for (int i4 = 0; i4 < 2; ++i4) a.push_back(static_cast<float>(32 * i0 + 8 * i2 + 2 * i4));
  for (int i1 = 0; i1 < 2; ++i1)
    for (int i3 = 0; i3 < 2; ++i3)
      for (int i5 = 0; i5 < 2; ++i5) b.push_back(static_cast<float>(16 * i1 + 4 * i3 + i5));
  Shape s1, s2;
  s1.rank = s2.rank = 6;
  const int32_t d1[] = {2, 1, 2, 1, 2, 1}, d2[] = {1, 2, 1, 2, 1, 2};
  for (int i = 0; i < 6; ++i) {
    s1.dims[i] = d1[i];
    s2.dims[i] = d2[i];
  }
  const auto out = AddF(s1, a, s2, b);
  ASSERT_EQ(out.size(), 64u);
  for (int o = 0; o < 64; ++o) EXPECT_EQ(out[static_cast<size_t>(o)], static_cast<float>(o));
}

TEST(AddFloat, BroadcastsScalars) {
  const auto rank0 = AddF(MakeShape({2, 2}), {1, 2, 3, 4}, MakeShape({}), {10});
  EXPECT_EQ(rank0, (std::vector<float>{11, 12, 13, 14}));
  const auto rank1 = AddF(MakeShape({1}), {10}, MakeShape({2, 2}), {1, 2, 3, 4});
  EXPECT_EQ(rank1, (std::vector<float>{11, 12, 13, 14}));
  const auto both = AddF(MakeShape({1, 1}), {1.5f}, MakeShape({1}), {2});
  EXPECT_EQ(both, (std::vector<float>{3.5f}));
  const auto scalars = AddF(MakeShape({}), {1.5f}, MakeShape({}), {-4});
  EXPECT_EQ(scalars, (std::vector<float>{-2.5f}));
}

TEST(AddFloat, FusedActivationClamps) {
  EXPECT_EQ(AddF(MakeShape({4}), {-5, 0.5f, 5, 10}, MakeShape({1}), {0}, Activation::kRelu6),
            (std::vector<float>{0, 0.5f, 5, 6}));
  EXPECT_EQ(AddF(MakeShape({4}), {-5, 0.5f, 5, 10}, MakeShape({1}), {0}, Activation::kReluN1To1),
            (std::vector<float>{-1, 0.5f, 1, 1}));
}

TEST(AddFloat, InPlaceOnTheFirstInputMatchesOutOfPlace) {
  std::vector<float> a = Iota(12), b = {1, 2, 3};
  const auto expected = AddF(MakeShape({4, 3}), a, MakeShape({3}), b);
  AddParams p;
  p.frange = ActivationRangeFloat(Activation::kNone);
  reference::AddFloat(p, MakeShape({4, 3}), a.data(), MakeShape({3}), b.data(), MakeShape({4, 3}), a.data());
  EXPECT_EQ(a, expected);
}

TEST(MulFloat, BroadcastsAndClamps) {
  testing::BinarySpec s{true, MakeShape({2, 1, 3}), MakeShape({1, 4, 1}), MakeShape({2, 4, 3}), Activation::kNone};
  const std::vector<float> a = {1, 2, 3, -1, -2, -3};
  const std::vector<float> b = {0, 1, 2, 3};
  const auto out = testing::RunBinaryFloat(GetKernelTable(KernelSet::kReference), s, a, b);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 3; ++k)
        EXPECT_EQ(out[static_cast<size_t>((i * 4 + j) * 3 + k)], a[static_cast<size_t>(i * 3 + k)] * b[static_cast<size_t>(j)]);
  s.act = Activation::kRelu;
  const auto relu = testing::RunBinaryFloat(GetKernelTable(KernelSet::kReference), s, a, b);
  for (float v : relu) EXPECT_GE(v, 0.0f);
}

// --- Quantized ADD / MUL ---------------------------------------------------------

TEST(AddQuantized, Uint8MatchesHandComputed) {
  // 1.0 (scale 0.5, zp 128) + 2.0 (scale 0.25, zp 0) = 3.0 at scale 0.5 -> 6.
  const QuantSpec q1{0.5f, 128}, q2{0.25f, 0}, qo{0.5f, 0};
  const AddParams p = testing::MakeAddParams(q1, q2, qo, Activation::kNone, 0, 255);
  EXPECT_EQ(p.input1_multiplier, 1 << 30);
  EXPECT_EQ(p.input1_shift, 0);
  EXPECT_EQ(p.input2_shift, -1);
  EXPECT_EQ(p.output_shift, -18);
  const std::vector<uint8_t> a = {130, 0, 255}, b = {8, 0, 255};
  std::vector<uint8_t> out(3);
  reference::AddQuantized<uint8_t>(p, MakeShape({3}), a.data(), MakeShape({3}), b.data(), MakeShape({3}), out.data());
  // (-64 + 0) / 0.5 -> clamps to 0; (63.5 + 63.75) / 0.5 = 254.5 -> 255.
  EXPECT_EQ(out, (std::vector<uint8_t>{6, 0, 255}));
}

TEST(AddQuantized, Int8ExtremeZeroPointsAndSaturation) {
  const QuantSpec q1{0.5f, -128}, q2{0.5f, 127}, qo{1.0f, 0};
  const AddParams p = testing::MakeAddParams(q1, q2, qo, Activation::kNone, -128, 127);
  // (127 + 128) * 0.5 + (127 - 127) * 0.5 = 127.5 -> 128 -> 127;
  // (-128 + 128) * 0.5 + (-128 - 127) * 0.5 = -127.5 -> -128;  (1 + 128) * .5 + (0 - 127) * .5 = 1.
  const std::vector<int8_t> a = {127, -128, 1}, b = {127, -128, 0};
  std::vector<int8_t> out(3);
  reference::AddQuantized<int8_t>(p, MakeShape({3}), a.data(), MakeShape({3}), b.data(), MakeShape({3}), out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{127, -128, 1}));
  // RELU6 with output zp 0, scale 1: [0, 6].
  const AddParams r = testing::MakeAddParams(q1, q2, qo, Activation::kRelu6, -128, 127);
  reference::AddQuantized<int8_t>(r, MakeShape({3}), a.data(), MakeShape({3}), b.data(), MakeShape({3}), out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{6, 0, 1}));
}

TEST(MulQuantized, Int8MatchesHandComputed) {
  // 2.0 (scale 0.5, zp 0) * 3.0 (scale 0.25, zp -10) = 6.0 at scale 0.1 -> 60.
  const QuantSpec q1{0.5f, 0}, q2{0.25f, -10}, qo{0.1f, 0};
  const MulParams p = testing::MakeMulParams(q1, q2, qo, Activation::kNone, -128, 127);
  EXPECT_EQ(p.output_shift, 1);
  const std::vector<int8_t> a = {4, 127, -128}, b = {2, 127, 127};
  std::vector<int8_t> out(3);
  reference::MulQuantized<int8_t>(p, MakeShape({3}), a.data(), MakeShape({3}), b.data(), MakeShape({3}), out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{60, 127, -128}));
}

TEST(MulQuantized, Uint8ExtremeZeroPoints) {
  // (0 - 255) * (255 - 0) * (1/65025) = -1 at scale 1/128, zp 128 -> 0.
  const QuantSpec q1{1.0f, 255}, q2{1.0f, 0}, qo{65025.0f / 128, 128};
  const MulParams p = testing::MakeMulParams(q1, q2, qo, Activation::kNone, 0, 255);
  const std::vector<uint8_t> a = {0, 255, 254}, b = {255, 255, 255};
  std::vector<uint8_t> out(3);
  reference::MulQuantized<uint8_t>(p, MakeShape({3}), a.data(), MakeShape({3}), b.data(), MakeShape({3}), out.data());
  // -65025 * 128 / 65025 = -128 -> 0;  0 -> 128;  -255 * 128 / 65025 = -0.502 -> -1 -> 127.
  EXPECT_EQ(out, (std::vector<uint8_t>{0, 128, 127}));
}

// TFLite's quantized ADD pipeline restated with the independent primitives.
int32_t ModelAdd(const AddParams& p, int32_t a, int32_t b) {
  auto scale = [](int32_t x, int32_t m, int shift) {
    return static_cast<int32_t>(ModelRoundHalfAwayDivPot(ModelSrdhm(x, m), -shift));
  };
  const int32_t s1 = scale((p.input1_offset + a) * (1 << p.left_shift), p.input1_multiplier, p.input1_shift);
  const int32_t s2 = scale((p.input2_offset + b) * (1 << p.left_shift), p.input2_multiplier, p.input2_shift);
  const int32_t raw = scale(s1 + s2, p.output_multiplier, p.output_shift) + p.output_offset;
  return std::min(std::max(raw, p.qrange.min), p.qrange.max);
}

int32_t ModelMul(const MulParams& p, int32_t a, int32_t b) {
  const int32_t raw = p.output_offset + ModelMultiplyByQuantizedMultiplier((p.input1_offset + a) * (p.input2_offset + b),
                                                                           p.output_multiplier, p.output_shift);
  return std::min(std::max(raw, p.qrange.min), p.qrange.max);
}

template <typename T>
void CheckBinaryAgainstModel(bool mul, uint32_t seed) {
  Rng rng(seed);
  const Shape shapes[][2] = {
      {MakeShape({1, 2, 3, 4}), MakeShape({4})},       {MakeShape({2, 1, 3}), MakeShape({1, 4, 1})},
      {MakeShape({5}), MakeShape({5})},                {MakeShape({1}), MakeShape({3, 7})},
      {MakeShape({2, 3, 1, 5}), MakeShape({3, 4, 1})}, {MakeShape({1, 1, 1, 17}), MakeShape({16, 1})},
      {MakeShape({9, 8}), MakeShape({})},
  };
  for (int iter = 0; iter < 100; ++iter) {
    for (const auto& pair : shapes) {
      const Shape out_s = testing::BroadcastShape(pair[0], pair[1]);
      const int32_t lo = testing::TypeMin<T>(), hi = testing::TypeMax<T>();
      const QuantSpec q1{rng.Pick({1e-3f, 0.02f, 0.5f, 3.0f}), rng.Pick({lo, hi, rng.Int(lo, hi)})};
      const QuantSpec q2{rng.Pick({1e-3f, 0.02f, 0.5f, 3.0f}), rng.Pick({lo, hi, rng.Int(lo, hi)})};
      const QuantSpec qo{rng.Pick({0.01f, 0.05f, 1.0f, 10.0f}), rng.Pick({lo, hi, rng.Int(lo, hi)})};
      const Activation act =
          rng.Pick({Activation::kNone, Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1});
      const auto a = rng.Ints<T>(static_cast<size_t>(pair[0].FlatSize()));
      const auto b = rng.Ints<T>(static_cast<size_t>(pair[1].FlatSize()));
      testing::BinarySpec spec{mul, pair[0], pair[1], out_s, act};
      const auto got =
          testing::RunBinaryQuantized<T>(GetKernelTable(KernelSet::kReference), spec, q1, a, q2, b, qo);
      const AddParams ap = testing::MakeAddParams(q1, q2, qo, act, lo, hi);
      const MulParams mp = testing::MakeMulParams(q1, q2, qo, act, lo, hi);
      for (int64_t o = 0; o < out_s.FlatSize(); ++o) {
        const int32_t x = a[static_cast<size_t>(BroadcastIndex(pair[0], out_s, o))];
        const int32_t y = b[static_cast<size_t>(BroadcastIndex(pair[1], out_s, o))];
        const int32_t expected = mul ? ModelMul(mp, x, y) : ModelAdd(ap, x, y);
        ASSERT_EQ(static_cast<int32_t>(got[static_cast<size_t>(o)]), expected) << spec.ToString() << " at " << o;
      }
    }
  }
}

TEST(AddQuantized, Uint8BroadcastingMatchesModel) { CheckBinaryAgainstModel<uint8_t>(false, 51); }
TEST(AddQuantized, Int8BroadcastingMatchesModel) { CheckBinaryAgainstModel<int8_t>(false, 52); }
TEST(MulQuantized, Uint8BroadcastingMatchesModel) { CheckBinaryAgainstModel<uint8_t>(true, 53); }
TEST(MulQuantized, Int8BroadcastingMatchesModel) { CheckBinaryAgainstModel<int8_t>(true, 54); }

// --- Requantize, lookup, clamp -----------------------------------------------------

TEST(Requantize, Uint8ToInt8WithSameScaleFlipsTheTopBit) {
  RequantizeParams p;
  p.input_zero_point = 128;
  p.output_zero_point = 0;
  QuantizeMultiplier(1.0, &p.multiplier, &p.shift);
  p.qrange = {-128, 127};
  std::vector<uint8_t> in(256);
  for (int i = 0; i < 256; ++i) in[static_cast<size_t>(i)] = static_cast<uint8_t>(i);
  std::vector<int8_t> out(256);
  reference::Requantize<uint8_t, int8_t>(p, 256, in.data(), out.data());
  for (int i = 0; i < 256; ++i) ASSERT_EQ(out[static_cast<size_t>(i)], static_cast<int8_t>(i ^ 0x80)) << i;
  // And back.
  RequantizeParams back = p;
  back.input_zero_point = 0;
  back.output_zero_point = 128;
  back.qrange = {0, 255};
  std::vector<uint8_t> round_trip(256);
  reference::Requantize<int8_t, uint8_t>(back, 256, out.data(), round_trip.data());
  EXPECT_EQ(round_trip, in);
}

TEST(Requantize, HalvingUsesTfliteRounding) {
  RequantizeParams p;
  QuantizeMultiplier(0.5, &p.multiplier, &p.shift);
  p.qrange = {-128, 127};
  const std::vector<int8_t> in = {3, -3, 1, -1, 127, -128, 5, -5};
  std::vector<int8_t> out(in.size());
  reference::Requantize<int8_t, int8_t>(p, static_cast<int64_t>(in.size()), in.data(), out.data());
  // High multiply rounds ties upward with shift 0: 1.5 -> 2, -1.5 -> -1, 0.5 -> 1, -0.5 -> 0.
  EXPECT_EQ(out, (std::vector<int8_t>{2, -1, 1, 0, 64, -64, 3, -2}));
}

TEST(Requantize, MatchesModelAndClampsToTheRange) {
  Rng rng(55);
  for (int iter = 0; iter < 2000; ++iter) {
    RequantizeParams p;
    p.input_zero_point = rng.Int(-128, 127);
    p.output_zero_point = rng.Int(0, 255);
    QuantizeMultiplier(std::ldexp(rng.Double(0.5, 1.0), rng.Int(-10, 5)), &p.multiplier, &p.shift);
    p.qrange = {rng.Int(0, 100), rng.Int(150, 255)};
    const auto in = rng.Ints<int8_t>(64);
    std::vector<uint8_t> out(64);
    reference::Requantize<int8_t, uint8_t>(p, 64, in.data(), out.data());
    for (size_t i = 0; i < 64; ++i) {
      int32_t v = ModelMultiplyByQuantizedMultiplier(in[i] - p.input_zero_point, p.multiplier, p.shift) +
                  p.output_zero_point;
      v = std::min(std::max(v, p.qrange.min), p.qrange.max);
      ASSERT_EQ(static_cast<int32_t>(out[i]), v);
    }
  }
}

TEST(Lookup8, IndexesByTheRawByteIncludingNegativeInt8) {
  uint8_t table[256];
  for (int i = 0; i < 256; ++i) table[i] = static_cast<uint8_t>(255 - i);
  const std::vector<int8_t> in = {0, 1, -1, -128, 127};
  std::vector<uint8_t> out(in.size());
  reference::Lookup8(table, static_cast<int64_t>(in.size()), reinterpret_cast<const uint8_t*>(in.data()), out.data());
  EXPECT_EQ(out, (std::vector<uint8_t>{255, 254, 0, 127, 128}));
}

TEST(ClampFloat, ClampsToTheRange) {
  const std::vector<float> in = {-2, -0.5f, 0.5f, 7};
  std::vector<float> out(4);
  reference::ClampFloat(ActivationRangeFloat(Activation::kReluN1To1), 4, in.data(), out.data());
  EXPECT_EQ(out, (std::vector<float>{-1, -0.5f, 0.5f, 1}));
}

TEST(ActivationsFloat, LogisticTanhAndHardSwishMatchTheirFormulas) {
  const std::vector<float> in = {-10, -3, -1, -0.25f, 0, 0.25f, 1, 3, 6, 10};
  std::vector<float> out(in.size());
  reference::LogisticFloat(static_cast<int64_t>(in.size()), in.data(), out.data());
  for (size_t i = 0; i < in.size(); ++i) EXPECT_NEAR(out[i], 1.0 / (1.0 + std::exp(-in[i])), 1e-6) << in[i];
  reference::TanhFloat(static_cast<int64_t>(in.size()), in.data(), out.data());
  for (size_t i = 0; i < in.size(); ++i) EXPECT_NEAR(out[i], std::tanh(in[i]), 1e-6) << in[i];
  reference::HardSwishFloat(static_cast<int64_t>(in.size()), in.data(), out.data());
  // x * relu6(x + 3) / 6
  const std::vector<float> expected = {0, 0, -1.0f / 3, -0.25f * 2.75f / 6, 0, 0.25f * 3.25f / 6, 4.0f / 6, 3, 6, 10};
  for (size_t i = 0; i < in.size(); ++i) EXPECT_FLOAT_EQ(out[i], expected[i]) << in[i];
}

// --- QUANTIZE / DEQUANTIZE ---------------------------------------------------------

template <typename T>
std::vector<T> Quantize(double scale, int32_t zp, const std::vector<float>& in) {
  std::vector<T> out(in.size());
  reference::AffineQuantize<T>(scale, zp, static_cast<int64_t>(in.size()), in.data(), out.data());
  return out;
}

TEST(AffineQuantize, Uint8RoundsHalfAwayAndSaturates) {
  const auto out = Quantize<uint8_t>(0.5, 10, {1.0f, -5.0f, 0.25f, -0.25f, 1000, -1000, 122.5f, 122.75f, 3e9f, -3e9f});
  EXPECT_EQ(out, (std::vector<uint8_t>{12, 0, 11, 9, 255, 0, 255, 255, 255, 0}));
}

TEST(AffineQuantize, Int8RoundsHalfAwayAndSaturates) {
  const auto out = Quantize<int8_t>(0.5, -1, {0, 63.75f, 64, 64.5f, -63.25f, -63.75f, -0.25f, 0.25f});
  EXPECT_EQ(out, (std::vector<int8_t>{-1, 127, 127, 127, -128, -128, -2, 0}));
}

TEST(AffineQuantize, Int16RoundsHalfAwayAndSaturates) {
  const auto out = Quantize<int16_t>(1.0 / 1024, 0, {1.0f, 31.999f, 32.0f, -32.0f, -32.5f, 1e30f, 0.5f / 1024});
  EXPECT_EQ(out, (std::vector<int16_t>{1024, 32767, 32767, -32768, -32768, 32767, 1}));
}

TEST(AffineQuantize, NanAndInfinityAreDeterministic) {
  // NaN quantizes to the zero point (real 0); +-inf saturate.
  const std::vector<float> in = {kNaN, kInf, -kInf, -kNaN};
  EXPECT_EQ(Quantize<uint8_t>(0.1, 37, in), (std::vector<uint8_t>{37, 255, 0, 37}));
  EXPECT_EQ(Quantize<int8_t>(0.1, -5, in), (std::vector<int8_t>{-5, 127, -128, -5}));
  EXPECT_EQ(Quantize<int16_t>(0.1, 0, in), (std::vector<int16_t>{0, 32767, -32768, 0}));
  // Extreme zero points do not overflow.
  EXPECT_EQ(Quantize<uint8_t>(1e-3, 255, {kInf, -kInf, 3e9f}), (std::vector<uint8_t>{255, 0, 255}));
  EXPECT_EQ(Quantize<int8_t>(1e-3, -128, {-kInf, -3e9f, kInf}), (std::vector<int8_t>{-128, -128, 127}));
}

TEST(Dequantize, Goldens) {
  const std::vector<int8_t> i8 = {-128, 127, -1, 0};
  std::vector<float> out(4);
  reference::Dequantize<int8_t>(0.5, -1, 4, i8.data(), out.data());
  EXPECT_EQ(out, (std::vector<float>{-63.5f, 64, 0, 0.5f}));
  const std::vector<uint8_t> u8 = {0, 255, 128, 1};
  reference::Dequantize<uint8_t>(0.25, 255, 4, u8.data(), out.data());
  EXPECT_EQ(out, (std::vector<float>{-63.75f, 0, -31.75f, -63.5f}));
  const std::vector<int16_t> i16 = {-32768, 32767, 0, 1};
  reference::Dequantize<int16_t>(1.0 / 1024, 0, 4, i16.data(), out.data());
  EXPECT_EQ(out, (std::vector<float>{-32, 32767.0f / 1024, 0, 1.0f / 1024}));
}

template <typename T>
void CheckRoundTrips(uint32_t seed) {
  Rng rng(seed);
  const int32_t lo = testing::TypeMin<T>(), hi = testing::TypeMax<T>();
  for (double scale : {1.0 / 255, 0.1, 0.0039215, 3.7e-3, 1e-5, 17.0, 1.0 / 32768}) {
    for (int32_t zp : {lo, 0, hi, rng.Int(lo, hi)}) {
      std::vector<T> all;
      for (int32_t v = lo; v <= hi; v += (hi - lo > 255 ? 7 : 1)) all.push_back(static_cast<T>(v));
      all.push_back(static_cast<T>(hi));
      std::vector<float> real(all.size());
      reference::Dequantize<T>(scale, zp, static_cast<int64_t>(all.size()), all.data(), real.data());
      EXPECT_EQ(Quantize<T>(scale, zp, real), all) << "scale " << scale << " zp " << zp;
      // float -> q -> float is within half a step inside the representable range.
      const auto f = rng.Floats(200, static_cast<float>(scale * (lo - zp)), static_cast<float>(scale * (hi - zp)));
      const auto q = Quantize<T>(scale, zp, f);
      std::vector<float> back(f.size());
      reference::Dequantize<T>(scale, zp, static_cast<int64_t>(q.size()), q.data(), back.data());
      for (size_t i = 0; i < f.size(); ++i)
        ASSERT_LE(std::fabs(static_cast<double>(back[i]) - f[i]), scale * 0.5 * (1 + 1e-6) + 1e-6 * std::fabs(f[i]))
            << f[i] << " scale " << scale << " zp " << zp;
    }
  }
}

TEST(AffineQuantize, Uint8DequantizeRoundTripsExactly) { CheckRoundTrips<uint8_t>(56); }
TEST(AffineQuantize, Int8DequantizeRoundTripsExactly) { CheckRoundTrips<int8_t>(57); }
TEST(AffineQuantize, Int16DequantizeRoundTripsExactly) { CheckRoundTrips<int16_t>(58); }

}  // namespace
}  // namespace triage::kernels
