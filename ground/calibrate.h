// Calibration and the decision thresholds, chosen from out-of-fold
// predictions (cv.h), and the flight's decisions replayed on them
// (`triage-ground thresholds`).
//
// Temperature: T minimizing the negative log-likelihood of
// softmax(log p / T) over the out-of-fold float predictions (golden-section
// search on log T in [1/8, 8]). The shipped model has T folded into its
// classifier (logits / T), so the flight reads calibrated probabilities with
// no code of its own; T is stored in the model's "training" metadata.
//
// Thresholds (docs/FLIGHT.md states the rule), on calibrated out-of-fold
// int8 scores, through decision::Decide itself:
//   land.keep      = the lowest land score of a land frame the other rules
//                    would discard, less one int8 output step (1/256), so
//                    that no out-of-fold land frame is discarded;
//   land.full      = the lowest threshold at which at most
//                    `max_nonland_full` of the non-land frames would be sent
//                    at full resolution (as many land frames full as that
//                    allows);
//   land.thumbnail = 0: a frame called land is never discarded.
// The other classes' thresholds and the uncertain rule stay as in the
// mission file given.
// Ground-side code: allocates freely.
#ifndef TRIAGE_GROUND_CALIBRATE_H_
#define TRIAGE_GROUND_CALIBRATE_H_

#include <string>
#include <vector>

#include "config/mission.h"
#include "decision/decision.h"
#include "ground/cv.h"
#include "ground/tensor_archive.h"

namespace triage::ground {

std::vector<float> ApplyTemperature(const std::vector<float>& p, double temperature);
double NegativeLogLikelihood(const std::vector<OofRow>& rows, double temperature, bool int8);
double FitTemperature(const std::vector<OofRow>& rows);
// Expected calibration error over 10 equal-width confidence bins.
double CalibrationError(const std::vector<OofRow>& rows, double temperature, bool int8);

// Per true class: what the policy does with the frames.
struct DecisionCounts {
  std::string cls;
  int frames = 0, full = 0, thumbnail = 0, discarded = 0;
};
struct DecisionTable {
  std::vector<DecisionCounts> classes;
  int land_lost = 0;              // land frames discarded
  int nonland_full = 0, nonland_thumbnail = 0, nonland_discarded = 0, nonland = 0;
  double nonland_bytes = 0;       // queued by non-land frames
  double queued_bytes = 0, all_bytes = 0;  // queued in total; every frame sent whole
  std::string bytes_basis;        // how the bytes were obtained (printed under the table)
  std::string Table() const;
};
struct ProductBytes {
  double full = 1.2e6;       // a full-resolution product (JPEG q85 of a 2448x2050 frame)
  double thumbnail = 40e3;   // a thumbnail product (489x410 JPEG)
  double frame = 1.6e6;      // the camera's frame as captured (q90 JPEG)
};
// One frame's decision and its bytes: what it puts in the queue, and what
// sending it whole would cost.
struct DecidedFrame {
  int truth = -1;  // index in the labels
  decision::Decision decision;
  double queued_bytes = 0, whole_bytes = 0;
};
// The estimate of a decision's bytes at fixed product sizes.
DecidedFrame EstimateBytes(int truth, const decision::Decision& d, const ProductBytes& bytes);
// Tallies decisions per true class (labels in model order; "land" is the kept class).
DecisionTable TallyDecisions(const std::vector<std::string>& labels, const std::vector<DecidedFrame>& frames,
                             const std::string& bytes_basis);
DecisionTable ReplayDecisions(const std::vector<OofRow>& rows, const config::TriageConfig& policy, double temperature,
                              const ProductBytes& bytes);

struct ThresholdChoice {
  double temperature = 1.0;
  float land_keep = config::kNever, land_full = config::kNever, land_thumbnail = 0.f;
};
Result<ThresholdChoice> ChooseThresholds(const std::vector<OofRow>& rows, const config::TriageConfig& policy,
                                         double temperature, double max_nonland_full);
// The policy with the choice applied (land's keep/full/thumbnail).
Result<config::TriageConfig> ApplyChoice(const config::TriageConfig& policy, const ThresholdChoice& choice);

// What the zero-loss rule costs: for each allowed number of lost land
// frames (`lost_levels`, ascending), the keep threshold that loses that many
// of the land frames the other rules discard (lowest scores first), and the
// non-land frames the policy then discards outright. Levels beyond the
// number of such land frames are left out, and so is a level whose
// threshold (tied scores) an earlier level already gave.
struct KeepCost {
  int land_lost = 0;
  float land_keep = config::kNever;
  int nonland_discarded = 0, nonland = 0;
};
Result<std::vector<KeepCost>> ZeroLossCost(const std::vector<OofRow>& rows, const config::TriageConfig& policy,
                                           const ThresholdChoice& choice, const std::vector<size_t>& lost_levels,
                                           size_t* land_at_risk);

// Folds a temperature into a checkpoint's classifier (fc.weight and fc.bias
// divided by T) and records it as "train.temperature" (model metadata).
Status FoldTemperature(TensorArchive* checkpoint, double temperature);

}  // namespace triage::ground

#endif  // TRIAGE_GROUND_CALIBRATE_H_
