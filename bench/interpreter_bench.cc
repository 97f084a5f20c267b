// Interpreter::Invoke latency over the shared models, per kernel set.
//
// One benchmark per (model, kernel set), named "Invoke/<model>/<kernel set>".
// Each run loads the model, prepares and allocates the interpreter, fills
// every input with the same deterministic bytes, does one untimed warm-up
// Invoke (page faults, caches), then times Invoke on one thread. Wall time is
// the measure (UseRealTime): it is the latency the frame loop sees.
//
// Counters (JSON keys, used by scripts/bench_table.py):
//   macs_per_s          TotalMacs(model) x iterations / wall time
//   macs                TotalMacs(model), per Invoke
//   arena_bytes         Interpreter::arena_bytes() (planned activations)
//   op_data_bytes       Interpreter::op_data_bytes() (per-op precomputed data)
//   weight_bytes        Model::weight_bytes() (constant tensors, read in place)
//   peak_rss_bytes      VmHWM after the timed loop. The high-water mark is
//                       reset (/proc/self/clear_refs) before the model is
//                       loaded, so it covers this benchmark only: the process
//                       baseline + the model file + arena + op data.
//   baseline_rss_bytes  VmRSS just before the model was loaded.
//
// Iterations: every benchmark runs for at least kDefaultMinTimeSeconds of
// wall time (MobileNet v2 224 in reference kernels: ~2-6 Invokes); pass
// --benchmark_min_time to override. Repetitions come from the command line:
//   --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
// reports mean, median, stddev, cv, plus "min" and "max" over repetitions.
//
// Missing models (or a missing shared directory) are reported per benchmark
// with SkipWithError; the binary itself still runs and exits 0.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sys/stat.h>

#include "bench/proc_memory.h"
#include "inference/interpreter.h"
#include "inference/introspection.h"
#include "inference/model.h"
#include "inference/op_resolver.h"
#include "kernels/kernel_table.h"

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

using inference::Interpreter;
using inference::InterpreterOptions;
using inference::Model;
using inference::OpResolver;
using inference::TensorView;
using kernels::DataType;
using kernels::KernelSet;

constexpr double kDefaultMinTimeSeconds = 1.0;

struct ModelCase {
  const char* name;  // benchmark name component
  const char* file;  // under <shared>/models/, or the repository's models/ when in_repo
  bool in_repo = false;
};

// Smallest first, so a partial run still covers the cheap models.
constexpr ModelCase kModels[] = {
    {"triage_int8", "triage_int8.tflite", true},
    {"triage_float", "triage_float.tflite", true},
    {"person_detect", "person_detect.tflite"},
    {"mobilenet_v1_0.25_128_quant", "mobilenet_v1_0.25_128_quant.tflite"},
    {"mobilenet_v1_0.5_160_quant", "mobilenet_v1_0.5_160_quant.tflite"},
    {"mobilenet_v2_1.0_224_quant", "mobilenet_v2_1.0_224_quant.tflite"},
    {"tf2_mobilenet_v2_1.0_224_ptq", "tf2_mobilenet_v2_1.0_224_ptq.tflite"},
};

constexpr KernelSet kKernelSets[] = {KernelSet::kReference, KernelSet::kOptimized};

bool IsDir(const std::string& path) {
  struct stat st;
  return !path.empty() && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool IsFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// $TRIAGE_SHARED_DIR if set, else the directory configured at build time.
std::string SharedDir() {
  if (const char* env = std::getenv("TRIAGE_SHARED_DIR")) return env;
  return TRIAGE_SHARED_DIR;
}

// Same bytes on every run and every machine (a fixed LCG, not <random>).
// Float inputs get values in [-1, 1); integer inputs get raw bytes.
void FillDeterministic(const TensorView& t, uint32_t seed) {
  uint32_t x = seed;
  auto next = [&x]() {
    x = x * 1664525u + 1013904223u;
    return x;
  };
  if (t.type == DataType::kFloat32) {
    float* p = t.As<float>();
    const size_t n = t.bytes / sizeof(float);
    for (size_t i = 0; i < n; ++i) p[i] = static_cast<float>(next() >> 8) / 8388608.0f - 1.0f;
  } else {
    for (size_t i = 0; i < t.bytes; ++i) t.data[i] = static_cast<uint8_t>(next() >> 24);
  }
}

void SkipWithStatus(benchmark::State& state, const char* what, const Status& status) {
  const std::string msg = std::string(what) + ": " + StatusCodeName(status.code()) + ": " + status.message();
  state.SkipWithError(msg.c_str());
}

void BM_Invoke(benchmark::State& state, const ModelCase& model_case, KernelSet kernel_set) {
  const std::string shared = SharedDir();
  const std::string path =
      (model_case.in_repo ? std::string(TRIAGE_SOURCE_DIR) : shared) + "/models/" + model_case.file;
  if (!model_case.in_repo && !IsDir(shared)) {
    const std::string msg = "shared directory '" + shared +
                            "' not found; set TRIAGE_SHARED_DIR to the directory holding models/";
    state.SkipWithError(msg.c_str());
    return;
  }
  if (!IsFile(path)) {
    const std::string msg = "model not found: " + path + " (skipped)";
    state.SkipWithError(msg.c_str());
    return;
  }

  ReleaseFreedMemory();
  (void)ResetPeakRss();
  const size_t baseline_rss = ProcStatusBytes("VmRSS");

  auto file = inference::ReadFileAligned(path);
  if (!file.ok()) return SkipWithStatus(state, "read model", file.status());
  auto model = Model::Create(file->span());
  if (!model.ok()) return SkipWithStatus(state, "Model::Create", model.status());
  OpResolver resolver;
  if (Status s = inference::AddAllBuiltinOps(resolver); !s.ok()) {
    return SkipWithStatus(state, "AddAllBuiltinOps", s);
  }
  InterpreterOptions options;
  options.kernel_set = kernel_set;
  Interpreter interp(*model, resolver, options);
  if (Status s = interp.PrepareAndAllocate(); !s.ok()) return SkipWithStatus(state, "PrepareAndAllocate", s);
  for (size_t i = 0; i < interp.num_inputs(); ++i) {
    FillDeterministic(interp.input(i), 0x7153u + static_cast<uint32_t>(i));
  }
  if (Status s = interp.Invoke(); !s.ok()) return SkipWithStatus(state, "warm-up Invoke", s);

  for (auto _ : state) {
    Status s = interp.Invoke();
    if (!s.ok()) {
      SkipWithStatus(state, "Invoke", s);
      break;
    }
  }

  const double macs = static_cast<double>(inference::TotalMacs(*model));
  using benchmark::Counter;
  state.counters["macs_per_s"] = Counter(macs, Counter::kIsIterationInvariantRate);
  state.counters["macs"] = Counter(macs);
  state.counters["arena_bytes"] =
      Counter(static_cast<double>(interp.arena_bytes()), Counter::kDefaults, Counter::kIs1024);
  state.counters["op_data_bytes"] =
      Counter(static_cast<double>(interp.op_data_bytes()), Counter::kDefaults, Counter::kIs1024);
  state.counters["packed_bytes"] =
      Counter(static_cast<double>(interp.packed_bytes()), Counter::kDefaults, Counter::kIs1024);
  state.counters["weight_bytes"] =
      Counter(static_cast<double>(model->weight_bytes()), Counter::kDefaults, Counter::kIs1024);
  state.counters["peak_rss_bytes"] =
      Counter(static_cast<double>(ProcStatusBytes("VmHWM")), Counter::kDefaults, Counter::kIs1024);
  state.counters["baseline_rss_bytes"] =
      Counter(static_cast<double>(baseline_rss), Counter::kDefaults, Counter::kIs1024);
}

double MinOf(const std::vector<double>& v) { return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end()); }
double MaxOf(const std::vector<double>& v) { return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()); }

bool HasFlag(int argc, char** argv, const char* flag) {
  const size_t len = std::strlen(flag);
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], flag, len) == 0 && (argv[i][len] == '=' || argv[i][len] == '\0')) return true;
  }
  return false;
}

void RegisterAll(bool user_min_time) {
  for (const ModelCase& model_case : kModels) {
    for (KernelSet set : kKernelSets) {
      const std::string name = std::string("Invoke/") + model_case.name + "/" + kernels::KernelSetName(set);
      benchmark::internal::Benchmark* b = benchmark::RegisterBenchmark(name.c_str(), BM_Invoke, model_case, set);
      b->Unit(benchmark::kMillisecond)->UseRealTime()->ComputeStatistics("min", &MinOf)->ComputeStatistics(
          "max", &MaxOf);
      if (!user_min_time) b->MinTime(kDefaultMinTimeSeconds);
    }
  }
}

}  // namespace
}  // namespace triage::bench

int main(int argc, char** argv) {
  using namespace triage::bench;
  // A per-benchmark MinTime would override --benchmark_min_time; only set it
  // when the user did not ask for something else.
  const bool user_min_time = HasFlag(argc, argv, "--benchmark_min_time");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  const std::string shared = SharedDir();
  const bool rss_reset = ResetPeakRss();
  benchmark::AddCustomContext("triage_build_type", TRIAGE_BUILD_TYPE);
  benchmark::AddCustomContext("triage_shared_dir", shared);
  benchmark::AddCustomContext("triage_peak_rss",
                              rss_reset ? "per benchmark (VmHWM reset before each model load)"
                                        : "process lifetime (cannot reset VmHWM)");
  if (!IsDir(shared)) {
    std::fprintf(stderr,
                 "triage_bench_interpreter: shared directory '%s' not found; every benchmark will be "
                 "skipped. Set TRIAGE_SHARED_DIR to the directory holding models/.\n",
                 shared.c_str());
  }
  RegisterAll(user_min_time);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
