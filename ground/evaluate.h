// Evaluation of a .tflite classifier on a labelled folder (laid out like
// shared/datasets/real: class subfolders, optional manifest.csv), through
// the flight preprocessing and our interpreter.
#ifndef TRIAGE_GROUND_EVALUATE_H_
#define TRIAGE_GROUND_EVALUATE_H_

#include <string>
#include <vector>

#include "core/result.h"

namespace triage::ground {

struct EvalOptions {
  std::string model;
  std::string data;
  std::string confidence = "hm";  // manifest confidence levels to include ("" = all)
  bool include_simulated = true;  // rows whose origin is "sim"
  std::string land_class = "land";  // the class that is kept; others are discarded
  std::vector<float> thresholds = {0.f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f, 0.95f};
  bool progress = true;
};

struct ThresholdRow {
  float threshold = 0;
  double coverage = 0;        // share of frames whose top confidence >= threshold
  double accuracy = 0;        // top-1 accuracy among those
  double land_recall = 0;     // land kept when frames below the threshold are kept too
  double nonland_discarded = 0;  // non-land frames confidently discarded
};

struct Misclassified {
  std::string file, truth, predicted;
  float confidence = 0;
};

struct EvalResult {
  std::vector<std::string> labels;
  std::vector<std::vector<int>> confusion;  // [truth][predicted]
  int total = 0;
  double accuracy = 0;
  std::vector<double> precision, recall;    // per class
  double land_recall = 0;                   // land predicted land
  double nonland_discarded = 0;             // non-land predicted non-land
  std::vector<double> discarded_by_class;   // per class: share predicted non-land
  std::vector<ThresholdRow> thresholds;
  std::vector<Misclassified> errors;
  size_t model_bytes = 0;

  std::string Table() const;
  std::string Json() const;
};

// Per-frame predictions (class index and probabilities) are also returned
// when `predictions` is not null, in the order of the folder's rows.
Result<EvalResult> Evaluate(const EvalOptions& options,
                            std::vector<std::vector<float>>* predictions = nullptr);

// A confusion matrix as text (rows: truth, columns: predicted), with each
// class's recall and precision when `with_rates`.
std::string ConfusionText(const std::vector<std::string>& labels, const std::vector<std::vector<int>>& confusion,
                          bool with_rates);

// Builds the metrics from labels and predictions (testable without a model).
EvalResult Summarize(const std::vector<std::string>& labels, const std::vector<int>& truth,
                     const std::vector<std::vector<float>>& probabilities, const std::vector<std::string>& files,
                     const std::string& land_class, const std::vector<float>& thresholds);

}  // namespace triage::ground

#endif  // TRIAGE_GROUND_EVALUATE_H_
