// The Guard facade as the flight loop will use it, on a FakeClock.
#include "fault/guard.h"

#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/event.h"
#include "fault/events.h"
#include "fault/synthetic_model.h"
#include "inference/interpreter.h"
#include "inference/model_writer.h"
#include "tests/fault/test_util.h"
#include "tests/support/alloc_guard.h"

namespace triage::fault {
namespace {

using testing::ReadBytes;
using testing::TempDir;
using testing::WriteBytes;

class GuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = BuildSyntheticClassifier();
    WriteBytes(dir_.File("model.tflite"), model_);
    ASSERT_EQ(::system(("mkdir -p " + dir_.File("state")).c_str()), 0);
  }

  GuardOptions Options(RedundancyMode mode) {
    GuardOptions o;
    o.config.redundancy = mode;
    o.config.separate_weight_copy = true;
    o.config.scrub_bytes_per_frame = 2048;
    o.config.model_backup_path = dir_.File("backup.tflite");
    for (int i = 0; i < kStageCount; ++i) o.config.stage_deadline_ms[i] = 200;
    o.config.misses_to_safe_mode = 3;
    o.config.max_resets = 2;
    o.model_path = dir_.File("model.tflite");
    o.state_dir = dir_.File("state");
    o.clock = &clock_;
    o.wall_clock = &wall_;
    o.events = &events_;
    o.heartbeat_file = dir_.File("hb");
    return o;
  }

  std::unique_ptr<Guard> Make(const GuardOptions& o) {
    auto g = Guard::Create(o);
    EXPECT_TRUE(g.ok()) << g.status().message();
    return g.ok() ? std::move(*g) : nullptr;
  }

  // The decision of a plain interpreter on frame `seed`.
  int PlainDecision(uint32_t seed) {
    inference::AlignedBuffer aligned = inference::ToAligned(model_);
    auto model = inference::Model::Create(aligned.span());
    inference::OpResolver resolver;
    EXPECT_TRUE(inference::AddAllBuiltinOps(resolver).ok());
    inference::Interpreter interp(*model, resolver);
    EXPECT_TRUE(interp.PrepareAndAllocate().ok());
    testing::FillFrame(interp.input(0), interp.input(0).data, seed);
    EXPECT_TRUE(interp.Invoke().ok());
    return DecideArgmax(interp.output(0).data, CaptureOutputQuant(interp.output(0))).class_index;
  }

  void BeatAll(Guard& g) {
    ++key_;
    for (int i = 0; i < kStageCount; ++i) g.Heartbeat(static_cast<Stage>(i), key_);
  }

  TempDir dir_;
  std::vector<uint8_t> model_;
  FakeClock clock_{kNanosPerSecond};
  FakeClock wall_{1'700'000'000LL * kNanosPerSecond};
  EventLog events_{clock_};
  uint64_t key_ = 0;
};

TEST_F(GuardTest, DecisionsMatchAPlainInterpreterInEveryModeWithoutAllocating) {
  for (RedundancyMode mode : {RedundancyMode::kNone, RedundancyMode::kDmr, RedundancyMode::kTmr}) {
    auto g = Make(Options(mode));
    ASSERT_NE(g, nullptr);
    for (uint32_t seed = 0; seed < 6; ++seed) {
      testing::FillFrame(g->input_view(), g->input().data(), seed);
      ::triage::testing::AllocGuard alloc;
      const InferenceResult r = g->RunInference();
      (void)g->ScrubStep();
      BeatAll(*g);
      (void)g->Check();
      EXPECT_EQ(alloc.count(), 0u);
      ASSERT_TRUE(r.usable);
      EXPECT_FALSE(r.thumbnail_only);
      EXPECT_EQ(r.decision.class_index, PlainDecision(seed)) << RedundancyModeName(mode) << " seed " << seed;
    }
    EXPECT_TRUE(g->Shutdown().ok());
  }
}

TEST_F(GuardTest, ACorruptedWeightIsDetectedAndRepairedWithinOneScrubPeriod) {
  auto g = Make(Options(RedundancyMode::kTmr));
  ASSERT_NE(g, nullptr);
  ModelStore& store = g->model_store();
  const WeightBuffer& w = store.weight_buffers()[4];
  store.bytes(1)[w.offset + 3] ^= 0x20;
  // The disk file is corrupted too: repair must come from the backup.
  std::vector<uint8_t> bad = model_;
  bad[w.offset + 3] ^= 0x01;
  WriteBytes(dir_.File("model.tflite"), bad);
  const size_t period = (3 * ((store.size() + 1023) / 1024) + 1) / 2;  // 2 blocks of 1 KiB per step
  size_t steps = 0;
  ScrubStepResult r;
  do {
    r = g->ScrubStep();
  } while (!r.mismatch && ++steps < period + 1);
  ASSERT_TRUE(r.mismatch);
  EXPECT_LE(steps, period);
  EXPECT_TRUE(r.repaired);
  EXPECT_EQ(r.copy, 1);
  for (int c = 0; c < store.copies(); ++c) {
    EXPECT_EQ(std::memcmp(store.bytes(c).data(), model_.data(), model_.size()), 0) << c;
  }
  EXPECT_EQ(ReadBytes(dir_.File("model.tflite")), model_);
  const GuardTelemetry t = g->telemetry();
  EXPECT_EQ(t.scrub.repairs, 1u);
  EXPECT_EQ(t.scrub.file_repairs, 1u);
  EXPECT_EQ(events_.CountOf(kEventScrubMismatch), 1u);
  EXPECT_EQ(events_.CountOf(kEventModelFileRepaired), 1u);
}

TEST_F(GuardTest, AHangInjectedIntoAStageLeadsToRecovery) {
  auto g = Make(Options(RedundancyMode::kDmr));
  ASSERT_NE(g, nullptr);
  const std::string hb = dir_.File("hb");
  // 50 ms cycles, healthy.
  for (int i = 0; i < 5; ++i) {
    clock_.AdvanceMillis(50);
    BeatAll(*g);
    EXPECT_TRUE(g->Check().healthy);
  }
  const HeartbeatSignature before = ReadHeartbeat(hb.c_str());
  EXPECT_TRUE(before.exists);
  EXPECT_EQ(before.counter, 5u);
  // Preprocess hangs: every other stage keeps beating.
  bool restarted = false;
  int64_t hang_ms = 0;
  uint64_t beats_at_detection = 0;
  for (int i = 0; i < 20 && !restarted; ++i) {
    clock_.AdvanceMillis(50);
    hang_ms += 50;
    ++key_;
    for (int s = 0; s < kStageCount; ++s) {
      if (s != static_cast<int>(Stage::kPreprocess)) g->Heartbeat(static_cast<Stage>(s), key_);
    }
    const uint64_t beats = ReadHeartbeat(hb.c_str()).counter;
    const HealthReport r = g->Check();
    if (r.restart_stages & (1u << static_cast<int>(Stage::kPreprocess))) {
      EXPECT_FALSE(r.healthy);
      EXPECT_FALSE(r.watchdog_stroked);
      // No supervisor heartbeat while a stage is overdue.
      EXPECT_EQ(ReadHeartbeat(hb.c_str()).counter, beats);
      beats_at_detection = beats;
      g->StageRestarted(Stage::kPreprocess);  // the app re-initialises the stage
      restarted = true;
    } else {
      EXPECT_TRUE(r.healthy);  // within the deadline
    }
  }
  ASSERT_TRUE(restarted);
  EXPECT_EQ(hang_ms, 250);  // the first check after the 200 ms deadline
  clock_.AdvanceMillis(50);
  BeatAll(*g);
  const HealthReport after = g->Check();
  EXPECT_TRUE(after.healthy);
  EXPECT_TRUE(after.watchdog_stroked);
  EXPECT_EQ(ReadHeartbeat(hb.c_str()).counter, beats_at_detection + 1);
  EXPECT_GT(beats_at_detection, before.counter);
  EXPECT_EQ(events_.CountOf(kEventStageRecovered), 1u);
  EXPECT_FALSE(g->safe_mode());
}

TEST_F(GuardTest, SafeModeIsRecordedAndSurvivesARestartUntilCommandedOff) {
  {
    auto g = Make(Options(RedundancyMode::kTmr));
    ASSERT_NE(g, nullptr);
    for (int round = 0; round < 3; ++round) {
      clock_.AdvanceMillis(250);
      (void)g->Check();  // every stage missed
      BeatAll(*g);
      (void)g->Check();
    }
    ASSERT_TRUE(g->safe_mode());
    EXPECT_EQ(g->safe_mode_record().reason, SafeModeReason::kMissedDeadlines);
    const InferenceResult r = g->RunInference();
    EXPECT_TRUE(r.skipped);
    EXPECT_FALSE(r.usable);
    EXPECT_TRUE(r.thumbnail_only);
    EXPECT_TRUE(g->Shutdown().ok());
  }
  const std::vector<uint8_t> record = ReadBytes(dir_.File("state/safe_mode"));
  ASSERT_FALSE(record.empty());
  EXPECT_EQ(std::string(record.begin(), record.begin() + 23), "reason=missed_deadlines");
  {
    auto g = Make(Options(RedundancyMode::kTmr));  // the next process
    ASSERT_NE(g, nullptr);
    EXPECT_TRUE(g->safe_mode());
    EXPECT_EQ(g->safe_mode_record().reason, SafeModeReason::kMissedDeadlines);
    EXPECT_TRUE(g->ExitSafeMode().ok());
    EXPECT_FALSE(g->safe_mode());
    EXPECT_TRUE(g->RunInference().usable);
    EXPECT_TRUE(g->Shutdown().ok());
  }
  auto g = Make(Options(RedundancyMode::kTmr));
  EXPECT_FALSE(g->safe_mode());
}

TEST_F(GuardTest, AResetLoopStartsInSafeModeAndACleanShutdownIsNotAReset) {
  for (int boot = 0; boot < 3; ++boot) {  // three crashes: no Shutdown()
    auto g = Make(Options(RedundancyMode::kNone));
    ASSERT_NE(g, nullptr);
    EXPECT_FALSE(g->safe_mode()) << boot;
    wall_.AdvanceMillis(1000);
  }
  auto g = Make(Options(RedundancyMode::kNone));  // 3 resets > max_resets = 2
  ASSERT_NE(g, nullptr);
  EXPECT_TRUE(g->boot().reset_loop);
  EXPECT_TRUE(g->safe_mode());
  EXPECT_EQ(g->safe_mode_record().reason, SafeModeReason::kResetLoop);
  EXPECT_EQ(events_.CountOf(kEventResetLoop), 1u);
  EXPECT_TRUE(g->ExitSafeMode().ok());
  EXPECT_TRUE(g->Shutdown().ok());
  g.reset();
  auto next = Make(Options(RedundancyMode::kNone));
  EXPECT_FALSE(next->boot().this_boot_was_reset);
}

TEST_F(GuardTest, RunOnServesAnInterpreterOwnedByTheCaller) {
  // The app's Classifier keeps its own interpreter as the I/O surface.
  inference::AlignedBuffer aligned = inference::ToAligned(model_);
  auto model = inference::Model::Create(aligned.span());
  ASSERT_TRUE(model.ok());
  inference::OpResolver resolver;
  ASSERT_TRUE(inference::AddAllBuiltinOps(resolver).ok());
  inference::Interpreter io(*model, resolver);
  ASSERT_TRUE(io.PrepareAndAllocate().ok());
  auto g = Make(Options(RedundancyMode::kTmr));
  ASSERT_NE(g, nullptr);
  for (uint32_t seed = 0; seed < 4; ++seed) {
    testing::FillFrame(io.input(0), io.input(0).data, seed);
    ASSERT_TRUE(io.Invoke().ok());
    const std::vector<uint8_t> plain(io.output(0).data, io.output(0).data + io.output(0).bytes);
    std::memset(io.output(0).data, 0, io.output(0).bytes);
    InferenceResult r;
    ::triage::testing::AllocGuard alloc;
    ASSERT_TRUE(g->RunOn(io, &r).ok());
    EXPECT_EQ(alloc.count(), 0u);
    EXPECT_EQ(r.verdict, Verdict::kAgreed);
    EXPECT_EQ(std::vector<uint8_t>(io.output(0).data, io.output(0).data + io.output(0).bytes), plain);
  }
  g->EnterSafeMode();
  EXPECT_EQ(g->RunOn(io).code(), StatusCode::kFailedPrecondition);

  // A different network is refused, not misread.
  const std::vector<uint8_t> other = BuildSyntheticClassifier(kSyntheticModelSeed, 16);
  inference::AlignedBuffer other_aligned = inference::ToAligned(other);
  auto other_model = inference::Model::Create(other_aligned.span());
  inference::Interpreter other_io(*other_model, resolver);
  ASSERT_TRUE(other_io.PrepareAndAllocate().ok());
  ASSERT_TRUE(g->ExitSafeMode().ok());
  EXPECT_EQ(g->RunOn(other_io).code(), StatusCode::kInvalidArgument);
}

TEST_F(GuardTest, TheKeylessHeartbeatKeepsStagesAlive) {
  auto g = Make(Options(RedundancyMode::kNone));
  ASSERT_NE(g, nullptr);
  for (int i = 0; i < 10; ++i) {
    clock_.AdvanceMillis(150);
    for (int s = 0; s < kStageCount; ++s) g->Heartbeat(static_cast<Stage>(s));
    EXPECT_TRUE(g->Check().healthy) << i;
  }
  clock_.AdvanceMillis(250);
  EXPECT_FALSE(g->Check().healthy);
  EXPECT_EQ(g->health().stage_status(Stage::kInfer).last_key, 10u);
}

TEST_F(GuardTest, TheSupervisorCanAskForSafeMode) {
  GuardOptions o = Options(RedundancyMode::kNone);
  o.start_in_safe_mode = true;
  o.state_dir = "";
  auto g = Make(o);
  ASSERT_NE(g, nullptr);
  EXPECT_TRUE(g->safe_mode());
  EXPECT_TRUE(g->RunInference().skipped);
  EXPECT_EQ(g->telemetry().inferences_skipped, 1u);
}

TEST_F(GuardTest, CreateFailsCleanlyOnAMissingModelOrABadConfig) {
  GuardOptions o = Options(RedundancyMode::kTmr);
  o.model_path = dir_.File("missing.tflite");
  o.config.model_backup_path = "";
  auto g = Guard::Create(o);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kNotFound);
  o = Options(RedundancyMode::kTmr);
  o.config.misses_to_safe_mode = 0;
  EXPECT_EQ(Guard::Create(o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace triage::fault
