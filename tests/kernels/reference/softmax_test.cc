// kernels/reference/softmax.h: float rows sum to one; quantized softmax gives
// equal outputs for equal logits, responds monotonically, zeroes logits below
// diff_min and handles rows whose sum exceeds 2^8.
#include "kernels/reference/softmax.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <type_traits>
#include <vector>

#include "tests/kernels/kernel_test_util.h"
#include "tests/kernels/op_runner.h"

namespace triage::kernels {
namespace {

using testing::Rng;

SoftmaxParams FloatParams(int outer, int depth, float beta = 1.0f) {
  SoftmaxParams p;
  p.beta = beta;
  p.outer_size = outer;
  p.depth = depth;
  return p;
}

TEST(SoftmaxFloat, HandComputedGoldens) {
  std::vector<float> out(2);
  const std::vector<float> a = {0.0f, std::log(2.0f)};
  reference::SoftmaxFloat(FloatParams(1, 2), a.data(), out.data());
  EXPECT_NEAR(out[0], 1.0f / 3, 1e-6f);
  EXPECT_NEAR(out[1], 2.0f / 3, 1e-6f);
  // beta = ln 3 on logits (0, 1): (1/4, 3/4).
  const std::vector<float> b = {0.0f, 1.0f};
  reference::SoftmaxFloat(FloatParams(1, 2, std::log(3.0f)), b.data(), out.data());
  EXPECT_NEAR(out[0], 0.25f, 1e-6f);
  EXPECT_NEAR(out[1], 0.75f, 1e-6f);
}

TEST(SoftmaxFloat, EqualLogitsAreUniformAndLargeLogitsDoNotOverflow) {
  const std::vector<float> in = {1000, 1000, 1000, 1000, -1000, 88.5f, 88.5f, -1000};
  std::vector<float> out(8);
  reference::SoftmaxFloat(FloatParams(2, 4), in.data(), out.data());
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(out[static_cast<size_t>(i)], 0.25f);
  EXPECT_EQ(out[4], 0.0f);
  EXPECT_FLOAT_EQ(out[5], 0.5f);
  EXPECT_FLOAT_EQ(out[6], 0.5f);
  EXPECT_EQ(out[7], 0.0f);
}

TEST(SoftmaxFloat, RowsSumToOne) {
  Rng rng(41);
  for (int depth : {1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 1000}) {
    const int outer = 3;
    const auto in = rng.Floats(static_cast<size_t>(outer * depth), -20.0f, 20.0f);
    std::vector<float> out(in.size());
    reference::SoftmaxFloat(FloatParams(outer, depth, rng.Float(0.1f, 3.0f)), in.data(), out.data());
    for (int r = 0; r < outer; ++r) {
      double sum = 0.0;
      for (int c = 0; c < depth; ++c) {
        const float v = out[static_cast<size_t>(r * depth + c)];
        ASSERT_GE(v, 0.0f);
        ASSERT_LE(v, 1.0f);
        sum += v;
      }
      EXPECT_NEAR(sum, 1.0, 1e-5) << "depth " << depth;
    }
  }
}

// --- Quantized -----------------------------------------------------------------

template <typename T>
std::vector<T> RunQuantized(const SoftmaxParams& p, const std::vector<T>& in) {
  std::vector<T> out(in.size());
  reference::SoftmaxQuantized<T>(p, in.data(), out.data());
  return out;
}

template <typename T>
void CheckEqualLogits() {
  for (int depth : {1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 255, 256, 257, 1000}) {
    for (int value : {testing::TypeMin<T>(), 0, testing::TypeMax<T>()}) {
      const SoftmaxParams p = testing::MakeSoftmaxParams(1.0f, 0.1f, 1, depth);
      const std::vector<T> in(static_cast<size_t>(depth), static_cast<T>(value));
      const auto out = RunQuantized(p, in);
      for (int c = 1; c < depth; ++c) ASSERT_EQ(out[static_cast<size_t>(c)], out[0]) << "depth " << depth;
      // Each output is 1/depth in steps of 1/256, saturated at the type maximum.
      const double ideal = 256.0 / depth + testing::TypeMin<T>();
      const double expected = std::min<double>(std::round(ideal), testing::TypeMax<T>());
      EXPECT_NEAR(static_cast<double>(out[0]), expected, 1.0) << "depth " << depth;
    }
  }
}

TEST(SoftmaxUint8, EqualLogitsGiveEqualOutputs) { CheckEqualLogits<uint8_t>(); }
TEST(SoftmaxInt8, EqualLogitsGiveEqualOutputs) { CheckEqualLogits<int8_t>(); }

TEST(SoftmaxQuantized, EqualLogitsExactGoldens) {
  // Powers of two divide exactly: 1 -> saturated, 2 -> 1/2, 4 -> 1/4, 8 -> 1/8.
  const int32_t expected_u8[] = {255, 128, 64, 32};
  const int32_t expected_i8[] = {127, 0, -64, -96};
  const int depths[] = {1, 2, 4, 8};
  for (int i = 0; i < 4; ++i) {
    const SoftmaxParams p = testing::MakeSoftmaxParams(1.0f, 1.0f / 16, 1, depths[i]);
    EXPECT_EQ(RunQuantized(p, std::vector<uint8_t>(static_cast<size_t>(depths[i]), 7))[0], expected_u8[i]);
    EXPECT_EQ(RunQuantized(p, std::vector<int8_t>(static_cast<size_t>(depths[i]), -7))[0], expected_i8[i]);
  }
  // 1001 equal logits: 256 / 1001 = 0.26 rounds to 0 (the shift exceeds 31 bits).
  const SoftmaxParams p = testing::MakeSoftmaxParams(1.0f, 0.05f, 1, 1001);
  for (uint8_t v : RunQuantized(p, std::vector<uint8_t>(1001, 200))) ASSERT_EQ(v, 0);
  for (int8_t v : RunQuantized(p, std::vector<int8_t>(1001, 3))) ASSERT_EQ(v, -128);
}

template <typename T>
void CheckMonotone(uint32_t seed) {
  Rng rng(seed);
  for (int iter = 0; iter < 300; ++iter) {
    const int depth = rng.Pick({2, 3, 5, 8, 16, 17, 100});
    const float scale = rng.Pick({0.01f, 0.05f, 0.1f, 0.25f, 1.0f});
    const SoftmaxParams p = testing::MakeSoftmaxParams(rng.Pick({0.5f, 1.0f, 2.0f}), scale, 1, depth);
    const auto in = rng.Ints<T>(static_cast<size_t>(depth));
    const auto out = RunQuantized(p, in);
    for (int i = 0; i < depth; ++i) {
      for (int j = 0; j < depth; ++j) {
        if (in[static_cast<size_t>(i)] < in[static_cast<size_t>(j)]) {
          ASSERT_LE(out[static_cast<size_t>(i)], out[static_cast<size_t>(j)]) << "iter " << iter;
        }
      }
    }
    // Raising one logit never lowers its own probability.
    for (int i = 0; i < depth; ++i) {
      std::vector<T> raised = in;
      if (raised[static_cast<size_t>(i)] == std::numeric_limits<T>::max()) continue;
      raised[static_cast<size_t>(i)] = static_cast<T>(raised[static_cast<size_t>(i)] + 1);
      ASSERT_GE(RunQuantized(p, raised)[static_cast<size_t>(i)], out[static_cast<size_t>(i)]) << "iter " << iter;
    }
  }
}

TEST(SoftmaxUint8, ResponseIsMonotoneInTheLogits) { CheckMonotone<uint8_t>(42); }
TEST(SoftmaxInt8, ResponseIsMonotoneInTheLogits) { CheckMonotone<int8_t>(43); }

TEST(SoftmaxQuantized, LogitsBelowDiffMinGiveTheMinimum) {
  // Input scale 1, beta 1: multiplier 2^26 -> (2^30, 27), radius floor(31 / 2) = 15.
  const SoftmaxParams p = testing::MakeSoftmaxParams(1.0f, 1.0f, 1, 4);
  ASSERT_EQ(p.input_left_shift, 27);
  ASSERT_EQ(p.diff_min, -15);
  EXPECT_EQ(RunQuantized(p, std::vector<uint8_t>{100, 84, 85, 86}), (std::vector<uint8_t>{255, 0, 0, 0}));
  EXPECT_EQ(RunQuantized(p, std::vector<int8_t>{100, 84, 85, 86}), (std::vector<int8_t>{127, -128, -128, -128}));
  // A difference of 1 in these units is e^-1: (1, e^-1) / (1 + e^-1) = 0.731, 0.269.
  const SoftmaxParams p2 = testing::MakeSoftmaxParams(1.0f, 1.0f, 1, 2);
  EXPECT_EQ(RunQuantized(p2, std::vector<uint8_t>{10, 9}), (std::vector<uint8_t>{187, 69}));
  EXPECT_EQ(RunQuantized(p2, std::vector<int8_t>{-100, -101}), (std::vector<int8_t>{59, -59}));
}

TEST(SoftmaxQuantized, RowsAreIndependent) {
  const SoftmaxParams p = testing::MakeSoftmaxParams(1.0f, 0.1f, 3, 4);
  const std::vector<int8_t> rows = {1, 2, 3, 4, -128, -128, -128, 127, 5, 5, 5, 5};
  const auto out = RunQuantized(p, rows);
  for (int r = 0; r < 3; ++r) {
    const std::vector<int8_t> row(rows.begin() + 4 * r, rows.begin() + 4 * r + 4);
    const auto single = RunQuantized(testing::MakeSoftmaxParams(1.0f, 0.1f, 1, 4), row);
    for (int c = 0; c < 4; ++c) EXPECT_EQ(out[static_cast<size_t>(4 * r + c)], single[static_cast<size_t>(c)]);
  }
}

// BUG (kernels/reference/softmax.cc, SoftmaxQuantized): the sum of exps is
// accumulated in Q12.19 with wrapping adds. A row whose sum reaches 8192
// (e.g. 8193 equal logits) wraps to a tiny positive sum, and every element is
// then reported as probability ~1 (255) instead of ~1/8193 (0). Sums in
// [4096, 8192) wrap negative and happen to give the right answer (0).
// TFLite's reference has the same overflow (signed, i.e. undefined there).
TEST(SoftmaxQuantized, RowSumAboveTheQ12RangeDoesNotWrapToCertainty) {
  for (int depth : {4097, 8191, 8193, 9000}) {
    const SoftmaxParams p = testing::MakeSoftmaxParams(1.0f, 0.1f, 1, depth);
    const auto u8 = RunQuantized(p, std::vector<uint8_t>(static_cast<size_t>(depth), 7));
    EXPECT_EQ(u8[0], 0) << "depth " << depth << ": ideal 256/" << depth << " rounds to 0";
    const auto i8 = RunQuantized(p, std::vector<int8_t>(static_cast<size_t>(depth), -7));
    EXPECT_EQ(i8[0], -128) << "depth " << depth;
  }
}

}  // namespace
}  // namespace triage::kernels
