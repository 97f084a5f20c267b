// The flight loop in-process, on a FakeClock: every frame gets a catalog row
// whose decision matches the queue; runs are deterministic; corrupt frames
// are counted and the loop goes on; a steady-state frame step allocates
// nothing; restarts resume; reload applies valid configs between frames and
// keeps the old one (with a reason) otherwise; SIGTERM abandons a frame that
// is not yet queued; pass limits, hooks, the inference seam and safe mode.
#include "app/flight_loop.h"

#include <sys/stat.h>

#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/flight_report.h"
#include "downlink/retransmit.h"
#include "imaging/jpeg_codec.h"
#include "kernels/optimized/gemm.h"
#include "tests/config/mission_test_support.h"
#include "tests/support/alloc_guard.h"

namespace triage::app {
namespace {

using triage::testing::BuildTestModel;
using triage::testing::MakeTempDir;
using triage::testing::ReadFile;
using triage::testing::RemoveTree;
using triage::testing::TestMissionYaml;
using triage::testing::WriteFile;

// Fixed JPEG frames of known colours; some captures fail or are truncated.
class FakeCamera final : public imaging::Camera {
 public:
  struct Colour {
    uint8_t r, g, b;
  };
  // land (full), land-ish (thumbnail), dark (black: discard), blue (cloud: discard)
  static constexpr Colour kLand{100, 160, 60};
  static constexpr Colour kLandish{110, 130, 100};
  static constexpr Colour kDark{20, 20, 20};
  static constexpr Colour kBlue{120, 140, 230};

  explicit FakeCamera(std::vector<Colour> sequence) : sequence_(std::move(sequence)) {
    imaging::JpegEncoderConfig jc;
    jc.max_width = 64;
    jc.max_height = 48;
    Result<imaging::JpegEncoder> enc = imaging::JpegEncoder::Create(jc);
    for (const Colour& c : sequence_) {
      std::vector<uint8_t> rgb(64 * 48 * 3);
      for (size_t i = 0; i < rgb.size(); i += 3) {
        rgb[i] = c.r;
        rgb[i + 1] = c.g;
        rgb[i + 2] = c.b;
      }
      Result<Span<const uint8_t>> j = enc->Encode(rgb.data(), 64, 48, 64 * 3);
      jpegs_.emplace_back(j->begin(), j->end());
    }
  }
  Status Capture(imaging::Frame& frame) override {
    if (next_ >= jpegs_.size()) return Status::Error(StatusCode::kOutOfRange, "end");
    const size_t i = next_++;
    if (fail_capture.count(i) != 0) return Status::Error(StatusCode::kDataLoss, "sensor readout %zu lost", i);
    frame.Clear();
    const std::vector<uint8_t>& j = jpegs_[i];
    const size_t n = truncate.count(i) != 0 ? j.size() / 2 : j.size();
    std::memcpy(frame.encoded.data(), j.data(), n);
    frame.encoded_size = n;
    frame.encoding = imaging::FrameEncoding::kJpeg;
    frame.width = 64;
    frame.height = 48;
    frame.meta.timestamp_us = static_cast<int64_t>(i) * 1000000;
    std::snprintf(frame.meta.source, sizeof(frame.meta.source), "fake/%zu", i);
    return Status::Ok();
  }
  Status Seek(uint64_t next_index) override {
    next_ = static_cast<size_t>(next_index);
    return Status::Ok();
  }
  const char* name() const override { return "fake"; }

  std::set<size_t> fail_capture;
  std::set<size_t> truncate;

 private:
  std::vector<Colour> sequence_;
  std::vector<std::vector<uint8_t>> jpegs_;
  size_t next_ = 0;
};

class FlightLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("triage_flight_loop_");
    ASSERT_FALSE(dir_.empty());
    model_ = dir_ + "/model.tflite";
    WriteFile(model_, BuildTestModel());
  }
  void TearDown() override { if (!getenv("KEEP")) RemoveTree(dir_); }

  std::string Yaml(const std::string& extra = "") const {
    return TestMissionYaml(model_) +
           "logging: {progress_every_frames: 0, level: warn}\n" + extra;
  }
  config::LoadedConfig Load(const std::string& yaml) const {
    config::LoadOptions o;
    o.base_dir = dir_;
    config::LoadedConfig c = config::ParseMission(yaml, "test.yaml", o);
    EXPECT_TRUE(c.ok()) << (c.problems.empty() ? "" : config::FormatProblem("test.yaml", c.problems[0]));
    return c;
  }
  std::unique_ptr<FlightLoop> Make(const std::string& yaml, const std::string& out,
                                   std::unique_ptr<imaging::Camera> camera = nullptr, FlightHooks* hooks = nullptr,
                                   int until_pass = -1) {
    FlightOptions o;
    o.out_dir = dir_ + "/" + out;
    o.config_base_dir = dir_;
    o.clock = &clock_;
    o.hooks = hooks;
    o.until_pass = until_pass;
    Result<std::unique_ptr<FlightLoop>> loop = FlightLoop::Create(Load(yaml), o, std::move(camera));
    EXPECT_TRUE(loop.ok()) << loop.status().message();
    return loop.ok() ? std::move(loop.value()) : nullptr;
  }
  static std::vector<nlohmann::json> Telemetry(const std::string& path) {
    std::vector<nlohmann::json> lines;
    const std::string text = ReadFile(path);
    size_t start = 0;
    while (start < text.size()) {
      const size_t end = text.find('\n', start);
      if (end == std::string::npos) break;
      lines.push_back(nlohmann::json::parse(text.substr(start, end - start)));
      start = end + 1;
    }
    return lines;
  }
  static std::vector<FakeCamera::Colour> Mixed(int n) {
    const FakeCamera::Colour kinds[4] = {FakeCamera::kLand, FakeCamera::kLandish, FakeCamera::kDark, FakeCamera::kBlue};
    std::vector<FakeCamera::Colour> v;
    for (int i = 0; i < n; ++i) v.push_back(kinds[i % 4]);
    return v;
  }

  std::string dir_;
  std::string model_;
  FakeClock clock_;
};

TEST_F(FlightLoopTest, ColoursGetTheirDecisionsAndTheQueueMatchesTheCatalog) {
  auto loop = Make(Yaml(), "out", std::make_unique<FakeCamera>(Mixed(8)));
  ASSERT_TRUE(loop);
  EXPECT_EQ(loop->Run(nullptr), StopReason::kEndOfInput);
  ASSERT_TRUE(loop->Finish().ok());
  const FlightCounters& c = loop->counters();
  EXPECT_EQ(c.frames_attempted, 8u);
  EXPECT_EQ(c.kept_full, 2u);
  EXPECT_EQ(c.thumbnail_only, 2u);
  EXPECT_EQ(c.discarded, 4u);
  EXPECT_EQ(c.per_class[3], 4u);  // land
  EXPECT_EQ(c.per_class[0], 2u);  // black
  EXPECT_EQ(c.per_class[1], 2u);  // cloud
  EXPECT_EQ(c.drops[static_cast<int>(DropReason::kDiscardedByPolicy)], 4u);
  EXPECT_EQ(c.products_queued[0], 2u);
  EXPECT_EQ(c.products_queued[1], 4u);  // thumbnails of full frames too

  // Every frame has a row; its decision and bytes match the queued products.
  const downlink::Catalog& cat = loop->catalog();
  ASSERT_EQ(cat.size(), 8u);
  std::map<uint64_t, std::set<downlink::ProductKind>> kinds;
  std::map<uint64_t, uint64_t> bytes;
  uint64_t total = 0;
  for (const downlink::QueueItem& item : loop->queue().items()) {
    if (item.meta.kind == downlink::ProductKind::kCatalog) continue;
    kinds[item.meta.frame_id].insert(item.meta.kind);
    bytes[item.meta.frame_id] += item.meta.payload_bytes;
    total += item.meta.payload_bytes;
  }
  for (size_t i = 0; i < cat.size(); ++i) {
    const downlink::CatalogRow& row = cat.row(i);
    const bool full = kinds[row.frame_id].count(downlink::ProductKind::kFull) != 0;
    const bool thumb = kinds[row.frame_id].count(downlink::ProductKind::kThumbnail) != 0;
    const uint8_t want = full ? (thumb ? 3 : 2) : (thumb ? 1 : 0);
    EXPECT_EQ(row.decision, want) << "frame " << row.frame_id;
    EXPECT_EQ(row.bytes, bytes[row.frame_id]) << "frame " << row.frame_id;
  }
  EXPECT_EQ(total, c.bytes_queued);
  // Telemetry: one line per frame, same decisions.
  const auto lines = Telemetry(dir_ + "/out/telemetry.jsonl");
  ASSERT_EQ(lines.size(), 8u);
  EXPECT_EQ(lines[0]["decision"], "full");
  EXPECT_EQ(lines[1]["decision"], "thumbnail");
  EXPECT_EQ(lines[2]["decision"], "discard");
  EXPECT_EQ(lines[2]["drops"][0], "discarded_policy");
  EXPECT_EQ(lines[0]["products"].size(), 2u);
  // The CSV export has a header and one line per frame.
  const std::string csv = ReadFile(dir_ + "/out/catalog.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 9);
}

TEST_F(FlightLoopTest, ProductsRecordTheConfigAndModelHashes) {
  auto loop = Make(Yaml(), "out", std::make_unique<FakeCamera>(Mixed(2)));
  ASSERT_TRUE(loop);
  loop->Run(nullptr);
  const config::LoadedConfig loaded = Load(Yaml());
  int products = 0;
  for (const downlink::QueueItem& item : loop->queue().items()) {
    EXPECT_EQ(item.meta.config_hash, loaded.hash);
    EXPECT_EQ(item.meta.model_hash, loaded.config.model.file_sha256);
    EXPECT_EQ(item.meta.model_hash, loop->classifier().model_hash());
    ++products;
  }
  EXPECT_EQ(products, 3);
}

TEST_F(FlightLoopTest, SameInputsGiveIdenticalTelemetryCatalogAndRadio) {
  for (const char* out : {"a", "b"}) {
    auto loop = Make(Yaml(), out);
    ASSERT_TRUE(loop);
    for (int i = 0; i < 20; ++i) {
      loop->Step();
      loop->BetweenFrames();
    }
    ASSERT_TRUE(loop->Finish().ok());
    EXPECT_GT(loop->counters().bytes_sent, 0u);
    EXPECT_GT(loop->counters().bytes_queued, 0u);
  }
  for (const char* file : {"telemetry.jsonl", "catalog.csv", "radio.bin", "sent.csv"}) {
    const std::string a = ReadFile(dir_ + "/a/" + file), b = ReadFile(dir_ + "/b/" + file);
    EXPECT_FALSE(a.empty()) << file;
    EXPECT_EQ(a, b) << file;
  }
}

TEST_F(FlightLoopTest, CorruptAndFailedFramesAreCountedCataloguedAndTheLoopGoesOn) {
  auto camera = std::make_unique<FakeCamera>(Mixed(8));
  camera->truncate = {1, 4};
  camera->fail_capture = {6};
  auto loop = Make(Yaml(), "out", std::move(camera));
  ASSERT_TRUE(loop);
  EXPECT_EQ(loop->Run(nullptr), StopReason::kEndOfInput);
  const FlightCounters& c = loop->counters();
  EXPECT_EQ(c.frames_attempted, 8u);
  EXPECT_EQ(c.frames_failed, 3u);
  EXPECT_EQ(c.frames_classified, 5u);
  EXPECT_EQ(c.drops[static_cast<int>(DropReason::kCorruptFrame)], 3u);
  EXPECT_EQ(loop->events().CountOf(kEventCorruptFrame), 3u);
  for (uint64_t id : {1, 4, 6}) {
    const downlink::CatalogRow* row = loop->catalog().Find(id);
    ASSERT_NE(row, nullptr) << id;
    EXPECT_EQ(row->decision, kCatalogDecisionFailed);
    EXPECT_EQ(row->class_id, kUnclassified);
  }
  // The frames after each failure were processed normally.
  EXPECT_EQ(loop->catalog().Find(5)->decision, 1);  // land-ish: thumbnail
  EXPECT_EQ(loop->catalog().Find(7)->decision, 0);  // blue: discarded
  const auto lines = Telemetry(dir_ + "/out/telemetry.jsonl");
  ASSERT_EQ(lines.size(), 8u);
  EXPECT_EQ(lines[1]["decision"], "failed");
  EXPECT_EQ(lines[1]["drops"][0], "corrupt_frame");
  EXPECT_NE(lines[6]["error"].get<std::string>().find("sensor readout 6 lost"), std::string::npos);
}

TEST_F(FlightLoopTest, SteadyStateFrameStepDoesNotAllocate) {
  // Simulated camera, passes in the window, all decision kinds.
  auto loop = Make(Yaml(), "out");
  ASSERT_TRUE(loop);
  for (int i = 0; i < 4; ++i) {  // warm-up: first-use buffers inside stdio, zlib, TurboJPEG
    loop->Step();
    loop->BetweenFrames();
  }
  size_t allocations = 0;
  {
    triage::testing::AllocGuard guard;
    for (int i = 0; i < 20; ++i) {  // frames 4..23: the first pass (600..900 s) is inside
      loop->Step();
      loop->BetweenFrames();
    }
    allocations = guard.count();
  }
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(loop->counters().frames_classified, 24u);
  EXPECT_GT(loop->counters().downlink_slices, 0u);
  EXPECT_GT(loop->counters().products_queued[1], 0u);
}

TEST_F(FlightLoopTest, RestartResumesAfterTheLastRecordedFrame) {
  {
    auto loop = Make(Yaml(), "out");
    ASSERT_TRUE(loop);
    for (int i = 0; i < 6; ++i) loop->Step();
  }
  auto loop = Make(Yaml(), "out");
  ASSERT_TRUE(loop);
  EXPECT_EQ(loop->next_frame_id(), 6u);
  EXPECT_EQ(loop->resumed_at(), 6u);
  EXPECT_EQ(loop->events().CountOf(kEventResumed), 1u);
  loop->Step();
  EXPECT_EQ(std::string(loop->last_record().source), "sim:7/6");  // the camera seeked too
  EXPECT_EQ(loop->catalog().size(), 7u);
}

TEST_F(FlightLoopTest, OrphanedProductGetsItsCatalogRowBackAtStart) {
  {
    auto loop = Make(Yaml(), "out");
    ASSERT_TRUE(loop);
  }
  // A crash between Enqueue and the catalog write, replayed by hand.
  {
    config::LoadedConfig c = Load(Yaml());
    downlink::Config d = c.config.downlink;
    d.storage_dir = dir_ + "/out/downlink";
    downlink::Catalog catalog;
    ASSERT_TRUE(catalog.Open(d).ok());
    downlink::DownlinkQueue queue;
    ASSERT_TRUE(queue.Open(d, &catalog).ok());
    downlink::ProductMeta meta;
    meta.frame_id = 41;
    meta.class_id = 3;
    meta.confidence = 0.75f;
    meta.kind = downlink::ProductKind::kThumbnail;
    meta.priority = 100;
    const uint8_t payload[5] = {1, 2, 3, 4, 5};
    ASSERT_TRUE(queue.Enqueue(meta, Span<const uint8_t>(payload, 5)).ok());
  }
  auto loop = Make(Yaml(), "out");
  ASSERT_TRUE(loop);
  const downlink::CatalogRow* row = loop->catalog().Find(41);
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->decision, 1);
  EXPECT_EQ(row->bytes, 5u);
  EXPECT_EQ(row->class_id, 3);
  EXPECT_EQ(loop->next_frame_id(), 42u);
}

TEST_F(FlightLoopTest, ValidReloadIsAppliedBetweenFramesAndStampsLaterProducts) {
  auto loop = Make(Yaml(), "out", std::make_unique<FakeCamera>(Mixed(8)));
  ASSERT_TRUE(loop);
  for (int i = 0; i < 4; ++i) loop->Step();
  const std::string old_hash = loop->config_hash_hex();
  // Everything uncertain -> thumbnail: a hot change (triage only).
  const std::string next = Yaml() + "# reload\n";
  std::string changed = next;
  changed.replace(changed.find("below_confidence: 0.3"), 21, "below_confidence: 1.0");
  WriteFile(dir_ + "/out/uplink/mission.yaml", changed);
  loop->BetweenFrames();
  EXPECT_EQ(loop->counters().reloads_applied, 1u);
  EXPECT_NE(loop->config_hash_hex(), old_hash);
  EXPECT_FLOAT_EQ(loop->config().triage.uncertain.below_confidence, 1.0f);
  struct stat st;
  EXPECT_NE(::stat((dir_ + "/out/uplink/mission.yaml").c_str(), &st), 0);  // consumed
  EXPECT_EQ(::stat((dir_ + "/out/uplink/applied/mission-1.yaml").c_str(), &st), 0);
  EXPECT_EQ(loop->events().Newest()->id, config::kEventConfigApplied);
  for (int i = 0; i < 4; ++i) loop->Step();
  // Frames 4..7 (dark and blue ones too) are now thumbnails under the new hash.
  const config::LoadedConfig reloaded = Load(changed);
  int stamped = 0;
  for (const downlink::QueueItem& item : loop->queue().items()) {
    if (item.meta.frame_id >= 4) {
      EXPECT_EQ(item.meta.kind, downlink::ProductKind::kThumbnail);
      EXPECT_EQ(item.meta.config_hash, reloaded.hash);
      ++stamped;
    }
  }
  EXPECT_EQ(stamped, 4);
}

TEST_F(FlightLoopTest, InvalidReloadKeepsTheOldConfigAndAnEventSaysWhy) {
  auto loop = Make(Yaml(), "out", std::make_unique<FakeCamera>(Mixed(8)));
  ASSERT_TRUE(loop);
  loop->Step();
  const std::string old_hash = loop->config_hash_hex();
  WriteFile(dir_ + "/out/uplink/mission.yaml", Yaml() + "uplink: {poll_every_frame: 3}\n");
  loop->BetweenFrames();
  EXPECT_EQ(loop->counters().reloads_rejected, 1u);
  EXPECT_EQ(loop->config_hash_hex(), old_hash);
  const Event* e = loop->events().Newest();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->id, config::kEventConfigRejected);
  EXPECT_NE(std::string(e->text).find("uplink.poll_every_frame"), std::string::npos) << e->text;
  struct stat st;
  EXPECT_EQ(::stat((dir_ + "/out/uplink/rejected/mission-1.yaml").c_str(), &st), 0);

  // A valid file that changes a restart-only key is refused too.
  std::string cold = Yaml();
  cold.replace(cold.find("width: 48"), 9, "width: 40");
  WriteFile(dir_ + "/out/uplink/mission.yaml", cold);
  loop->BetweenFrames();
  EXPECT_EQ(loop->counters().reloads_rejected, 2u);
  EXPECT_NE(std::string(loop->events().Newest()->text).find("needs a restart: thumbnail.width"), std::string::npos);
  EXPECT_EQ(loop->config_hash_hex(), old_hash);
  // The loop carries on under the old config.
  EXPECT_EQ(loop->Step(), StepOutcome::kProcessed);
}

TEST_F(FlightLoopTest, ReloadWithANewModelSwapsItAtTheSafePoint) {
  auto loop = Make(Yaml(), "out", std::make_unique<FakeCamera>(Mixed(8)));
  ASSERT_TRUE(loop);
  loop->Step();
  triage::testing::TestModelOptions o;
  o.land_bias = 3.0f;  // land everywhere
  WriteFile(dir_ + "/model2.tflite", BuildTestModel(o));
  std::string next = Yaml();
  next.replace(next.find(model_), model_.size(), dir_ + "/model2.tflite");
  WriteFile(dir_ + "/out/uplink/mission.yaml", next);
  const downlink::Digest256 old_model = loop->classifier().model_hash();
  loop->BetweenFrames();
  EXPECT_EQ(loop->counters().reloads_applied, 1u);
  EXPECT_NE(loop->classifier().model_hash(), old_model);
  loop->Step();  // frame 1: land-ish, now confidently land
  EXPECT_STREQ(loop->last_record().class_name, "land");
  EXPECT_STREQ(loop->last_record().decision, "full");
}

class StopAfterInfer : public FlightHooks {
 public:
  void OnStageEnd(FlightStage stage, uint64_t frame_id, const Status&, int64_t) noexcept override {
    stages.push_back(stage);
    if (stage == FlightStage::kInfer && frame_id == stop_at) flag = 1;
  }
  void OnClassifierReady(Classifier& c) noexcept override {
    runner = std::make_unique<CountingRunner>(&c.interpreter());
    c.set_runner(runner.get());
  }
  struct CountingRunner : InferenceRunner {
    explicit CountingRunner(inference::Interpreter* i) : interp(i) {}
    Status Invoke() noexcept override {
      ++calls;
      return interp->Invoke();
    }
    inference::Interpreter* interp;
    int calls = 0;
  };
  uint64_t stop_at = 2;
  volatile std::sig_atomic_t flag = 0;
  std::vector<FlightStage> stages;
  std::unique_ptr<CountingRunner> runner;
};

TEST_F(FlightLoopTest, StopRequestAbandonsTheFrameNotYetQueued) {
  StopAfterInfer hooks;
  auto loop = Make(Yaml(), "out", std::make_unique<FakeCamera>(Mixed(8)), &hooks);
  ASSERT_TRUE(loop);
  EXPECT_EQ(loop->Run(&hooks.flag), StopReason::kSignal);
  EXPECT_EQ(loop->counters().drops[static_cast<int>(DropReason::kAbandonedAtShutdown)], 1u);
  EXPECT_EQ(loop->catalog().size(), 2u);  // frames 0 and 1; frame 2 abandoned
  EXPECT_EQ(loop->catalog().Find(2), nullptr);
  EXPECT_EQ(loop->events().Newest()->id, kEventShutdown);
  // A restart redoes the abandoned frame.
  loop.reset();
  auto again = Make(Yaml(), "out", std::make_unique<FakeCamera>(Mixed(8)));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->next_frame_id(), 2u);
}

TEST_F(FlightLoopTest, HooksSeeStagesInOrderAndInferenceGoesThroughTheRunner) {
  StopAfterInfer hooks;
  hooks.stop_at = 1000;
  auto loop = Make(Yaml(), "out", std::make_unique<FakeCamera>(Mixed(4)), &hooks);
  ASSERT_TRUE(loop);
  ASSERT_EQ(loop->Step(), StepOutcome::kProcessed);  // land: full + thumbnail
  const std::vector<FlightStage> want = {FlightStage::kCapture,  FlightStage::kThumbnail, FlightStage::kPreprocess,
                                         FlightStage::kInfer,    FlightStage::kDecide,    FlightStage::kCompress,
                                         FlightStage::kEnqueue,  FlightStage::kCompress,  FlightStage::kEnqueue,
                                         FlightStage::kEnqueue};
  EXPECT_EQ(hooks.stages, want);
  loop->Run(nullptr);
  ASSERT_TRUE(hooks.runner);
  EXPECT_EQ(hooks.runner->calls, 4);
  EXPECT_EQ(loop->counters().frames_classified, 4u);
}

TEST_F(FlightLoopTest, UntilPassStopsWhenThatPassEndsAndThePassSendsData) {
  auto loop = Make(Yaml(), "out", nullptr, nullptr, 0);
  ASSERT_TRUE(loop);
  EXPECT_EQ(loop->Run(nullptr), StopReason::kPassLimit);
  // 60 s frames; pass 0 is 600..900 s, so frame 14 (840..900 s) ends it.
  EXPECT_EQ(loop->next_frame_id(), 15u);
  EXPECT_EQ(loop->counters().passes_completed, 1u);
  EXPECT_EQ(loop->counters().downlink_slices, 5u);
  EXPECT_GT(loop->counters().bytes_sent, 0u);
  EXPECT_GT(loop->counters().packets_sent, 0u);
  EXPECT_FALSE(ReadFile(dir_ + "/out/radio.bin").empty());
  EXPECT_EQ(loop->events().CountOf(kEventPassCompleted), 1u);
  // Resuming past pass 0 with the same limit stops at once.
  loop.reset();
  auto again = Make(Yaml(), "out", nullptr, nullptr, 0);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->Run(nullptr), StopReason::kPassLimit);
  EXPECT_EQ(again->counters().frames_attempted, 0u);
}

TEST_F(FlightLoopTest, RetransmitRequestFromTheUplinkFolderIsAccepted) {
  auto loop = Make(Yaml(), "out", nullptr, nullptr, 0);
  ASSERT_TRUE(loop);
  loop->Run(nullptr);
  ASSERT_GT(loop->counters().products_completed, 0u);
  downlink::PacketRange range;
  range.product_id = 1;
  range.first_packet = 0;
  range.last_packet = 1;
  std::vector<uint8_t> request(downlink::RetransmitRequestBytes(1));
  Result<size_t> n = downlink::EncodeRetransmitRequest(Span<const downlink::PacketRange>(&range, 1), request);
  ASSERT_TRUE(n.ok());
  request.resize(n.value());
  WriteFile(dir_ + "/out/uplink/retransmit.bin", request);
  loop->BetweenFrames();
  EXPECT_EQ(loop->counters().retransmit_requests, 1u);
  EXPECT_EQ(loop->events().Newest()->id, kEventRetransmitAccepted);
  WriteFile(dir_ + "/out/uplink/retransmit.bin", std::string("garbage"));
  loop->BetweenFrames();
  EXPECT_EQ(loop->counters().retransmit_requests, 1u);
  EXPECT_EQ(loop->events().Newest()->id, kEventRetransmitRejected);
}

class SafeMode : public FlightHooks {
 public:
  bool InSafeMode() const noexcept override { return on; }
  bool on = true;
};

// Safe mode (here from the caller's hooks): frames are still captured,
// thumbnailed, queued and catalogued, never classified; passes are served.
TEST_F(FlightLoopTest, SafeModeKeepsThumbnailsAndCatalogButDoesNotClassify) {
  SafeMode hooks;
  auto loop = Make(Yaml(), "out", nullptr, &hooks, 0);
  ASSERT_TRUE(loop);
  EXPECT_EQ(loop->Run(nullptr), StopReason::kPassLimit);
  const FlightCounters& c = loop->counters();
  EXPECT_EQ(c.frames_attempted, 15u);
  EXPECT_EQ(c.safe_mode_frames, 15u);
  EXPECT_EQ(c.frames_classified, 0u);
  EXPECT_EQ(c.products_queued[0], 0u);  // no full-resolution product without a decision
  EXPECT_EQ(c.products_queued[1], 15u);
  EXPECT_EQ(c.passes_completed, 1u);
  EXPECT_GT(c.bytes_sent, 0u);
  EXPECT_EQ(loop->fault().Summary().runs, 0u);  // the classifier never ran
  ASSERT_EQ(loop->catalog().size(), 15u);
  for (size_t i = 0; i < loop->catalog().size(); ++i) {
    EXPECT_EQ(loop->catalog().row(i).class_id, kUnclassified);
    EXPECT_EQ(loop->catalog().row(i).decision, 1);  // thumbnail
  }
  const auto lines = Telemetry(dir_ + "/out/telemetry.jsonl");
  ASSERT_EQ(lines.size(), 15u);
  EXPECT_EQ(lines[3]["safe_mode"], true);
  EXPECT_EQ(lines[3]["reason"], "safe_mode");
  EXPECT_EQ(lines[3]["decision"], "thumbnail");
  EXPECT_FALSE(lines[3].contains("class"));
  EXPECT_FALSE(lines[3].contains("vote"));
  // Leaving safe mode, the next frame is classified again.
  hooks.on = false;
  EXPECT_EQ(loop->Step(), StepOutcome::kProcessed);
  EXPECT_EQ(loop->last_record().frame_id, 15u);
  EXPECT_NE(loop->last_record().class_name, nullptr);
  EXPECT_STREQ(loop->last_record().vote, "single");
}

// Safe mode entered in the fault layer (the guard, by command here): the
// same thumbnail-and-catalog flight, recorded in the summary and persisted
// across a restart until the ground clears it.
TEST_F(FlightLoopTest, GuardSafeModeIsRecordedAndSurvivesARestart) {
  {
    auto loop = Make(Yaml(), "out", std::make_unique<FakeCamera>(Mixed(8)));
    ASSERT_TRUE(loop);
    EXPECT_EQ(loop->Step(), StepOutcome::kProcessed);
    loop->BetweenFrames();
    loop->fault().guard().EnterSafeMode();
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(loop->Step(), StepOutcome::kSafeMode);
      loop->BetweenFrames();
    }
    EXPECT_EQ(loop->counters().frames_classified, 1u);
    EXPECT_EQ(loop->counters().safe_mode_frames, 3u);
    EXPECT_EQ(loop->fault().Summary().runs, 1u);
    const nlohmann::json summary = nlohmann::json::parse(SummaryJson(*loop, StopReason::kSignal));
    EXPECT_EQ(summary["fault"]["safe_mode"], true);
    EXPECT_EQ(summary["fault"]["safe_mode_frames"], 3);
    EXPECT_NE(FormatSummaryTable(*loop, StopReason::kSignal).find("safe mode              ON (commanded)"),
              std::string::npos);
    ASSERT_TRUE(loop->Finish().ok());
  }
  auto loop = Make(Yaml(), "out", std::make_unique<FakeCamera>(Mixed(8)));
  ASSERT_TRUE(loop);
  EXPECT_TRUE(loop->fault().guard().safe_mode());
  EXPECT_EQ(loop->Step(), StepOutcome::kSafeMode);
  EXPECT_EQ(loop->catalog().Find(4)->class_id, kUnclassified);
  EXPECT_EQ(loop->catalog().Find(4)->decision, 1);
  ASSERT_TRUE(loop->fault().guard().ExitSafeMode().ok());
  EXPECT_EQ(loop->Step(), StepOutcome::kProcessed);
  EXPECT_NE(loop->catalog().Find(5)->class_id, kUnclassified);
}

// Inference overruns its deadline (5 s by default) on some frames: the
// FakeClock jumps while the (guarded) runner runs.
class SlowInference : public FlightHooks {
 public:
  void OnStageBegin(FlightStage stage, uint64_t frame_id) noexcept override {
    if (stage == FlightStage::kInfer) runner.late = slow.count(frame_id) != 0;
  }
  void OnClassifierReady(Classifier& c) noexcept override {
    runner.inner = c.runner();  // the fault layer's
    c.set_runner(&runner);
  }
  struct Runner : InferenceRunner {
    Status Invoke() noexcept override {
      if (late) clock->AdvanceMillis(6000);
      return inner->Invoke();
    }
    const char* outcome() const noexcept override { return inner->outcome(); }
    InferenceRunner* inner = nullptr;
    FakeClock* clock = nullptr;
    bool late = false;
  };
  Runner runner;
  std::set<uint64_t> slow;
};

TEST_F(FlightLoopTest, OverrunsAreMissedDeadlinesAndThreeInTheWindowEnterSafeMode) {
  SlowInference hooks;
  hooks.runner.clock = &clock_;
  hooks.slow = {0, 2, 4};
  auto loop = Make(Yaml(), "out", std::make_unique<FakeCamera>(Mixed(8)), &hooks);
  ASSERT_TRUE(loop);
  EXPECT_EQ(loop->Run(nullptr), StopReason::kEndOfInput);
  const FaultSummary f = loop->fault().Summary();
  EXPECT_EQ(f.missed_deadlines, 3u);
  EXPECT_EQ(f.stage_restarts, 3u);  // each miss followed a heartbeat: a stage restart, never the pipeline
  EXPECT_EQ(loop->events().CountOf(kEventStageRestarted), 3u);
  EXPECT_EQ(f.watchdog_strokes, 5u);  // stroked only after the 5 healthy frames
  EXPECT_TRUE(f.safe_mode);
  EXPECT_STREQ(f.safe_mode_reason, "missed_deadlines");
  EXPECT_EQ(loop->counters().frames_classified, 5u);  // frames 0..4
  EXPECT_EQ(loop->counters().safe_mode_frames, 3u);   // frames 5..7: thumbnails and catalog only
  EXPECT_EQ(loop->catalog().Find(6)->class_id, kUnclassified);
  EXPECT_FALSE(loop->fault().pipeline_restart_requested());
}

TEST_F(FlightLoopTest, AStageThatOverrunsTwiceInARowRestartsThePipeline) {
  SlowInference hooks;
  hooks.runner.clock = &clock_;
  hooks.slow = {1, 2};
  auto loop = Make(Yaml(), "out", std::make_unique<FakeCamera>(Mixed(8)), &hooks);
  ASSERT_TRUE(loop);
  EXPECT_EQ(loop->Run(nullptr), StopReason::kRestart);
  EXPECT_EQ(loop->counters().frames_attempted, 3u);
  EXPECT_EQ(loop->catalog().size(), 3u);  // the late frames were still recorded
  EXPECT_EQ(loop->fault().Summary().missed_deadlines, 2u);
  EXPECT_EQ(loop->fault().Summary().stage_restarts, 1u);
  // Not a clean shutdown: the next start counts it as a reset.
  ASSERT_TRUE(loop->Finish().ok());
  loop.reset();
  auto again = Make(Yaml(), "out", std::make_unique<FakeCamera>(Mixed(8)));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->fault().Summary().resets_in_window, 1u);
  EXPECT_EQ(again->next_frame_id(), 3u);
}

// Per frame: what the classification produced, without timing, hashes or the vote.
std::vector<std::string> Decisions(const std::vector<nlohmann::json>& lines) {
  std::vector<std::string> out;
  for (nlohmann::json j : lines) {
    for (const char* k : {"stage_ms", "config", "vote"}) j.erase(k);
    out.push_back(j.dump());
  }
  return out;
}

TEST_F(FlightLoopTest, DmrAndTmrChangeNoDecisionOnACleanRun) {
  const std::map<std::string, std::string> modes = {
      {"none", ""},
      {"dmr", "fault: {redundancy: dmr, separate_weight_copy: true}\n"},
      {"tmr", "fault: {redundancy: tmr, separate_weight_copy: true}\n"},
      {"dmr_shared", "fault: {redundancy: dmr}\n"}};
  std::map<std::string, std::vector<std::string>> decisions;
  for (const auto& [name, extra] : modes) {
    auto loop = Make(Yaml(extra), name);  // the simulated orbit: every class, kept and discarded frames
    ASSERT_TRUE(loop);
    for (int i = 0; i < 4; ++i) {  // warm-up, as in SteadyStateFrameStepDoesNotAllocate
      loop->Step();
      loop->BetweenFrames();
    }
    size_t allocations = 0;
    {
      triage::testing::AllocGuard guard;
      for (int i = 0; i < 20; ++i) {
        loop->Step();
        loop->BetweenFrames();
      }
      allocations = guard.count();
    }
    EXPECT_EQ(allocations, 0u) << name;
    const FaultSummary f = loop->fault().Summary();
    EXPECT_EQ(f.runs, loop->counters().frames_classified) << name;
    EXPECT_EQ(f.disagreements, 0u) << name;
    EXPECT_EQ(loop->counters().frames_unverified, 0u) << name;
    const auto lines = Telemetry(dir_ + "/" + name + "/telemetry.jsonl");
    ASSERT_EQ(lines.size(), 24u) << name;
    for (const auto& j : lines) {
      if (j.contains("class")) {
        EXPECT_EQ(j["vote"], name == "none" ? "single" : "agreed") << name;
      }
    }
    decisions[name] = Decisions(lines);
  }
  EXPECT_EQ(decisions["dmr"], decisions["none"]);
  EXPECT_EQ(decisions["tmr"], decisions["none"]);
  EXPECT_EQ(decisions["dmr_shared"], decisions["none"]);
}

// A stuck upset in the guard's weight copies, re-applied before every
// inference (and repaired by the scrubber after it): one bad replica is
// outvoted; two replicas that disagree with each other and with the clean
// one leave no majority, and the frame is kept thumbnail-only and marked,
// never decided from an unverified output.
class CorruptReplicas : public FlightHooks {
 public:
  void OnStageBegin(FlightStage stage, uint64_t) noexcept override {
    if (stage != FlightStage::kInfer || store == nullptr) return;
    for (int copy = 1; copy <= copies; ++copy) {
      // The optimized kernels read the FC bias folded into the replica's
      // packed weights; the reference kernels read it from the model copy.
      int32_t* bias = nullptr;
      if (invoker != nullptr) {
        for (const inference::PackedRegion& r : invoker->replica(copy).packed_regions()) {
          if (r.source.n != 5) continue;  // the FC: 5 classes
          bias = reinterpret_cast<int32_t*>(const_cast<uint8_t*>(r.data) + sizeof(kernels::optimized::PackedGemm));
        }
      }
      if (bias == nullptr) {
        for (const fault::WeightBuffer& w : store->weight_buffers()) {
          if (w.bytes == 4 * 5) bias = reinterpret_cast<int32_t*>(store->bytes(copy).data() + w.offset);
        }
      }
      if (bias == nullptr) continue;
      int32_t v[5];
      std::memcpy(v, bias, sizeof(v));
      v[copy == 1 ? 0 : 4] += 1 << 24;  // copy 1 says black, copy 2 says white
      std::memcpy(bias, v, sizeof(v));
      ++corrupted;
    }
  }
  fault::ModelStore* store = nullptr;
  fault::RedundantInvoker* invoker = nullptr;
  int copies = 1;
  int corrupted = 0;
};

TEST_F(FlightLoopTest, AStuckReplicaIsOutvotedAndNoMajorityKeepsTheFrameThumbnailOnlyAndMarked) {
  const std::vector<FakeCamera::Colour> land(6, FakeCamera::kLand);
  const std::string fault = "fault: {redundancy: dmr, separate_weight_copy: true}\n";
  CorruptReplicas hooks;
  auto loop = Make(Yaml(fault), "out", std::make_unique<FakeCamera>(land), &hooks);
  ASSERT_TRUE(loop);
  hooks.store = &loop->fault().guard().model_store();
  hooks.invoker = &loop->fault().guard().invoker();
  ASSERT_EQ(hooks.store->copies(), 3);

  // One stuck replica: outvoted, the decision is the clean one.
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(loop->Step(), StepOutcome::kProcessed);
    loop->BetweenFrames();
    EXPECT_STREQ(loop->last_record().vote, "corrected");
    EXPECT_STREQ(loop->last_record().decision, "full");
    EXPECT_STREQ(loop->last_record().class_name, "land");
  }
  ASSERT_EQ(hooks.corrupted, 3) << "the bias buffer was not found";
  FaultSummary f = loop->fault().Summary();
  EXPECT_EQ(f.corrected, 3u);
  EXPECT_EQ(f.no_majority, 0u);
  EXPECT_GE(f.scrub_repairs, 3u);  // the scrubber restored the copy (or packed weights) after each frame

  // Two replicas stuck in different ways: no majority.
  hooks.copies = 2;
  for (int i = 3; i < 6; ++i) {
    ASSERT_EQ(loop->Step(), StepOutcome::kProcessed);
    loop->BetweenFrames();
    const FrameRecord& r = loop->last_record();
    EXPECT_STREQ(r.vote, "no_majority");
    EXPECT_TRUE(r.unverified);
    EXPECT_STREQ(r.decision, "thumbnail");
    EXPECT_STREQ(r.reason, "unverified");
    EXPECT_EQ(r.class_name, nullptr);  // no class from an unverified output
    ASSERT_EQ(r.product_count, 1);
    EXPECT_STREQ(r.products[0].kind, "thumbnail");
    const downlink::CatalogRow* row = loop->catalog().Find(static_cast<uint64_t>(i));
    ASSERT_NE(row, nullptr);
    EXPECT_EQ(row->class_id, kUnclassified);
    EXPECT_EQ(row->decision, 1);
  }
  f = loop->fault().Summary();
  EXPECT_EQ(f.no_majority, 3u);
  EXPECT_EQ(f.disagreements, 6u);
  EXPECT_EQ(loop->counters().frames_unverified, 3u);
  EXPECT_EQ(loop->counters().frames_classified, 3u);
  EXPECT_EQ(loop->counters().kept_full, 3u);  // only the verified frames
  EXPECT_EQ(loop->events().CountOf(kEventFrameUnverified), 3u);
  for (const downlink::QueueItem& item : loop->queue().items()) {
    if (item.meta.frame_id >= 3) {
      EXPECT_EQ(item.meta.kind, downlink::ProductKind::kThumbnail);
      EXPECT_EQ(item.meta.class_id, kUnclassified);
    }
  }
  const auto lines = Telemetry(dir_ + "/out/telemetry.jsonl");
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[4]["vote"], "no_majority");
  EXPECT_EQ(lines[4]["unverified"], true);
  EXPECT_FALSE(lines[4].contains("class"));
  const nlohmann::json summary = nlohmann::json::parse(SummaryJson(*loop, StopReason::kEndOfInput));
  EXPECT_EQ(summary["fault"]["no_majority"], 3);
  EXPECT_EQ(summary["fault"]["frames_unverified"], 3);
  EXPECT_NE(FormatSummaryTable(*loop, StopReason::kEndOfInput).find("unverified             3 frames"),
            std::string::npos);
}

TEST_F(FlightLoopTest, ModelThatFailsVerificationAtStartRefusesToStart) {
  const config::LoadedConfig loaded = Load(Yaml());
  WriteFile(model_, std::string(2048, 'z'));  // replaced after validation
  FlightOptions o;
  o.out_dir = dir_ + "/out";
  o.clock = &clock_;
  Result<std::unique_ptr<FlightLoop>> loop = FlightLoop::Create(loaded, o);
  ASSERT_FALSE(loop.ok());
  EXPECT_NE(std::string(loop.status().message()).find("fails verification"), std::string::npos)
      << loop.status().message();
}

TEST_F(FlightLoopTest, ConfigWithProblemsNeverStarts) {
  config::LoadOptions lo;
  lo.base_dir = dir_;
  config::LoadedConfig bad = config::ParseMission(Yaml() + "bogus: 1\n", "bad.yaml", lo);
  ASSERT_FALSE(bad.ok());
  FlightOptions o;
  o.out_dir = dir_ + "/never";
  Result<std::unique_ptr<FlightLoop>> loop = FlightLoop::Create(std::move(bad), o);
  EXPECT_FALSE(loop.ok());
  struct stat st;
  EXPECT_NE(::stat((dir_ + "/never").c_str(), &st), 0);
}

}  // namespace
}  // namespace triage::app
