// CI smoke run of the whole model toolchain: a tiny simulated dataset, a few
// libtorch training steps, export (checked against libtorch within 1e-4),
// int8 quantization, and the int8 model running on our interpreter.
#include <cmath>
#include <filesystem>
#include <map>

#include <gtest/gtest.h>

#include "config/mission.h"
#include "ground/calibrate.h"
#include "ground/cv.h"
#include "ground/dataset.h"
#include "ground/import.h"
#include "ground/evaluate.h"
#include "ground/export.h"
#include "ground/model_runner.h"
#include "ground/quantize.h"
#include "ground/trainer.h"
#include "imaging/det_math.h"
#include "tests/support/shared_paths.h"

namespace triage::ground {
namespace fs = std::filesystem;
namespace {

// A tiny simulated dataset at 64 px (6 samples and 2 validation frames per class).
DatasetOptions TinySimulatedDataset(const fs::path& root) {
  DatasetOptions d;
  d.out_dir = (root / "data").string();
  d.resolution = 64;
  d.per_class = 6;
  d.sim_val_per_class = 2;
  d.sim_width = 80;
  d.sim_height = 67;
  d.progress = false;
  return d;
}

TEST(TrainingSmoke, DatasetTrainExportQuantizeRun) {
  if (!TorchAvailable()) GTEST_SKIP() << "built without libtorch (install libtorch-dev)";
  const fs::path root = fs::temp_directory_path() / ("triage_smoke_" + std::to_string(::getpid()));
  fs::remove_all(root);
  const DatasetOptions d = TinySimulatedDataset(root);
  // No real images: copy the simulated validation frames in as "val".
  Result<DatasetReport> report = BuildDataset(d);
  ASSERT_TRUE(report.ok()) << report.status().message();
  fs::remove_all(root / "data" / "val");
  fs::copy(root / "data" / "val_sim", root / "data" / "val", fs::copy_options::recursive);

  TrainOptions t;
  t.spec.resolution = 64;
  t.data_dir = d.out_dir;
  t.out_dir = (root / "ckpt").string();
  t.epochs = 2;
  t.batch_size = 8;
  t.max_steps = 4;
  t.threads = 1;
  t.progress = false;
  Result<TrainResult> tr = Train(t);
  ASSERT_TRUE(tr.ok()) << tr.status().message();
  EXPECT_GE(tr->epochs_run, 1);
  ASSERT_TRUE(fs::exists(tr->best_checkpoint));

  Result<TensorArchive> ckpt = TensorArchive::Load(tr->best_checkpoint);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status().message();
  EXPECT_FALSE(ckpt->GetString("train.data_sha256").empty());
  Result<FoldedNet> net = FoldCheckpoint(*ckpt);
  ASSERT_TRUE(net.ok()) << net.status().message();
  const ModelInfo info = InfoFromArchive(*ckpt);
  const std::vector<uint8_t> float_bytes = BuildFloatTflite(*net, info);

  // Export check: our interpreter vs libtorch, within 1e-4.
  std::vector<std::vector<float>> inputs;
  imaging::det::Rng rng(5);
  for (int i = 0; i < 4; ++i) {
    std::vector<float> v(64 * 64 * 3);
    for (float& x : v) x = rng.Uniform(-1.f, 0.99f);
    inputs.push_back(std::move(v));
  }
  Result<std::vector<std::vector<float>>> ref = TorchPredict(*ckpt, inputs);
  ASSERT_TRUE(ref.ok()) << ref.status().message();
  Result<std::unique_ptr<ModelRunner>> fr = ModelRunner::FromBytes(float_bytes, "float");
  ASSERT_TRUE(fr.ok()) << fr.status().message();
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::vector<float> p;
    ASSERT_TRUE((*fr)->ClassifyNormalized(inputs[i].data(), &p).ok());
    for (size_t k = 0; k < p.size(); ++k) EXPECT_NEAR(p[k], (*ref)[i][k], 1e-4);
  }

  Result<QuantPlan> plan = Calibrate(*net, info, inputs, {}, nullptr);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  Result<std::vector<uint8_t>> q8 = BuildInt8Tflite(*net, info, *plan);
  ASSERT_TRUE(q8.ok()) << q8.status().message();
  const std::string q8_path = (root / "int8.tflite").string();
  ASSERT_TRUE(WriteFile(q8_path, *q8).ok());
  EvalOptions e;
  e.model = q8_path;
  e.data = (root / "data" / "val").string();
  e.progress = false;
  Result<EvalResult> ev = Evaluate(e);
  ASSERT_TRUE(ev.ok()) << ev.status().message();
  EXPECT_EQ(ev->total, 10);
  EXPECT_EQ(ev->labels.size(), 5u);
  fs::remove_all(root);
}

// Transfer learning on a tiny set: --init from the ImageNet MobileNet v1,
// a head-only stage keeps the backbone bit for bit, and the frozen
// BatchNorm keeps its imported statistics through an "all" stage.
TEST(TrainingSmoke, InitFromPretrainedThenStagedFineTuning) {
  if (!TorchAvailable()) GTEST_SKIP() << "built without libtorch (install libtorch-dev)";
  TRIAGE_REQUIRE_SHARED();
  const std::string init = testing::SharedPath("models/mobilenet_v1_0.25_128_quant.tflite");
  const fs::path root = fs::temp_directory_path() / ("triage_smoke_init_" + std::to_string(::getpid()));
  fs::remove_all(root);
  const DatasetOptions d = TinySimulatedDataset(root);
  ASSERT_TRUE(BuildDataset(d).ok());
  bool has_head = true;
  Result<TensorArchive> imported = LoadInitialization(init, 0.25f, 5, &has_head);
  ASSERT_TRUE(imported.ok()) << imported.status().message();

  TrainOptions t;
  t.spec.resolution = 64;
  t.data_dir = d.out_dir;
  t.batch_size = 8;
  t.threads = 1;
  t.progress = false;
  t.init = init;
  // The last: quantization-aware fine-tuning after the head.
  for (const char* stages : {"head:1:1e-3", "head:1:1e-3,all:1:1e-4", "head:1:1e-3,qat:1:1e-4"}) {
    SCOPED_TRACE(stages);
    Result<std::vector<TrainStage>> st = ParseStages(stages);
    ASSERT_TRUE(st.ok());
    t.stages = *st;
    t.out_dir = (root / ("ckpt_" + StagesText(*st))).string();
    Result<TrainResult> tr = Train(t);
    ASSERT_TRUE(tr.ok()) << tr.status().message();
    Result<TensorArchive> ckpt = TensorArchive::Load(tr->last_checkpoint);
    ASSERT_TRUE(ckpt.ok());
    EXPECT_EQ(ckpt->GetString("bn_frozen"), "1");
    EXPECT_EQ(ckpt->GetString("train.init"), init);
    EXPECT_EQ(ckpt->GetString("train.stages"), StagesText(*st));
    const std::vector<float>& w0 = ckpt->tensors().at("conv0.weight").values;
    const std::vector<float>& i0 = imported->tensors().at("conv0.weight").values;
    if (st->size() == 1) {
      EXPECT_EQ(w0, i0) << "a head-only stage changed the backbone";
    } else {
      EXPECT_NE(w0, i0) << "the all/qat stage did not train the backbone";
    }
    // Whatever the stages, the checkpoint exports and quantizes.
    Result<FoldedNet> folded = FoldCheckpoint(*ckpt);
    ASSERT_TRUE(folded.ok()) << folded.status().message();
    Result<std::vector<uint8_t>> q8 = QuantizeNet(*folded, InfoFromArchive(*ckpt), (fs::path(d.out_dir) / "train").string(),
                                                  8, {}, nullptr);
    ASSERT_TRUE(q8.ok()) << q8.status().message();
    EXPECT_EQ(ckpt->tensors().at("pw13.bn.running_mean").values,
              imported->tensors().at("pw13.bn.running_mean").values);
    EXPECT_EQ(ckpt->tensors().at("pw13.bn.running_var").values,
              imported->tensors().at("pw13.bn.running_var").values);
  }
  // A model of another width is refused before any data is read.
  t.spec.alpha = 0.5f;
  Result<TrainResult> wrong = Train(t);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(std::string(wrong.status().message()).find("--alpha is 0.5"), std::string::npos)
      << wrong.status().message();
  fs::remove_all(root);
}

// Cross-validation end to end on the real pool (tiny training): every real
// image is predicted exactly once, out of fold, a group never straddles
// folds, the predictions round-trip through oof.csv, and the thresholds
// chosen from them discard no out-of-fold land frame.
TEST(TrainingSmoke, CrossValidationOutOfFoldAndZeroLossThresholds) {
  if (!TorchAvailable()) GTEST_SKIP() << "built without libtorch (install libtorch-dev)";
  TRIAGE_REQUIRE_SHARED();
  const fs::path root = fs::temp_directory_path() / ("triage_smoke_cv_" + std::to_string(::getpid()));
  fs::remove_all(root);
  CvOptions o;
  o.data.real_dirs = {testing::SharedPath("datasets/real"), testing::SharedPath("datasets/extra")};
  o.data.resolution = 32;
  o.data.per_class = 8;
  o.data.cloud_composite_share = 0.5;
  o.data.optics_share = 0.5;
  o.train.spec.resolution = 32;
  o.train.init = testing::SharedPath("models/mobilenet_v1_0.25_128_quant.tflite");
  o.train.stages = {{"head", 1, 1e-3f}};
  o.train.batch_size = 8;
  o.train.threads = 1;
  o.folds = 2;
  o.work_dir = root.string();
  o.calibration_samples = 8;
  o.progress = false;
  Result<std::vector<OofRow>> rows = CrossValidate(o);
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  size_t real_images = 0;
  for (const std::string& dir : o.data.real_dirs) {
    Result<std::vector<ManifestRow>> m = ListLabelledFolder(dir);
    ASSERT_TRUE(m.ok());
    real_images += m->size();
  }
  ASSERT_EQ(rows->size(), real_images);
  std::map<std::string, int> file_seen, group_fold;
  for (const OofRow& r : *rows) {
    EXPECT_EQ(++file_seen[r.row.file], 1) << r.row.file;
    const auto [it, inserted] = group_fold.emplace(r.row.group, r.fold);
    EXPECT_EQ(it->second, r.fold) << "group " << r.row.group << " in two folds";
    double sum = 0;
    for (float p : r.p_float) sum += p;
    EXPECT_NEAR(sum, 1.0, 1e-4);
  }
  Result<std::vector<OofRow>> again = ReadOof((root / "oof.csv").string());
  ASSERT_TRUE(again.ok()) << again.status().message();
  ASSERT_EQ(again->size(), rows->size());
  EXPECT_EQ((*again)[7].p_int8, (*rows)[7].p_int8);
  EXPECT_EQ((*again)[7].row.group, (*rows)[7].row.group);

  const config::LoadedConfig mission = config::LoadEmbeddedMission();
  ASSERT_TRUE(mission.ok());
  const std::vector<OofRow> hm = FilterConfidence(*rows, "hm");
  const double temperature = FitTemperature(*rows);
  EXPECT_GT(temperature, 0.125);
  EXPECT_LT(temperature, 8.0);
  EXPECT_LE(NegativeLogLikelihood(*rows, temperature, false), NegativeLogLikelihood(*rows, 1.0, false) + 1e-9);
  Result<ThresholdChoice> choice = ChooseThresholds(hm, mission.config.triage, temperature, 0.02);
  ASSERT_TRUE(choice.ok()) << choice.status().message();
  Result<config::TriageConfig> policy = ApplyChoice(mission.config.triage, *choice);
  ASSERT_TRUE(policy.ok());
  const DecisionTable table = ReplayDecisions(hm, *policy, temperature, ProductBytes{});
  EXPECT_EQ(table.land_lost, 0);
  EXPECT_LE(table.nonland_full, static_cast<int>(0.02 * table.nonland));
  // The cost of the zero-loss rule: level 0 is the chosen keep threshold;
  // each land frame allowed to be lost discards at least as much non-land.
  size_t at_risk = 0;
  Result<std::vector<KeepCost>> costs = ZeroLossCost(hm, mission.config.triage, *choice, {0, 1, 2, 3}, &at_risk);
  ASSERT_TRUE(costs.ok()) << costs.status().message();
  ASSERT_FALSE(costs->empty());
  EXPECT_EQ((*costs)[0].land_lost, 0);
  EXPECT_EQ((*costs)[0].land_keep, choice->land_keep);
  EXPECT_EQ((*costs)[0].nonland_discarded, table.nonland_discarded);
  EXPECT_LE(costs->size(), std::min<size_t>(4, at_risk + 1));
  for (size_t i = 1; i < costs->size(); ++i) {
    EXPECT_NE((*costs)[i].land_keep, (*costs)[i - 1].land_keep) << "a tied level listed twice";
    EXPECT_GT((*costs)[i].land_lost, (*costs)[i - 1].land_lost);
    EXPECT_GE((*costs)[i].nonland_discarded, (*costs)[i - 1].nonland_discarded);
  }
  fs::remove_all(root);
}

}  // namespace
}  // namespace triage::ground
