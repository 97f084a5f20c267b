// What the model benchmarks share (interpreter_bench.cc and its XNNPACK
// peer, xnnpack_bench.cc): the model list, where the models are, the
// deterministic input fill and the harness helpers, so both time the same
// models on the same bytes.
#ifndef TRIAGE_BENCH_BENCH_MODELS_H_
#define TRIAGE_BENCH_BENCH_MODELS_H_

#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/types.h"

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

constexpr double kDefaultMinTimeSeconds = 1.0;

struct ModelCase {
  const char* name;  // benchmark name component
  const char* file;  // under <shared>/models/, or the repository's models/ when in_repo
  bool in_repo = false;
  bool quantized = true;
};

// Smallest first, so a partial run still covers the cheap models.
constexpr ModelCase kModels[] = {
    {"triage_int8", "triage_int8.tflite", true},
    {"triage_float", "triage_float.tflite", true, false},
    {"person_detect", "person_detect.tflite"},
    {"mobilenet_v1_0.25_128_quant", "mobilenet_v1_0.25_128_quant.tflite"},
    {"mobilenet_v1_0.5_160_quant", "mobilenet_v1_0.5_160_quant.tflite"},
    {"mobilenet_v2_1.0_224_quant", "mobilenet_v2_1.0_224_quant.tflite"},
    {"tf2_mobilenet_v2_1.0_224_ptq", "tf2_mobilenet_v2_1.0_224_ptq.tflite"},
};

inline bool IsDir(const std::string& path) {
  struct stat st;
  return !path.empty() && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

inline bool IsFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// $TRIAGE_SHARED_DIR if set, else the directory configured at build time.
inline std::string SharedDir() {
  if (const char* env = std::getenv("TRIAGE_SHARED_DIR")) return env;
  return TRIAGE_SHARED_DIR;
}

// The model's path in *path, or a one-line reason to skip it.
inline std::string FindModel(const ModelCase& model_case, std::string* path) {
  const std::string shared = SharedDir();
  *path = (model_case.in_repo ? std::string(TRIAGE_SOURCE_DIR) : shared) + "/models/" + model_case.file;
  if (!model_case.in_repo && !IsDir(shared)) {
    return "shared directory '" + shared + "' not found; set TRIAGE_SHARED_DIR to the directory holding models/";
  }
  if (!IsFile(*path)) return "model not found: " + *path + " (skipped)";
  return "";
}

// Same bytes on every run and every machine (a fixed LCG, not <random>).
// Float inputs get values in [-1, 1); integer inputs get raw bytes.
// Input i is filled with seed 0x7153 + i.
inline void FillDeterministic(uint8_t* data, size_t bytes, kernels::DataType type, uint32_t seed) {
  uint32_t x = seed;
  auto next = [&x]() {
    x = x * 1664525u + 1013904223u;
    return x;
  };
  if (type == kernels::DataType::kFloat32) {
    float* p = reinterpret_cast<float*>(data);
    const size_t n = bytes / sizeof(float);
    for (size_t i = 0; i < n; ++i) p[i] = static_cast<float>(next() >> 8) / 8388608.0f - 1.0f;
  } else {
    for (size_t i = 0; i < bytes; ++i) data[i] = static_cast<uint8_t>(next() >> 24);
  }
}

inline double MinOf(const std::vector<double>& v) { return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end()); }
inline double MaxOf(const std::vector<double>& v) { return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()); }

// True when argv holds --flag or --flag=value.
inline bool HasFlag(int argc, char** argv, const char* flag) {
  const size_t len = std::strlen(flag);
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], flag, len) == 0 && (argv[i][len] == '=' || argv[i][len] == '\0')) return true;
  }
  return false;
}

}  // namespace triage::bench

#endif  // TRIAGE_BENCH_BENCH_MODELS_H_
