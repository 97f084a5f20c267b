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

#include "bench/bench_models.h"
#include "bench/proc_memory.h"
#include "inference/interpreter.h"
#include "inference/introspection.h"
#include "inference/model.h"
#include "inference/op_resolver.h"
#include "kernels/kernel_table.h"


namespace triage::bench {
namespace {

using inference::Interpreter;
using inference::InterpreterOptions;
using inference::Model;
using inference::OpResolver;
using inference::TensorView;
using kernels::DataType;
using kernels::KernelSet;

constexpr KernelSet kKernelSets[] = {KernelSet::kReference, KernelSet::kOptimized};

void SkipWithStatus(benchmark::State& state, const char* what, const Status& status) {
  const std::string msg = std::string(what) + ": " + StatusCodeName(status.code()) + ": " + status.message();
  state.SkipWithError(msg.c_str());
}

void BM_Invoke(benchmark::State& state, const ModelCase& model_case, KernelSet kernel_set, int threads) {
  std::string path;
  if (const std::string skip = FindModel(model_case, &path); !skip.empty()) {
    state.SkipWithError(skip.c_str());
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
  options.threads = threads;
  Interpreter interp(*model, resolver, options);
  if (Status s = interp.PrepareAndAllocate(); !s.ok()) return SkipWithStatus(state, "PrepareAndAllocate", s);
  for (size_t i = 0; i < interp.num_inputs(); ++i) {
    {
      const TensorView in = interp.input(i);
      FillDeterministic(in.data, in.bytes, in.type, 0x7153u + static_cast<uint32_t>(i));
    }
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
  state.counters["threads"] = Counter(static_cast<double>(interp.threads()));
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

void RegisterAll(bool user_min_time) {
  for (const ModelCase& model_case : kModels) {
    for (KernelSet set : kKernelSets) {
      // The optimized set also on both cores (the flight computer has two).
      for (int threads : {1, 2}) {
        if (threads > 1 && set == KernelSet::kReference) continue;
        std::string name = std::string("Invoke/") + model_case.name + "/" + kernels::KernelSetName(set);
        if (threads > 1) name += "/" + std::to_string(threads) + "T";
        benchmark::internal::Benchmark* b =
            benchmark::RegisterBenchmark(name.c_str(), BM_Invoke, model_case, set, threads);
        b->Unit(benchmark::kMillisecond)->UseRealTime()->ComputeStatistics("min", &MinOf)->ComputeStatistics(
            "max", &MaxOf);
        if (!user_min_time) b->MinTime(kDefaultMinTimeSeconds);
      }
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
