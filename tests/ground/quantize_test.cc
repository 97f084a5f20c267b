// Int8 post-training quantization: TFLite int8-spec invariants of the
// written file, and agreement with the float model.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "ground/export.h"
#include "ground/model_runner.h"
#include "ground/quantize.h"
#include "imaging/det_math.h"
#include "inference/model.h"

namespace triage::ground {
namespace {

using inference::BuiltinOp;
using inference::DataType;

struct Fixture {
  MobileNetSpec spec;
  TensorArchive archive;
  FoldedNet net;
  ModelInfo info;
  std::vector<std::vector<float>> samples;
};

// Smooth random images (blobs), closer to real frames than white noise.
std::vector<float> Blobs(int r, uint64_t seed) {
  imaging::det::Rng rng(seed);
  const float base[3] = {rng.Uniform(-1.f, 0.9f), rng.Uniform(-1.f, 0.9f), rng.Uniform(-1.f, 0.9f)};
  const float fx = rng.Uniform(0.02f, 0.3f), fy = rng.Uniform(0.02f, 0.3f);
  std::vector<float> v(static_cast<size_t>(r) * r * 3);
  for (int y = 0; y < r; ++y) {
    for (int x = 0; x < r; ++x) {
      for (int c = 0; c < 3; ++c) {
        const float s = 0.4f * std::sin(fx * x + c) * std::cos(fy * y - c);
        v[(static_cast<size_t>(y) * r + x) * 3 + c] = std::clamp(base[c] + s, -1.f, 127.f / 128.f);
      }
    }
  }
  return v;
}

const Fixture& Get() {
  static Fixture* f = [] {
    auto* x = new Fixture;
    x->spec.resolution = 64;
    x->archive = RandomCheckpoint(x->spec, 21);
    Result<FoldedNet> net = FoldCheckpoint(x->archive);
    TRIAGE_CHECK(net.ok());
    x->net = std::move(net).value();
    x->info = InfoFromArchive(x->archive);
    for (uint64_t s = 0; s < 24; ++s) x->samples.push_back(Blobs(64, s));
    return x;
  }();
  return *f;
}

struct Quantized {
  std::vector<uint8_t> bytes;
  inference::AlignedBuffer buffer;
  std::unique_ptr<inference::Model> model;
};

std::unique_ptr<Quantized> Quantize(const CalibrationOptions& options, std::vector<TensorRange>* ranges = nullptr) {
  const Fixture& f = Get();
  Result<QuantPlan> plan = Calibrate(f.net, f.info, f.samples, options, ranges);
  EXPECT_TRUE(plan.ok()) << plan.status().message();
  if (!plan.ok()) return nullptr;
  Result<std::vector<uint8_t>> bytes = BuildInt8Tflite(f.net, f.info, *plan);
  EXPECT_TRUE(bytes.ok()) << bytes.status().message();
  if (!bytes.ok()) return nullptr;
  auto q = std::make_unique<Quantized>();
  q->bytes = std::move(bytes).value();
  q->buffer = inference::AlignedBuffer(q->bytes.size());
  std::memcpy(q->buffer.data(), q->bytes.data(), q->bytes.size());
  Result<inference::Model> m = inference::Model::Create(Span<const uint8_t>(q->buffer.data(), q->buffer.size()));
  EXPECT_TRUE(m.ok()) << m.status().message();
  if (!m.ok()) return nullptr;
  q->model = std::make_unique<inference::Model>(std::move(m).value());
  return q;
}

TEST(Quantize, ActivationQuantContainsZeroAndUsesTheInt8Range) {
  ActivationQuant relu6 = ChooseActivationQuant(0.f, 6.f);
  EXPECT_FLOAT_EQ(relu6.scale, 6.f / 255.f);
  EXPECT_EQ(relu6.zero_point, -128);
  ActivationQuant pos = ChooseActivationQuant(2.f, 4.f);  // widened to [0, 4]
  EXPECT_FLOAT_EQ(pos.scale, 4.f / 255.f);
  EXPECT_EQ(pos.zero_point, -128);
  ActivationQuant sym = ChooseActivationQuant(-3.f, 3.f);
  EXPECT_NEAR(sym.zero_point, 0, 1);
  ActivationQuant neg = ChooseActivationQuant(-5.f, -1.f);  // widened to [-5, 0]
  EXPECT_EQ(neg.zero_point, 127);
  ActivationQuant zero = ChooseActivationQuant(0.f, 0.f);
  EXPECT_GT(zero.scale, 0.f);
}

TEST(Quantize, WrittenModelFollowsTheTfliteInt8Spec) {
  std::unique_ptr<Quantized> q = Quantize({});
  ASSERT_NE(q, nullptr);
  const inference::Model& m = *q->model;
  const auto tensors = m.tensors();
  const auto& in = tensors[m.inputs()[0]];
  EXPECT_EQ(in.type, DataType::kInt8);
  EXPECT_FLOAT_EQ(in.quant.scales[0], 1.f / 128.f);
  EXPECT_EQ(in.quant.zero_points[0], 0);
  const auto& out = tensors[m.outputs()[0]];
  EXPECT_EQ(out.type, DataType::kInt8);
  EXPECT_FLOAT_EQ(out.quant.scales[0], 1.f / 256.f);
  EXPECT_EQ(out.quant.zero_points[0], -128);
  int convs = 0;
  for (const inference::OperatorSpec& op : m.operators()) {
    const auto& x = tensors[op.inputs[0]];
    const auto& y = tensors[op.outputs[0]];
    EXPECT_EQ(x.type, DataType::kInt8);
    EXPECT_EQ(y.type, DataType::kInt8);
    EXPECT_EQ(y.quant.scales.size(), 1u);  // activations per tensor
    if (op.code == static_cast<int32_t>(BuiltinOp::kAveragePool2d) ||
        op.code == static_cast<int32_t>(BuiltinOp::kReshape)) {
      EXPECT_EQ(x.quant.scales[0], y.quant.scales[0]);
      EXPECT_EQ(x.quant.zero_points[0], y.quant.zero_points[0]);
    }
    if (op.code != static_cast<int32_t>(BuiltinOp::kConv2d) &&
        op.code != static_cast<int32_t>(BuiltinOp::kDepthwiseConv2d)) {
      continue;
    }
    ++convs;
    const bool dw = op.code == static_cast<int32_t>(BuiltinOp::kDepthwiseConv2d);
    const auto& w = tensors[op.inputs[1]];
    const auto& b = tensors[op.inputs[2]];
    const int channels = w.shape.dims[dw ? 3 : 0];
    EXPECT_EQ(w.type, DataType::kInt8);
    ASSERT_EQ(static_cast<int>(w.quant.scales.size()), channels) << w.name;  // per channel
    EXPECT_EQ(w.quant.quantized_dimension, dw ? 3 : 0) << w.name;
    for (int64_t zp : w.quant.zero_points) EXPECT_EQ(zp, 0);             // symmetric
    const int8_t* wq = reinterpret_cast<const int8_t*>(w.data);
    for (size_t i = 0; i < w.bytes; ++i) EXPECT_GE(wq[i], -127) << w.name;  // never -128
    EXPECT_EQ(b.type, DataType::kInt32);
    ASSERT_EQ(static_cast<int>(b.quant.scales.size()), channels);
    for (int c = 0; c < channels; ++c) {
      EXPECT_FLOAT_EQ(b.quant.scales[c], x.quant.scales[0] * w.quant.scales[c]) << b.name << " channel " << c;
      EXPECT_EQ(b.quant.zero_points[c], 0);
    }
  }
  EXPECT_EQ(convs, 28);
}

TEST(Quantize, Int8ModelAgreesWithTheFloatModel) {
  std::unique_ptr<Quantized> q = Quantize({});
  ASSERT_NE(q, nullptr);
  const Fixture& f = Get();
  Result<std::unique_ptr<ModelRunner>> fr = ModelRunner::FromBytes(BuildFloatTflite(f.net, f.info), "float");
  Result<std::unique_ptr<ModelRunner>> qr = ModelRunner::FromBytes(q->bytes, "int8");
  ASSERT_TRUE(fr.ok() && qr.ok());
  double max_diff = 0;
  for (uint64_t s = 100; s < 116; ++s) {
    const std::vector<float> in = Blobs(64, s);
    std::vector<float> pf, pq;
    ASSERT_TRUE((*fr)->ClassifyNormalized(in.data(), &pf).ok());
    ASSERT_TRUE((*qr)->ClassifyNormalized(in.data(), &pq).ok());
    for (size_t k = 0; k < pf.size(); ++k) max_diff = std::max(max_diff, std::fabs(double(pf[k]) - pq[k]));
  }
  // A random untrained net: probabilities agree to a few output steps.
  EXPECT_LT(max_diff, 0.08);
  EXPECT_LT(q->bytes.size() * 2, BuildFloatTflite(f.net, f.info).size());
}

TEST(Quantize, PercentileCalibrationNarrowsRanges) {
  std::vector<TensorRange> full, clipped;
  ASSERT_NE(Quantize({100.0}, &full), nullptr);
  ASSERT_NE(Quantize({99.0}, &clipped), nullptr);
  ASSERT_EQ(full.size(), clipped.size());
  int narrower = 0;
  for (size_t i = 0; i < full.size(); ++i) {
    ASSERT_EQ(full[i].name, clipped[i].name);
    EXPECT_LE(clipped[i].max, full[i].max);
    EXPECT_GE(clipped[i].min, full[i].min);
    narrower += clipped[i].max < full[i].max;
  }
  EXPECT_GT(narrower, 10);
}

TEST(Quantize, RejectsEmptyOrMisshapenCalibrationSets) {
  const Fixture& f = Get();
  EXPECT_FALSE(Calibrate(f.net, f.info, {}, {}, nullptr).ok());
  EXPECT_FALSE(Calibrate(f.net, f.info, {std::vector<float>(10)}, {}, nullptr).ok());
  EXPECT_FALSE(Calibrate(f.net, f.info, f.samples, {40.0}, nullptr).ok());
}

}  // namespace
}  // namespace triage::ground
