// Triage decision: model scores + policy -> keep full resolution, keep the
// thumbnail only, or discard (the catalog row is kept either way), plus the
// downlink priority of each product.
//
// Rules (config::TriageConfig, documented in docs/FLIGHT.md):
//   uncertain = confidence < uncertain.below_confidence
//               or confidence - runner_up < uncertain.min_margin
//   uncertain            -> uncertain.action
//   interesting class and confidence >= full_at       -> full
//   confidence >= thumbnail_at                         -> thumbnail only
//   otherwise                                          -> discard
// A frame the rules would discard is kept as a thumbnail instead when any
// class's score reaches that class's keep_at (e.g. land called cloud, with
// a land score that out-of-fold evaluation says real land frames reach).
// A full frame also queues its thumbnail when thumbnail_with_full is set.
//
//   priority = clamp(round(255 * (priority_weight[class]
//                + confidence_weight * confidence
//                - age_weight * min(age_s / age_horizon_s, 1)
//                + thumbnail_bonus [thumbnail products]
//                + uncertain_bonus [uncertain frames])), 1, 255)
//
// Pure functions: no allocation, no exceptions, IEEE single-precision
// arithmetic in a fixed order, so flight and ground replay agree bit for bit.
#ifndef TRIAGE_DECISION_DECISION_H_
#define TRIAGE_DECISION_DECISION_H_

#include <cstdint>

#include "config/mission.h"

namespace triage::decision {

// The classifier's answer for one frame.
struct Classification {
  int class_id = -1;       // top-1 (ties: lower index)
  float confidence = 0.f;  // its score (dequantized softmax probability)
  int runner_up_id = -1;
  float runner_up = 0.f;
  int num_classes = 0;
  float scores[config::kMaxClasses] = {};
};

// Top-1 and runner-up from scores[0..n): ties go to the lower index.
Classification RankScores(const float* scores, int n);

enum class DecisionReason : uint8_t {
  kFullAboveThreshold,       // interesting, confidence >= full_at
  kThumbnailAboveThreshold,  // confidence >= thumbnail_at
  kBelowThresholds,          // discarded: below both thresholds
  kUncertain,                // uncertain.action applied
  kUnknownClass,             // class id outside the policy table: discarded
  kKeptByScore,              // would be discarded, but a class's score reached its keep_at
};
const char* DecisionReasonName(DecisionReason reason);

struct Decision {
  config::FrameAction action = config::FrameAction::kDiscard;
  DecisionReason reason = DecisionReason::kBelowThresholds;
  bool uncertain = false;
  bool queue_full = false;       // queue a full-resolution product
  bool queue_thumbnail = false;  // queue a thumbnail product
  uint8_t full_priority = 0;
  uint8_t thumbnail_priority = 0;
};

Decision Decide(const config::TriageConfig& policy, const Classification& c, double age_s) noexcept;

uint8_t ComputePriority(const config::TriageConfig& policy, int class_id, float confidence, double age_s,
                        bool thumbnail, bool uncertain) noexcept;

}  // namespace triage::decision

#endif  // TRIAGE_DECISION_DECISION_H_
