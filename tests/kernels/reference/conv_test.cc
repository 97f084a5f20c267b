// kernels/reference/conv.h: hand-computed goldens for geometry (padding,
// stride, dilation, groups, bias, activation) and requantization, plus an
// independent naive model of TFLite's quantized Conv over random geometry.
#include "kernels/reference/conv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <type_traits>
#include <vector>

#include "tests/kernels/kernel_test_util.h"
#include "tests/kernels/op_runner.h"

namespace triage::kernels {
namespace {

using testing::ModelMultiplyByQuantizedMultiplier;
using testing::Rng;

std::vector<float> Iota(int n, float start = 0.0f) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<size_t>(i)] = start + static_cast<float>(i);
  return v;
}

ConvParams FloatParams(int stride = 1, int dilation = 1, int pad = 0, Activation act = Activation::kNone) {
  ConvParams p;
  p.stride_h = p.stride_w = stride;
  p.dilation_h = p.dilation_w = dilation;
  p.pad_h = p.pad_w = pad;
  p.frange = ActivationRangeFloat(act);
  return p;
}

std::vector<float> RunFloat(const ConvParams& p, const Shape& in_s, const std::vector<float>& in, const Shape& f_s,
                            const std::vector<float>& f, const float* bias, const Shape& out_s) {
  std::vector<float> out(static_cast<size_t>(out_s.FlatSize()), -12345.0f);
  reference::ConvFloat(p, in_s, in.data(), f_s, f.data(), bias, out_s, out.data());
  return out;
}

TEST(ConvFloat, ValidPaddingTwoByTwoFilterGolden) {
  const auto out = RunFloat(FloatParams(), MakeShape({1, 3, 3, 1}), Iota(9, 1), MakeShape({1, 2, 2, 1}),
                            {1, 2, 3, 4}, nullptr, MakeShape({1, 2, 2, 1}));
  EXPECT_EQ(out, (std::vector<float>{37, 47, 67, 77}));
}

TEST(ConvFloat, SamePaddingStrideOneSumsClippedNeighbourhoods) {
  const auto out = RunFloat(FloatParams(1, 1, 1), MakeShape({1, 3, 3, 1}), Iota(9, 1), MakeShape({1, 3, 3, 1}),
                            std::vector<float>(9, 1.0f), nullptr, MakeShape({1, 3, 3, 1}));
  EXPECT_EQ(out, (std::vector<float>{12, 21, 16, 27, 45, 33, 24, 39, 28}));
}

TEST(ConvFloat, SamePaddingStrideTwoGolden) {
  const auto out = RunFloat(FloatParams(2, 1, 1), MakeShape({1, 3, 3, 1}), Iota(9, 1), MakeShape({1, 3, 3, 1}),
                            std::vector<float>(9, 1.0f), nullptr, MakeShape({1, 2, 2, 1}));
  EXPECT_EQ(out, (std::vector<float>{12, 16, 24, 28}));
}

TEST(ConvFloat, ValidPaddingStrideTwoGolden) {
  // 3x3 block sums of v = 5y + x are 9 * centre.
  const auto out = RunFloat(FloatParams(2), MakeShape({1, 5, 5, 1}), Iota(25), MakeShape({1, 3, 3, 1}),
                            std::vector<float>(9, 1.0f), nullptr, MakeShape({1, 2, 2, 1}));
  EXPECT_EQ(out, (std::vector<float>{54, 72, 144, 162}));
}

TEST(ConvFloat, DilationTwoValidGolden) {
  // out = v + (v + 2) + (v + 10) + (v + 12) = 4v + 24 with v = 5 * oy + ox.
  const auto out = RunFloat(FloatParams(1, 2), MakeShape({1, 5, 5, 1}), Iota(25), MakeShape({1, 2, 2, 1}),
                            {1, 1, 1, 1}, nullptr, MakeShape({1, 3, 3, 1}));
  EXPECT_EQ(out, (std::vector<float>{24, 28, 32, 44, 48, 52, 64, 68, 72}));
}

TEST(ConvFloat, SamePaddingStrideTwoDilationTwoGolden) {
  // Effective 5x5 window, pad 2: rows/cols {0,2}, {0,2,4}, {2,4} per output.
  const auto out = RunFloat(FloatParams(2, 2, 2), MakeShape({1, 5, 5, 1}), Iota(25), MakeShape({1, 3, 3, 1}),
                            std::vector<float>(9, 1.0f), nullptr, MakeShape({1, 3, 3, 1}));
  EXPECT_EQ(out, (std::vector<float>{24, 42, 32, 66, 108, 78, 64, 102, 72}));
}

TEST(ConvFloat, BiasIsAddedPerOutputChannelAndMayBeAbsent) {
  const std::vector<float> filter = {1, 0, 0, 1, 1, 1};  // 3 filters of depth 2
  const std::vector<float> bias = {10, 20, 30};
  const auto with = RunFloat(FloatParams(), MakeShape({1, 1, 1, 2}), {1, 2}, MakeShape({3, 1, 1, 2}), filter,
                             bias.data(), MakeShape({1, 1, 1, 3}));
  EXPECT_EQ(with, (std::vector<float>{11, 22, 33}));
  const auto without = RunFloat(FloatParams(), MakeShape({1, 1, 1, 2}), {1, 2}, MakeShape({3, 1, 1, 2}), filter,
                                nullptr, MakeShape({1, 1, 1, 3}));
  EXPECT_EQ(without, (std::vector<float>{1, 2, 3}));
}

TEST(ConvFloat, GroupedConvUsesOnlyItsGroupsInputChannels) {
  // in_d 4, filter depth 2 -> 2 groups, 2 filters per group.
  const std::vector<float> filter = {1, 10, 2, 20, 1, 10, 2, 20};
  const auto out = RunFloat(FloatParams(), MakeShape({1, 1, 1, 4}), {1, 2, 3, 4}, MakeShape({4, 1, 1, 2}), filter,
                            nullptr, MakeShape({1, 1, 1, 4}));
  EXPECT_EQ(out, (std::vector<float>{21, 42, 43, 86}));
}

TEST(ConvFloat, FusedActivationsClampTheOutput) {
  const std::vector<float> filter = {-2, 0.5f, 3, 8};
  const Shape in_s = MakeShape({1, 1, 1, 1}), f_s = MakeShape({4, 1, 1, 1}), out_s = MakeShape({1, 1, 1, 4});
  EXPECT_EQ(RunFloat(FloatParams(1, 1, 0, Activation::kNone), in_s, {1}, f_s, filter, nullptr, out_s),
            (std::vector<float>{-2, 0.5f, 3, 8}));
  EXPECT_EQ(RunFloat(FloatParams(1, 1, 0, Activation::kRelu), in_s, {1}, f_s, filter, nullptr, out_s),
            (std::vector<float>{0, 0.5f, 3, 8}));
  EXPECT_EQ(RunFloat(FloatParams(1, 1, 0, Activation::kRelu6), in_s, {1}, f_s, filter, nullptr, out_s),
            (std::vector<float>{0, 0.5f, 3, 6}));
  EXPECT_EQ(RunFloat(FloatParams(1, 1, 0, Activation::kReluN1To1), in_s, {1}, f_s, filter, nullptr, out_s),
            (std::vector<float>{-1, 0.5f, 1, 1}));
}

TEST(ConvFloat, BatchesAreIndependent) {
  std::vector<float> in = Iota(9, 1);
  const std::vector<float> second = Iota(9, 100);
  in.insert(in.end(), second.begin(), second.end());
  const auto out = RunFloat(FloatParams(), MakeShape({2, 3, 3, 1}), in, MakeShape({1, 2, 2, 1}), {1, 2, 3, 4},
                            nullptr, MakeShape({2, 2, 2, 1}));
  // Second batch: each window sum grows by 99 * (1 + 2 + 3 + 4).
  EXPECT_EQ(out, (std::vector<float>{37, 47, 67, 77, 37 + 990, 47 + 990, 67 + 990, 77 + 990}));
}

// --- Quantized goldens --------------------------------------------------------------

TEST(ConvUint8, PerTensorRequantizationMatchesHandComputed) {
  // input scale 0.5 zp 128, filter scale 0.25 zp 128, output scale 1 zp 100:
  // multiplier 0.125 = 2^30 * 2^(-2-31).
  ConvParams p;
  p.input_offset = -128;
  p.filter_offset = -128;
  p.output_offset = 100;
  QuantizeMultiplier(0.125, &p.output_multiplier, &p.output_shift);
  ASSERT_EQ(p.output_multiplier, 1 << 30);
  ASSERT_EQ(p.output_shift, -2);
  p.qrange = {0, 255};
  const std::vector<uint8_t> in = {130, 126};               // real 1, -1
  const std::vector<uint8_t> filter = {132, 120, 136, 128};  // real (1, -2), (2, 0)
  const std::vector<int32_t> bias = {8, -20};               // real 1, -2.5
  std::vector<uint8_t> out(2);
  reference::ConvUint8(p, MakeShape({1, 1, 1, 2}), in.data(), MakeShape({2, 1, 1, 2}), filter.data(), bias.data(),
                       MakeShape({1, 1, 1, 2}), out.data());
  // ch0: (4*2 + -8*-2 + 8) / 8 = 4 -> 104; ch1: (8*2 + 0 - 20) / 8 = -0.5 -> -1 -> 99.
  EXPECT_EQ(out, (std::vector<uint8_t>{104, 99}));
}

TEST(ConvUint8, FusedRelu6ClampsInTheQuantizedDomain) {
  ConvParams p;
  QuantizeMultiplier(1.0, &p.output_multiplier, &p.output_shift);
  // Output scale 0.05, zp 10: RELU6 -> [10, 130].
  p.output_offset = 10;
  p.qrange = ActivationRangeQuantized(Activation::kRelu6, 0.05f, 10, 0, 255);
  ASSERT_EQ(p.qrange.min, 10);
  ASSERT_EQ(p.qrange.max, 130);
  const std::vector<uint8_t> in = {1};
  const std::vector<uint8_t> filter = {0, 5, 200, 255};
  const std::vector<int32_t> bias = {-50, 0, 0, 0};
  std::vector<uint8_t> out(4);
  reference::ConvUint8(p, MakeShape({1, 1, 1, 1}), in.data(), MakeShape({4, 1, 1, 1}), filter.data(), bias.data(),
                       MakeShape({1, 1, 1, 4}), out.data());
  EXPECT_EQ(out, (std::vector<uint8_t>{10, 15, 130, 130}));
}

TEST(ConvUint8, ExtremeZeroPointsMatchHandComputed) {
  // Input zp 255 (raw 0 is -255), filter zp 0, multiplier 1/255, output zp 255.
  ConvParams p;
  p.input_offset = -255;
  p.filter_offset = 0;
  p.output_offset = 255;
  QuantizeMultiplier(1.0 / 255, &p.output_multiplier, &p.output_shift);
  p.qrange = {0, 255};
  const std::vector<uint8_t> in = {0, 255};
  const std::vector<uint8_t> filter = {1, 200, 0, 255};
  std::vector<uint8_t> out(2);
  reference::ConvUint8(p, MakeShape({1, 1, 1, 2}), in.data(), MakeShape({2, 1, 1, 2}), filter.data(), nullptr,
                       MakeShape({1, 1, 1, 2}), out.data());
  // ch0: (1 * -255 + 200 * 0) / 255 = -1 -> 254; ch1: 0 -> 255.
  EXPECT_EQ(out, (std::vector<uint8_t>{254, 255}));
  // Input zp 0, filter zp 255: (0 - 255) * 255 * 2 / 1024 = -127.002 -> -127; output zp 255 -> 128,
  // output zp 0 -> saturates at 0.
  p.input_offset = 0;
  p.filter_offset = -255;
  QuantizeMultiplier(1.0 / 1024, &p.output_multiplier, &p.output_shift);
  const std::vector<uint8_t> in2 = {255, 255};
  const std::vector<uint8_t> zeros = {0, 0, 255, 255};
  reference::ConvUint8(p, MakeShape({1, 1, 1, 2}), in2.data(), MakeShape({2, 1, 1, 2}), zeros.data(), nullptr,
                       MakeShape({1, 1, 1, 2}), out.data());
  EXPECT_EQ(out, (std::vector<uint8_t>{128, 255}));
  p.output_offset = 0;
  reference::ConvUint8(p, MakeShape({1, 1, 1, 2}), in2.data(), MakeShape({2, 1, 1, 2}), zeros.data(), nullptr,
                       MakeShape({1, 1, 1, 2}), out.data());
  EXPECT_EQ(out, (std::vector<uint8_t>{0, 0}));
}

TEST(ConvInt8, PerChannelRequantizationMatchesHandComputed) {
  ConvParams p;
  p.input_offset = 1;  // input zp -1
  p.output_offset = 5;
  int32_t mult[3];
  int shift[3];
  QuantizeMultiplier(0.5, &mult[0], &shift[0]);
  QuantizeMultiplier(2.0, &mult[1], &shift[1]);
  QuantizeMultiplier(0.01, &mult[2], &shift[2]);
  p.per_channel_multiplier = mult;
  p.per_channel_shift = shift;
  p.qrange = {-128, 127};
  const std::vector<int8_t> in = {3, 1};  // offset: 4, 2
  const std::vector<int8_t> filter = {1, 2, -3, 5, 127, 127};
  std::vector<int8_t> out(3);
  reference::ConvInt8PerChannel(p, MakeShape({1, 1, 1, 2}), in.data(), MakeShape({3, 1, 1, 2}), filter.data(),
                                nullptr, MakeShape({1, 1, 1, 3}), out.data());
  // acc = 8, -2, 762; * (0.5, 2, 0.01) = 4, -4, 7.62 -> 8; + 5.
  EXPECT_EQ(out, (std::vector<int8_t>{9, 1, 13}));
}

TEST(ConvInt8, OutputSaturatesAtTheTypeLimits) {
  ConvParams p;
  p.input_offset = 128;  // input zp -128: raw 127 is +255
  p.output_offset = 0;
  int32_t mult[2];
  int shift[2];
  QuantizeMultiplier(1.0, &mult[0], &shift[0]);
  QuantizeMultiplier(1.0, &mult[1], &shift[1]);
  p.per_channel_multiplier = mult;
  p.per_channel_shift = shift;
  p.qrange = {-128, 127};
  const std::vector<int8_t> in = {127, 127};
  const std::vector<int8_t> filter = {127, 127, -128, -128};
  std::vector<int8_t> out(2);
  reference::ConvInt8PerChannel(p, MakeShape({1, 1, 1, 2}), in.data(), MakeShape({2, 1, 1, 2}), filter.data(),
                                nullptr, MakeShape({1, 1, 1, 2}), out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{127, -128}));
}

// --- Naive model over random geometry and extreme quantization -------------------

// TFLite reference Conv / ConvPerChannel restated directly: explicit bounds
// check per tap, offsets added to raw values, bias, requantize, offset, clamp.
template <typename T>
std::vector<T> NaiveConv(const ConvParams& p, const Shape& is, const std::vector<T>& in, const Shape& fs,
                         const std::vector<T>& f, const int32_t* bias, const Shape& os, bool per_channel) {
  std::vector<T> out(static_cast<size_t>(os.FlatSize()));
  const int groups = is.dims[3] / fs.dims[3];
  const int per_group = os.dims[3] / groups;
  for (int b = 0; b < os.dims[0]; ++b)
    for (int oy = 0; oy < os.dims[1]; ++oy)
      for (int ox = 0; ox < os.dims[2]; ++ox)
        for (int oc = 0; oc < os.dims[3]; ++oc) {
          int64_t acc = 0;
          for (int fy = 0; fy < fs.dims[1]; ++fy)
            for (int fx = 0; fx < fs.dims[2]; ++fx)
              for (int ic = 0; ic < fs.dims[3]; ++ic) {
                const int iy = oy * p.stride_h - p.pad_h + fy * p.dilation_h;
                const int ix = ox * p.stride_w - p.pad_w + fx * p.dilation_w;
                if (iy < 0 || ix < 0 || iy >= is.dims[1] || ix >= is.dims[2]) continue;
                const int c = (oc / per_group) * fs.dims[3] + ic;
                const int64_t x = in[static_cast<size_t>(((b * is.dims[1] + iy) * is.dims[2] + ix) * is.dims[3] + c)];
                const int64_t w = f[static_cast<size_t>(((oc * fs.dims[1] + fy) * fs.dims[2] + fx) * fs.dims[3] + ic)];
                acc += (w + (per_channel ? 0 : p.filter_offset)) * (x + p.input_offset);
              }
          if (bias) acc += bias[oc];
          EXPECT_LE(std::abs(acc), int64_t{1} << 31);
          const int32_t m = per_channel ? p.per_channel_multiplier[oc] : p.output_multiplier;
          const int s = per_channel ? p.per_channel_shift[oc] : p.output_shift;
          int32_t v = ModelMultiplyByQuantizedMultiplier(static_cast<int32_t>(acc), m, s) + p.output_offset;
          v = std::min(std::max(v, p.qrange.min), p.qrange.max);
          out[static_cast<size_t>(((b * os.dims[1] + oy) * os.dims[2] + ox) * os.dims[3] + oc)] = static_cast<T>(v);
        }
  return out;
}

testing::ConvSpec RandomSpec(Rng& rng) {
  testing::ConvSpec s;
  s.batches = rng.Int(1, 2);
  s.in_h = rng.Pick({1, 3, 4, 5, 7, 8, 9});
  s.in_w = rng.Pick({1, 3, 4, 5, 7, 8, 9});
  s.groups = rng.Pick({1, 1, 2, 3});
  s.in_d = s.groups * rng.Pick({1, 2, 3, 5});
  s.out_d = s.groups * rng.Pick({1, 2, 3});
  s.f_h = rng.Int(1, 3);
  s.f_w = rng.Int(1, 3);
  s.stride_h = rng.Int(1, 2);
  s.stride_w = rng.Int(1, 2);
  s.dilation_h = rng.Int(1, 2);
  s.dilation_w = rng.Int(1, 2);
  s.padding = rng.Bool() ? Padding::kSame : Padding::kValid;
  if (testing::OutSize(s.padding, s.in_h, s.f_h, s.stride_h, s.dilation_h) < 1 ||
      testing::OutSize(s.padding, s.in_w, s.f_w, s.stride_w, s.dilation_w) < 1)
    s.padding = Padding::kSame;
  s.act = rng.Pick({Activation::kNone, Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1});
  s.has_bias = rng.Bool();
  return s;
}

template <typename T>
void CheckAgainstNaiveModel(uint32_t seed) {
  Rng rng(seed);
  for (int iter = 0; iter < 300; ++iter) {
    const testing::ConvSpec spec = RandomSpec(rng);
    const testing::ConvGeometry g = testing::GeometryOf(spec);
    // Raw tensors over the full type range with extreme zero points and scales.
    const std::vector<T> in = rng.Ints<T>(static_cast<size_t>(g.input.FlatSize()));
    const std::vector<T> f = rng.Ints<T>(static_cast<size_t>(g.filter.FlatSize()));
    std::vector<int32_t> bias = spec.has_bias ? std::vector<int32_t>(static_cast<size_t>(spec.out_d)) : std::vector<int32_t>();
    for (int32_t& b : bias) b = rng.Int(-20000, 20000);
    ConvParams p;
    p.stride_h = spec.stride_h;
    p.stride_w = spec.stride_w;
    p.dilation_h = spec.dilation_h;
    p.dilation_w = spec.dilation_w;
    p.pad_h = g.pad_h;
    p.pad_w = g.pad_w;
    const int32_t lo = testing::TypeMin<T>(), hi = testing::TypeMax<T>();
    p.input_offset = -rng.Pick({lo, hi, 0, rng.Int(lo, hi)});
    p.filter_offset = -rng.Pick({lo, hi, rng.Int(lo, hi)});
    p.output_offset = rng.Pick({lo, hi, rng.Int(lo, hi)});
    std::vector<int32_t> mult(static_cast<size_t>(spec.out_d));
    std::vector<int> shift(static_cast<size_t>(spec.out_d));
    for (int c = 0; c < spec.out_d; ++c) {
      const double real = rng.Pick({1e-6, 1.0 / 65536, 1.0 / 300, rng.Double(1e-4, 0.05), 0.9999, 3.5});
      QuantizeMultiplier(real, &mult[static_cast<size_t>(c)], &shift[static_cast<size_t>(c)]);
    }
    p.output_multiplier = mult[0];
    p.output_shift = shift[0];
    p.per_channel_multiplier = mult.data();
    p.per_channel_shift = shift.data();
    // Keep (raw + offset) * 2^left_shift inside int32 for multipliers > 1 by
    // using a range that, like a validated model, stays meaningful.
    p.qrange = {rng.Int(lo, lo + 20), rng.Int(hi - 20, hi)};
    std::vector<T> got(static_cast<size_t>(g.output.FlatSize()));
    const int32_t* b = bias.empty() ? nullptr : bias.data();
    const bool per_channel = std::is_same<T, int8_t>::value;
    if constexpr (std::is_same<T, uint8_t>::value) {
      reference::ConvUint8(p, g.input, in.data(), g.filter, f.data(), b, g.output, got.data());
    } else {
      reference::ConvInt8PerChannel(p, g.input, in.data(), g.filter, f.data(), b, g.output, got.data());
    }
    ASSERT_EQ(got, NaiveConv<T>(p, g.input, in, g.filter, f, b, g.output, per_channel)) << spec.ToString();
  }
}

TEST(ConvUint8, MatchesNaiveModelOnRandomGeometryAndExtremeZeroPoints) { CheckAgainstNaiveModel<uint8_t>(11); }
TEST(ConvInt8, MatchesNaiveModelOnRandomGeometryAndExtremeZeroPoints) { CheckAgainstNaiveModel<int8_t>(12); }

TEST(ConvInt8, MissingBiasEqualsZeroBias) {
  Rng rng(13);
  testing::ConvSpec s;
  s.in_h = s.in_w = 5;
  s.in_d = 3;
  s.out_d = 4;
  s.f_h = s.f_w = 3;
  s.padding = Padding::kSame;
  s.has_bias = false;
  const auto data = testing::RandomConvData(rng, s);
  auto q = testing::QuantizeConv<int8_t>(s, data);
  const auto without = q.Run(GetKernelTable(KernelSet::kReference));
  q.bias.assign(4, 0);
  EXPECT_EQ(q.Run(GetKernelTable(KernelSet::kReference)), without);
}

}  // namespace
}  // namespace triage::kernels
