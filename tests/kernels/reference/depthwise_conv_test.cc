// kernels/reference/depthwise_conv.h: goldens for depth multiplier, padding,
// stride and dilation; quantized goldens; naive model over random geometry.
#include "kernels/reference/depthwise_conv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <type_traits>
#include <vector>

#include "tests/kernels/kernel_test_util.h"
#include "tests/kernels/op_runner.h"

namespace triage::kernels {
namespace {

using testing::ModelMultiplyByQuantizedMultiplier;
using testing::Rng;

DepthwiseParams Params(int stride, int dilation, int pad, int multiplier, Activation act = Activation::kNone) {
  DepthwiseParams p;
  p.stride_h = p.stride_w = stride;
  p.dilation_h = p.dilation_w = dilation;
  p.pad_h = p.pad_w = pad;
  p.depth_multiplier = multiplier;
  p.frange = ActivationRangeFloat(act);
  return p;
}

TEST(DepthwiseConvFloat, DepthMultiplierTwoGolden) {
  // Input 2x2, channels: c0 = [1, 2, 3, 4], c1 = [10, 20, 30, 40] (pixel order).
  const std::vector<float> in = {1, 10, 2, 20, 3, 30, 4, 40};
  // Filter [1, 2, 2, 4]; oc = ic * 2 + m. Per pixel: (oc0, oc1, oc2, oc3).
  const std::vector<float> filter = {1, 1, 0, 1,    // (0,0)
                                     1, 0, 0, -1,   // (0,1)
                                     1, 0, 0, 1,    // (1,0)
                                     1, 0, 1, -1};  // (1,1)
  const std::vector<float> bias = {0, 0, 0, 100};
  std::vector<float> out(4);
  reference::DepthwiseConvFloat(Params(1, 1, 0, 2), MakeShape({1, 2, 2, 2}), in.data(), MakeShape({1, 2, 2, 4}),
                                filter.data(), bias.data(), MakeShape({1, 1, 1, 4}), out.data());
  // oc0 = sum(c0) = 10; oc1 = c0(0,0) = 1; oc2 = c1(1,1) = 40; oc3 = 10-20+30-40+100 = 80.
  EXPECT_EQ(out, (std::vector<float>{10, 1, 40, 80}));
  reference::DepthwiseConvFloat(Params(1, 1, 0, 2), MakeShape({1, 2, 2, 2}), in.data(), MakeShape({1, 2, 2, 4}),
                                filter.data(), nullptr, MakeShape({1, 1, 1, 4}), out.data());
  EXPECT_EQ(out, (std::vector<float>{10, 1, 40, -20}));
}

TEST(DepthwiseConvFloat, SamePaddingStrideTwoDilationTwoGolden) {
  std::vector<float> in(25);
  for (int i = 0; i < 25; ++i) in[static_cast<size_t>(i)] = static_cast<float>(i);
  const std::vector<float> filter(9, 1.0f);
  std::vector<float> out(9);
  reference::DepthwiseConvFloat(Params(2, 2, 2, 1), MakeShape({1, 5, 5, 1}), in.data(), MakeShape({1, 3, 3, 1}),
                                filter.data(), nullptr, MakeShape({1, 3, 3, 1}), out.data());
  EXPECT_EQ(out, (std::vector<float>{24, 42, 32, 66, 108, 78, 64, 102, 72}));
}

TEST(DepthwiseConvFloat, SamePaddingStrideOnePerChannel) {
  // Two channels; channel 1 is channel 0 times -1 and its filter is doubled.
  std::vector<float> in;
  for (int i = 1; i <= 9; ++i) {
    in.push_back(static_cast<float>(i));
    in.push_back(static_cast<float>(-i));
  }
  std::vector<float> filter;
  for (int i = 0; i < 9; ++i) {
    filter.push_back(1);
    filter.push_back(2);
  }
  std::vector<float> out(18);
  reference::DepthwiseConvFloat(Params(1, 1, 1, 1, Activation::kRelu), MakeShape({1, 3, 3, 2}), in.data(),
                                MakeShape({1, 3, 3, 2}), filter.data(), nullptr, MakeShape({1, 3, 3, 2}), out.data());
  const float expected0[] = {12, 21, 16, 27, 45, 33, 24, 39, 28};
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ(out[static_cast<size_t>(2 * i)], expected0[i]);
    EXPECT_EQ(out[static_cast<size_t>(2 * i + 1)], 0.0f);  // negative, clamped by RELU
  }
}

TEST(DepthwiseConvUint8, DepthMultiplierTwoRequantizationMatchesHandComputed) {
  // Input scale 0.5 zp 128: raw (130, 120) = (1, -4). Filter scale 0.5 zp 128:
  // (129, 127, 132, 124) = (0.5, -0.5, 2, -2). Output scale 0.25 zp 128 -> M = 1.
  DepthwiseParams p = Params(1, 1, 0, 2);
  p.input_offset = -128;
  p.filter_offset = -128;
  p.output_offset = 128;
  QuantizeMultiplier(1.0, &p.output_multiplier, &p.output_shift);
  p.qrange = {0, 255};
  const std::vector<uint8_t> in = {130, 120};
  const std::vector<uint8_t> filter = {129, 127, 132, 124};
  const std::vector<int32_t> bias = {1, 0, 0, -1};
  std::vector<uint8_t> out(4);
  reference::DepthwiseConvUint8(p, MakeShape({1, 1, 1, 2}), in.data(), MakeShape({1, 1, 1, 4}), filter.data(),
                                bias.data(), MakeShape({1, 1, 1, 4}), out.data());
  EXPECT_EQ(out, (std::vector<uint8_t>{131, 126, 96, 159}));
  p.qrange = ActivationRangeQuantized(Activation::kRelu, 0.25f, 128, 0, 255);
  reference::DepthwiseConvUint8(p, MakeShape({1, 1, 1, 2}), in.data(), MakeShape({1, 1, 1, 4}), filter.data(),
                                bias.data(), MakeShape({1, 1, 1, 4}), out.data());
  EXPECT_EQ(out, (std::vector<uint8_t>{131, 128, 128, 159}));
}

TEST(DepthwiseConvInt8, PerChannelRequantizationMatchesHandComputed) {
  DepthwiseParams p = Params(1, 1, 0, 2);
  p.input_offset = 0;
  p.output_offset = -3;
  int32_t mult[4];
  int shift[4];
  const double reals[4] = {0.5, 0.25, 1.0, 0.1};
  for (int i = 0; i < 4; ++i) QuantizeMultiplier(reals[i], &mult[i], &shift[i]);
  p.per_channel_multiplier = mult;
  p.per_channel_shift = shift;
  p.qrange = {-128, 127};
  const std::vector<int8_t> in = {10, -20};
  const std::vector<int8_t> filter = {3, -3, 1, 2};
  std::vector<int8_t> out(4);
  reference::DepthwiseConvInt8PerChannel(p, MakeShape({1, 1, 1, 2}), in.data(), MakeShape({1, 1, 1, 4}),
                                         filter.data(), nullptr, MakeShape({1, 1, 1, 4}), out.data());
  // acc (30, -30, -20, -40) * (0.5, 0.25, 1, 0.1) = (15, -7.5 -> -8, -20, -4), then -3.
  EXPECT_EQ(out, (std::vector<int8_t>{12, -11, -23, -7}));
}

// TFLite reference DepthwiseConv / DepthwiseConvPerChannel restated.
template <typename T>
std::vector<T> NaiveDepthwise(const DepthwiseParams& p, const Shape& is, const std::vector<T>& in, const Shape& fs,
                              const std::vector<T>& f, const int32_t* bias, const Shape& os, bool per_channel) {
  std::vector<T> out(static_cast<size_t>(os.FlatSize()));
  const int od = os.dims[3];
  for (int b = 0; b < os.dims[0]; ++b)
    for (int oy = 0; oy < os.dims[1]; ++oy)
      for (int ox = 0; ox < os.dims[2]; ++ox)
        for (int oc = 0; oc < od; ++oc) {
          const int ic = oc / p.depth_multiplier;
          int64_t acc = 0;
          for (int fy = 0; fy < fs.dims[1]; ++fy)
            for (int fx = 0; fx < fs.dims[2]; ++fx) {
              const int iy = oy * p.stride_h - p.pad_h + fy * p.dilation_h;
              const int ix = ox * p.stride_w - p.pad_w + fx * p.dilation_w;
              if (iy < 0 || ix < 0 || iy >= is.dims[1] || ix >= is.dims[2]) continue;
              const int64_t x = in[static_cast<size_t>(((b * is.dims[1] + iy) * is.dims[2] + ix) * is.dims[3] + ic)];
              const int64_t w = f[static_cast<size_t>((fy * fs.dims[2] + fx) * od + oc)];
              acc += (w + (per_channel ? 0 : p.filter_offset)) * (x + p.input_offset);
            }
          if (bias) acc += bias[oc];
          const int32_t m = per_channel ? p.per_channel_multiplier[oc] : p.output_multiplier;
          const int s = per_channel ? p.per_channel_shift[oc] : p.output_shift;
          int32_t v = ModelMultiplyByQuantizedMultiplier(static_cast<int32_t>(acc), m, s) + p.output_offset;
          v = std::min(std::max(v, p.qrange.min), p.qrange.max);
          out[static_cast<size_t>(((b * os.dims[1] + oy) * os.dims[2] + ox) * od + oc)] = static_cast<T>(v);
        }
  return out;
}

template <typename T>
void CheckAgainstNaiveModel(uint32_t seed) {
  Rng rng(seed);
  for (int iter = 0; iter < 200; ++iter) {
    testing::ConvSpec s;
    s.depthwise = true;
    s.batches = rng.Int(1, 2);
    s.in_h = rng.Pick({1, 3, 4, 5, 7, 8, 9});
    s.in_w = rng.Pick({1, 3, 4, 5, 7, 8, 9});
    s.in_d = rng.Pick({1, 2, 3, 5, 7, 8, 9});
    s.depth_multiplier = rng.Pick({1, 1, 2, 3});
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
    const testing::ConvGeometry g = testing::GeometryOf(s);
    const int od = g.output.dims[3];
    const std::vector<T> in = rng.Ints<T>(static_cast<size_t>(g.input.FlatSize()));
    const std::vector<T> f = rng.Ints<T>(static_cast<size_t>(g.filter.FlatSize()));
    std::vector<int32_t> bias = rng.Bool() ? std::vector<int32_t>(static_cast<size_t>(od)) : std::vector<int32_t>();
    for (int32_t& b : bias) b = rng.Int(-5000, 5000);
    DepthwiseParams p = Params(1, 1, 0, s.depth_multiplier);
    p.stride_h = s.stride_h;
    p.stride_w = s.stride_w;
    p.dilation_h = s.dilation_h;
    p.dilation_w = s.dilation_w;
    p.pad_h = g.pad_h;
    p.pad_w = g.pad_w;
    const int32_t lo = testing::TypeMin<T>(), hi = testing::TypeMax<T>();
    p.input_offset = -rng.Pick({lo, hi, rng.Int(lo, hi)});
    p.filter_offset = -rng.Pick({lo, hi, rng.Int(lo, hi)});
    p.output_offset = rng.Pick({lo, hi, rng.Int(lo, hi)});
    std::vector<int32_t> mult(static_cast<size_t>(od));
    std::vector<int> shift(static_cast<size_t>(od));
    for (int c = 0; c < od; ++c) {
      const double real = rng.Pick({1e-6, 1.0 / 1024, rng.Double(1e-4, 0.05), 0.75, 2.5});
      QuantizeMultiplier(real, &mult[static_cast<size_t>(c)], &shift[static_cast<size_t>(c)]);
    }
    p.output_multiplier = mult[0];
    p.output_shift = shift[0];
    p.per_channel_multiplier = mult.data();
    p.per_channel_shift = shift.data();
    p.qrange = {lo, hi};
    std::vector<T> got(static_cast<size_t>(g.output.FlatSize()));
    const int32_t* b = bias.empty() ? nullptr : bias.data();
    const bool per_channel = std::is_same<T, int8_t>::value;
    if constexpr (std::is_same<T, uint8_t>::value) {
      reference::DepthwiseConvUint8(p, g.input, in.data(), g.filter, f.data(), b, g.output, got.data());
    } else {
      reference::DepthwiseConvInt8PerChannel(p, g.input, in.data(), g.filter, f.data(), b, g.output, got.data());
    }
    ASSERT_EQ(got, NaiveDepthwise<T>(p, g.input, in, g.filter, f, b, g.output, per_channel)) << s.ToString();
  }
}

TEST(DepthwiseConvUint8, MatchesNaiveModelOnRandomGeometryAndExtremeZeroPoints) {
  CheckAgainstNaiveModel<uint8_t>(21);
}
TEST(DepthwiseConvInt8, MatchesNaiveModelOnRandomGeometryAndExtremeZeroPoints) {
  CheckAgainstNaiveModel<int8_t>(22);
}

}  // namespace
}  // namespace triage::kernels
