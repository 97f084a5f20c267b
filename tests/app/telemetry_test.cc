// Telemetry: the per-frame line is valid JSON with every field, escapes
// hostile text, stays valid when truncated, and is formatted without
// allocation; stage medians are exact and bounded in memory.
#include "app/telemetry.h"

#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/alloc_guard.h"

namespace triage::app {
namespace {

FrameRecord Sample() {
  FrameRecord r;
  r.frame_id = 42;
  r.mission_time_s = 840.0;
  r.capture_us = 840000000;
  r.source = "sim:1/42";
  r.truth = "land";
  r.class_name = "land";
  r.class_id = 3;
  r.confidence = 0.80078125f;
  r.runner_up = 0.1015625f;
  r.decision = "full";
  r.reason = "full_threshold";
  r.products[0] = {"full", 7, 123456, 214, "jpeg"};
  r.products[1] = {"thumbnail", 8, 9000, 240, "png"};
  r.product_count = 2;
  r.camera_bytes = 400000;
  r.queued_bytes = 132456;
  r.config_hash = "0123456789abcdef";
  r.model_hash = "fedcba9876543210";
  r.stage_ns[static_cast<int>(FlightStage::kCapture)] = 1500000;
  r.stage_ran[static_cast<int>(FlightStage::kCapture)] = true;
  return r;
}

TEST(Telemetry, FrameLineIsJsonWithEveryField) {
  TelemetryWriter w;
  const nlohmann::json j = nlohmann::json::parse(w.Format(Sample()));
  EXPECT_EQ(j["frame"], 42);
  EXPECT_EQ(j["class"], "land");
  EXPECT_EQ(j["truth"], "land");
  EXPECT_DOUBLE_EQ(j["confidence"].get<double>(), 0.80078125);
  EXPECT_EQ(j["decision"], "full");
  ASSERT_EQ(j["products"].size(), 2u);
  EXPECT_EQ(j["products"][0]["id"], 7);
  EXPECT_EQ(j["products"][1]["codec"], "png");
  EXPECT_EQ(j["queued_bytes"], 132456);
  EXPECT_EQ(j["config"], "0123456789abcdef");
  EXPECT_DOUBLE_EQ(j["stage_ms"]["capture"].get<double>(), 1.5);
  EXPECT_FALSE(j["stage_ms"].contains("infer"));
  EXPECT_TRUE(j["drops"].empty());
}

TEST(Telemetry, FailedFrameCarriesItsErrorEscapedAndItsDrops) {
  FrameRecord r;
  r.decision = "failed";
  r.source = "bad\"name\\.jpg";
  r.error = "jpeg: \"premature end\"\n";
  r.drops[0] = DropReason::kCorruptFrame;
  r.drop_count = 1;
  TelemetryWriter w;
  const nlohmann::json j = nlohmann::json::parse(w.Format(r));
  EXPECT_EQ(j["source"], "bad\"name\\.jpg");
  EXPECT_EQ(j["error"], "jpeg: \"premature end\"\n");
  EXPECT_EQ(j["drops"][0], "corrupt_frame");
  EXPECT_FALSE(j.contains("class"));
}

TEST(Telemetry, OverlongFreeTextIsCutAndTheLineStaysValidJson) {
  std::string longtext(10000, '"');
  FrameRecord r = Sample();
  r.error = longtext.c_str();
  r.source = longtext.c_str();
  TelemetryWriter w;
  const std::string line = w.Format(r);
  EXPECT_LT(line.size(), 4096u);
  EXPECT_EQ(line.back(), '\n');
  const nlohmann::json j = nlohmann::json::parse(line);
  EXPECT_EQ(j["error"].get<std::string>(), std::string(240, '"'));
  EXPECT_EQ(j["frame"], 42);
}

TEST(Telemetry, FormattingDoesNotAllocate) {
  TelemetryWriter w;
  const FrameRecord r = Sample();
  testing::AllocGuard guard;
  for (int i = 0; i < 10; ++i) (void)w.Format(r);
  EXPECT_EQ(guard.count(), 0u);
}

TEST(Telemetry, EveryDropReasonHasADistinctName) {
  std::set<std::string> names;
  for (int i = 0; i < kDropReasonCount; ++i) names.insert(DropReasonName(static_cast<DropReason>(i)));
  EXPECT_EQ(names.size(), static_cast<size_t>(kDropReasonCount));
  EXPECT_EQ(names.count("?"), 0u);
}

TEST(StageTimes, MedianIsExactForOddAndEvenCounts) {
  StageTimes t;
  t.Init(16);
  for (int ms : {5, 1, 3}) t.Add(FlightStage::kInfer, ms * 1000000ll);
  EXPECT_DOUBLE_EQ(t.MedianMs(FlightStage::kInfer), 3.0);
  t.Add(FlightStage::kInfer, 4000000);
  EXPECT_DOUBLE_EQ(t.MedianMs(FlightStage::kInfer), 3.5);
  EXPECT_DOUBLE_EQ(t.TotalMs(FlightStage::kInfer), 13.0);
  EXPECT_EQ(t.count(FlightStage::kInfer), 4u);
  EXPECT_DOUBLE_EQ(t.MedianMs(FlightStage::kCapture), 0.0);
}

TEST(StageTimes, PastCapacitySamplesAreReplacedWithoutAllocating) {
  StageTimes t;
  t.Init(4);
  testing::AllocGuard guard;
  for (int i = 0; i < 100; ++i) t.Add(FlightStage::kCapture, 9000000);  // 9 ms each
  EXPECT_EQ(guard.count(), 0u);
  EXPECT_EQ(t.count(FlightStage::kCapture), 100u);
  EXPECT_DOUBLE_EQ(t.MedianMs(FlightStage::kCapture), 9.0);
}

}  // namespace
}  // namespace triage::app
