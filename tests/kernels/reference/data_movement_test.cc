// kernels/reference/data_movement.h: CONCATENATION (plain and requantizing),
// PAD, MEAN (float over any axes, int8 and uint8 over H and W) and COPY.
#include "kernels/reference/data_movement.h"

#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <vector>

#include "tests/kernels/kernel_test_util.h"

namespace triage::kernels {
namespace {

using testing::Bytes;

template <typename T>
ConcatInput Input(const std::vector<T>& v, const Shape& s, float scale = 1.0f, int32_t zp = 0) {
  return ConcatInput{Bytes(v), s, scale, zp};
}

TEST(Concatenation, FloatAlongAMiddleAxisInterleavesPerOuterIndex) {
  const std::vector<float> a = {1, 2, 3, 4};                   // [2,1,2]
  const std::vector<float> b = {10, 11, 12, 13, 20, 21, 22, 23};  // [2,2,2]
  const ConcatInput inputs[] = {Input(a, MakeShape({2, 1, 2})), Input(b, MakeShape({2, 2, 2}))};
  ConcatParams p;
  p.axis = 1;
  p.element_size = sizeof(float);
  std::vector<float> out(12);
  reference::Concatenation(p, inputs, 2, MakeShape({2, 3, 2}), reinterpret_cast<uint8_t*>(out.data()));
  EXPECT_EQ(out, (std::vector<float>{1, 2, 10, 11, 12, 13, 3, 4, 20, 21, 22, 23}));
}

TEST(Concatenation, FirstAndLastAxes) {
  const std::vector<int32_t> a = {1, 2, 3, 4}, b = {5, 6};
  ConcatParams p;
  p.element_size = 4;
  {
    const ConcatInput inputs[] = {Input(a, MakeShape({2, 2})), Input(b, MakeShape({1, 2}))};
    p.axis = 0;
    std::vector<int32_t> out(6);
    reference::Concatenation(p, inputs, 2, MakeShape({3, 2}), reinterpret_cast<uint8_t*>(out.data()));
    EXPECT_EQ(out, (std::vector<int32_t>{1, 2, 3, 4, 5, 6}));
  }
  {
    const ConcatInput inputs[] = {Input(a, MakeShape({2, 2})), Input(b, MakeShape({2, 1}))};
    p.axis = 1;
    std::vector<int32_t> out(6);
    reference::Concatenation(p, inputs, 2, MakeShape({2, 3}), reinterpret_cast<uint8_t*>(out.data()));
    EXPECT_EQ(out, (std::vector<int32_t>{1, 2, 5, 3, 4, 6}));
  }
}

TEST(Concatenation, Uint8RequantizesOnlyInputsWithOtherParameters) {
  const std::vector<uint8_t> a = {3, 5, 1, 255};  // scale 0.5 zp 0: 1.5, 2.5, 0.5, 127.5
  const std::vector<uint8_t> b = {7, 200};        // same as output: copied
  const std::vector<uint8_t> c = {0, 255};        // scale 2 zp 10: -20, 490
  const ConcatInput inputs[] = {Input(a, MakeShape({4}), 0.5f, 0), Input(b, MakeShape({2}), 1.0f, 0),
                                Input(c, MakeShape({2}), 2.0f, 10)};
  ConcatParams p;
  p.axis = 0;
  p.requantize = true;
  p.output_scale = 1.0f;
  p.output_zero_point = 0;
  std::vector<uint8_t> out(8);
  reference::Concatenation(p, inputs, 3, MakeShape({8}), out.data());
  EXPECT_EQ(out, (std::vector<uint8_t>{2, 3, 1, 128, 7, 200, 0, 255}));
}

TEST(Concatenation, Int8RequantizationRoundsHalfAwayAndSaturates) {
  const std::vector<int8_t> a = {-3, -1, -128, 127, 1};  // scale 0.5: -1.5, -0.5, -64, 63.5, 0.5
  const std::vector<int8_t> b = {-128, 127};             // scale 4, zp 0: -512, 508
  const ConcatInput inputs[] = {Input(a, MakeShape({5}), 0.5f, 0), Input(b, MakeShape({2}), 4.0f, 0)};
  ConcatParams p;
  p.axis = 0;
  p.requantize = true;
  p.is_signed = true;
  p.output_scale = 1.0f;
  p.output_zero_point = 0;
  std::vector<int8_t> out(7);
  reference::Concatenation(p, inputs, 2, MakeShape({7}), reinterpret_cast<uint8_t*>(out.data()));
  EXPECT_EQ(out, (std::vector<int8_t>{-2, -1, -64, 64, 1, -128, 127}));
  // A shifted output zero point is added after rounding.
  p.output_zero_point = 5;
  reference::Concatenation(p, inputs, 2, MakeShape({7}), reinterpret_cast<uint8_t*>(out.data()));
  EXPECT_EQ(out, (std::vector<int8_t>{3, 4, -59, 69, 6, -128, 127}));
}

TEST(Concatenation, WithoutRequantizationCopiesRawBytes) {
  const std::vector<uint8_t> a = {3, 5}, b = {9};
  const ConcatInput inputs[] = {Input(a, MakeShape({1, 2}), 0.5f, 7), Input(b, MakeShape({1, 1}), 3.0f, 1)};
  ConcatParams p;
  p.axis = 1;
  p.requantize = false;
  p.output_scale = 1.0f;
  std::vector<uint8_t> out(3);
  reference::Concatenation(p, inputs, 2, MakeShape({1, 3}), out.data());
  EXPECT_EQ(out, (std::vector<uint8_t>{3, 5, 9}));
}

TEST(Pad, FloatPadsWithZeroAroundHeightAndWidth) {
  const std::vector<float> in = {1, 2};
  PadParams p;
  p.element_size = sizeof(float);
  p.before[1] = 1;
  p.before[2] = 1;
  p.after[2] = 2;
  std::vector<float> out(10, -1.0f);
  reference::Pad(p, MakeShape({1, 1, 2, 1}), reinterpret_cast<const uint8_t*>(in.data()), MakeShape({1, 2, 5, 1}),
                 reinterpret_cast<uint8_t*>(out.data()));
  EXPECT_EQ(out, (std::vector<float>{0, 0, 0, 0, 0, 0, 1, 2, 0, 0}));
}

TEST(Pad, Int8PadsWithTheZeroPointAlongBatchAndChannels) {
  const std::vector<int8_t> in = {1, 2, 3, 4};  // [1,1,2,2]
  PadParams p;
  p.element_size = 1;
  p.before[0] = 1;
  p.before[3] = 1;
  p.after[3] = 1;
  const int8_t zp = -128;
  std::memcpy(&p.pad_value_bits, &zp, 1);
  std::vector<int8_t> out(16, 0);
  reference::Pad(p, MakeShape({1, 1, 2, 2}), reinterpret_cast<const uint8_t*>(in.data()), MakeShape({2, 1, 2, 4}),
                 reinterpret_cast<uint8_t*>(out.data()));
  EXPECT_EQ(out, (std::vector<int8_t>{-128, -128, -128, -128, -128, -128, -128, -128,  // padded batch
                                      -128, 1, 2, -128, -128, 3, 4, -128}));
}

TEST(Pad, FloatWithANonZeroPadValue) {
  const std::vector<float> in = {5};
  PadParams p;
  p.element_size = 4;
  p.after[2] = 1;
  const float v = 1.5f;
  std::memcpy(&p.pad_value_bits, &v, 4);
  std::vector<float> out(2);
  reference::Pad(p, MakeShape({1, 1, 1, 1}), reinterpret_cast<const uint8_t*>(in.data()), MakeShape({1, 1, 2, 1}),
                 reinterpret_cast<uint8_t*>(out.data()));
  EXPECT_EQ(out, (std::vector<float>{5, 1.5f}));
}

// --- MEAN ------------------------------------------------------------------------------

std::vector<float> MeanOf(const Shape& s, std::initializer_list<int> axes, size_t out_size) {
  std::vector<float> in(static_cast<size_t>(s.FlatSize()));
  std::iota(in.begin(), in.end(), 0.0f);
  MeanParams p;
  for (int a : axes) p.reduce_axis[a] = true;
  std::vector<float> out(out_size, -1.0f);
  reference::MeanFloat(p, s, in.data(), out.data());
  return out;
}

TEST(MeanFloat, ReducesAnySetOfAxes) {
  const Shape s = MakeShape({2, 3, 4});  // v = 12 i + 4 j + k
  EXPECT_EQ(MeanOf(s, {0, 2}, 3), (std::vector<float>{7.5f, 11.5f, 15.5f}));
  EXPECT_EQ(MeanOf(s, {1}, 8), (std::vector<float>{4, 5, 6, 7, 16, 17, 18, 19}));
  EXPECT_EQ(MeanOf(s, {2}, 6), (std::vector<float>{1.5f, 5.5f, 9.5f, 13.5f, 17.5f, 21.5f}));
  EXPECT_EQ(MeanOf(s, {0, 1, 2}, 1), (std::vector<float>{11.5f}));
  std::vector<float> all(24);
  std::iota(all.begin(), all.end(), 0.0f);
  EXPECT_EQ(MeanOf(s, {}, 24), all);
}

TEST(MeanFloat, ReducesHighRankTensors) {
  // [2,1,3,1,2]: v = 6 a + 2 c + e. Reduce axes 0 and 4: mean = 3 + 2 c + 0.5.
  EXPECT_EQ(MeanOf(MakeShape({2, 1, 3, 1, 2}), {0, 4}, 3), (std::vector<float>{3.5f, 5.5f, 7.5f}));
  // Rank 6, reduce the middle.
  EXPECT_EQ(MeanOf(MakeShape({1, 2, 2, 2, 1, 1}), {2, 3}, 2), (std::vector<float>{1.5f, 5.5f}));
}

MeanParams Int8Params(double in_scale, int32_t in_zp, double out_scale, int32_t out_zp) {
  MeanParams p;
  QuantizeMultiplier(in_scale / out_scale, &p.multiplier, &p.shift);
  p.input_zero_point = in_zp;
  p.output_zero_point = out_zp;
  p.input_scale = static_cast<float>(in_scale);
  p.output_scale = static_cast<float>(out_scale);
  p.reduce_axis[1] = p.reduce_axis[2] = true;
  return p;
}

TEST(MeanInt8HW, RoundsLikeQuantizedMeanOrSum) {
  // Channels over a 2x2 window: sums 11, -11, 2, -2 -> 2.75, -2.75, 0.5, -0.5.
  const std::vector<int8_t> in = {1, -1, 2, -2,  //
                                  2, -2, 0, 0,   //
                                  3, -3, 0, 0,   //
                                  5, -5, 0, 0};
  std::vector<int8_t> out(4);
  reference::MeanInt8HW(Int8Params(1, 0, 1, 0), MakeShape({1, 2, 2, 4}), in.data(), out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{3, -3, 1, -1}));
}

TEST(MeanInt8HW, OddCountsAndExtremes) {
  // 1x3 window: multiplier 2^31 / 3 truncated (QuantizedMeanOrSum folding).
  const std::vector<int8_t> in = {1, 127, -128, 1, 2, -2,  //
                                  1, 127, -128, 0, 0, 0,   //
                                  1, 127, -128, 0, 0, 0};
  std::vector<int8_t> out(6);
  reference::MeanInt8HW(Int8Params(1, 0, 1, 0), MakeShape({1, 1, 3, 6}), in.data(), out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{1, 127, -128, 0, 1, -1}));
}

TEST(MeanInt8HW, AppliesZeroPointsAndScaleRatio) {
  // in scale 0.5 zp 10, out scale 0.25 zp -5: values (10, 14, 10, 10) -> real mean 0.5 -> 2 - 5.
  const std::vector<int8_t> in = {10, 14, 10, 10};
  std::vector<int8_t> out(1);
  reference::MeanInt8HW(Int8Params(0.5, 10, 0.25, -5), MakeShape({1, 2, 2, 1}), in.data(), out.data());
  EXPECT_EQ(out[0], -3);
  // Saturation at both ends with extreme zero points.
  const std::vector<int8_t> hi = {127, 127, 127, 127};
  reference::MeanInt8HW(Int8Params(1, -128, 1, 127), MakeShape({1, 2, 2, 1}), hi.data(), out.data());
  EXPECT_EQ(out[0], 127);
  const std::vector<int8_t> lo = {-128, -128, -128, -128};
  reference::MeanInt8HW(Int8Params(1, 127, 1, -128), MakeShape({1, 2, 2, 1}), lo.data(), out.data());
  EXPECT_EQ(out[0], -128);
}

TEST(MeanInt8HW, LargeWindowsAndBatches) {
  // 2 batches of 16x16x2: batch b channel c is constant 50 * (b ? -1 : 1) + c.
  std::vector<int8_t> in;
  for (int b = 0; b < 2; ++b)
    for (int i = 0; i < 256; ++i)
      for (int c = 0; c < 2; ++c) in.push_back(static_cast<int8_t>((b ? -50 : 50) + c));
  std::vector<int8_t> out(4);
  reference::MeanInt8HW(Int8Params(1, 0, 1, 0), MakeShape({2, 16, 16, 2}), in.data(), out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{50, 51, -50, -49}));
}

TEST(MeanUint8HW, FollowsTfliteReferenceBiasRounding) {
  // in zp 128 scale 0.5 -> out zp 128 scale 0.5: (128, 130, 132, 134) mean 1.5 -> 3 -> 131.
  MeanParams p;
  p.input_zero_point = 128;
  p.input_scale = 0.5f;
  p.output_zero_point = 128;
  p.output_scale = 0.5f;
  std::vector<uint8_t> out(3);
  const std::vector<uint8_t> in = {128, 129, 130, 130, 128, 128, 132, 128, 128, 134, 128, 128};
  reference::PrepareMeanUint8HW(p, 4);
  reference::MeanUint8HW(p, MakeShape({1, 2, 2, 3}), in.data(), out.data());
  // Channel 1: 513 / 4 = 128.25 still becomes 129: the high multiply rounds
  // 256.5 up to 257 before the rounding shift (TFLite's double rounding).
  // Channel 2: 128.5 -> 129.
  EXPECT_EQ(out, (std::vector<uint8_t>{131, 129, 129}));
  // Output zp 0 scale 1: TFLite folds the input zero point into a separately
  // rounded bias (-64) and rounds 524 / 8 = 65.5 up to 66, so the result is 2
  // where the exact value 0.75 would round to 1. Bit-exactness keeps this.
  p.output_zero_point = 0;
  p.output_scale = 1.0f;
  reference::PrepareMeanUint8HW(p, 4);
  reference::MeanUint8HW(p, MakeShape({1, 2, 2, 3}), in.data(), out.data());
  EXPECT_EQ(out[0], 2);
}

TEST(Copy, CopiesAndToleratesAliasingAndOverlap) {
  std::vector<uint8_t> a = {1, 2, 3, 4, 5};
  std::vector<uint8_t> b(5, 0);
  reference::Copy(5, a.data(), b.data());
  EXPECT_EQ(b, a);
  reference::Copy(5, a.data(), a.data());  // in place: no-op
  EXPECT_EQ(a, (std::vector<uint8_t>{1, 2, 3, 4, 5}));
  reference::Copy(4, a.data(), a.data() + 1);  // overlapping
  EXPECT_EQ(a, (std::vector<uint8_t>{1, 1, 2, 3, 4}));
  reference::Copy(0, nullptr, nullptr);
}

}  // namespace
}  // namespace triage::kernels
