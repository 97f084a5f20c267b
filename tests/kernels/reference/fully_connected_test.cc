// kernels/reference/fully_connected.h: float and quantized goldens, extreme
// zero points, and an independent model over random sizes.
#include "kernels/reference/fully_connected.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <type_traits>
#include <vector>

#include "tests/kernels/kernel_test_util.h"

namespace triage::kernels {
namespace {

using testing::ModelMultiplyByQuantizedMultiplier;
using testing::Rng;

TEST(FullyConnectedFloat, TwoBatchesWithBiasGolden) {
  FullyConnectedParams p;
  p.batches = 2;
  p.accum_depth = 3;
  p.output_depth = 2;
  p.frange = ActivationRangeFloat(Activation::kNone);
  const std::vector<float> in = {1, 2, 3, 4, 5, 6};
  const std::vector<float> filter = {1, 0, -1, 2, 1, 0};
  const std::vector<float> bias = {0.5f, -1};
  std::vector<float> out(4);
  reference::FullyConnectedFloat(p, in.data(), filter.data(), bias.data(), out.data());
  EXPECT_EQ(out, (std::vector<float>{-1.5f, 3, -1.5f, 12}));
  reference::FullyConnectedFloat(p, in.data(), filter.data(), nullptr, out.data());
  EXPECT_EQ(out, (std::vector<float>{-2, 4, -2, 13}));
  p.frange = ActivationRangeFloat(Activation::kRelu6);
  reference::FullyConnectedFloat(p, in.data(), filter.data(), bias.data(), out.data());
  EXPECT_EQ(out, (std::vector<float>{0, 3, 0, 6}));
}

TEST(FullyConnectedUint8, RequantizationMatchesHandComputed) {
  // input zp 128: (129, 127, 130) = (1, -1, 2); filter zp 127:
  // row0 (128, 128, 128) = (1, 1, 1), row1 (126, 129, 127) = (-1, 2, 0).
  FullyConnectedParams p;
  p.batches = 1;
  p.accum_depth = 3;
  p.output_depth = 2;
  p.input_offset = -128;
  p.filter_offset = -127;
  p.output_offset = 10;
  QuantizeMultiplier(0.25, &p.output_multiplier, &p.output_shift);
  p.qrange = {0, 255};
  const std::vector<uint8_t> in = {129, 127, 130};
  const std::vector<uint8_t> filter = {128, 128, 128, 126, 129, 127};
  const std::vector<int32_t> bias = {10, -1};
  std::vector<uint8_t> out(2);
  reference::FullyConnectedUint8(p, in.data(), filter.data(), bias.data(), out.data());
  // acc (2 + 10, -3 - 1) = (12, -4); * 0.25 = (3, -1); + 10.
  EXPECT_EQ(out, (std::vector<uint8_t>{13, 9}));
}

TEST(FullyConnectedInt8, ExtremeZeroPointsAndHalfwayRounding) {
  // input zp -128: (-128, 127) = (0, 255). Filter (127, -128), zp 0.
  FullyConnectedParams p;
  p.batches = 1;
  p.accum_depth = 2;
  p.output_depth = 1;
  p.input_offset = 128;
  QuantizeMultiplier(1.0 / 256, &p.output_multiplier, &p.output_shift);
  p.qrange = {-128, 127};
  const std::vector<int8_t> in = {-128, 127};
  const std::vector<int8_t> filter = {127, -128};
  std::vector<int8_t> out(1);
  // acc = -32640; / 256 = -127.5 -> -128 (away from zero).
  p.output_offset = 0;
  reference::FullyConnectedInt8(p, in.data(), filter.data(), nullptr, out.data());
  EXPECT_EQ(out[0], -128);
  p.output_offset = 127;
  reference::FullyConnectedInt8(p, in.data(), filter.data(), nullptr, out.data());
  EXPECT_EQ(out[0], -1);
  p.output_offset = -128;  // saturates
  reference::FullyConnectedInt8(p, in.data(), filter.data(), nullptr, out.data());
  EXPECT_EQ(out[0], -128);
  // Positive: bias pushes to +127.5 -> 128 -> saturates at 127.
  const std::vector<int32_t> bias = {65280};
  p.output_offset = 0;
  reference::FullyConnectedInt8(p, in.data(), filter.data(), bias.data(), out.data());
  EXPECT_EQ(out[0], 127);
}

template <typename T>
void CheckAgainstModel(uint32_t seed) {
  Rng rng(seed);
  for (int iter = 0; iter < 300; ++iter) {
    FullyConnectedParams p;
    p.batches = rng.Pick({1, 2, 3});
    p.accum_depth = rng.Pick({1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 64});
    p.output_depth = rng.Pick({1, 3, 4, 5, 7, 8, 9, 15, 16, 17});
    const int32_t lo = testing::TypeMin<T>(), hi = testing::TypeMax<T>();
    p.input_offset = -rng.Pick({lo, hi, rng.Int(lo, hi)});
    p.filter_offset = -rng.Pick({0, lo, hi, rng.Int(lo, hi)});
    p.output_offset = rng.Pick({lo, hi, rng.Int(lo, hi)});
    QuantizeMultiplier(rng.Pick({1e-7, 1.0 / 4096, rng.Double(1e-5, 0.01), 0.5, 1.5}), &p.output_multiplier,
                       &p.output_shift);
    p.qrange = {lo + rng.Int(0, 5), hi - rng.Int(0, 5)};
    const auto in = rng.Ints<T>(static_cast<size_t>(p.batches * p.accum_depth));
    const auto f = rng.Ints<T>(static_cast<size_t>(p.output_depth * p.accum_depth));
    std::vector<int32_t> bias(static_cast<size_t>(p.output_depth));
    for (int32_t& b : bias) b = rng.Int(-100000, 100000);
    const bool use_bias = rng.Bool();
    std::vector<T> got(static_cast<size_t>(p.batches * p.output_depth));
    if constexpr (std::is_same<T, uint8_t>::value) {
      reference::FullyConnectedUint8(p, in.data(), f.data(), use_bias ? bias.data() : nullptr, got.data());
    } else {
      reference::FullyConnectedInt8(p, in.data(), f.data(), use_bias ? bias.data() : nullptr, got.data());
    }
    for (int b = 0; b < p.batches; ++b)
      for (int o = 0; o < p.output_depth; ++o) {
        int64_t acc = use_bias ? bias[static_cast<size_t>(o)] : 0;
        for (int d = 0; d < p.accum_depth; ++d)
          acc += (static_cast<int64_t>(f[static_cast<size_t>(o * p.accum_depth + d)]) + p.filter_offset) *
                 (static_cast<int64_t>(in[static_cast<size_t>(b * p.accum_depth + d)]) + p.input_offset);
        int32_t v = ModelMultiplyByQuantizedMultiplier(static_cast<int32_t>(acc), p.output_multiplier, p.output_shift) +
                    p.output_offset;
        v = std::min(std::max(v, p.qrange.min), p.qrange.max);
        ASSERT_EQ(static_cast<int>(got[static_cast<size_t>(b * p.output_depth + o)]), v)
            << "iter " << iter << " b=" << b << " o=" << o << " depth=" << p.accum_depth;
      }
  }
}

TEST(FullyConnectedUint8, MatchesModelOnRandomSizesAndExtremeZeroPoints) { CheckAgainstModel<uint8_t>(31); }
TEST(FullyConnectedInt8, MatchesModelOnRandomSizesAndExtremeZeroPoints) { CheckAgainstModel<int8_t>(32); }

}  // namespace
}  // namespace triage::kernels
