// MobileNet spec, checkpoint archive, BatchNorm folding and float export.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ground/export.h"
#include "ground/mobilenet.h"
#include "ground/model_runner.h"
#include "ground/tensor_archive.h"
#include "ground/trainer.h"
#include "imaging/det_math.h"
#include "inference/model.h"

namespace triage::ground {
namespace {

MobileNetSpec Small() {
  MobileNetSpec s;
  s.alpha = 0.25f;
  s.resolution = 64;
  return s;
}

std::vector<float> RandomInput(int resolution, uint64_t seed) {
  imaging::det::Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(resolution) * resolution * 3);
  for (float& x : v) x = rng.Uniform(-1.f, 127.f / 128.f);
  return v;
}

// Straightforward float forward pass of the *unfolded* checkpoint (conv,
// then BatchNorm, then ReLU6, TensorFlow SAME padding), NHWC: the oracle for
// folding and export.
std::vector<float> NaiveForward(const TensorArchive& a, const MobileNetSpec& spec, const std::vector<float>& input) {
  const float eps = std::stof(a.GetString("bn_eps"));
  int h = spec.resolution, c = 3;
  std::vector<float> x = input;
  for (const LayerSpec& l : MobileNetV1Layers(spec)) {
    const bool dw = l.kind == LayerKind::kDepthwise;
    const int oh = (h + l.stride - 1) / l.stride;
    const int pad_total = std::max((oh - 1) * l.stride + l.kernel - h, 0);
    const int pad = pad_total / 2;
    const auto& w = a.tensors().at(l.name + ".weight").values;
    const auto& g = a.tensors().at(l.name + ".bn.weight").values;
    const auto& b = a.tensors().at(l.name + ".bn.bias").values;
    const auto& m = a.tensors().at(l.name + ".bn.running_mean").values;
    const auto& v = a.tensors().at(l.name + ".bn.running_var").values;
    const int oc = l.out_channels, k = l.kernel, ci = dw ? 1 : c;
    std::vector<float> y(static_cast<size_t>(oh) * oh * oc);
    for (int oy = 0; oy < oh; ++oy) {
      for (int ox = 0; ox < oh; ++ox) {
        for (int o = 0; o < oc; ++o) {
          double acc = 0;
          for (int ky = 0; ky < k; ++ky) {
            for (int kx = 0; kx < k; ++kx) {
              const int iy = oy * l.stride + ky - pad, ix = ox * l.stride + kx - pad;
              if (iy < 0 || ix < 0 || iy >= h || ix >= h) continue;
              for (int i = 0; i < ci; ++i) {
                const int in_c = dw ? o : i;
                acc += static_cast<double>(x[(static_cast<size_t>(iy) * h + ix) * c + in_c]) *
                       w[((static_cast<size_t>(o) * ci + i) * k + ky) * k + kx];
              }
            }
          }
          const double bn = (acc - m[o]) / std::sqrt(v[o] + eps) * g[o] + b[o];
          y[(static_cast<size_t>(oy) * oh + ox) * oc + o] = static_cast<float>(std::min(6.0, std::max(0.0, bn)));
        }
      }
    }
    x = std::move(y);
    h = oh;
    c = oc;
  }
  std::vector<double> pooled(c, 0.0);
  for (int p = 0; p < h * h; ++p) {
    for (int i = 0; i < c; ++i) pooled[i] += x[static_cast<size_t>(p) * c + i];
  }
  const auto& fw = a.tensors().at("fc.weight").values;
  const auto& fb = a.tensors().at("fc.bias").values;
  std::vector<double> logits(spec.num_classes);
  double mx = -1e30;
  for (int k = 0; k < spec.num_classes; ++k) {
    logits[k] = fb[k];
    for (int i = 0; i < c; ++i) logits[k] += fw[static_cast<size_t>(k) * c + i] * pooled[i] / (h * h);
    mx = std::max(mx, logits[k]);
  }
  double sum = 0;
  for (double& l : logits) sum += (l = std::exp(l - mx));
  std::vector<float> out;
  for (double l : logits) out.push_back(static_cast<float>(l / sum));
  return out;
}

TEST(MobileNet, DefaultSpecHasTheV1LayerListAndMacs) {
  MobileNetSpec spec;  // 0.25, 128, 5 classes
  const std::vector<LayerSpec> layers = MobileNetV1Layers(spec);
  ASSERT_EQ(layers.size(), 27u);
  EXPECT_EQ(layers[0].out_channels, 8);
  EXPECT_EQ(layers[0].stride, 2);
  EXPECT_EQ(layers.back().out_channels, 256);
  EXPECT_EQ(FeatureChannels(spec), 256);
  int strides = 1;
  for (const LayerSpec& l : layers) strides *= l.stride;
  EXPECT_EQ(strides, 32);
  // ~13.3 M multiply-accumulates for 0.25/128 (TensorFlow lists 14 M).
  EXPECT_GT(MobileNetMacs(spec), 13'000'000);
  EXPECT_LT(MobileNetMacs(spec), 14'500'000);
}

TEST(MobileNet, ValidateSpecRejectsBadResolutionAndWidth) {
  MobileNetSpec s;
  s.resolution = 100;
  EXPECT_FALSE(ValidateSpec(s).ok());
  s.resolution = 128;
  s.alpha = 0.f;
  EXPECT_FALSE(ValidateSpec(s).ok());
  s.alpha = 1.f;
  EXPECT_TRUE(ValidateSpec(s).ok());
}

TEST(Stages, ParseLayersEpochsAndRatesAndNameABadItem) {
  Result<std::vector<TrainStage>> st = ParseStages("head:2:3e-3,top6:3:1e-3,all:5:3e-4,qat:2:1e-4");
  ASSERT_TRUE(st.ok()) << st.status().message();
  ASSERT_EQ(st->size(), 4u);
  EXPECT_EQ((*st)[1].layers, "top6");
  EXPECT_EQ((*st)[3].layers, "qat");
  EXPECT_EQ((*st)[3].epochs, 2);
  EXPECT_FLOAT_EQ((*st)[2].learning_rate, 3e-4f);
  EXPECT_EQ(StagesText(*st), "head:2:0.003,top6:3:0.001,all:5:0.0003,qat:2:0.0001");
  for (const char* bad : {"qatx:1:1e-3", "top14:1:1e-3", "all:0:1e-3", "all:1:2", "all:1", "head:1:1e-3,,all:1:1e-3"}) {
    Result<std::vector<TrainStage>> r = ParseStages(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
  Result<std::vector<TrainStage>> r = ParseStages("head:1:1e-3,qatx:1:1e-3");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("qatx:1:1e-3"), std::string::npos) << r.status().message();
}

TEST(TensorArchive, RoundTripsTensorsAndStrings) {
  TensorArchive a = RandomCheckpoint(Small(), 3);
  a.PutString("note", "a,b\nc");
  Result<TensorArchive> b = TensorArchive::Parse(a.Serialize(), "mem");
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->tensors().size(), a.tensors().size());
  EXPECT_EQ(b->GetString("note"), "a,b\nc");
  EXPECT_EQ(b->tensors().at("pw13.weight").values, a.tensors().at("pw13.weight").values);
}

TEST(TensorArchive, EveryFlippedByteOrTruncationIsRejected) {
  TensorArchive a;
  a.Put("w", ArchiveTensor{{2, 3}, {1, 2, 3, 4, 5, 6}});
  a.PutString("alpha", "0.25");
  const std::vector<uint8_t> bytes = a.Serialize();
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::vector<uint8_t> bad = bytes;
    bad[i] ^= 0x20;
    EXPECT_FALSE(TensorArchive::Parse(bad, "mem").ok()) << "byte " << i;
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<long>(i));
    EXPECT_FALSE(TensorArchive::Parse(cut, "mem").ok()) << "length " << i;
  }
}

TEST(TensorArchive, GetNamesMissingTensorsAndWrongShapes) {
  TensorArchive a;
  a.Put("w", ArchiveTensor{{2}, {1, 2}});
  Result<const ArchiveTensor*> missing = a.Get("v", {2});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(std::string(missing.status().message()).find("'v'"), std::string::npos);
  Result<const ArchiveTensor*> shape = a.Get("w", {3});
  ASSERT_FALSE(shape.ok());
  EXPECT_NE(std::string(shape.status().message()).find("expected 3x"), std::string::npos);
}

TEST(Export, FoldedFloatModelMatchesTheUnfoldedNetworkWithin1e5) {
  const MobileNetSpec spec = Small();
  const TensorArchive a = RandomCheckpoint(spec, 11);
  Result<FoldedNet> net = FoldCheckpoint(a);
  ASSERT_TRUE(net.ok()) << net.status().message();
  const std::vector<uint8_t> bytes = BuildFloatTflite(*net, InfoFromArchive(a));
  Result<std::unique_ptr<ModelRunner>> runner = ModelRunner::FromBytes(bytes, "exported");
  ASSERT_TRUE(runner.ok()) << runner.status().message();
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    const std::vector<float> in = RandomInput(spec.resolution, seed);
    std::vector<float> ours;
    ASSERT_TRUE((*runner)->ClassifyNormalized(in.data(), &ours).ok());
    const std::vector<float> oracle = NaiveForward(a, spec, in);
    ASSERT_EQ(ours.size(), oracle.size());
    for (size_t k = 0; k < ours.size(); ++k) EXPECT_NEAR(ours[k], oracle[k], 1e-5) << "class " << k;
  }
}

TEST(Export, FileCarriesNamesLabelsPreprocessingAndProvenance) {
  const MobileNetSpec spec = Small();
  TensorArchive a = RandomCheckpoint(spec, 5);
  a.PutString("train.data_sha256", "abc123");
  Result<FoldedNet> net = FoldCheckpoint(a);
  ASSERT_TRUE(net.ok());
  std::vector<uint8_t> bytes = BuildFloatTflite(*net, InfoFromArchive(a));
  inference::AlignedBuffer buf(bytes.size());
  std::memcpy(buf.data(), bytes.data(), bytes.size());
  Result<inference::Model> model = inference::Model::Create(Span<const uint8_t>(buf.data(), buf.size()));
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto text = [&](const char* name) {
    Span<const uint8_t> m = model->Metadata(name);
    return std::string(reinterpret_cast<const char*>(m.data()), m.size());
  };
  EXPECT_EQ(text("labels"), "black\ncloud\ndistorted\nland\nwhite\n");
  EXPECT_NE(text("preprocessing").find("\"mean\":[128.0,128.0,128.0]"), std::string::npos) << text("preprocessing");
  EXPECT_NE(text("training").find("abc123"), std::string::npos);
  const auto& tensors = model->tensors();
  EXPECT_STREQ(tensors[model->inputs()[0]].name, "input");
  EXPECT_STREQ(tensors[model->outputs()[0]].name, "probabilities");
  EXPECT_EQ(tensors[model->inputs()[0]].shape.dims[1], 64);
  // 27 backbone layers + pool + head + reshape + softmax.
  EXPECT_EQ(model->operators().size(), 31u);
}

TEST(Export, FoldingRejectsAMissingOrMisshapenParameter) {
  TensorArchive a = RandomCheckpoint(Small(), 1);
  TensorArchive broken;
  for (const auto& [name, t] : a.tensors()) {
    if (name != "dw5.bn.running_var") broken.Put(name, t);
  }
  for (const auto& [name, s] : a.strings()) broken.PutString(name, s);
  Result<FoldedNet> r = FoldCheckpoint(broken);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("dw5.bn.running_var"), std::string::npos);
  TensorArchive negative = a;
  ArchiveTensor var = a.tensors().at("pw2.bn.running_var");
  var.values[3] = -1.f;
  negative.Put("pw2.bn.running_var", var);
  EXPECT_FALSE(FoldCheckpoint(negative).ok());
}

}  // namespace
}  // namespace triage::ground
