#include "fault/redundant_invoker.h"

#include <cstring>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/event.h"
#include "fault/decision.h"
#include "fault/events.h"
#include "fault/model_store.h"
#include "fault/synthetic_model.h"
#include "inference/model_writer.h"
#include "tests/fault/test_util.h"
#include "tests/support/alloc_guard.h"
#include "tests/support/shared_paths.h"

namespace triage::fault {
namespace {

using inference::Interpreter;
using testing::FillSeeded;

// Flips one bit of a replica's output after it ran, and/or fails a replica.
class TestHooks : public RunHooks {
 public:
  void AfterInvoke(int replica, Interpreter& interp) noexcept override {
    if (flip_output_[replica] >= 0) interp.output(0).data[flip_output_[replica]] ^= flip_mask_[replica];
  }
  Status AfterOp(int replica, const Interpreter&, int op_index) noexcept override {
    ++ops_seen_[replica];
    if (fail_[replica] && op_index == 0) return Status::Error(StatusCode::kInternal, "injected failure");
    return Status::Ok();
  }
  void FlipOutput(int replica, int byte, uint8_t mask = 0x40) {
    flip_output_[replica] = byte;
    flip_mask_[replica] = mask;
  }
  int flip_output_[3] = {-1, -1, -1};
  uint8_t flip_mask_[3] = {0, 0, 0};
  bool fail_[3] = {false, false, false};
  int ops_seen_[3] = {0, 0, 0};
};

class RedundantInvokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bytes_ = BuildSyntheticClassifier(3, 32);
    auto store = ModelStore::FromBytes(Span<const uint8_t>(bytes_), 3);
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
    ASSERT_TRUE(inference::AddAllBuiltinOps(resolver_).ok());
    // Golden output from a plain interpreter.
    Interpreter plain(store_->model(0), resolver_);
    ASSERT_TRUE(plain.PrepareAndAllocate().ok());
    FillSeeded(Span<uint8_t>(plain.input(0).data, plain.input(0).bytes), 3);
    ASSERT_TRUE(plain.Invoke().ok());
    golden_.assign(plain.output(0).data, plain.output(0).data + plain.output(0).bytes);
  }

  std::unique_ptr<RedundantInvoker> Make(RedundancyMode mode, int models, RunHooks* hooks = nullptr,
                                         kernels::KernelSet set = kernels::KernelSet::kOptimized, int threads = 1) {
    const inference::Model* m[3] = {&store_->model(0), &store_->model(1), &store_->model(2)};
    InvokerOptions o;
    o.mode = mode;
    o.kernel_set = set;
    o.threads = threads;
    o.events = &events_;
    o.hooks = hooks;
    auto inv = RedundantInvoker::Create(Span<const inference::Model* const>(m, static_cast<size_t>(models)),
                                        resolver_, o);
    EXPECT_TRUE(inv.ok()) << inv.status().message();
    if (!inv.ok()) return nullptr;
    FillSeeded((*inv)->input(0), 3);
    return std::move(*inv);
  }

  std::vector<uint8_t> Output(const RedundantInvoker& inv) {
    const inference::TensorView o = inv.output(0);
    if (o.data == nullptr) return {};
    return std::vector<uint8_t>(o.data, o.data + o.bytes);
  }

  std::vector<uint8_t> bytes_;
  std::unique_ptr<ModelStore> store_;
  inference::OpResolver resolver_;
  FakeClock clock_;
  EventLog events_{clock_};
  std::vector<uint8_t> golden_;
};

TEST_F(RedundantInvokerTest, SyntheticModelGivesVariedDecisions) {
  auto inv = Make(RedundancyMode::kNone, 1);
  ASSERT_NE(inv, nullptr);
  const OutputQuant q = CaptureOutputQuant(inv->output(0));
  EXPECT_EQ(q.elements, 5u);
  std::set<int> classes;
  for (uint32_t seed = 0; seed < 64; ++seed) {
    testing::FillFrame(inv->input_view(0), inv->input(0).data(), seed);
    ASSERT_EQ(inv->Run().verdict, Verdict::kSingle);
    classes.insert(DecideArgmax(inv->output(0).data, q).class_index);
  }
  EXPECT_GE(classes.size(), 3u);
}

TEST_F(RedundantInvokerTest, CleanRunsAgreeAndMatchAPlainInterpreterInEveryMode) {
  for (RedundancyMode mode :
       {RedundancyMode::kNone, RedundancyMode::kDmr, RedundancyMode::kTmr, RedundancyMode::kCrossCheck}) {
    for (int models : {1, 3}) for (int threads : {1, 2}) {
      auto inv = Make(mode, models, nullptr, kernels::KernelSet::kOptimized, threads);
      ASSERT_NE(inv, nullptr);
      EXPECT_EQ(inv->replica(0).threads(), threads);
      const RunResult r = inv->Run();
      EXPECT_TRUE(r.usable()) << RedundancyModeName(mode);
      EXPECT_EQ(r.verdict, mode == RedundancyMode::kNone ? Verdict::kSingle : Verdict::kAgreed);
      EXPECT_EQ(r.runs, mode == RedundancyMode::kNone ? 1 : mode == RedundancyMode::kTmr ? 3 : 2);
      EXPECT_EQ(Output(*inv), golden_) << RedundancyModeName(mode);
      EXPECT_EQ(inv->counters().disagreements, 0u);
    }
  }
  EXPECT_EQ(events_.total(), 0u);
}

TEST_F(RedundantInvokerTest, DmrMismatchRunsAThirdReplicaAndOutvotesTheFaultyOne) {
  TestHooks hooks;
  hooks.FlipOutput(1, 2);
  auto inv = Make(RedundancyMode::kDmr, 1, &hooks);
  ASSERT_NE(inv, nullptr);
  const RunResult r = inv->Run();
  EXPECT_EQ(r.verdict, Verdict::kCorrected);
  EXPECT_EQ(r.runs, 3);
  EXPECT_EQ(r.dissent_mask, 0b010);
  EXPECT_EQ(Output(*inv), golden_);
  EXPECT_EQ(inv->counters().corrected, 1u);
  EXPECT_EQ(inv->counters().disagreements, 1u);
  EXPECT_EQ(events_.CountOf(kEventVoteDisagreement), 1u);
}

TEST_F(RedundantInvokerTest, DmrWithoutMajorityWithholdsTheOutput) {
  TestHooks hooks;
  hooks.FlipOutput(0, 0, 0x01);
  hooks.FlipOutput(1, 1, 0x02);
  hooks.FlipOutput(2, 2, 0x04);
  auto inv = Make(RedundancyMode::kDmr, 1, &hooks);
  ASSERT_NE(inv, nullptr);
  const RunResult r = inv->Run();
  EXPECT_EQ(r.verdict, Verdict::kNoMajority);
  EXPECT_FALSE(r.usable());
  EXPECT_EQ(inv->output(0).data, nullptr);
  EXPECT_EQ(inv->counters().no_majority, 1u);
  EXPECT_EQ(events_.CountOf(kEventVoteNoMajority), 1u);
}

TEST_F(RedundantInvokerTest, TmrOutvotesAnyOneFaultyReplica) {
  for (int bad = 0; bad < 3; ++bad) {
    TestHooks hooks;
    hooks.FlipOutput(bad, 4);
    auto inv = Make(RedundancyMode::kTmr, 3, &hooks);
    ASSERT_NE(inv, nullptr);
    const RunResult r = inv->Run();
    EXPECT_EQ(r.verdict, Verdict::kCorrected) << bad;
    EXPECT_EQ(r.dissent_mask, 1 << bad);
    EXPECT_EQ(Output(*inv), golden_);
  }
}

TEST_F(RedundantInvokerTest, NoneModePassesAFaultThroughUnverified) {
  TestHooks hooks;
  hooks.FlipOutput(0, 0);
  auto inv = Make(RedundancyMode::kNone, 1, &hooks);
  ASSERT_NE(inv, nullptr);
  const RunResult r = inv->Run();
  EXPECT_EQ(r.verdict, Verdict::kSingle);
  EXPECT_NE(Output(*inv), golden_);
}

TEST_F(RedundantInvokerTest, AFailedRunCountsAsADissentingVote) {
  TestHooks hooks;
  hooks.fail_[0] = true;
  auto inv = Make(RedundancyMode::kDmr, 1, &hooks);
  ASSERT_NE(inv, nullptr);
  const RunResult r = inv->Run();
  EXPECT_EQ(r.verdict, Verdict::kCorrected);
  EXPECT_EQ(r.winner, 1);
  EXPECT_EQ(r.dissent_mask, 0b001);
  EXPECT_FALSE(r.status.ok());
  EXPECT_EQ(Output(*inv), golden_);
  EXPECT_EQ(inv->counters().failed_runs, 1u);
  EXPECT_EQ(events_.CountOf(kEventRunFailed), 1u);

  TestHooks none_hooks;
  none_hooks.fail_[0] = true;
  auto single = Make(RedundancyMode::kNone, 1, &none_hooks);
  EXPECT_EQ(single->Run().verdict, Verdict::kFailed);
  EXPECT_EQ(single->output(0).data, nullptr);
}

// The reference kernels read the weights from the model copy at every run,
// so this is where sharing one copy between replicas shows. (The optimized
// kernels read each replica's own packed weights: see the packed tests below.)
TEST_F(RedundantInvokerTest, SharedWeightsMakeAWeightUpsetCommonModeSeparateCopiesOutvoteIt) {
  auto shared = Make(RedundancyMode::kTmr, 1, nullptr, kernels::KernelSet::kReference);
  auto separate = Make(RedundancyMode::kTmr, 3, nullptr, kernels::KernelSet::kReference);
  // Negate every weight of copy 0's largest buffer (conv4): surely output-changing.
  WeightBuffer w;
  for (const WeightBuffer& b : store_->weight_buffers()) {
    if (b.bytes > w.bytes) w = b;
  }
  for (size_t i = 0; i < w.bytes; ++i) {
    uint8_t& v = store_->bytes(0)[w.offset + i];
    v = static_cast<uint8_t>(-static_cast<int8_t>(v));
  }

  const RunResult rs = shared->Run();
  EXPECT_EQ(rs.verdict, Verdict::kAgreed);   // every replica read the same corrupted weights
  EXPECT_NE(Output(*shared), golden_);       // ... so voting cannot see it (the scrubber must)

  const RunResult rp = separate->Run();
  EXPECT_EQ(rp.verdict, Verdict::kCorrected);
  EXPECT_EQ(rp.dissent_mask, 0b001);
  EXPECT_EQ(Output(*separate), golden_);
}

// The optimized kernels' packed weights are a second copy of the weights in
// RAM, one per replica. An upset there is outvoted, then found by its CRC and
// re-derived from the model copy in place.
TEST_F(RedundantInvokerTest, APackedWeightUpsetIsOutvotedThenFoundAndRederived) {
  auto inv = Make(RedundancyMode::kTmr, 1);
  ASSERT_NE(inv, nullptr);
  ASSERT_GT(inv->replica(0).packed_regions().size(), 0u) << "the optimized kernels packed nothing";
  EXPECT_GT(inv->packed_bytes_total(), 0u);
  EXPECT_EQ(inv->ScrubPackedStep(SIZE_MAX).mismatches, 0);
  // Negate the largest packed region's weights in replica 1 (past the header and biases).
  const auto regions = inv->replica(1).packed_regions();
  size_t largest = 0;
  for (size_t i = 0; i < regions.size(); ++i)
    if (regions[i].bytes > regions[largest].bytes) largest = i;
  auto* bytes = const_cast<uint8_t*>(regions[largest].data);
  for (size_t i = regions[largest].bytes / 2; i < regions[largest].bytes; ++i)
    bytes[i] = static_cast<uint8_t>(-static_cast<int8_t>(bytes[i]));
  const RunResult bad = inv->Run();
  EXPECT_EQ(bad.verdict, Verdict::kCorrected);
  EXPECT_EQ(bad.dissent_mask, 0b010);
  EXPECT_EQ(Output(*inv), golden_);

  // The scrub finds it within one sweep of every replica's regions.
  int found = 0, repaired = 0;
  for (size_t step = 0; step < 3 * regions.size() && found == 0; ++step) {
    const PackedScrubResult r = inv->ScrubPackedStep(1);
    found += r.mismatches;
    repaired += r.repaired;
  }
  EXPECT_EQ(found, 1);
  EXPECT_EQ(repaired, 1);
  EXPECT_EQ(inv->counters().packed_repairs, 1u);
  EXPECT_EQ(events_.CountOf(kEventPackedWeightsRepaired), 1u);
  EXPECT_EQ(inv->ScrubPackedStep(SIZE_MAX).mismatches, 0);
  const RunResult good = inv->Run();
  EXPECT_EQ(good.verdict, Verdict::kAgreed);
  EXPECT_EQ(Output(*inv), golden_);
}

// Re-deriving from a model copy that is itself corrupt does not pass the CRC:
// the failure is reported and the region is retried after the model is mended.
TEST_F(RedundantInvokerTest, APackedRepairFromACorruptModelCopyFailsAndIsReported) {
  auto inv = Make(RedundancyMode::kTmr, 3);
  ASSERT_NE(inv, nullptr);
  const inference::PackedRegion& region = inv->replica(2).packed_regions()[0];
  // Corrupt the filter in the model copy replica 2 reads, and the packed copy.
  auto* model_filter = const_cast<uint8_t*>(region.source.filter);
  model_filter[0] ^= 0x40;
  const_cast<uint8_t*>(region.data)[region.bytes - 1] ^= 0x01;
  PackedScrubResult r = inv->ScrubPackedStep(SIZE_MAX);
  EXPECT_GE(r.mismatches, 1);
  EXPECT_EQ(r.repaired, r.mismatches - 1);
  EXPECT_EQ(events_.CountOf(kEventPackedWeightsRepairFailed), 1u);
  model_filter[0] ^= 0x40;  // the model scrubber's repair
  r = inv->ScrubPackedStep(SIZE_MAX);
  EXPECT_EQ(r.mismatches, 1);
  EXPECT_EQ(r.repaired, 1);
  EXPECT_EQ(inv->ScrubPackedStep(SIZE_MAX).mismatches, 0);
}

TEST_F(RedundantInvokerTest, RunDoesNotAllocateInAnyMode) {
  for (RedundancyMode mode :
       {RedundancyMode::kNone, RedundancyMode::kDmr, RedundancyMode::kTmr, RedundancyMode::kCrossCheck}) {
    TestHooks hooks;
    if (mode != RedundancyMode::kNone) hooks.FlipOutput(1, 0);  // exercise the third run and the events
    auto inv = Make(mode, 3, &hooks, kernels::KernelSet::kOptimized, 2);
    ASSERT_NE(inv, nullptr);
    (void)inv->Run();
    ::triage::testing::AllocGuard guard;
    for (int i = 0; i < 3; ++i) (void)inv->Run();
    EXPECT_EQ(guard.count(), 0u) << RedundancyModeName(mode);
  }
}

TEST_F(RedundantInvokerTest, CreateRejectsBadArguments) {
  InvokerOptions o;
  EXPECT_FALSE(RedundantInvoker::Create(Span<const inference::Model* const>(), resolver_, o).ok());
  std::vector<uint8_t> other = BuildSyntheticClassifier(3, 16);
  inference::AlignedBuffer aligned = inference::ToAligned(other);
  auto small = inference::Model::Create(aligned.span());
  ASSERT_TRUE(small.ok());
  const inference::Model* m[2] = {&store_->model(0), &*small};
  o.mode = RedundancyMode::kDmr;
  auto r = RedundantInvoker::Create(Span<const inference::Model* const>(m, 2), resolver_, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("differs"), std::string::npos);
  o.mode = static_cast<RedundancyMode>(9);
  EXPECT_FALSE(RedundantInvoker::Create(Span<const inference::Model* const>(m, 1), resolver_, o).ok());
}

// DMR and TMR change no decision on a clean run of a real network.
TEST(RedundantInvokerSharedModel, DmrAndTmrChangeNoDecisionOnMobilenet) {
  TRIAGE_REQUIRE_SHARED();
  ModelStoreOptions so;
  so.path = ::triage::testing::SharedPath("models/mobilenet_v1_0.25_128_quant.tflite");
  so.copies = 3;
  auto store = ModelStore::Load(so);
  ASSERT_TRUE(store.ok()) << store.status().message();
  inference::OpResolver resolver;
  ASSERT_TRUE(inference::AddAllBuiltinOps(resolver).ok());
  const inference::Model* m[3] = {&(*store)->model(0), &(*store)->model(1), &(*store)->model(2)};
  std::unique_ptr<RedundantInvoker> inv[3];
  const RedundancyMode modes[3] = {RedundancyMode::kNone, RedundancyMode::kDmr, RedundancyMode::kTmr};
  for (int i = 0; i < 3; ++i) {
    InvokerOptions o;
    o.mode = modes[i];
    auto r = RedundantInvoker::Create(Span<const inference::Model* const>(m, 3), resolver, o);
    ASSERT_TRUE(r.ok()) << r.status().message();
    inv[i] = std::move(*r);
  }
  const OutputQuant q = CaptureOutputQuant(inv[0]->output(0));
  for (uint32_t seed = 0; seed < 2; ++seed) {
    int decisions[3];
    for (int i = 0; i < 3; ++i) {
      FillSeeded(inv[i]->input(0), seed);
      const RunResult r = inv[i]->Run();
      ASSERT_TRUE(r.usable());
      EXPECT_FALSE(r.disagreement());
      decisions[i] = DecideArgmax(inv[i]->output(0).data, q).class_index;
    }
    EXPECT_EQ(decisions[0], decisions[1]);
    EXPECT_EQ(decisions[0], decisions[2]);
  }
}

}  // namespace
}  // namespace triage::fault
