// Transfer-learning import: a pretrained TensorFlow Lite MobileNet v1 into
// our checkpoint layout (ground/import.h).
#include "ground/import.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ground/export.h"
#include "ground/model_runner.h"
#include "tests/support/shared_paths.h"
#include "tests/support/temp_dir.h"

namespace triage::ground {
namespace {

using testing::ReadFileBytes;
using testing::SharedPath;

struct Case {
  const char* model;
  int resolution;
  float alpha;
};

// Tolerance: the source is a uint8 model (8-bit activations at every layer);
// the import runs the same weights in float, so the 1001-class softmax
// differs by the accumulated activation quantization. Measured max |diff|:
// 0.25/128: grace_hopper 0.012, cat 0.013, bird 0.075; 0.5/160: 0.022,
// 0.014, 0.008. The limit is 0.1 (26 output steps of 1/256), and top-1 must
// be the same.
constexpr double kProbabilityTolerance = 0.1;

class ImportPretrainedOutput : public ::testing::TestWithParam<Case> {};

TEST_P(ImportPretrainedOutput, ReproducesTheSourceModelsImageNetOutputBeforeTheHeadIsReplaced) {
  TRIAGE_REQUIRE_SHARED();
  const Case c = GetParam();
  Result<ImportedModel> m = ImportMobileNetV1File(SharedPath(std::string("models/") + c.model + ".tflite"), true);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_FLOAT_EQ(m->spec.alpha, c.alpha);
  EXPECT_EQ(m->spec.resolution, c.resolution);
  EXPECT_EQ(m->source_classes, 1001);
  EXPECT_EQ(m->checkpoint.GetString("bn_frozen"), "1");

  Result<FoldedNet> net = FoldCheckpoint(m->checkpoint);
  ASSERT_TRUE(net.ok()) << net.status().message();
  const std::vector<uint8_t> bytes = BuildFloatTflite(*net, InfoFromArchive(m->checkpoint));
  Result<std::unique_ptr<ModelRunner>> runner = ModelRunner::FromBytes(bytes, "imported");
  ASSERT_TRUE(runner.ok()) << runner.status().message();

  for (const char* image : {"grace_hopper", "cat", "bird"}) {
    SCOPED_TRACE(image);
    const std::string stem = std::string(c.model) + "__" + image;
    // TensorFlow Lite's own uint8 output on these exact input bytes.
    const std::vector<unsigned char> in = ReadFileBytes(SharedPath("reference/inputs/" + stem + "__in0.bin"));
    const std::vector<unsigned char> ref = ReadFileBytes(SharedPath("reference/outputs/" + stem + "__out0.bin"));
    ASSERT_EQ(in.size(), static_cast<size_t>(c.resolution) * c.resolution * 3);
    ASSERT_EQ(ref.size(), 1001u);
    std::vector<float> x(in.size());
    for (size_t i = 0; i < in.size(); ++i) x[i] = (static_cast<float>(in[i]) - 128.f) / 128.f;  // scale 1/128, zp 128
    std::vector<float> p;
    ASSERT_TRUE((*runner)->ClassifyNormalized(x.data(), &p).ok());
    ASSERT_EQ(p.size(), 1001u);
    double max_diff = 0;
    for (size_t k = 0; k < p.size(); ++k) max_diff = std::max(max_diff, std::fabs(p[k] - ref[k] / 256.0));
    const size_t ours = std::max_element(p.begin(), p.end()) - p.begin();
    const size_t theirs = std::max_element(ref.begin(), ref.end()) - ref.begin();
    EXPECT_EQ(ours, theirs);
    EXPECT_LE(max_diff, kProbabilityTolerance);
    // The class is confidently recognised (not a flat output that matches by luck).
    EXPECT_GT(ref[theirs], 25);
    std::printf("%s %s: top-1 %zu (TFLite %d/256), max abs diff %.4f\n", c.model, image, theirs, ref[theirs], max_diff);
  }
}

INSTANTIATE_TEST_SUITE_P(SharedModels, ImportPretrainedOutput,
                         ::testing::Values(Case{"mobilenet_v1_0.25_128_quant", 128, 0.25f},
                                           Case{"mobilenet_v1_0.5_160_quant", 160, 0.5f}));

TEST(ImportPretrained, NewHeadCheckpointHasTheBackboneAndNoClassifier) {
  TRIAGE_REQUIRE_SHARED();
  const std::string path = SharedPath("models/mobilenet_v1_0.25_128_quant.tflite");
  bool has_head = true;
  Result<TensorArchive> a = LoadInitialization(path, 0.25f, 5, &has_head);
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_FALSE(has_head);
  EXPECT_FALSE(a->Has("fc.weight"));
  EXPECT_TRUE(a->Has("pw13.weight"));
  EXPECT_TRUE(a->Has("conv0.bn.bias"));
  EXPECT_EQ(a->GetString("num_classes"), "5");
}

TEST(ImportPretrained, BadInitializationsGiveOneLineReasons) {
  TRIAGE_REQUIRE_SHARED();
  bool has_head = false;
  // Another width than asked for.
  Result<TensorArchive> wide = LoadInitialization(SharedPath("models/mobilenet_v1_0.5_160_quant.tflite"), 0.25f, 5,
                                                  &has_head);
  ASSERT_FALSE(wide.ok());
  EXPECT_NE(std::string(wide.status().message()).find("width 0.5"), std::string::npos) << wide.status().message();
  EXPECT_NE(std::string(wide.status().message()).find("--alpha is 0.25"), std::string::npos) << wide.status().message();
  // A missing file.
  Result<TensorArchive> missing = LoadInitialization("/nonexistent/model.tflite", 0.25f, 5, &has_head);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(std::string(missing.status().message()).find("/nonexistent/model.tflite"), std::string::npos);
  // Valid TensorFlow Lite models that are not MobileNet v1.
  for (const char* other : {"hello_world_int8", "person_detect", "mobilenet_v2_1.0_224_quant"}) {
    Result<TensorArchive> r =
        LoadInitialization(SharedPath(std::string("models/") + other + ".tflite"), 0.25f, 5, &has_head);
    ASSERT_FALSE(r.ok()) << other;
    EXPECT_NE(std::string(r.status().message()).find("not a MobileNet v1 layout"), std::string::npos) << r.status().message();
    EXPECT_EQ(std::string(r.status().message()).find('\n'), std::string::npos);
  }
}

TEST(ImportPretrained, TruncatedAndGarbageFilesAreRejected) {
  TRIAGE_REQUIRE_SHARED();
  const std::vector<unsigned char> good = ReadFileBytes(SharedPath("models/mobilenet_v1_0.25_128_quant.tflite"));
  for (size_t cut : {size_t{8}, good.size() / 3, good.size() / 2}) {
    std::vector<uint8_t> bytes(good.begin(), good.begin() + static_cast<long>(cut));
    Result<ImportedModel> m = ImportMobileNetV1(bytes, "cut", false);
    EXPECT_FALSE(m.ok()) << cut;
  }
  testing::TempDir dir;
  const std::string junk = dir / "junk.bin";
  ASSERT_TRUE(WriteFile(junk, std::vector<uint8_t>(300, 0x5a)).ok());
  bool has_head = false;
  Result<TensorArchive> r = LoadInitialization(junk, 0.25f, 5, &has_head);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("neither a .tflite model nor a triage checkpoint"), std::string::npos)
      << r.status().message();
}

TEST(ImportOwnCheckpoint, KeepsTheHeadWhenTheClassesMatchAndDropsItOtherwise) {
  MobileNetSpec spec;
  spec.resolution = 64;
  testing::TempDir dir;
  const std::string path = dir / "own.tckp";
  ASSERT_TRUE(RandomCheckpoint(spec, 3).Save(path).ok());
  bool has_head = false;
  Result<TensorArchive> same = LoadInitialization(path, 0.25f, 5, &has_head);
  ASSERT_TRUE(same.ok()) << same.status().message();
  EXPECT_TRUE(has_head);
  EXPECT_TRUE(same->Has("fc.weight"));
  Result<TensorArchive> other = LoadInitialization(path, 0.25f, 7, &has_head);
  ASSERT_TRUE(other.ok()) << other.status().message();
  EXPECT_FALSE(has_head);
  EXPECT_FALSE(other->Has("fc.weight"));
  Result<TensorArchive> wrong = LoadInitialization(path, 0.5f, 5, &has_head);
  EXPECT_FALSE(wrong.ok());
}

// Layout round trip without ../shared: our own float export of a random
// MobileNet v1, imported back, folds to the same weights (conv [o][y][x][i]
// and depthwise [0][y][x][c] mapped back to the checkpoint's layouts).
TEST(ImportOwnExport, FloatExportImportsBackToTheSameFoldedWeights) {
  MobileNetSpec spec;
  spec.alpha = 8.f / 1024.f;  // 8 channels everywhere: small and exact
  spec.resolution = 32;
  spec.num_classes = 5;
  const TensorArchive source = RandomCheckpoint(spec, 11);
  Result<FoldedNet> folded = FoldCheckpoint(source);
  ASSERT_TRUE(folded.ok()) << folded.status().message();
  const std::vector<uint8_t> bytes = BuildFloatTflite(*folded, InfoFromArchive(source));
  Result<ImportedModel> m = ImportMobileNetV1(bytes, "own export", /*keep_head=*/true);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->source_classes, 5);
  EXPECT_EQ(m->spec.resolution, 32);
  Result<FoldedNet> again = FoldCheckpoint(m->checkpoint);
  ASSERT_TRUE(again.ok()) << again.status().message();
  ASSERT_EQ(again->layers.size(), folded->layers.size());
  for (size_t l = 0; l < folded->layers.size(); ++l) {
    SCOPED_TRACE(folded->layers[l].spec.name);
    ASSERT_EQ(again->layers[l].weights.size(), folded->layers[l].weights.size());
    for (size_t i = 0; i < folded->layers[l].weights.size(); ++i) {
      ASSERT_NEAR(again->layers[l].weights[i], folded->layers[l].weights[i],
                  1e-6 * (1 + std::fabs(folded->layers[l].weights[i])));
    }
    for (size_t i = 0; i < folded->layers[l].bias.size(); ++i) {
      ASSERT_NEAR(again->layers[l].bias[i], folded->layers[l].bias[i], 1e-6 * (1 + std::fabs(folded->layers[l].bias[i])));
    }
  }
  EXPECT_EQ(again->head.weights, folded->head.weights);
  EXPECT_EQ(again->head.bias, folded->head.bias);
}

}  // namespace
}  // namespace triage::ground
