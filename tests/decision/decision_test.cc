// Triage decision: thresholds (inclusive), interesting classes, the
// uncertain-frame policy, and the priority formula's exact values, clamps
// and monotonicity.
#include "decision/decision.h"

#include <gtest/gtest.h>

namespace triage::decision {
namespace {

using config::FrameAction;

config::TriageConfig Policy() {
  config::TriageConfig t;
  const char* names[5] = {"black", "cloud", "distorted", "land", "white"};
  for (const char* n : names) {
    config::ClassPolicy p;
    p.name = n;
    t.classes.push_back(p);
  }
  t.classes[3].interesting = true;
  t.classes[3].full_at = 0.7f;
  t.classes[3].thumbnail_at = 0.4f;
  t.classes[3].priority_weight = 0.6f;
  t.classes[1].thumbnail_at = 0.9f;
  t.classes[1].priority_weight = 0.1f;
  t.uncertain.below_confidence = 0.3f;
  t.uncertain.min_margin = 0.05f;
  t.uncertain.action = FrameAction::kThumbnail;
  t.priority.confidence_weight = 0.3f;
  t.priority.age_weight = 0.2f;
  t.priority.age_horizon_s = 1000.0;
  t.priority.thumbnail_bonus = 0.1f;
  t.priority.uncertain_bonus = -0.1f;
  return t;
}

Classification Scores(int top, float p, int second, float q) {
  float s[5] = {0, 0, 0, 0, 0};
  const float rest = (1.f - p - q) / 3.f;
  for (int i = 0; i < 5; ++i) s[i] = rest;
  s[top] = p;
  s[second] = q;
  return RankScores(s, 5);
}

TEST(RankScores, TopAndRunnerUpWithTiesGoingToTheLowerIndex) {
  const float s[4] = {0.25f, 0.5f, 0.5f, 0.1f};
  const Classification c = RankScores(s, 4);
  EXPECT_EQ(c.class_id, 1);
  EXPECT_EQ(c.runner_up_id, 2);
  EXPECT_FLOAT_EQ(c.confidence, 0.5f);
  EXPECT_FLOAT_EQ(c.runner_up, 0.5f);
  const float d[3] = {0.1f, 0.2f, 0.7f};
  const Classification e = RankScores(d, 3);
  EXPECT_EQ(e.class_id, 2);
  EXPECT_EQ(e.runner_up_id, 1);
}

TEST(Decide, InterestingClassAtOrAboveFullThresholdKeepsFullAndThumbnail) {
  const config::TriageConfig t = Policy();
  const Decision d = Decide(t, Scores(3, 0.7f, 1, 0.1f), 0.0);  // exactly at the threshold
  EXPECT_EQ(d.action, FrameAction::kFull);
  EXPECT_EQ(d.reason, DecisionReason::kFullAboveThreshold);
  EXPECT_TRUE(d.queue_full);
  EXPECT_TRUE(d.queue_thumbnail);
  EXPECT_FALSE(d.uncertain);
  config::TriageConfig no_thumb = t;
  no_thumb.thumbnail_with_full = false;
  EXPECT_FALSE(Decide(no_thumb, Scores(3, 0.8f, 1, 0.1f), 0.0).queue_thumbnail);
}

TEST(Decide, BetweenThresholdsKeepsTheThumbnailOnly) {
  const Decision d = Decide(Policy(), Scores(3, 0.5f, 1, 0.2f), 0.0);
  EXPECT_EQ(d.action, FrameAction::kThumbnail);
  EXPECT_FALSE(d.queue_full);
  EXPECT_TRUE(d.queue_thumbnail);
  EXPECT_EQ(d.full_priority, 0);
  EXPECT_GT(d.thumbnail_priority, 0);
}

TEST(Decide, BelowBothThresholdsDiscards) {
  const Decision d = Decide(Policy(), Scores(3, 0.39f, 1, 0.3f), 0.0);
  EXPECT_EQ(d.action, FrameAction::kDiscard);
  EXPECT_EQ(d.reason, DecisionReason::kBelowThresholds);
  EXPECT_FALSE(d.queue_full || d.queue_thumbnail);
}

TEST(Decide, UninterestingClassIsNeverKeptAtFullResolution) {
  config::TriageConfig t = Policy();
  t.classes[1].full_at = 0.5f;  // ignored: cloud is not interesting
  const Decision d = Decide(t, Scores(1, 0.95f, 0, 0.01f), 0.0);
  EXPECT_EQ(d.action, FrameAction::kThumbnail);  // its thumbnail rung (0.9) applies
  EXPECT_EQ(Decide(t, Scores(1, 0.85f, 0, 0.05f), 0.0).action, FrameAction::kDiscard);
  EXPECT_EQ(Decide(t, Scores(0, 0.99f, 1, 0.0f), 0.0).action, FrameAction::kDiscard);  // never thresholds
}

TEST(Decide, LowConfidenceIsUncertainAndFollowsTheUncertainAction) {
  config::TriageConfig t = Policy();
  for (FrameAction action : {FrameAction::kThumbnail, FrameAction::kDiscard, FrameAction::kFull}) {
    t.uncertain.action = action;
    const Decision d = Decide(t, Scores(0, 0.29f, 1, 0.2f), 0.0);  // black, below 0.3
    EXPECT_TRUE(d.uncertain);
    EXPECT_EQ(d.reason, DecisionReason::kUncertain);
    EXPECT_EQ(d.action, action);
    EXPECT_EQ(d.queue_full, action == FrameAction::kFull);
  }
}

TEST(Decide, SmallMarginOverTheRunnerUpIsUncertain) {
  const Decision d = Decide(Policy(), Scores(3, 0.46f, 1, 0.42f), 0.0);  // margin 0.04 < 0.05
  EXPECT_TRUE(d.uncertain);
  EXPECT_EQ(d.action, FrameAction::kThumbnail);
  EXPECT_FALSE(Decide(Policy(), Scores(3, 0.46f, 1, 0.40f), 0.0).uncertain);  // margin 0.06
}

TEST(Decide, UnknownClassIsDiscarded) {
  config::TriageConfig t = Policy();
  t.classes.resize(2);
  const Decision d = Decide(t, Scores(3, 0.9f, 1, 0.05f), 0.0);
  EXPECT_EQ(d.action, FrameAction::kDiscard);
  EXPECT_EQ(d.reason, DecisionReason::kUnknownClass);
}

TEST(Priority, FollowsTheDocumentedFormula) {
  const config::TriageConfig t = Policy();
  // 255 * (0.6 + 0.3 * 0.8) = 214.2 -> 214
  EXPECT_EQ(ComputePriority(t, 3, 0.8f, 0.0, false, false), 214);
  // + thumbnail bonus 0.1: 239.7 -> 240
  EXPECT_EQ(ComputePriority(t, 3, 0.8f, 0.0, true, false), 240);
  // age half the horizon: - 0.2 * 0.5: 188.7 -> 189
  EXPECT_EQ(ComputePriority(t, 3, 0.8f, 500.0, false, false), 189);
  // age beyond the horizon counts as the horizon: - 0.2: 163.2 -> 163
  EXPECT_EQ(ComputePriority(t, 3, 0.8f, 5000.0, false, false), 163);
  // uncertain: - 0.1: 188.7 -> 189
  EXPECT_EQ(ComputePriority(t, 3, 0.8f, 0.0, false, true), 189);
  // clamps
  EXPECT_EQ(ComputePriority(t, 0, 0.0f, 5000.0, false, true), 1);
  config::TriageConfig hot = t;
  hot.classes[3].priority_weight = 1.0f;
  EXPECT_EQ(ComputePriority(hot, 3, 1.0f, 0.0, true, false), 255);
}

TEST(Priority, NeverFallsWithConfidenceNorRisesWithAge) {
  const config::TriageConfig t = Policy();
  for (int cls = 0; cls < 5; ++cls) {
    uint8_t previous = 0;
    for (int i = 0; i <= 100; ++i) {
      const uint8_t p = ComputePriority(t, cls, static_cast<float>(i) / 100.f, 0.0, false, false);
      EXPECT_GE(p, previous);
      previous = p;
    }
    previous = 255;
    for (int age = 0; age <= 2000; age += 50) {
      const uint8_t p = ComputePriority(t, cls, 0.9f, static_cast<double>(age), true, false);
      EXPECT_LE(p, previous);
      previous = p;
    }
  }
}

TEST(Priority, InterestingFullFramesOutrankUninterestingThumbnails) {
  const config::TriageConfig t = Policy();
  const Decision land = Decide(t, Scores(3, 0.75f, 1, 0.1f), 0.0);
  const Decision cloud = Decide(t, Scores(1, 0.95f, 0, 0.01f), 0.0);
  EXPECT_GT(land.full_priority, cloud.thumbnail_priority);
  EXPECT_GT(land.thumbnail_priority, land.full_priority);  // the thumbnail goes first
}

TEST(Decide, KeepScoreTurnsADiscardIntoAThumbnailAndNothingElse) {
  config::TriageConfig t = Policy();
  t.classes[3].keep_at = 0.15f;  // land
  // Cloud at 0.8 with land at 0.15: the rules discard it, the land score keeps it.
  const Decision kept = Decide(t, Scores(1, 0.8f, 3, 0.15f), 0.0);
  EXPECT_EQ(kept.action, FrameAction::kThumbnail);
  EXPECT_EQ(kept.reason, DecisionReason::kKeptByScore);
  EXPECT_TRUE(kept.queue_thumbnail);
  EXPECT_FALSE(kept.queue_full);
  EXPECT_STREQ(DecisionReasonName(kept.reason), "kept_by_score");
  // Just below keep_at: discarded as before.
  const Decision dropped = Decide(t, Scores(1, 0.8f, 3, 0.149f), 0.0);
  EXPECT_EQ(dropped.action, FrameAction::kDiscard);
  EXPECT_EQ(dropped.reason, DecisionReason::kBelowThresholds);
  // A frame already kept is not changed by the keep rule.
  const Decision full = Decide(t, Scores(3, 0.8f, 1, 0.15f), 0.0);
  EXPECT_EQ(full.action, FrameAction::kFull);
  // Without keep_at (never), the land score alone keeps nothing.
  t.classes[3].keep_at = config::kNever;
  EXPECT_EQ(Decide(t, Scores(1, 0.8f, 3, 0.15f), 0.0).action, FrameAction::kDiscard);
}

}  // namespace
}  // namespace triage::decision
