#include "ground/ground_cli.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "config/mission.h"
#include "ground/calibrate.h"
#include "ground/cv.h"
#include "ground/dataset.h"
#include "ground/evaluate.h"
#include "ground/export.h"
#include "ground/flight_eval.h"
#include "ground/model_runner.h"
#include "ground/ops_cli.h"
#include "ground/progress.h"
#include "ground/cluster.h"
#include "inference/model.h"
#include "ground/quantize.h"
#include "ground/report.h"
#include "ground/trainer.h"

namespace triage::ground {
namespace fs = std::filesystem;
namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "triage-ground: error: %s\n", message.c_str());
  return 1;
}
int Fail(const Status& s) { return Fail(s.message()); }

void PrintClustering(const ClusterReport& r, int k) {
  std::printf("clustering: %d filters to at most %d codes each, %zu of %zu weights changed, RMS error %.3g\n", r.layers,
              k, r.weights_changed, r.weights, r.rms_error);
}

std::string JoinArgs(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) s += (i ? " " : "") + std::string(argv[i]);
  return s;
}

// Agreement and accuracy of two models on a labelled folder.
struct Comparison {
  int frames = 0;
  double agreement = 0, accuracy_a = 0, accuracy_b = 0;
};

Result<Comparison> Compare(const std::string& model_a, const std::string& model_b, const std::string& data,
                           bool progress) {
  EvalOptions o;
  o.data = data;
  o.progress = progress;
  std::vector<std::vector<float>> pa, pb;
  o.model = model_a;
  Result<EvalResult> ra = Evaluate(o, &pa);
  if (!ra.ok()) return ra.status();
  o.model = model_b;
  Result<EvalResult> rb = Evaluate(o, &pb);
  if (!rb.ok()) return rb.status();
  Comparison c;
  c.frames = ra->total;
  int agree = 0;
  for (size_t i = 0; i < pa.size(); ++i) {
    agree += std::max_element(pa[i].begin(), pa[i].end()) - pa[i].begin() ==
             std::max_element(pb[i].begin(), pb[i].end()) - pb[i].begin();
  }
  c.agreement = pa.empty() ? 0 : static_cast<double>(agree) / pa.size();
  c.accuracy_a = ra->accuracy;
  c.accuracy_b = rb->accuracy;
  return c;
}

}  // namespace

int RunGroundCli(int argc, char** argv) try {
  CLI::App app{"triage-ground: ground tools for the triage satellite image classifier"};
  app.require_subcommand(1);
  bool quiet = false;
  app.add_flag("-q,--quiet", quiet, "No progress output");

  // dataset
  DatasetOptions dopt;
  CLI::App* dataset = app.add_subcommand("dataset", "Build a train/validation set from real and simulated frames");
  dataset->add_option("--real", dopt.real_dirs,
                      "Labelled real images (like ../shared/datasets/real); repeat to pool folders; omit for sim only");
  dataset->add_option("--out", dopt.out_dir, "Output folder (must not hold a dataset)")->required();
  dataset->add_option("--resolution", dopt.resolution, "Sample size, pixels")->capture_default_str();
  dataset->add_option("--per-class", dopt.per_class, "Training samples per class")->capture_default_str();
  dataset->add_option("--real-share", dopt.real_share, "Max share of augmented real samples per class")
      ->capture_default_str();
  dataset->add_option("--val-fraction", dopt.val_fraction, "Share of real images held out, by group")
      ->capture_default_str();
  dataset->add_option("--sim-val", dopt.sim_val_per_class, "Simulated validation frames per class")
      ->capture_default_str();
  dataset->add_option("--folds", dopt.folds, "Grouped stratified k-fold: validation is fold --fold of this many")
      ->capture_default_str();
  dataset->add_option("--fold", dopt.fold, "Which fold is held out (0-based)")->capture_default_str();
  dataset->add_option("--cloud-composite", dopt.cloud_composite_share,
                      "Share of land samples made partly cloudy with a real training cloud frame")
      ->capture_default_str();
  dataset->add_option("--optics", dopt.optics_share,
                      "Camera optics on real samples: vignetting with this probability, defocus and Earth limb "
                      "(land, cloud) with half of it")
      ->capture_default_str();
  dataset->add_option("--seed", dopt.seed, "Seed")->capture_default_str();

  // train
  TrainOptions topt;
  CLI::App* train = app.add_subcommand("train", "Train MobileNet v1 with libtorch");
  train->add_option("--data", topt.data_dir, "Dataset folder from 'dataset'")->required();
  train->add_option("--out", topt.out_dir, "Checkpoint folder")->required();
  train->add_option("--alpha", topt.spec.alpha, "Width multiplier")->capture_default_str();
  train->add_option("--resolution", topt.spec.resolution, "Input size")->capture_default_str();
  train->add_option("--epochs", topt.epochs, "Maximum epochs")->capture_default_str();
  train->add_option("--batch", topt.batch_size, "Batch size")->capture_default_str();
  train->add_option("--lr", topt.learning_rate, "Peak learning rate (AdamW, cosine)")->capture_default_str();
  train->add_option("--patience", topt.patience, "Early stopping patience, epochs")->capture_default_str();
  train->add_option("--max-steps", topt.max_steps, "Stop after this many steps (smoke runs)");
  train->add_option("--threads", topt.threads, "CPU threads")->capture_default_str();
  train->add_option("--seed", topt.seed, "Seed")->capture_default_str();
  train->add_option("--init", topt.init,
                    "Start from a pretrained MobileNet v1 .tflite of the same width (e.g. "
                    "../shared/models/mobilenet_v1_0.25_128_quant.tflite) or one of our checkpoints (.tckp)");
  std::string stages_text;
  train->add_option("--stages", stages_text,
                    "Staged fine-tuning LAYERS:EPOCHS:LR,... with LAYERS head, topN (last N blocks) or all, "
                    "e.g. head:2:3e-3,top6:3:1e-3,all:6:3e-4 (overrides --epochs/--lr)");

  // export
  std::string checkpoint, out_model, check_dir;
  size_t check_samples = 64;
  CLI::App* exp = app.add_subcommand("export", "Fold BatchNorm and write a float32 .tflite");
  exp->add_option("--checkpoint", checkpoint, "Checkpoint (.tckp)")->required()->check(CLI::ExistingFile);
  exp->add_option("--out", out_model, "Output .tflite")->required();
  exp->add_option("--check", check_dir, "Compare our interpreter with libtorch on this labelled folder");
  exp->add_option("--check-samples", check_samples, "Images compared")->capture_default_str();
  double temperature = 1.0;
  exp->add_option("--temperature", temperature, "Fold this calibration temperature into the classifier (thresholds)")
      ->capture_default_str();

  // quantize
  std::string calib_dir, float_out, val_dir;
  size_t calib_samples = 300;
  double percentile = 100.0;
  bool json = false;
  CLI::App* quant = app.add_subcommand("quantize", "Post-training full-integer int8 quantization");
  std::string int8_in;
  CLI::Option* q_ckpt = quant->add_option("--checkpoint", checkpoint, "Checkpoint (.tckp)")->check(CLI::ExistingFile);
  CLI::Option* q_int8 = quant->add_option("--int8", int8_in,
                                          "An int8 .tflite to cluster instead of quantizing a checkpoint "
                                          "(with --cluster; e.g. the shipped model)")
                            ->check(CLI::ExistingFile);
  q_ckpt->excludes(q_int8);
  quant->add_option("--calibration", calib_dir, "Representative labelled folder (e.g. DATA/train)");
  quant->add_option("--samples", calib_samples, "Calibration images")->capture_default_str();
  quant->add_option("--percentile", percentile, "Range percentile (100 = min/max)")->capture_default_str();
  quant->add_option("--out", out_model, "Output int8 .tflite")->required();
  quant->add_option("--float-out", float_out, "Also write the float twin here");
  quant->add_option("--val", val_dir, "Report float vs int8 on this labelled folder");
  quant->add_flag("--json", json, "Print the report as JSON");
  int cluster = 0;
  quant->add_option("--cluster", cluster,
                    "Weight clustering: at most K int8 codes per filter (k-means per layer, not fine-tuned), so the "
                    "model compresses for the uplink; 0 = off")
      ->check(CLI::Range(0, kMaxClusters));
  quant->add_option("--temperature", temperature, "Fold this calibration temperature into the classifier")
      ->capture_default_str();

  // evaluate
  EvalOptions eopt;
  std::string thresholds;
  CLI::App* eval = app.add_subcommand("evaluate", "Confusion matrix, precision/recall and keep/discard view");
  eval->add_option("--model", eopt.model, "Model (.tflite); not with --config (the mission's model is used)")
      ->check(CLI::ExistingFile);
  std::string eval_config;
  eval->add_option("--config", eval_config,
                   "Mission file: replay every image through the flight's own path (camera, thumbnail, classifier, "
                   "policy) and print the decisions per true class")
      ->check(CLI::ExistingFile);
  eval->add_option("--data", eopt.data, "Labelled folder (class subfolders, optional manifest.csv)")->required();
  eval->add_option("--confidence", eopt.confidence, "Manifest confidence levels to include (\"\" = all)")
      ->capture_default_str();
  eval->add_flag("--json", json, "Print JSON instead of the text table");

  // cv
  CvOptions copt_cv;
  std::string cv_stages;
  CLI::App* cv = app.add_subcommand(
      "cv", "Grouped, stratified k-fold cross-validation of the whole recipe (dataset, train, quantize, predict)");
  cv->add_option("--real", copt_cv.data.real_dirs, "Labelled real folders, pooled (repeat)")->required();
  cv->add_option("--out", copt_cv.work_dir, "Work folder: fold_K/ and oof.csv (a finished fold is reused)")
      ->required();
  cv->add_option("--folds", copt_cv.folds, "Folds")->capture_default_str();
  cv->add_option("--per-class", copt_cv.data.per_class, "Training samples per class")->capture_default_str();
  cv->add_option("--real-share", copt_cv.data.real_share, "Max share of augmented real samples per class")
      ->capture_default_str();
  cv->add_option("--cloud-composite", copt_cv.data.cloud_composite_share, "Share of land samples made partly cloudy")
      ->capture_default_str();
  cv->add_option("--optics", copt_cv.data.optics_share, "Camera optics share, as for dataset")
      ->capture_default_str();
  cv->add_option("--alpha", copt_cv.train.spec.alpha, "Width multiplier")->capture_default_str();
  cv->add_option("--resolution", copt_cv.train.spec.resolution, "Input size")->capture_default_str();
  cv->add_option("--init", copt_cv.train.init, "Pretrained MobileNet v1 .tflite or checkpoint");
  cv->add_option("--stages", cv_stages, "Staged fine-tuning, as for train")->required();
  cv->add_option("--batch", copt_cv.train.batch_size, "Batch size")->capture_default_str();
  cv->add_option("--threads", copt_cv.train.threads, "CPU threads")->capture_default_str();
  cv->add_option("--seed", copt_cv.data.seed, "Seed (data, folds and training)")->capture_default_str();
  cv->add_option("--samples", copt_cv.calibration_samples, "Calibration images per fold")->capture_default_str();
  cv->add_option("--percentile", copt_cv.calibration.percentile, "Quantization range percentile (100 = min/max)")
      ->capture_default_str();
  cv->add_flag("--keep-data", copt_cv.keep_datasets, "Keep each fold's generated dataset");
  cv->add_option("--cluster", copt_cv.cluster, "Cluster each fold's int8 weights to K codes per filter (as quantize)")
      ->check(CLI::Range(0, kMaxClusters));
  cv->add_option("--only-folds", copt_cv.only_folds,
                 "Run only these folds (0-based), e.g. two workers on two cores; finished folds are reused");
  cv->add_flag("--json", json, "Print the report as JSON");

  // report (of an existing oof.csv)
  std::string oof_path, levels = "hm";
  CLI::App* cvreport = app.add_subcommand("cv-report", "Print the cross-validation report of an oof.csv");
  cvreport->add_option("--oof", oof_path, "Out-of-fold predictions (cv's oof.csv)")->required()->check(CLI::ExistingFile);
  cvreport->add_option("--confidence", levels, "Confidence levels included (\"\" = all)")->capture_default_str();
  cvreport->add_flag("--json", json, "Print JSON");

  // thresholds
  std::string mission_path;
  double max_nonland_full = 0.02;
  ProductBytes product_bytes;
  bool fit_temperature = true;
  CLI::App* thr = app.add_subcommand(
      "thresholds", "Fit the temperature and choose land's keep/full/thumbnail thresholds from out-of-fold predictions");
  thr->add_option("--oof", oof_path, "Out-of-fold predictions (cv's oof.csv)")->required()->check(CLI::ExistingFile);
  thr->add_option("--config", mission_path, "Mission file whose policy is the starting point")
      ->required()
      ->check(CLI::ExistingFile);
  thr->add_option("--confidence", levels, "Confidence levels the thresholds must serve (\"\" = all)")
      ->capture_default_str();
  thr->add_option("--max-nonland-full", max_nonland_full, "Share of non-land frames allowed at full resolution")
      ->capture_default_str();
  thr->add_option("--full-bytes", product_bytes.full, "Bytes of a full-resolution product")->capture_default_str();
  thr->add_option("--thumbnail-bytes", product_bytes.thumbnail, "Bytes of a thumbnail product")->capture_default_str();
  thr->add_option("--frame-bytes", product_bytes.frame, "Bytes of a frame as captured")->capture_default_str();
  thr->add_option("--temperature", temperature, "Use this temperature instead of fitting one");

  // report
  ReportOptions ropt;
  CLI::App* report = app.add_subcommand("report", "One self-contained HTML report of a flight and/or receive folder");
  report->add_option("runs", ropt.runs, "Flight output folder, receive folder, or both (one of each)")->required();
  report->add_option("--out", ropt.out, "HTML file to write")->required();
  report->add_option("--whatif", ropt.whatif, "What-if output of 'replay --json'")->check(CLI::ExistingFile);
  report->add_option("--assets", ropt.assets,
                     "Folder with vega, vega-lite, vega-embed (node_modules); default $TRIAGE_REPORT_ASSETS, then " +
                         std::string(DefaultReportAssetsDir()));

  for (CLI::App* sub : {dataset, train, exp, quant, eval, cv, cvreport, thr, report}) sub->fallthrough();
  const OpsCommandsPtr ops = AddOpsCommands(app);  // receive, replay
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  const bool progress = !quiet;
  if (int rc = 0; RunOpsCommands(*ops, progress, &rc)) return rc;
  if (report->parsed()) {
    ropt.progress = progress;
    Result<ReportSummary> r = WriteReport(ropt);
    if (!r.ok()) return Fail(r.status());
    std::printf("report: %zu frames, %zu plots, %zu thumbnails, %.1f MB\nwritten to %s\n", r->frames,
                r->plots.size(), r->thumbnails, static_cast<double>(r->html_bytes) / 1e6, r->out.c_str());
    return 0;
  }

  if (dataset->parsed()) {
    dopt.progress = progress;
    Result<DatasetReport> r = BuildDataset(dopt);
    if (!r.ok()) return Fail(r.status());
    std::printf("%s\ndata sha256 %s\nwritten to %s\n", r->Table().c_str(), r->data_sha256.c_str(),
                dopt.out_dir.c_str());
    return 0;
  }
  if (train->parsed()) {
    if (!TorchAvailable()) return Fail("this build has no libtorch; install libtorch-dev and rebuild");
    topt.progress = progress;
    topt.command = JoinArgs(argc, argv);
    if (!stages_text.empty()) {
      Result<std::vector<TrainStage>> st = ParseStages(stages_text);
      if (!st.ok()) return Fail(st.status());
      topt.stages = std::move(st).value();
    }
    Result<TrainResult> r = Train(topt);
    if (!r.ok()) return Fail(r.status());
    if (r->best_val_accuracy > 0) {
      std::printf("trained %d epochs in %.0f s; best epoch %d, validation accuracy (real, h/m) %.2f%%\n"
                  "best checkpoint: %s\n",
                  r->epochs_run, r->seconds, r->best_epoch, 100 * r->best_val_accuracy, r->best_checkpoint.c_str());
    } else {
      std::printf("trained %d epochs in %.0f s (no validation split: the last epoch is the checkpoint)\n"
                  "last checkpoint: %s\n",
                  r->epochs_run, r->seconds, r->last_checkpoint.c_str());
    }
    return 0;
  }
  if (exp->parsed()) {
    Result<TensorArchive> a = TensorArchive::Load(checkpoint);
    if (!a.ok()) return Fail(a.status());
    if (temperature != 1.0) {
      if (!check_dir.empty()) return Fail("--check compares with libtorch at temperature 1; drop --temperature");
      Status ts = FoldTemperature(&*a, temperature);
      if (!ts.ok()) return Fail(ts);
    }
    Result<FoldedNet> net = FoldCheckpoint(*a);
    if (!net.ok()) return Fail(net.status());
    const ModelInfo info = InfoFromArchive(*a);
    const std::vector<uint8_t> bytes = BuildFloatTflite(*net, info);
    Status s = WriteFile(out_model, bytes);
    if (!s.ok()) return Fail(s);
    std::printf("wrote %s (%zu bytes, float32, %lld MACs)\n", out_model.c_str(), bytes.size(),
                MobileNetMacs(net->spec));
    if (!check_dir.empty()) {
      if (!TorchAvailable()) return Fail("--check needs libtorch");
      Result<std::vector<std::vector<float>>> inputs =
          LoadModelInputs(check_dir, net->spec.resolution, info.mean, info.std, check_samples, nullptr);
      if (!inputs.ok()) return Fail(inputs.status());
      Result<std::vector<std::vector<float>>> ref = TorchPredict(*a, *inputs);
      if (!ref.ok()) return Fail(ref.status());
      Result<std::unique_ptr<ModelRunner>> runner = ModelRunner::FromBytes(bytes, out_model);
      if (!runner.ok()) return Fail(runner.status());
      double max_diff = 0;
      std::vector<float> p;
      for (size_t i = 0; i < inputs->size(); ++i) {
        Status cs = (*runner)->ClassifyNormalized((*inputs)[i].data(), &p);
        if (!cs.ok()) return Fail(cs);
        for (size_t k = 0; k < p.size(); ++k) max_diff = std::max(max_diff, std::fabs(double(p[k]) - (*ref)[i][k]));
      }
      std::printf("check: %zu images, max |interpreter - libtorch| = %.3g (limit 1e-4): %s\n", inputs->size(),
                  max_diff, max_diff <= 1e-4 ? "ok" : "FAILED");
      if (max_diff > 1e-4) return Fail("exported model differs from libtorch by more than 1e-4");
    }
    return 0;
  }
  if (quant->parsed() && !int8_in.empty()) {
    if (cluster == 0) return Fail(Status::Error(StatusCode::kInvalidArgument, "--int8 needs --cluster K"));
    Result<inference::AlignedBuffer> bytes = inference::ReadFileAligned(int8_in);
    if (!bytes.ok()) return Fail(bytes.status());
    ClusterReport clustered;
    Result<std::vector<uint8_t>> c = ClusterWeights(bytes->span(), cluster, &clustered);
    if (!c.ok()) return Fail(c.status().WithContext("%s", int8_in.c_str()));
    Status s = WriteFile(out_model, *c);
    if (!s.ok()) return Fail(s);
    std::printf("wrote %s\n", out_model.c_str());
    PrintClustering(clustered, cluster);
    return 0;
  }
  if (quant->parsed()) {
    if (checkpoint.empty() || calib_dir.empty()) {
      return Fail(Status::Error(StatusCode::kInvalidArgument, "quantize needs --checkpoint and --calibration (or --int8)"));
    }
    Result<TensorArchive> a = TensorArchive::Load(checkpoint);
    if (!a.ok()) return Fail(a.status());
    if (temperature != 1.0) {
      Status ts = FoldTemperature(&*a, temperature);
      if (!ts.ok()) return Fail(ts);
    }
    Result<FoldedNet> net = FoldCheckpoint(*a);
    if (!net.ok()) return Fail(net.status());
    const ModelInfo info = InfoFromArchive(*a);
    CalibrationOptions copt;
    copt.percentile = percentile;
    std::vector<TensorRange> ranges;
    size_t calib_images = 0;
    Result<std::vector<uint8_t>> q8 = QuantizeNet(*net, info, calib_dir, calib_samples, copt, &ranges, &calib_images);
    if (!q8.ok()) return Fail(q8.status());
    ClusterReport clustered;
    if (cluster > 0) {
      Result<std::vector<uint8_t>> c = ClusterWeights(*q8, cluster, &clustered);
      if (!c.ok()) return Fail(c.status());
      q8 = std::move(c);
    }
    Status s = WriteFile(out_model, *q8);
    if (!s.ok()) return Fail(s);
    const std::vector<uint8_t> f32 = BuildFloatTflite(*net, info);
    std::string float_path = float_out;
    if (float_path.empty()) float_path = (fs::temp_directory_path() / "triage_quantize_float.tflite").string();
    s = WriteFile(float_path, f32);
    if (!s.ok()) return Fail(s);
    nlohmann::json report;
    report["float_bytes"] = f32.size();
    report["int8_bytes"] = q8->size();
    report["calibration_images"] = calib_images;
    report["percentile"] = percentile;
    if (cluster > 0) {
      report["cluster"] = {{"k", cluster},
                           {"layers", clustered.layers},
                           {"weights", clustered.weights},
                           {"weights_changed", clustered.weights_changed},
                           {"rms_error", clustered.rms_error}};
    }
    for (const TensorRange& r : ranges) report["ranges"][r.name] = {r.min, r.max};
    if (!val_dir.empty()) {
      Result<Comparison> c = Compare(float_path, out_model, val_dir, progress);
      if (!c.ok()) return Fail(c.status());
      report["val_frames"] = c->frames;
      report["top1_agreement"] = c->agreement;
      report["float_accuracy"] = c->accuracy_a;
      report["int8_accuracy"] = c->accuracy_b;
    }
    if (float_out.empty()) fs::remove(float_path);
    if (json) {
      std::printf("%s\n", report.dump(2).c_str());
    } else {
      std::printf("wrote %s\nsize: float32 %zu bytes -> int8 %zu bytes (%.1fx smaller)\n", out_model.c_str(),
                  f32.size(), q8->size(), static_cast<double>(f32.size()) / q8->size());
      if (cluster > 0) {
        PrintClustering(clustered, cluster);
      }
      std::printf("calibration: %zu images, %s\n", calib_images,
                  percentile >= 100 ? "min/max" : ("percentile " + std::to_string(percentile)).c_str());
      if (report.contains("top1_agreement")) {
        std::printf("validation (%d frames, h/m): top-1 agreement float vs int8 %.2f%%, accuracy float %.2f%%, "
                    "int8 %.2f%%\n",
                    report["val_frames"].get<int>(), 100 * report["top1_agreement"].get<double>(),
                    100 * report["float_accuracy"].get<double>(), 100 * report["int8_accuracy"].get<double>());
      }
    }
    return 0;
  }
  if (cv->parsed()) {
    if (!TorchAvailable()) return Fail("this build has no libtorch; install libtorch-dev and rebuild");
    Result<std::vector<TrainStage>> st = ParseStages(cv_stages);
    if (!st.ok()) return Fail(st.status());
    copt_cv.train.stages = std::move(st).value();
    copt_cv.train.seed = copt_cv.data.seed;
    copt_cv.data.resolution = copt_cv.train.spec.resolution;
    copt_cv.train.command = JoinArgs(argc, argv);
    copt_cv.progress = progress;
    Result<std::vector<OofRow>> rows = CrossValidate(copt_cv);
    if (!rows.ok()) return Fail(rows.status());
    const std::vector<OofRow> hm = FilterConfidence(*rows, "hm");
    if (json) {
      std::printf("%s\n", CvJson(hm, copt_cv.folds).c_str());
    } else {
      std::printf("cross-validation, %d folds, real images of confidence h/m, int8 unless marked\n%s\n"
                  "all confidences (h/m/l):\n%s\nout-of-fold predictions: %s/oof.csv\n",
                  copt_cv.folds, CvTable(hm, copt_cv.folds).c_str(), CvTable(*rows, copt_cv.folds).c_str(),
                  copt_cv.work_dir.c_str());
    }
    return 0;
  }
  if (cvreport->parsed()) {
    Result<std::vector<OofRow>> rows = ReadOof(oof_path);
    if (!rows.ok()) return Fail(rows.status());
    const std::vector<OofRow> sel = FilterConfidence(*rows, levels);
    std::printf("%s\n", json ? CvJson(sel, 0).c_str() : CvTable(sel, 1).c_str());
    return 0;
  }
  if (thr->parsed()) {
    fit_temperature = thr->count("--temperature") == 0;
    Result<std::vector<OofRow>> all = ReadOof(oof_path);
    if (!all.ok()) return Fail(all.status());
    const std::vector<OofRow> rows = FilterConfidence(*all, levels);
    if (rows.empty()) return Fail(oof_path + ": no rows of confidence '" + levels + "'");
    config::LoadOptions lo;
    lo.check_files = false;
    const config::LoadedConfig mission = config::LoadMissionFile(mission_path, lo);
    if (!mission.ok()) return Fail(config::FormatProblem(mission.source, mission.problems[0]));
    // The temperature is fitted on every out-of-fold row (all confidences).
    const double t = fit_temperature ? FitTemperature(*all) : temperature;
    Result<ThresholdChoice> choice = ChooseThresholds(rows, mission.config.triage, t, max_nonland_full);
    if (!choice.ok()) return Fail(choice.status());
    Result<config::TriageConfig> policy = ApplyChoice(mission.config.triage, *choice);
    if (!policy.ok()) return Fail(policy.status());
    std::printf("temperature %.4g (%s): NLL %.4f -> %.4f, calibration error (10 bins) %.4f -> %.4f, on %zu rows\n", t,
                fit_temperature ? "fitted on every out-of-fold row" : "given", NegativeLogLikelihood(*all, 1.0, false),
                NegativeLogLikelihood(*all, t, false), CalibrationError(*all, 1.0, true),
                CalibrationError(*all, t, true), all->size());
    auto show = [](float v) { return v > 1.f ? std::string("never") : std::to_string(v).substr(0, 8); };
    std::printf("\nchosen (rows of confidence '%s'; at most %.1f%% of non-land at full resolution):\n"
                "  triage.classes.land: {full: %s, thumbnail: %s, keep: %s}\n  export/quantize --temperature %.4g\n",
                levels.c_str(), 100 * max_nonland_full, show(choice->land_full).c_str(),
                show(choice->land_thumbnail).c_str(), show(choice->land_keep).c_str(), t);
    // What the zero-loss rule costs: the keep threshold and the non-land
    // discarded outright if k land frames were allowed to be lost.
    {
      size_t at_risk = 0;
      Result<std::vector<KeepCost>> costs =
          ZeroLossCost(rows, mission.config.triage, *choice, {0, 1, 2, 3, 5, 10}, &at_risk);
      if (!costs.ok()) return Fail(costs.status());
      std::printf("\ncost of the zero-loss rule (land frames the other rules discard: %zu)\n"
                  "land lost  land.keep  non-land discarded outright\n",
                  at_risk);
      for (const KeepCost& c : *costs) {
        std::printf("%9d  %9s  %5d/%-4d %6.1f%%\n", c.land_lost, show(c.land_keep).c_str(), c.nonland_discarded,
                    c.nonland, c.nonland ? 100.0 * c.nonland_discarded / c.nonland : 0.0);
      }
    }
    std::printf("\ndecisions of the policy as given (%s), temperature 1:\n%s", mission_path.c_str(),
                ReplayDecisions(rows, mission.config.triage, 1.0, product_bytes).Table().c_str());
    std::printf("\ndecisions with the chosen thresholds and temperature:\n%s",
                ReplayDecisions(rows, *policy, t, product_bytes).Table().c_str());
    return 0;
  }
  if (eval->parsed() && !eval_config.empty()) {
    if (!eopt.model.empty()) return Fail("--model and --config: the mission file names the model");
    FlightEvalOptions fo;
    fo.data = eopt.data;
    fo.mission = eval_config;
    fo.confidence = eopt.confidence;
    fo.progress = progress && !json;
    Result<FlightEvalResult> r = EvaluateFlightDecisions(fo);
    if (!r.ok()) return Fail(r.status());
    if (json) {
      nlohmann::json j;
      for (const FlightEvalRow& row : r->rows) {
        j["frames"].push_back({{"file", row.file},
                               {"truth", r->labels[static_cast<size_t>(row.truth)]},
                               {"class", r->labels[static_cast<size_t>(row.scores.class_id)]},
                               {"confidence", row.scores.confidence},
                               {"action", ActionWord(row.decision.action)},
                               {"reason", decision::DecisionReasonName(row.decision.reason)},
                               {"queued_bytes", row.queued_bytes}});
      }
      j["land_lost"] = r->table.land_lost;
      j["nonland_discarded"] = r->table.nonland_discarded;
      j["nonland"] = r->table.nonland;
      j["nonland_bytes"] = r->table.nonland_bytes;
      j["queued_bytes"] = r->table.queued_bytes;
      j["whole_bytes"] = r->table.all_bytes;
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      std::printf("decisions of %s on %s (%zu frames, confidence '%s'), through the flight's code path\n%s",
                  eval_config.c_str(), eopt.data.c_str(), r->rows.size(), eopt.confidence.c_str(),
                  r->table.Table().c_str());
    }
    return 0;
  }
  if (eval->parsed()) {
    if (eopt.model.empty()) return Fail("evaluate needs --model or --config");
    eopt.progress = progress && !json;
    Result<EvalResult> r = Evaluate(eopt);
    if (!r.ok()) return Fail(r.status());
    std::printf("%s\n", json ? r->Json().c_str() : r->Table().c_str());
    return 0;
  }
  return Fail("no subcommand");
} catch (const std::exception& e) {
  return Fail(e.what());
}

}  // namespace triage::ground
