#include "fault/boot_counter.h"

#include <gtest/gtest.h>

#include "core/clock.h"
#include "fault/heartbeat.h"
#include "tests/fault/test_util.h"

namespace triage::fault {
namespace {

using testing::ReadBytes;
using testing::TempDir;
using testing::WriteBytes;

class BootCounterTest : public ::testing::Test {
 protected:
  BootCounterTest() {
    config_.max_resets = 3;
    config_.reset_window_s = 3600;
  }
  BootInfo Boot() {
    auto info = BootCounter::RecordBoot(path_.c_str(), clock_, config_);
    EXPECT_TRUE(info.ok()) << info.status().message();
    return info.ok() ? *info : BootInfo{};
  }
  TempDir dir_;
  std::string path_ = dir_.File("boot_counter");
  Config config_;
  FakeClock clock_{1'700'000'000LL * kNanosPerSecond};
};

TEST_F(BootCounterTest, CleanShutdownsAreNotResets) {
  for (int i = 1; i <= 10; ++i) {
    const BootInfo info = Boot();
    EXPECT_EQ(info.boot_count, static_cast<uint64_t>(i));
    EXPECT_FALSE(info.this_boot_was_reset);
    EXPECT_EQ(info.resets_in_window, 0u);
    EXPECT_FALSE(info.reset_loop);
    ASSERT_TRUE(BootCounter::RecordCleanShutdown(path_.c_str()).ok());
    clock_.AdvanceMillis(1000);
  }
}

TEST_F(BootCounterTest, TooManyResetsInTheWindowIsAResetLoop) {
  (void)Boot();  // first boot: not a reset
  for (uint32_t i = 1; i <= 4; ++i) {
    clock_.AdvanceMillis(60'000);
    const BootInfo info = Boot();  // previous run crashed
    EXPECT_TRUE(info.this_boot_was_reset);
    EXPECT_EQ(info.resets_in_window, i);
    EXPECT_EQ(info.reset_loop, i > 3) << i;
  }
  // Once the window has passed, old resets no longer count.
  clock_.AdvanceMillis(3600LL * 1000);
  (void)BootCounter::RecordCleanShutdown(path_.c_str());
  const BootInfo later = Boot();
  EXPECT_EQ(later.resets_in_window, 0u);
  EXPECT_FALSE(later.reset_loop);
  EXPECT_EQ(later.boot_count, 6u);
}

TEST_F(BootCounterTest, ACorruptFileStartsAfreshAndIsFlagged) {
  (void)Boot();
  std::vector<uint8_t> bytes = ReadBytes(path_);
  ASSERT_FALSE(bytes.empty());
  bytes[bytes.size() / 2] ^= 0x55;
  WriteBytes(path_, bytes);
  const BootInfo info = Boot();
  EXPECT_TRUE(info.file_was_reset);
  EXPECT_FALSE(info.file_error.ok());
  EXPECT_EQ(info.boot_count, 1u);
  // ... and the rewritten file is valid again.
  EXPECT_FALSE(Boot().file_was_reset);
}

TEST_F(BootCounterTest, TheRecordRingKeepsCountingPastItsCapacity) {
  for (uint32_t i = 0; i < BootCounter::kMaxRecords + 10; ++i) {
    (void)Boot();
    (void)BootCounter::RecordCleanShutdown(path_.c_str());
    clock_.AdvanceMillis(10);
  }
  EXPECT_EQ(Boot().boot_count, BootCounter::kMaxRecords + 11);
}

TEST_F(BootCounterTest, CleanShutdownWithoutABootIsAnError) {
  EXPECT_FALSE(BootCounter::RecordCleanShutdown(path_.c_str()).ok());
}

TEST(Heartbeat, EveryBeatIsSeenAndSilenceGoesStaleAfterTheTimeout) {
  TempDir dir;
  const std::string path = dir.File("hb");
  auto hb = Heartbeat::Open(path.c_str());
  ASSERT_TRUE(hb.ok());
  EXPECT_TRUE(hb->enabled());
  HeartbeatWatch watch(100, 500);
  watch.Reset(0, ReadHeartbeat(path.c_str()));
  EXPECT_FALSE(watch.Stale(499));
  EXPECT_TRUE(watch.Stale(501));  // nothing within the startup grace
  for (int64_t t = 10; t < 60; t += 10) {
    ASSERT_TRUE(hb->Beat().ok());
    EXPECT_TRUE(watch.Observe(ReadHeartbeat(path.c_str()), t)) << t;
    EXPECT_FALSE(watch.Observe(ReadHeartbeat(path.c_str()), t));  // no new beat
  }
  EXPECT_EQ(watch.beats(), 5u);
  EXPECT_FALSE(watch.Stale(150));
  EXPECT_TRUE(watch.Stale(151));
  EXPECT_EQ(hb->beats(), 5u);
}

TEST(Heartbeat, DisabledWithoutAPath) {
  auto hb = Heartbeat::Open("");
  ASSERT_TRUE(hb.ok());
  EXPECT_FALSE(hb->enabled());
  EXPECT_TRUE(hb->Beat().ok());
  EXPECT_FALSE(ReadHeartbeat("/nonexistent/hb").exists);
}

TEST(FaultConfig, DefaultsAreValidAndBadValuesAreNamed) {
  Config c;
  EXPECT_TRUE(ValidateConfig(c).ok());
  c.misses_to_safe_mode = 0;
  Status s = ValidateConfig(c);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("misses_to_safe_mode: 0"), std::string::npos);
  c = Config{};
  c.stage_deadline_ms[2] = 4'000'000;
  s = ValidateConfig(c);
  EXPECT_NE(std::string(s.message()).find("stage_deadline_ms.infer"), std::string::npos);
  c = Config{};
  c.max_resets = 1001;
  EXPECT_FALSE(ValidateConfig(c).ok());
  c.max_resets = 1000;  // config/ accepts up to 1000
  EXPECT_TRUE(ValidateConfig(c).ok());
  c = Config{};
  c.redundancy = static_cast<RedundancyMode>(7);
  EXPECT_FALSE(ValidateConfig(c).ok());
}

TEST(FaultConfig, NamesRoundTrip) {
  for (auto m : {RedundancyMode::kNone, RedundancyMode::kDmr, RedundancyMode::kTmr, RedundancyMode::kCrossCheck}) {
    RedundancyMode parsed;
    ASSERT_TRUE(ParseRedundancyMode(RedundancyModeName(m), &parsed));
    EXPECT_EQ(parsed, m);
  }
  EXPECT_STREQ(RedundancyModeName(RedundancyMode::kCrossCheck), "crosscheck");
  for (int i = 0; i < kStageCount; ++i) {
    Stage parsed;
    ASSERT_TRUE(ParseStage(StageName(static_cast<Stage>(i)), &parsed));
    EXPECT_EQ(static_cast<int>(parsed), i);
  }
  RedundancyMode m;
  EXPECT_FALSE(ParseRedundancyMode("quad", &m));
  EXPECT_STREQ(StageName(Stage::kDownlink), "downlink");
}

}  // namespace
}  // namespace triage::fault
