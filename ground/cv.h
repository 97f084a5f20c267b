// Grouped, class-stratified k-fold cross-validation of the whole recipe
// (`triage-ground cv`): for each fold, build the dataset with that fold's
// real images held out (dataset.h AssignFolds), train with a fixed schedule
// (no early stopping: the held-out fold never picks an epoch), fold and
// quantize exactly as the shipped model is made, and classify every
// held-out image with both the float and the int8 model through the flight
// preprocessing and our interpreter.
//
// The out-of-fold (OOF) predictions are written to WORK/oof.csv; the
// temperature and the decision thresholds are chosen from them
// (calibrate.h). A fold whose WORK/fold_K/oof.csv exists is reused, so an
// interrupted run resumes.
// Ground-side code: allocates freely.
#ifndef TRIAGE_GROUND_CV_H_
#define TRIAGE_GROUND_CV_H_

#include <string>
#include <vector>

#include "core/result.h"
#include "ground/dataset.h"
#include "ground/quantize.h"
#include "ground/trainer.h"

namespace triage::ground {

struct CvOptions {
  DatasetOptions data;    // real_dirs, per_class, shares, resolution, seed (folds/fold set per fold)
  TrainOptions train;     // spec, init, stages, batch, threads (data_dir/out_dir set per fold)
  int folds = 5;
  std::string work_dir;
  size_t calibration_samples = 300;
  CalibrationOptions calibration;  // post-training quantization ranges (min/max or a percentile)
  std::vector<int> only_folds;  // non-empty: run just these folds (parallel workers); oof.csv needs all
  int cluster = 0;  // >0: weight clustering (cluster.h) of each fold's int8 model
  bool keep_datasets = false;  // default: a fold's dataset is removed once its predictions are written
  bool progress = true;
};

// One held-out image.
struct OofRow {
  ManifestRow row;        // file (relative to row.root), class, group, confidence, origin, scene
  int fold = 0;
  int truth = 0;          // index in TriageLabels()
  std::vector<float> p_float, p_int8;
};

Result<std::vector<OofRow>> CrossValidate(const CvOptions& options);

Status WriteOof(const std::string& path, const std::vector<OofRow>& rows);
Result<std::vector<OofRow>> ReadOof(const std::string& path);
// Parses oof.csv text; errors name `what` and the record.
Result<std::vector<OofRow>> ParseOof(const std::string& text, const std::string& what);

// Rows whose confidence is one of `levels` ("hm"; "" = all).
std::vector<OofRow> FilterConfidence(const std::vector<OofRow>& rows, const std::string& levels);

// The cross-validation report: every fold's and the mean top-1 (int8 and
// float), land recall, non-land predicted non-land, int8/float agreement,
// accuracy per source kind, and the pooled confusion matrix.
std::string CvTable(const std::vector<OofRow>& rows, int folds);
std::string CvJson(const std::vector<OofRow>& rows, int folds);

}  // namespace triage::ground

#endif  // TRIAGE_GROUND_CV_H_
