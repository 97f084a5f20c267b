// Overhead of the fault layer per inference: RedundantInvoker::Run in each
// redundancy mode (none, dmr, tmr, crosscheck), plus one scrubber step and
// one health check, so that docs/RELIABILITY.md can state what each mode
// costs.
//
// Benchmarks:
//   FaultRun/<model>/<mode>      one clean Run (dmr and crosscheck: 2 invocations,
//                                tmr: 3); separate weight copies per replica, as
//                                recommended for flight
//   ScrubStep/<model>/<bytes>    one Scrubber::Step over all copies (3 copies)
//   HealthCheck                  five heartbeats + HealthMonitor::Check
// Models: "synthetic" (fault/synthetic_model.h, always available),
// mobilenet_v1_0.25_128_quant from $TRIAGE_SHARED_DIR/models, and the flight
// model models/triage_int8.tflite when it exists. A missing model is reported
// with SkipWithError; the binary still exits 0.
//
// Counters: invocations (interpreter runs per Run), arena_bytes (all
// replicas), model_copies, copy_bytes (the model image memory of all copies).
// Wall time (UseRealTime), one thread; the same deterministic synthetic frame
// on every iteration, after one untimed warm-up Run.
//
//   build/release/bench/triage_bench_fault --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// Exact cost, independent of machine load: --runs-only=N --only=<model>/<mode>
// skips the timing harness and calls Run N times on that configuration, for
// an instruction count under valgrind:
//   valgrind --tool=callgrind --toggle-collect='triage::fault::RedundantInvoker::Run()'
//     build/release/bench/triage_bench_fault --runs-only=2 --only=triage_int8/tmr
// (instructions per Run = the "Collected" total / N).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <sys/stat.h>

#include "core/clock.h"
#include "fault/fault_config.h"
#include "fault/health_monitor.h"
#include "fault/model_store.h"
#include "fault/redundant_invoker.h"
#include "fault/scrubber.h"
#include "fault/synthetic_model.h"
#include "inference/op_resolver.h"

#ifndef TRIAGE_SHARED_DIR
#define TRIAGE_SHARED_DIR ""
#endif
#ifndef TRIAGE_SOURCE_DIR
#define TRIAGE_SOURCE_DIR "."
#endif
#ifndef TRIAGE_BUILD_TYPE
#define TRIAGE_BUILD_TYPE "unknown"
#endif

namespace triage::bench {
namespace {

using fault::RedundancyMode;

std::string SharedDir() {
  if (const char* env = std::getenv("TRIAGE_SHARED_DIR")) return env;
  return TRIAGE_SHARED_DIR;
}

struct ModelCase {
  const char* name;
  std::string path;  // "" = synthetic
};

std::vector<ModelCase> Models() {
  return {{"synthetic", ""},
          {"mobilenet_v1_0.25_128_quant", SharedDir() + "/models/mobilenet_v1_0.25_128_quant.tflite"},
          {"triage_int8", std::string(TRIAGE_SOURCE_DIR) + "/models/triage_int8.tflite"}};
}

bool IsFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<std::unique_ptr<fault::ModelStore>> LoadStore(const ModelCase& m, int copies) {
  if (m.path.empty()) {
    const std::vector<uint8_t> bytes = fault::BuildSyntheticClassifier();
    return fault::ModelStore::FromBytes(Span<const uint8_t>(bytes), copies);
  }
  fault::ModelStoreOptions o;
  o.path = m.path;
  o.copies = copies;
  return fault::ModelStore::Load(o);
}

void Skip(benchmark::State& state, const char* what, const Status& s) {
  state.SkipWithError((std::string(what) + ": " + s.message()).c_str());
}

void BM_FaultRun(benchmark::State& state, ModelCase m, RedundancyMode mode) {
  if (!m.path.empty() && !IsFile(m.path)) {
    state.SkipWithError(("model not found: " + m.path + " (skipped)").c_str());
    return;
  }
  const int copies = mode == RedundancyMode::kNone ? 1 : fault::kMaxModelCopies;
  auto store = LoadStore(m, copies);
  if (!store.ok()) return Skip(state, "load", store.status());
  inference::OpResolver resolver;
  if (Status s = inference::AddAllBuiltinOps(resolver); !s.ok()) return Skip(state, "resolver", s);
  const inference::Model* models[fault::kMaxModelCopies];
  for (int c = 0; c < copies; ++c) models[c] = &(*store)->model(c);
  fault::InvokerOptions o;
  o.mode = mode;
  auto inv = fault::RedundantInvoker::Create(Span<const inference::Model* const>(models, static_cast<size_t>(copies)),
                                             resolver, o);
  if (!inv.ok()) return Skip(state, "invoker", inv.status());
  const inference::TensorView in = (*inv)->input_view(0);
  const bool nhwc = in.shape.rank == 4;
  fault::FillSyntheticFrame((*inv)->input(0).data(), in.bytes, nhwc ? in.shape.dims[1] : 0,
                            nhwc ? in.shape.dims[2] : 0, nhwc ? in.shape.dims[3] : 0,
                            in.type == kernels::DataType::kInt8, 1);
  if (!(*inv)->Run().usable()) {
    state.SkipWithError("warm-up run not usable");
    return;
  }
  const uint64_t before = (*inv)->counters().invocations;
  for (auto _ : state) {
    const fault::RunResult r = (*inv)->Run();
    benchmark::DoNotOptimize(r.winner);
  }
  using benchmark::Counter;
  const double runs = static_cast<double>(state.iterations());
  state.counters["invocations"] =
      Counter(runs > 0 ? static_cast<double>((*inv)->counters().invocations - before) / runs : 0.0);
  state.counters["arena_bytes"] =
      Counter(static_cast<double>((*inv)->arena_bytes_total()), Counter::kDefaults, Counter::kIs1024);
  state.counters["model_copies"] = Counter(copies);
  state.counters["copy_bytes"] =
      Counter(static_cast<double>((*store)->size() * static_cast<size_t>(copies)), Counter::kDefaults, Counter::kIs1024);
}

void BM_ScrubStep(benchmark::State& state, ModelCase m, uint32_t bytes_per_step) {
  if (!m.path.empty() && !IsFile(m.path)) {
    state.SkipWithError(("model not found: " + m.path + " (skipped)").c_str());
    return;
  }
  auto store = LoadStore(m, fault::kMaxModelCopies);
  if (!store.ok()) return Skip(state, "load", store.status());
  fault::ScrubberOptions o;
  o.bytes_per_step = bytes_per_step;
  auto scrubber = fault::Scrubber::Create(**store, o, nullptr);
  if (!scrubber.ok()) return Skip(state, "scrubber", scrubber.status());
  for (auto _ : state) {
    const fault::ScrubStepResult r = (*scrubber)->Step();
    benchmark::DoNotOptimize(r.bytes_checked);
  }
  state.counters["period_steps"] = benchmark::Counter(static_cast<double>((*scrubber)->period_steps()));
  state.SetBytesProcessed(static_cast<int64_t>((*scrubber)->stats().bytes_checked));
}

void BM_HealthCheck(benchmark::State& state) {
  fault::Config c;
  SteadyClock& clock = SteadyClock::Instance();
  fault::HealthMonitor monitor(c, clock, nullptr, nullptr);
  monitor.Start();
  uint64_t key = 0;
  for (auto _ : state) {
    ++key;
    for (int s = 0; s < fault::kStageCount; ++s) monitor.Heartbeat(static_cast<fault::Stage>(s), key);
    const fault::HealthReport r = monitor.Check();
    benchmark::DoNotOptimize(r.healthy);
  }
}

// --runs-only: builds one configuration and calls Run n times.
int RunsOnly(int n, const std::string& only) {
  const RedundancyMode modes[] = {RedundancyMode::kNone, RedundancyMode::kDmr, RedundancyMode::kTmr,
                                  RedundancyMode::kCrossCheck};
  for (const ModelCase& m : Models()) {
    for (RedundancyMode mode : modes) {
      if (only != std::string(m.name) + "/" + fault::RedundancyModeName(mode)) continue;
      const int copies = mode == RedundancyMode::kNone ? 1 : fault::kMaxModelCopies;
      auto store = LoadStore(m, copies);
      if (!store.ok()) {
        std::fprintf(stderr, "%s\n", store.status().message());
        return 1;
      }
      inference::OpResolver resolver;
      (void)inference::AddAllBuiltinOps(resolver);
      const inference::Model* models[fault::kMaxModelCopies];
      for (int c = 0; c < copies; ++c) models[c] = &(*store)->model(c);
      fault::InvokerOptions o;
      o.mode = mode;
      auto inv = fault::RedundantInvoker::Create(
          Span<const inference::Model* const>(models, static_cast<size_t>(copies)), resolver, o);
      if (!inv.ok()) {
        std::fprintf(stderr, "%s\n", inv.status().message());
        return 1;
      }
      const inference::TensorView in = (*inv)->input_view(0);
      const bool nhwc = in.shape.rank == 4;
      fault::FillSyntheticFrame((*inv)->input(0).data(), in.bytes, nhwc ? in.shape.dims[1] : 0,
                                nhwc ? in.shape.dims[2] : 0, nhwc ? in.shape.dims[3] : 0,
                                in.type == kernels::DataType::kInt8, 1);
      for (int i = 0; i < n; ++i) (void)(*inv)->Run();
      std::printf("%s: %d runs, %llu interpreter invocations\n", only.c_str(), n,
                  static_cast<unsigned long long>((*inv)->counters().invocations));
      return 0;
    }
  }
  std::fprintf(stderr, "--only=%s: no such <model>/<mode>\n", only.c_str());
  return 2;
}

void RegisterAll() {
  const RedundancyMode modes[] = {RedundancyMode::kNone, RedundancyMode::kDmr, RedundancyMode::kTmr,
                                  RedundancyMode::kCrossCheck};
  for (const ModelCase& m : Models()) {
    for (RedundancyMode mode : modes) {
      const std::string name = std::string("FaultRun/") + m.name + "/" + fault::RedundancyModeName(mode);
      benchmark::RegisterBenchmark(name.c_str(), BM_FaultRun, m, mode)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
    const std::string scrub = std::string("ScrubStep/") + m.name + "/65536";
    benchmark::RegisterBenchmark(scrub.c_str(), BM_ScrubStep, m, 65536u)->Unit(benchmark::kMicrosecond)->UseRealTime();
  }
  benchmark::RegisterBenchmark("HealthCheck", BM_HealthCheck)->Unit(benchmark::kNanosecond);
}

}  // namespace
}  // namespace triage::bench

int main(int argc, char** argv) {
  int runs_only = 0;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--runs-only=", 0) == 0) runs_only = std::atoi(a.c_str() + 12);
    if (a.rfind("--only=", 0) == 0) only = a.substr(7);
  }
  if (runs_only > 0) return triage::bench::RunsOnly(runs_only, only);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("triage_build_type", TRIAGE_BUILD_TYPE);
  triage::bench::RegisterAll();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
