#include "fault/health_monitor.h"

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/event.h"
#include "fault/events.h"
#include "fault/watchdog.h"
#include "tests/support/alloc_guard.h"

namespace triage::fault {
namespace {

constexpr uint8_t Bit(Stage s) { return static_cast<uint8_t>(1u << static_cast<int>(s)); }

Config TestConfig() {
  Config c;
  c.stage_deadline_ms[0] = 100;  // capture
  c.stage_deadline_ms[1] = 100;  // preprocess
  c.stage_deadline_ms[2] = 200;  // infer
  c.stage_deadline_ms[3] = 0;    // decide: unmonitored
  c.stage_deadline_ms[4] = 100;  // downlink
  c.misses_to_safe_mode = 3;
  c.miss_window_s = 10;
  c.watchdog_timeout_s = 1;
  return c;
}

class HealthMonitorTest : public ::testing::Test {
 protected:
  // Every monitored stage beats once, with rising keys.
  void BeatAll() {
    ++key_;
    for (int i = 0; i < kStageCount; ++i) monitor_.Heartbeat(static_cast<Stage>(i), key_);
  }
  void BeatAllBut(Stage skip) {
    ++key_;
    for (int i = 0; i < kStageCount; ++i) {
      if (static_cast<Stage>(i) != skip) monitor_.Heartbeat(static_cast<Stage>(i), key_);
    }
  }

  Config config_ = TestConfig();
  FakeClock clock_{1'000'000'000};
  EventLog events_{clock_};
  SimulatedWatchdog watchdog_{clock_, 1};
  HealthMonitor monitor_{config_, clock_, &events_, &watchdog_};
  uint64_t key_ = 0;
};

TEST_F(HealthMonitorTest, HealthyStagesStrokeTheWatchdogAndRaiseNothing) {
  monitor_.Start();
  for (int i = 0; i < 50; ++i) {
    clock_.AdvanceMillis(50);
    BeatAll();
    const HealthReport r = monitor_.Check();
    EXPECT_TRUE(r.healthy);
    EXPECT_TRUE(r.watchdog_stroked);
    EXPECT_EQ(r.restart_stages, 0);
    EXPECT_FALSE(r.restart_pipeline);
  }
  EXPECT_EQ(watchdog_.strokes(), 50u);
  EXPECT_FALSE(watchdog_.expired());
  EXPECT_EQ(monitor_.total_misses(), 0u);
  EXPECT_EQ(events_.total(), 0u);
  EXPECT_FALSE(monitor_.safe_mode());
}

TEST_F(HealthMonitorTest, AMissedDeadlineRaisesAnEventRequestsARestartAndWithholdsTheStroke) {
  monitor_.Start();
  clock_.AdvanceMillis(50);
  BeatAll();
  (void)monitor_.Check();
  // Infer hangs: the others keep beating.
  for (int i = 0; i < 4; ++i) {
    clock_.AdvanceMillis(50);
    BeatAllBut(Stage::kInfer);
    const HealthReport r = monitor_.Check();
    EXPECT_TRUE(r.healthy) << i;  // 200 ms deadline not yet exceeded
  }
  clock_.AdvanceMillis(10);  // 210 ms since infer's last beat
  BeatAllBut(Stage::kInfer);
  const uint64_t strokes = watchdog_.strokes();
  const HealthReport r = monitor_.Check();
  EXPECT_FALSE(r.healthy);
  EXPECT_FALSE(r.watchdog_stroked);
  EXPECT_EQ(watchdog_.strokes(), strokes);
  EXPECT_EQ(r.restart_stages, Bit(Stage::kInfer));
  EXPECT_FALSE(r.restart_pipeline);
  EXPECT_EQ(r.new_misses, 1u);
  EXPECT_EQ(events_.CountOf(kEventStageMissedDeadline), 1u);
  EXPECT_EQ(events_.CountOf(kEventStageRestartRequested), 1u);
  const Event* miss = nullptr;
  for (size_t i = 0; i < events_.size(); ++i) {
    if (events_.at(i).id == kEventStageMissedDeadline) miss = &events_.at(i);
  }
  ASSERT_NE(miss, nullptr);
  EXPECT_EQ(miss->args[0], static_cast<int64_t>(Stage::kInfer));
  EXPECT_EQ(miss->args[1], 10);  // overdue ms
  // The same overdue interval is not counted twice.
  EXPECT_EQ(monitor_.Check().new_misses, 0u);
}

TEST_F(HealthMonitorTest, ARestartedStageThatBeatsRecoversAndOneThatDoesNotEscalatesToThePipeline) {
  monitor_.Start();
  clock_.AdvanceMillis(150);
  BeatAllBut(Stage::kCapture);
  HealthReport r = monitor_.Check();
  EXPECT_EQ(r.restart_stages, Bit(Stage::kCapture));
  monitor_.StageRestarted(Stage::kCapture);
  clock_.AdvanceMillis(50);
  BeatAll();
  r = monitor_.Check();
  EXPECT_TRUE(r.healthy);
  EXPECT_EQ(events_.CountOf(kEventStageRecovered), 1u);

  // Now it hangs again, is restarted, and stays silent.
  clock_.AdvanceMillis(101);
  BeatAllBut(Stage::kCapture);
  r = monitor_.Check();
  EXPECT_EQ(r.restart_stages, Bit(Stage::kCapture));
  monitor_.StageRestarted(Stage::kCapture);
  clock_.AdvanceMillis(60);
  BeatAllBut(Stage::kCapture);
  EXPECT_TRUE(monitor_.Check().healthy);  // re-armed at the restart
  clock_.AdvanceMillis(60);
  BeatAllBut(Stage::kCapture);
  r = monitor_.Check();
  EXPECT_TRUE(r.restart_pipeline);
  EXPECT_EQ(r.restart_stages, 0);
  EXPECT_FALSE(r.watchdog_stroked);
  EXPECT_EQ(events_.CountOf(kEventPipelineRestartRequested), 1u);
}

TEST_F(HealthMonitorTest, AStageNeverRestartedEscalatesAfterTwoDeadlines) {
  monitor_.Start();
  clock_.AdvanceMillis(101);
  BeatAllBut(Stage::kDownlink);
  EXPECT_EQ(monitor_.Check().restart_stages, Bit(Stage::kDownlink));
  clock_.AdvanceMillis(100);
  BeatAllBut(Stage::kDownlink);
  EXPECT_TRUE(monitor_.Check().restart_pipeline);
  EXPECT_EQ(monitor_.stage_status(Stage::kDownlink).consecutive_misses, 2u);
}

TEST_F(HealthMonitorTest, NMissesInTheWindowEnterSafeModeWithTheStateRecorded) {
  monitor_.Start();
  for (int round = 0; round < 3; ++round) {
    clock_.AdvanceMillis(150);
    BeatAllBut(Stage::kPreprocess);
    const HealthReport r = monitor_.Check();
    EXPECT_EQ(r.entered_safe_mode, round == 2) << round;
    monitor_.StageRestarted(Stage::kPreprocess);
    monitor_.Heartbeat(Stage::kPreprocess, ++key_);
    (void)monitor_.Check();
  }
  ASSERT_TRUE(monitor_.safe_mode());
  const SafeModeRecord& rec = monitor_.safe_mode_record();
  EXPECT_EQ(rec.reason, SafeModeReason::kMissedDeadlines);
  EXPECT_EQ(rec.stage, static_cast<int32_t>(Stage::kPreprocess));
  EXPECT_EQ(rec.misses_in_window, 3u);
  EXPECT_EQ(rec.entered_ns, clock_.NowNanos());
  EXPECT_EQ(events_.CountOf(kEventSafeModeEntered), 1u);
  // Safe mode is a stable state: healthy stages still stroke the watchdog.
  clock_.AdvanceMillis(10);
  BeatAll();
  EXPECT_TRUE(monitor_.Check().watchdog_stroked);
  monitor_.ExitSafeMode();
  EXPECT_FALSE(monitor_.safe_mode());
}

TEST_F(HealthMonitorTest, MissesOutsideTheWindowDoNotAccumulate) {
  config_.miss_window_s = 1;
  HealthMonitor monitor(config_, clock_, &events_, nullptr);
  monitor.Start();
  for (int round = 0; round < 6; ++round) {
    clock_.AdvanceMillis(150);
    for (int i = 1; i < kStageCount; ++i) monitor.Heartbeat(static_cast<Stage>(i), ++key_);
    (void)monitor.Check();
    monitor.StageRestarted(Stage::kCapture);
    monitor.Heartbeat(Stage::kCapture, ++key_);
    (void)monitor.Check();
    clock_.AdvanceMillis(600);  // two misses never share a 1 s window
    ++key_;
    for (int i = 0; i < kStageCount; ++i) monitor.Heartbeat(static_cast<Stage>(i), key_);
    (void)monitor.Check();
  }
  EXPECT_EQ(monitor.total_misses(), 6u);
  EXPECT_FALSE(monitor.safe_mode());
}

TEST_F(HealthMonitorTest, ARepeatedKeyIsNotAHeartbeat) {
  monitor_.Start();
  clock_.AdvanceMillis(50);
  BeatAll();
  (void)monitor_.Check();
  const uint64_t stuck = key_;
  for (int i = 0; i < 3; ++i) {
    clock_.AdvanceMillis(40);
    BeatAllBut(Stage::kCapture);
    monitor_.Heartbeat(Stage::kCapture, stuck);  // a stuck stage repeating itself
    (void)monitor_.Check();
  }
  EXPECT_EQ(monitor_.stage_status(Stage::kCapture).stale_keys, 3u);
  EXPECT_EQ(monitor_.stage_status(Stage::kCapture).misses, 1u);
  EXPECT_GE(events_.CountOf(kEventStaleHeartbeatKey), 1u);
}

TEST_F(HealthMonitorTest, UnmonitoredStagesAreIgnoredAndCanBeResumed) {
  monitor_.Start();
  monitor_.SetMonitored(Stage::kDownlink, false);
  for (int i = 0; i < 10; ++i) {
    clock_.AdvanceMillis(50);
    BeatAllBut(Stage::kDownlink);
    EXPECT_TRUE(monitor_.Check().healthy);
  }
  monitor_.SetMonitored(Stage::kDownlink, true);
  clock_.AdvanceMillis(101);
  BeatAllBut(Stage::kDownlink);
  EXPECT_EQ(monitor_.Check().restart_stages, Bit(Stage::kDownlink));
}

TEST_F(HealthMonitorTest, AnUnstrokedWatchdogExpiresWhileAStageHangs) {
  monitor_.Start();
  for (int i = 0; i < 30; ++i) {
    clock_.AdvanceMillis(50);
    BeatAllBut(Stage::kInfer);
    (void)monitor_.Check();
  }
  EXPECT_TRUE(watchdog_.expired());  // > 1 s without a stroke: the board resets
}

TEST_F(HealthMonitorTest, HeartbeatAndCheckDoNotAllocate) {
  monitor_.Start();
  ::triage::testing::AllocGuard guard;
  for (int i = 0; i < 20; ++i) {
    clock_.AdvanceMillis(60);
    if (i % 5 != 0) BeatAll(); else BeatAllBut(Stage::kInfer);
    (void)monitor_.Check();
  }
  EXPECT_EQ(guard.count(), 0u);
}

TEST(SimulatedWatchdog, ExpiresOnlyAfterTheTimeoutWithoutAStroke) {
  FakeClock clock;
  SimulatedWatchdog w(clock, 2);
  clock.AdvanceMillis(1999);
  EXPECT_FALSE(w.expired());
  EXPECT_TRUE(w.Stroke().ok());
  clock.AdvanceMillis(2000);
  EXPECT_FALSE(w.expired());
  clock.AdvanceMillis(1);
  EXPECT_TRUE(w.expired());
  EXPECT_FALSE(w.Stroke().ok());  // too late: the board already reset
  EXPECT_TRUE(w.Disarm().ok());
  EXPECT_FALSE(w.expired());
}

TEST(LinuxWatchdog, OpeningAMissingDeviceFailsCleanly) {
  auto w = LinuxWatchdog::Open("/nonexistent/watchdog", 10);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace triage::fault
