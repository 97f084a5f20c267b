// CI smoke run of the whole model toolchain: a tiny simulated dataset, a few
// libtorch training steps, export (checked against libtorch within 1e-4),
// int8 quantization, and the int8 model running on our interpreter.
#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>

#include "ground/dataset.h"
#include "ground/evaluate.h"
#include "ground/export.h"
#include "ground/model_runner.h"
#include "ground/quantize.h"
#include "ground/trainer.h"
#include "imaging/det_math.h"

namespace triage::ground {
namespace fs = std::filesystem;
namespace {

TEST(TrainingSmoke, DatasetTrainExportQuantizeRun) {
  if (!TorchAvailable()) GTEST_SKIP() << "built without libtorch (install libtorch-dev)";
  const fs::path root = fs::temp_directory_path() / ("triage_smoke_" + std::to_string(::getpid()));
  fs::remove_all(root);
  DatasetOptions d;
  d.out_dir = (root / "data").string();
  d.resolution = 64;
  d.per_class = 6;
  d.sim_val_per_class = 2;
  d.sim_width = 80;
  d.sim_height = 67;
  d.progress = false;
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

}  // namespace
}  // namespace triage::ground
