// Quantized kernels against the float kernels: for random shapes (sizes 1,
// odd channel counts, 7/8/9, 15/16/17), dequantize -> float kernel ->
// quantize must be within 1 LSB of the quantized kernel.
//
// Why 1 LSB: the quantized result r_q is the exact product rounded twice
// (high multiply, then shift), so |r_q - x| < 1 for the exact real x; the
// float path rounds x once (plus ~1e-6 relative float error), so both land on
// floor(x) or ceil(x). Max pooling involves no arithmetic and must match
// exactly. Softmax uses gemmlowp's fixed-point exp/reciprocal (error ~3e-7,
// far below 1/256), so it is held to the same 1 LSB.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/kernel_table.h"
#include "kernels/reference/data_movement.h"
#include "tests/kernels/kernel_test_util.h"
#include "tests/kernels/op_runner.h"

namespace triage::kernels {
namespace {

using testing::QuantSpec;
using testing::Rng;

constexpr int kToleranceLsb = 1;
const int kSizes[] = {1, 3, 4, 5, 7, 8, 9, 15, 16, 17};

const KernelTable& Ref() { return GetKernelTable(KernelSet::kReference); }

int PickSize(Rng& rng) { return kSizes[rng.Int(0, 9)]; }
int PickSmall(Rng& rng) { return rng.Pick({1, 3, 4, 5, 7, 8, 9}); }
Activation PickAct(Rng& rng) {
  return rng.Pick({Activation::kNone, Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1});
}

testing::ConvSpec RandomConv(Rng& rng, bool depthwise) {
  testing::ConvSpec s;
  s.depthwise = depthwise;
  s.batches = rng.Int(1, 2);
  s.in_h = PickSmall(rng);
  s.in_w = PickSmall(rng);
  if (depthwise) {
    s.in_d = PickSize(rng);
    s.depth_multiplier = rng.Pick({1, 1, 2, 3});
  } else {
    s.groups = rng.Pick({1, 1, 1, 2});
    s.in_d = s.groups * (s.groups == 1 ? PickSize(rng) : rng.Pick({1, 3, 4}));
    s.out_d = s.groups * (s.groups == 1 ? PickSize(rng) : rng.Pick({1, 3, 4}));
  }
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
  s.act = PickAct(rng);
  s.has_bias = rng.Int(0, 3) != 0;
  return s;
}

template <typename T>
void CheckConv(bool depthwise, uint32_t seed) {
  Rng rng(seed);
  for (int iter = 0; iter < 200; ++iter) {
    const testing::ConvSpec spec = RandomConv(rng, depthwise);
    const testing::ConvData data = testing::RandomConvData(rng, spec);
    const auto q = testing::QuantizeConv<T>(spec, data);
    const auto got = q.Run(Ref());
    const auto model = testing::QuantizeAll<T>(testing::RunConvFloat(Ref(), spec, q.Dequantized()), q.out_q);
    ASSERT_LE(testing::MaxLsbDiff(got, model), kToleranceLsb) << spec.ToString();
  }
}

// Output scales 1000x too fine (mostly saturating) or too coarse (mostly the
// zero point), with extreme output zero points.
template <typename T>
void CheckConvExtremeOutputScales(bool depthwise, uint32_t seed) {
  Rng rng(seed);
  for (int iter = 0; iter < 60; ++iter) {
    const testing::ConvSpec spec = RandomConv(rng, depthwise);
    const testing::ConvData data = testing::RandomConvData(rng, spec);
    auto q = testing::QuantizeConv<T>(spec, data);
    QuantSpec out = q.out_q;
    out.scale *= rng.Pick({1e-3f, 1e3f});
    out.zero_point = rng.Pick({testing::TypeMin<T>(), testing::TypeMax<T>(), out.zero_point});
    q.SetOutput(out);
    const auto got = q.Run(Ref());
    const auto model = testing::QuantizeAll<T>(testing::RunConvFloat(Ref(), spec, q.Dequantized()), q.out_q);
    ASSERT_LE(testing::MaxLsbDiff(got, model), kToleranceLsb) << spec.ToString() << " out scale " << out.scale;
  }
}

TEST(QuantizedVsFloat, ConvWithExtremeOutputScalesWithinOneLsb) {
  CheckConvExtremeOutputScales<uint8_t>(false, 91);
  CheckConvExtremeOutputScales<int8_t>(false, 92);
}
TEST(QuantizedVsFloat, DepthwiseConvWithExtremeOutputScalesWithinOneLsb) {
  CheckConvExtremeOutputScales<uint8_t>(true, 93);
  CheckConvExtremeOutputScales<int8_t>(true, 94);
}

TEST(QuantizedVsFloat, ConvUint8WithinOneLsb) { CheckConv<uint8_t>(false, 61); }
TEST(QuantizedVsFloat, ConvInt8PerChannelWithinOneLsb) { CheckConv<int8_t>(false, 62); }
TEST(QuantizedVsFloat, DepthwiseConvUint8WithinOneLsb) { CheckConv<uint8_t>(true, 63); }
TEST(QuantizedVsFloat, DepthwiseConvInt8PerChannelWithinOneLsb) { CheckConv<int8_t>(true, 64); }

template <typename T>
void CheckFc(uint32_t seed) {
  Rng rng(seed);
  for (int iter = 0; iter < 300; ++iter) {
    testing::FcSpec s;
    s.batches = rng.Pick({1, 2, 3});
    s.accum_depth = rng.Pick({1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 100});
    s.output_depth = PickSize(rng);
    s.act = PickAct(rng);
    s.has_bias = rng.Bool();
    const auto data = testing::RandomFcData(rng, s);
    const auto q = testing::QuantizeFc<T>(s, data, /*filter_zero_point_nonzero=*/rng.Bool());
    const auto got = q.Run(Ref());
    const auto model = testing::QuantizeAll<T>(testing::RunFcFloat(Ref(), s, q.Dequantized()), q.out_q);
    ASSERT_LE(testing::MaxLsbDiff(got, model), kToleranceLsb) << s.ToString();
  }
}

TEST(QuantizedVsFloat, FullyConnectedUint8WithinOneLsb) { CheckFc<uint8_t>(65); }
TEST(QuantizedVsFloat, FullyConnectedInt8WithinOneLsb) { CheckFc<int8_t>(66); }

template <typename T>
void CheckPool(bool max, uint32_t seed) {
  Rng rng(seed);
  for (int iter = 0; iter < 150; ++iter) {
    testing::PoolSpec s;
    s.max = max;
    s.batches = rng.Int(1, 2);
    s.in_h = PickSmall(rng);
    s.in_w = PickSmall(rng);
    s.depth = PickSize(rng);
    s.f_h = rng.Int(1, 3);
    s.f_w = rng.Int(1, 3);
    s.stride_h = rng.Int(1, 2);
    s.stride_w = rng.Int(1, 2);
    s.padding = rng.Bool() ? Padding::kSame : Padding::kValid;
    if (testing::OutSize(s.padding, s.in_h, s.f_h, s.stride_h, 1) < 1 ||
        testing::OutSize(s.padding, s.in_w, s.f_w, s.stride_w, 1) < 1)
      s.padding = Padding::kSame;
    s.act = PickAct(rng);
    const auto geo = testing::GeometryOf(s);
    const auto f = rng.Floats(static_cast<size_t>(geo.input.FlatSize()), -3.0f, 5.0f);
    const QuantSpec q = testing::CalibrateAsymmetric<T>(f);
    const auto in = testing::QuantizeAll<T>(f, q);
    const auto got = testing::RunPoolQuantized<T>(Ref(), s, q, in);
    const auto model = testing::QuantizeAll<T>(testing::RunPoolFloat(Ref(), s, testing::DequantizeAll(in, q)), q);
    ASSERT_LE(testing::MaxLsbDiff(got, model), max ? 0 : kToleranceLsb) << s.ToString();
  }
}

TEST(QuantizedVsFloat, AveragePoolUint8WithinOneLsb) { CheckPool<uint8_t>(false, 67); }
TEST(QuantizedVsFloat, AveragePoolInt8WithinOneLsb) { CheckPool<int8_t>(false, 68); }
TEST(QuantizedVsFloat, MaxPoolUint8IsExact) { CheckPool<uint8_t>(true, 69); }
TEST(QuantizedVsFloat, MaxPoolInt8IsExact) { CheckPool<int8_t>(true, 70); }

Shape RandomShape(Rng& rng, int rank) {
  Shape s;
  s.rank = rank;
  for (int i = 0; i < rank; ++i) s.dims[i] = rng.Pick({1, 2, 3, 4, 5, 7, 8, 9});
  return s;
}

// Makes b broadcast-compatible with a by setting random dims to 1 (on either side).
void MakeBroadcastable(Rng& rng, Shape* a, Shape* b) {
  for (int i = 0; i < b->rank; ++i) {
    const int ia = i + a->rank - b->rank;
    if (ia < 0) continue;
    const int choice = rng.Int(0, 2);
    if (choice == 0) b->dims[i] = a->dims[ia];
    if (choice == 1) b->dims[i] = 1;
    if (choice == 2) {
      b->dims[i] = a->dims[ia];
      a->dims[ia] = 1;
    }
  }
}

template <typename T>
void CheckBinary(bool mul, uint32_t seed) {
  Rng rng(seed);
  for (int iter = 0; iter < 300; ++iter) {
    Shape s1 = RandomShape(rng, rng.Int(1, 4));
    Shape s2 = RandomShape(rng, rng.Int(0, s1.rank));
    MakeBroadcastable(rng, &s1, &s2);
    if (rng.Bool()) std::swap(s1, s2);
    testing::BinarySpec spec{mul, s1, s2, testing::BroadcastShape(s1, s2), PickAct(rng)};
    const auto fa = rng.Floats(static_cast<size_t>(s1.FlatSize()), -rng.Float(0.1f, 4.0f), rng.Float(0.1f, 4.0f));
    const auto fb = rng.Floats(static_cast<size_t>(s2.FlatSize()), -rng.Float(0.1f, 4.0f), rng.Float(0.1f, 4.0f));
    const QuantSpec q1 = testing::CalibrateAsymmetric<T>(fa), q2 = testing::CalibrateAsymmetric<T>(fb);
    const auto a = testing::QuantizeAll<T>(fa, q1);
    const auto b = testing::QuantizeAll<T>(fb, q2);
    testing::BinarySpec plain = spec;
    plain.act = Activation::kNone;
    const auto float_out = testing::RunBinaryFloat(Ref(), spec, testing::DequantizeAll(a, q1), testing::DequantizeAll(b, q2));
    const QuantSpec qo = testing::CalibrateAsymmetric<T>(
        testing::RunBinaryFloat(Ref(), plain, testing::DequantizeAll(a, q1), testing::DequantizeAll(b, q2)));
    const auto got = testing::RunBinaryQuantized<T>(Ref(), spec, q1, a, q2, b, qo);
    ASSERT_LE(testing::MaxLsbDiff(got, testing::QuantizeAll<T>(float_out, qo)), kToleranceLsb) << spec.ToString();
  }
}

TEST(QuantizedVsFloat, AddUint8WithinOneLsb) { CheckBinary<uint8_t>(false, 71); }
TEST(QuantizedVsFloat, AddInt8WithinOneLsb) { CheckBinary<int8_t>(false, 72); }
TEST(QuantizedVsFloat, MulUint8WithinOneLsb) { CheckBinary<uint8_t>(true, 73); }
TEST(QuantizedVsFloat, MulInt8WithinOneLsb) { CheckBinary<int8_t>(true, 74); }

template <typename T>
void CheckSoftmax(uint32_t seed) {
  Rng rng(seed);
  int worst = 0;
  for (int iter = 0; iter < 300; ++iter) {
    const int outer = rng.Int(1, 3);
    const int depth = rng.Pick({1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 100, 1000});
    const float beta = rng.Pick({0.5f, 1.0f, 1.0f, 2.0f});
    const float range = rng.Pick({1.0f, 5.0f, 10.0f, 30.0f});
    const auto f = rng.Floats(static_cast<size_t>(outer * depth), -range, range);
    const QuantSpec qi = testing::CalibrateAsymmetric<T>(f);
    const auto in = testing::QuantizeAll<T>(f, qi);
    const SoftmaxParams p = testing::MakeSoftmaxParams(beta, qi.scale, outer, depth);
    std::vector<T> got(in.size());
    if constexpr (std::is_same<T, uint8_t>::value) {
      Ref().softmax_uint8(p, in.data(), got.data());
    } else {
      Ref().softmax_int8(p, in.data(), got.data());
    }
    const auto deq = testing::DequantizeAll(in, qi);
    std::vector<float> float_out(deq.size());
    Ref().softmax_float(p, deq.data(), float_out.data());
    const int diff = testing::MaxLsbDiff(got, testing::QuantizeAll<T>(float_out, testing::SoftmaxOutputQuant<T>()));
    worst = std::max(worst, diff);
    ASSERT_LE(diff, kToleranceLsb) << "depth " << depth << " beta " << beta << " scale " << qi.scale;
  }
  ::testing::Test::RecordProperty("worst_lsb", worst);
}

TEST(QuantizedVsFloat, SoftmaxUint8WithinOneLsb) { CheckSoftmax<uint8_t>(75); }
TEST(QuantizedVsFloat, SoftmaxInt8WithinOneLsb) { CheckSoftmax<int8_t>(76); }

TEST(QuantizedVsFloat, MeanInt8OverHeightAndWidthWithinOneLsb) {
  Rng rng(77);
  for (int iter = 0; iter < 150; ++iter) {
    const Shape s = MakeShape({rng.Int(1, 2), PickSize(rng), PickSize(rng), PickSize(rng)});
    const auto f = rng.Floats(static_cast<size_t>(s.FlatSize()), -rng.Float(0.5f, 4.0f), rng.Float(0.5f, 4.0f));
    const QuantSpec qi = testing::CalibrateAsymmetric<int8_t>(f);
    const auto in = testing::QuantizeAll<int8_t>(f, qi);
    const auto deq = testing::DequantizeAll(in, qi);
    MeanParams fp;
    fp.reduce_axis[1] = fp.reduce_axis[2] = true;
    std::vector<float> mean(static_cast<size_t>(s.dims[0] * s.dims[3]));
    reference::MeanFloat(fp, s, deq.data(), mean.data());
    const QuantSpec qo = rng.Bool() ? qi : testing::CalibrateAsymmetric<int8_t>(mean);
    MeanParams p;
    QuantizeMultiplier(static_cast<double>(qi.scale) / qo.scale, &p.multiplier, &p.shift);
    p.input_zero_point = qi.zero_point;
    p.output_zero_point = qo.zero_point;
    p.input_scale = qi.scale;
    p.output_scale = qo.scale;
    std::vector<int8_t> got(mean.size());
    reference::MeanInt8HW(p, s, in.data(), got.data());
    ASSERT_LE(testing::MaxLsbDiff(got, testing::QuantizeAll<int8_t>(mean, qo)), kToleranceLsb)
        << testing::ShapeString(s);
  }
}

TEST(QuantizedVsFloat, ConcatenationRequantizationWithinOneLsb) {
  Rng rng(78);
  for (int iter = 0; iter < 200; ++iter) {
    const int n = rng.Int(1, 4);
    std::vector<std::vector<float>> floats;
    std::vector<std::vector<uint8_t>> raws;
    std::vector<QuantSpec> qs;
    std::vector<ConcatInput> inputs;
    std::vector<float> all;
    for (int i = 0; i < n; ++i) {
      const int len = PickSize(rng);
      floats.push_back(rng.Floats(static_cast<size_t>(len), -rng.Float(0.1f, 8.0f), rng.Float(0.1f, 8.0f)));
      qs.push_back(testing::CalibrateAsymmetric<uint8_t>(floats.back()));
      raws.push_back(testing::QuantizeAll<uint8_t>(floats.back(), qs.back()));
      const auto deq = testing::DequantizeAll(raws.back(), qs.back());
      all.insert(all.end(), deq.begin(), deq.end());
    }
    for (int i = 0; i < n; ++i)
      inputs.push_back(ConcatInput{raws[static_cast<size_t>(i)].data(), MakeShape({1, static_cast<int32_t>(raws[static_cast<size_t>(i)].size())}),
                                   qs[static_cast<size_t>(i)].scale, qs[static_cast<size_t>(i)].zero_point});
    const QuantSpec qo = testing::CalibrateAsymmetric<uint8_t>(all);
    ConcatParams p;
    p.axis = 1;
    p.requantize = true;
    p.output_scale = qo.scale;
    p.output_zero_point = qo.zero_point;
    std::vector<uint8_t> got(all.size());
    reference::Concatenation(p, inputs.data(), n, MakeShape({1, static_cast<int32_t>(all.size())}), got.data());
    ASSERT_LE(testing::MaxLsbDiff(got, testing::QuantizeAll<uint8_t>(all, qo)), kToleranceLsb) << "iter " << iter;
  }
}

}  // namespace
}  // namespace triage::kernels
