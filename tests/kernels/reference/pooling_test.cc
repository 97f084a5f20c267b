// kernels/reference/pooling.h: averages over clipped windows, rounding of
// negative sums, max pooling that never sees padding, activation clamps.
#include "kernels/reference/pooling.h"

#include <gtest/gtest.h>

#include <vector>

namespace triage::kernels {
namespace {

PoolParams Params(int filter, int stride, int pad = 0) {
  PoolParams p;
  p.filter_h = p.filter_w = filter;
  p.stride_h = p.stride_w = stride;
  p.pad_h = p.pad_w = pad;
  p.frange = ActivationRangeFloat(Activation::kNone);
  return p;
}

TEST(AveragePoolFloat, SamePaddingDividesByInBoundsCount) {
  // 3x3 input 1..9, 2x2 filter, stride 2, SAME: pad 0 before, windows clipped
  // at the bottom/right to 4, 2, 2 and 1 elements.
  const std::vector<float> in = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  std::vector<float> out(4);
  reference::AveragePoolFloat(Params(2, 2), MakeShape({1, 3, 3, 1}), in.data(), MakeShape({1, 2, 2, 1}), out.data());
  EXPECT_EQ(out, (std::vector<float>{3, 4.5f, 7.5f, 9}));
}

TEST(AveragePoolFloat, LeadingPaddingIsNotCounted) {
  // 1x3 row, filter 3, stride 1, pad 1: windows {1,2}, {1,2,3}, {2,3}.
  const std::vector<float> in = {1, 2, 3};
  PoolParams p = Params(1, 1);
  p.filter_w = 3;
  p.pad_w = 1;
  std::vector<float> out(3);
  reference::AveragePoolFloat(p, MakeShape({1, 1, 3, 1}), in.data(), MakeShape({1, 1, 3, 1}), out.data());
  EXPECT_EQ(out, (std::vector<float>{1.5f, 2, 2.5f}));
}

TEST(AveragePoolFloat, ActivationClamps) {
  const std::vector<float> in = {-10, 20, -10, 20, -10, 20, -10, 20};  // c0 = -10, c1 = 20
  PoolParams p = Params(2, 2);
  p.frange = ActivationRangeFloat(Activation::kRelu6);
  std::vector<float> out(2);
  reference::AveragePoolFloat(p, MakeShape({1, 2, 2, 2}), in.data(), MakeShape({1, 1, 1, 2}), out.data());
  EXPECT_EQ(out, (std::vector<float>{0, 6}));
}

TEST(AveragePoolInt8, NegativeSumsRoundHalfAwayFromZero) {
  // Six channels over a 2x2 window; per channel the four pixels are
  // c0 (-1,-2,0,0) c1 (-1,-1,0,0) c2 (1,1,0,0) c3 (-1,0,0,0) c4 (-3,-3,0,0) c5 (3,3,0,0).
  const std::vector<int8_t> in = {-1, -1, 1, -1, -3, 3,   // pixel (0,0)
                                  -2, -1, 1, 0, -3, 3,    // pixel (0,1)
                                  0, 0, 0, 0, 0, 0,       // pixel (1,0)
                                  0, 0, 0, 0, 0, 0};      // pixel (1,1)
  PoolParams p = Params(2, 2);
  p.qrange = {-128, 127};
  std::vector<int8_t> out(6);
  reference::AveragePoolQuantized<int8_t>(p, MakeShape({1, 2, 2, 6}), in.data(), MakeShape({1, 1, 1, 6}), out.data());
  // -0.75 -> -1, -0.5 -> -1, 0.5 -> 1, -0.25 -> 0, -1.5 -> -2, 1.5 -> 2.
  EXPECT_EQ(out, (std::vector<int8_t>{-1, -1, 1, 0, -2, 2}));
}

TEST(AveragePoolInt8, RoundsWithOddCounts) {
  // 1x3 windows: sums -4 (-1.33 -> -1), -5 (-1.67 -> -2), 4 -> 1, 5 -> 2, -384 -> -128.
  const std::vector<int8_t> in = {-1, -2, 1, 2, -128,   //
                                  -1, -2, 1, 2, -128,   //
                                  -2, -1, 2, 1, -128};
  PoolParams p = Params(1, 1);
  p.filter_w = 3;
  p.qrange = {-128, 127};
  std::vector<int8_t> out(5);
  reference::AveragePoolQuantized<int8_t>(p, MakeShape({1, 1, 3, 5}), in.data(), MakeShape({1, 1, 1, 5}), out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{-1, -2, 1, 2, -128}));
}

TEST(AveragePoolUint8, RoundsHalfUpAndKeepsExtremes) {
  // Channels: (0, 255) -> 127.5 -> 128; (1, 2) -> 2; (255, 255) -> 255; (0, 1) -> 1.
  const std::vector<uint8_t> in = {0, 1, 255, 0, 255, 2, 255, 1};
  PoolParams p = Params(1, 1);
  p.filter_w = 2;
  p.qrange = {0, 255};
  std::vector<uint8_t> out(4);
  reference::AveragePoolQuantized<uint8_t>(p, MakeShape({1, 1, 2, 4}), in.data(), MakeShape({1, 1, 1, 4}), out.data());
  EXPECT_EQ(out, (std::vector<uint8_t>{128, 2, 255, 1}));
  // Fused activation range clamps the average.
  p.qrange = {5, 200};
  reference::AveragePoolQuantized<uint8_t>(p, MakeShape({1, 1, 2, 4}), in.data(), MakeShape({1, 1, 1, 4}), out.data());
  EXPECT_EQ(out, (std::vector<uint8_t>{128, 5, 200, 5}));
}

TEST(MaxPoolFloat, PaddingNeverContributesAZero) {
  const std::vector<float> in = {-5, -3, -4, -6};
  std::vector<float> out(4);
  // 2x2 SAME stride 1 on 2x2: windows clipped at the bottom/right.
  reference::MaxPoolFloat(Params(2, 1), MakeShape({1, 2, 2, 1}), in.data(), MakeShape({1, 2, 2, 1}), out.data());
  EXPECT_EQ(out, (std::vector<float>{-3, -3, -4, -6}));
  // Leading padding as well (filter 3, pad 1).
  reference::MaxPoolFloat(Params(3, 1, 1), MakeShape({1, 2, 2, 1}), in.data(), MakeShape({1, 2, 2, 1}), out.data());
  EXPECT_EQ(out, (std::vector<float>{-3, -3, -3, -3}));
}

TEST(MaxPoolFloat, StrideTwoAndActivation) {
  std::vector<float> in(16);
  for (int i = 0; i < 16; ++i) in[static_cast<size_t>(i)] = static_cast<float>(i) - 8.0f;
  PoolParams p = Params(2, 2);
  std::vector<float> out(4);
  reference::MaxPoolFloat(p, MakeShape({1, 4, 4, 1}), in.data(), MakeShape({1, 2, 2, 1}), out.data());
  EXPECT_EQ(out, (std::vector<float>{-3, -1, 5, 7}));
  p.frange = ActivationRangeFloat(Activation::kReluN1To1);
  reference::MaxPoolFloat(p, MakeShape({1, 4, 4, 1}), in.data(), MakeShape({1, 2, 2, 1}), out.data());
  EXPECT_EQ(out, (std::vector<float>{-1, -1, 1, 1}));
}

TEST(MaxPoolInt8, ExtremesAndActivationRange) {
  const std::vector<int8_t> in = {-128, -128, -128, 127, -128, -128, -128, 5};  // c0 all -128
  PoolParams p = Params(2, 2);
  p.qrange = {-128, 127};
  std::vector<int8_t> out(2);
  reference::MaxPoolQuantized<int8_t>(p, MakeShape({1, 2, 2, 2}), in.data(), MakeShape({1, 1, 1, 2}), out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{-128, 127}));
  p.qrange = {-100, 100};
  reference::MaxPoolQuantized<int8_t>(p, MakeShape({1, 2, 2, 2}), in.data(), MakeShape({1, 1, 1, 2}), out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{-100, 100}));
}

TEST(MaxPoolUint8, PicksTheMaximumPerChannel) {
  const std::vector<uint8_t> in = {0, 255, 7, 3, 0, 9, 1, 2, 8, 0, 0, 0};
  PoolParams p = Params(1, 1);
  p.filter_w = 4;
  p.qrange = {0, 255};
  std::vector<uint8_t> out(3);
  reference::MaxPoolQuantized<uint8_t>(p, MakeShape({1, 1, 4, 3}), in.data(), MakeShape({1, 1, 1, 3}), out.data());
  EXPECT_EQ(out, (std::vector<uint8_t>{3, 255, 9}));
}

}  // namespace
}  // namespace triage::kernels
