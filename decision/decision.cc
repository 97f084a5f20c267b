#include "decision/decision.h"

#include <cmath>

namespace triage::decision {

Classification RankScores(const float* scores, int n) {
  Classification c;
  c.num_classes = n < 0 ? 0 : (n > config::kMaxClasses ? config::kMaxClasses : n);
  for (int i = 0; i < c.num_classes; ++i) {
    c.scores[i] = scores[i];
    if (c.class_id < 0 || scores[i] > c.confidence) {
      if (c.class_id >= 0) {
        c.runner_up_id = c.class_id;
        c.runner_up = c.confidence;
      }
      c.class_id = i;
      c.confidence = scores[i];
    } else if (c.runner_up_id < 0 || scores[i] > c.runner_up) {
      c.runner_up_id = i;
      c.runner_up = scores[i];
    }
  }
  return c;
}

const char* DecisionReasonName(DecisionReason reason) {
  switch (reason) {
    case DecisionReason::kFullAboveThreshold: return "full_threshold";
    case DecisionReason::kThumbnailAboveThreshold: return "thumbnail_threshold";
    case DecisionReason::kBelowThresholds: return "below_thresholds";
    case DecisionReason::kUncertain: return "uncertain";
    case DecisionReason::kUnknownClass: return "unknown_class";
    case DecisionReason::kKeptByScore: return "kept_by_score";
  }
  return "?";
}

uint8_t ComputePriority(const config::TriageConfig& policy, int class_id, float confidence, double age_s,
                        bool thumbnail, bool uncertain) noexcept {
  const config::PriorityConfig& p = policy.priority;
  float weight = 0.f;
  if (class_id >= 0 && static_cast<size_t>(class_id) < policy.classes.size()) {
    weight = policy.classes[static_cast<size_t>(class_id)].priority_weight;
  }
  double age_fraction = age_s > 0.0 ? age_s / p.age_horizon_s : 0.0;
  if (age_fraction > 1.0) age_fraction = 1.0;
  float score = weight + p.confidence_weight * confidence - p.age_weight * static_cast<float>(age_fraction);
  if (thumbnail) score += p.thumbnail_bonus;
  if (uncertain) score += p.uncertain_bonus;
  const float scaled = 255.f * score;
  if (!(scaled >= 1.f)) return 1;  // also catches NaN
  if (scaled >= 255.f) return 255;
  return static_cast<uint8_t>(std::lround(scaled));
}

Decision Decide(const config::TriageConfig& policy, const Classification& c, double age_s) noexcept {
  Decision d;
  if (c.class_id < 0 || static_cast<size_t>(c.class_id) >= policy.classes.size()) {
    d.reason = DecisionReason::kUnknownClass;
    return d;
  }
  const config::ClassPolicy& cls = policy.classes[static_cast<size_t>(c.class_id)];
  const float margin = c.runner_up_id >= 0 ? c.confidence - c.runner_up : c.confidence;
  d.uncertain = c.confidence < policy.uncertain.below_confidence || margin < policy.uncertain.min_margin;
  if (d.uncertain) {
    d.action = policy.uncertain.action;
    d.reason = DecisionReason::kUncertain;
  } else if (cls.interesting && c.confidence >= cls.full_at) {
    d.action = config::FrameAction::kFull;
    d.reason = DecisionReason::kFullAboveThreshold;
  } else if (c.confidence >= cls.thumbnail_at) {
    d.action = config::FrameAction::kThumbnail;
    d.reason = DecisionReason::kThumbnailAboveThreshold;
  } else {
    d.action = config::FrameAction::kDiscard;
    d.reason = DecisionReason::kBelowThresholds;
  }
  if (d.action == config::FrameAction::kDiscard) {
    const int n = c.num_classes < static_cast<int>(policy.classes.size()) ? c.num_classes
                                                                            : static_cast<int>(policy.classes.size());
    for (int k = 0; k < n; ++k) {
      if (c.scores[k] >= policy.classes[static_cast<size_t>(k)].keep_at) {
        d.action = config::FrameAction::kThumbnail;
        d.reason = DecisionReason::kKeptByScore;
        break;
      }
    }
  }
  d.queue_full = d.action == config::FrameAction::kFull;
  d.queue_thumbnail = d.action == config::FrameAction::kThumbnail ||
                      (d.action == config::FrameAction::kFull && policy.thumbnail_with_full);
  if (d.queue_full) d.full_priority = ComputePriority(policy, c.class_id, c.confidence, age_s, false, d.uncertain);
  if (d.queue_thumbnail) {
    d.thumbnail_priority = ComputePriority(policy, c.class_id, c.confidence, age_s, true, d.uncertain);
  }
  return d;
}

}  // namespace triage::decision
