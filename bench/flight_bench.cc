// Flight loop throughput on 2448x2050 JPEG frames, split by stage, and the
// process's peak memory. Ground-side tool: it allocates and prints freely.
//
// Frames: 8 frames of the orbital simulator (2448x2050, q90, the sensor's
// format), written once to a temporary directory and replayed in a loop by
// DirectoryCamera (reads from the page cache: the stand-in for the sensor's
// DMA buffer). One benchmark per triage policy, each on a fresh output
// directory, each iteration one FlightLoop::Step() + BetweenFrames():
//
//   Flight/discarded/<model>   every frame discarded: capture, 1/4 DCT
//                              decode + 489x410 thumbnail, preprocess,
//                              infer, decide, catalog row (fdatasync),
//                              telemetry line. The issue's >= 10 frames/s
//                              target applies here.
//   Flight/thumbnail/<model>   every frame keeps its thumbnail (JPEG q85)
//   Flight/full/<model>        every frame kept at full resolution
//                              (full decode + JPEG q90) plus its thumbnail
//   Flight/discarded_dmr/<model>  as discarded, with fault.redundancy dmr
//                              and separate weight copies (two voted
//                              inferences, scrub step between frames)
//   Flight/discarded_2T, Flight/discarded_dmr_2T
//                              the same with model.threads 2 (each
//                              inference split over both cores)
// All run the mission default, the optimized kernels.
//
// <model> is models/triage_int8.tflite when present (or $TRIAGE_FLIGHT_MODEL),
// else "standin": a 128x128x3 int8 MEAN -> FC -> SOFTMAX model with the
// same input/output contract, whose inference cost is negligible.
//
// Counters (JSON keys; scripts/flight_bench_table.py prints them):
//   fps                  frames per second (iterations / wall time)
//   <stage>_ms           median per-frame time of each loop stage
//   peak_rss_bytes       VmHWM after the run (reset before setup when the
//                        kernel allows): shared libraries included
//   anon_rss_bytes       largest RssAnon sampled by the loop (its own heap
//                        and buffers, no shared libraries)
//   baseline_rss_bytes   VmRSS before the loop was created
#include <benchmark/benchmark.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>


#include "app/flight_loop.h"
#include "bench/proc_memory.h"
#include "config/mission.h"
#include "imaging/frame.h"
#include "imaging/simulated_camera.h"
#include "inference/model_writer.h"

#ifndef TRIAGE_SOURCE_DIR
#define TRIAGE_SOURCE_DIR "."
#endif
#ifndef TRIAGE_BUILD_TYPE
#define TRIAGE_BUILD_TYPE "unknown"
#endif

namespace triage::bench {
namespace {

constexpr int kFrames = 8;
std::string g_dir;         // temporary working directory
std::string g_frames_dir;  // the replayed JPEG frames
std::string g_model;       // model path
std::string g_model_name;  // "triage_int8", "standin", ...

void RemoveTree(const std::string& path) {
  const std::string cmd = "rm -rf '" + path + "'";
  (void)std::system(cmd.c_str());
}

bool IsFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// The model contract (int8 [1,128,128,3] scale 1/128 zp 0 -> int8 [1,5]
// softmax scale 1/256 zp -128, labels metadata) at negligible cost.
std::vector<uint8_t> StandInModel() {
  using inference::BuiltinOp;
  using inference::WriterTensor;
  using kernels::DataType;
  namespace w = inference::writer;
  const auto tensor = w::Tensor;
  const auto op = w::Operator;
  inference::ModelWriter m;
  const int in = m.AddTensor(tensor("input", DataType::kInt8, {1, 128, 128, 3}, 1.f / 128, 0));
  WriterTensor axis = tensor("axis", DataType::kInt32, {2}, 0, 0);
  const int32_t axes[2] = {1, 2};
  axis.data.assign(reinterpret_cast<const uint8_t*>(axes), reinterpret_cast<const uint8_t*>(axes) + 8);
  const int ai = m.AddTensor(axis);
  const int mean = m.AddTensor(tensor("mean", DataType::kInt8, {1, 1, 1, 3}, 1.f / 128, 0));
  m.AddOperator(op(BuiltinOp::kMean, {in, ai}, {mean}, w::Reducer{true}, 2));
  WriterTensor weights = tensor("fc_w", DataType::kInt8, {5, 3}, 1.f / 32, 0);
  const int8_t wv[15] = {-42, -42, -42, 16, 16, 26, 0, 0, 0, 19, 38, -48, 42, 42, 42};
  weights.data.assign(reinterpret_cast<const uint8_t*>(wv), reinterpret_cast<const uint8_t*>(wv) + 15);
  const int wi = m.AddTensor(weights);
  WriterTensor bias = tensor("fc_b", DataType::kInt32, {5}, 1.f / 4096, 0);
  const int32_t bv[5] = {-6144, 819, 0, 1229, -8192};
  bias.data.assign(reinterpret_cast<const uint8_t*>(bv), reinterpret_cast<const uint8_t*>(bv) + 20);
  const int bi = m.AddTensor(bias);
  const int logits = m.AddTensor(tensor("logits", DataType::kInt8, {1, 5}, 0.0625f, 0));
  m.AddOperator(op(BuiltinOp::kFullyConnected, {mean, wi, bi}, {logits}, w::FullyConnected{}, 4));
  const int probs = m.AddTensor(tensor("probs", DataType::kInt8, {1, 5}, 1.f / 256, -128));
  m.AddOperator(op(BuiltinOp::kSoftmax, {logits}, {probs}, w::Softmax{1.f}, 2));
  m.SetInputs({in});
  m.SetOutputs({probs});
  const std::string labels = "black\ncloud\ndistorted\nland\nwhite\n";
  m.AddMetadata("labels", std::vector<uint8_t>(labels.begin(), labels.end()));
  return m.Build();
}

// Renders the replayed frames once.
bool PrepareInputs() {
  char pattern[] = "/tmp/triage_flight_bench_XXXXXX";
  if (::mkdtemp(pattern) == nullptr) return false;
  g_dir = pattern;
  g_frames_dir = g_dir + "/frames";
  ::mkdir(g_frames_dir.c_str(), 0755);
  imaging::SimulatedCameraConfig sc;
  sc.seed = 5;
  sc.camera.frame_interval_us = 600'000'000;  // spread the frames over the orbit (day and night)
  Result<imaging::SimulatedCamera> cam = imaging::SimulatedCamera::Create(sc);
  imaging::FramePoolConfig pc;
  pc.frame_count = 1;
  pc.encoded_bytes = 8u << 20;
  Result<imaging::FramePool> pool = imaging::FramePool::Create(pc);
  if (!cam.ok() || !pool.ok()) return false;
  Result<imaging::Frame*> f = pool->Acquire();
  if (!f.ok()) return false;
  for (int i = 0; i < kFrames; ++i) {
    if (!cam->Capture(**f).ok()) return false;
    char name[64];
    std::snprintf(name, sizeof(name), "/frame_%02d.jpg", i);
    std::FILE* out = std::fopen((g_frames_dir + name).c_str(), "wb");
    if (out == nullptr) return false;
    std::fwrite((*f)->encoded.data(), 1, (*f)->encoded_size, out);
    std::fclose(out);
  }
  const char* env = std::getenv("TRIAGE_FLIGHT_MODEL");
  const std::string shipped = std::string(TRIAGE_SOURCE_DIR) + "/models/triage_int8.tflite";
  if (env != nullptr && IsFile(env)) {
    g_model = env;
    g_model_name = "custom";
  } else if (IsFile(shipped)) {
    g_model = shipped;
    g_model_name = "triage_int8";
  } else {
    g_model = g_dir + "/standin.tflite";
    g_model_name = "standin";
    const std::vector<uint8_t> bytes = StandInModel();
    std::FILE* out = std::fopen(g_model.c_str(), "wb");
    if (out == nullptr) return false;
    std::fwrite(bytes.data(), 1, bytes.size(), out);
    std::fclose(out);
  }
  return true;
}

enum class Policy { kDiscard, kThumbnail, kFull };

std::string MissionYaml(Policy policy, const std::string& fault, int threads) {
  std::string triage;
  switch (policy) {
    case Policy::kDiscard:
      triage = "  uncertain: {below_confidence: 0.0, min_margin: 0.0, action: discard}\n";
      break;
    case Policy::kThumbnail:
      triage = "  uncertain: {below_confidence: 1.0, min_margin: 0.0, action: thumbnail}\n";
      break;
    case Policy::kFull:
      triage = "  uncertain: {below_confidence: 1.0, min_margin: 0.0, action: full}\n";
      break;
  }
  return "mission: {name: bench}\n"
         "camera:\n"
         "  source: directory\n"
         "  directory: {path: " + g_frames_dir + ", loop: true}\n"
         "  pool_frames: 2\n"
         "  max_jpeg_bytes: 3145728\n"
         "thumbnail: {decode_buffer_bytes: 941868}\n"
         "model: {path: " + g_model + ", threads: " + std::to_string(threads) + "}\n"
         "triage:\n" + triage +
         "downlink:\n"
         "  full: {codec: jpeg, quality: 90}\n"
         "  thumbnail: {codec: jpeg, quality: 85}\n"
         "  passes: []\n"
         "logging: {progress_every_frames: 0, level: warn}\n" + fault;
}

void BM_Flight(benchmark::State& state, Policy policy, const std::string& fault, int threads, int case_index) {
  const std::string out = g_dir + "/out_" + std::to_string(case_index);
  RemoveTree(out);
  ReleaseFreedMemory();
  (void)ResetPeakRss();
  const size_t baseline = ProcStatusBytes("VmRSS");
  config::LoadOptions lo;
  config::LoadedConfig loaded = config::ParseMission(MissionYaml(policy, fault, threads), "bench.yaml", lo);
  if (!loaded.ok()) {
    state.SkipWithError(config::FormatProblem("bench.yaml", loaded.problems.front()).c_str());
    return;
  }
  app::FlightOptions options;
  options.out_dir = out;
  Result<std::unique_ptr<app::FlightLoop>> loop = app::FlightLoop::Create(std::move(loaded), options);
  if (!loop.ok()) {
    state.SkipWithError(loop.status().message());
    return;
  }
  for (int i = 0; i < 3; ++i) {  // warm-up: page cache, first-use buffers
    (*loop)->Step();
    (*loop)->BetweenFrames();
  }
  for (auto _ : state) {
    if ((*loop)->Step() == app::StepOutcome::kFailed) {
      state.SkipWithError("a frame failed");
      break;
    }
    (*loop)->BetweenFrames();
  }
  (void)(*loop)->Finish();
  using benchmark::Counter;
  state.counters["fps"] = Counter(1, Counter::kIsIterationInvariantRate);
  const app::StageTimes& t = (*loop)->stage_times();
  for (int i = 0; i < app::kFlightStageCount; ++i) {
    const auto stage = static_cast<app::FlightStage>(i);
    if (t.count(stage) == 0) continue;
    state.counters[std::string(app::FlightStageName(stage)) + "_ms"] = Counter(t.MedianMs(stage));
  }
  state.counters["peak_rss_bytes"] =
      Counter(static_cast<double>(ProcStatusBytes("VmHWM")), Counter::kDefaults, Counter::kIs1024);
  state.counters["anon_rss_bytes"] =
      Counter(static_cast<double>((*loop)->counters().peak_anon_bytes), Counter::kDefaults, Counter::kIs1024);
  state.counters["baseline_rss_bytes"] = Counter(static_cast<double>(baseline), Counter::kDefaults, Counter::kIs1024);
  state.counters["kept_full"] = Counter(static_cast<double>((*loop)->counters().kept_full));
  loop->reset();
  RemoveTree(out);
}

}  // namespace
}  // namespace triage::bench

int main(int argc, char** argv) {
  using namespace triage::bench;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::fprintf(stderr, "flight_bench: rendering %d simulated 2448x2050 frames...\n", kFrames);
  if (!PrepareInputs()) {
    std::fprintf(stderr, "flight_bench: cannot prepare the frames in /tmp\n");
    return 1;
  }
  benchmark::AddCustomContext("triage_build_type", TRIAGE_BUILD_TYPE);
  benchmark::AddCustomContext("triage_flight_model", g_model);
  const struct {
    const char* name;
    Policy policy;
    const char* fault;
    int threads;
  } kCases[] = {{"discarded", Policy::kDiscard, "", 1},
                {"thumbnail", Policy::kThumbnail, "", 1},
                {"full", Policy::kFull, "", 1},
                {"discarded_dmr", Policy::kDiscard, "fault: {redundancy: dmr, separate_weight_copy: true}\n", 1},
                {"discarded_2T", Policy::kDiscard, "", 2},
                {"discarded_dmr_2T", Policy::kDiscard, "fault: {redundancy: dmr, separate_weight_copy: true}\n", 2}};
  int index = 0;
  for (const auto& c : kCases) {
    const std::string name = std::string("Flight/") + c.name + "/" + g_model_name;
    benchmark::RegisterBenchmark(name.c_str(), BM_Flight, c.policy, std::string(c.fault), c.threads, index++)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MinTime(3.0);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  RemoveTree(g_dir);
  return 0;
}
