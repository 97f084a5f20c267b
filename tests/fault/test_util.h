// Shared helpers for fault/ tests: a synthetic model in a store, seeded
// inputs, temporary directories.
#ifndef TRIAGE_TESTS_FAULT_TEST_UTIL_H_
#define TRIAGE_TESTS_FAULT_TEST_UTIL_H_

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/span.h"
#include "fault/synthetic_model.h"
#include "inference/interpreter.h"
#include "tests/support/temp_dir.h"

namespace triage::fault::testing {

// Deterministic bytes (LCG) for inputs.
inline void FillSeeded(Span<uint8_t> out, uint32_t seed) {
  uint32_t x = seed * 2654435761u + 1;
  for (auto& b : out) {
    x = x * 1664525u + 1013904223u;
    b = static_cast<uint8_t>(x >> 24);
  }
}

// An image-like frame for an NHWC input tensor view (data must be set).
inline void FillFrame(const inference::TensorView& v, uint8_t* data, uint32_t seed) {
  const bool nhwc = v.shape.rank == 4;
  FillSyntheticFrame(data, v.bytes, nhwc ? v.shape.dims[1] : 0, nhwc ? v.shape.dims[2] : 0,
                     nhwc ? v.shape.dims[3] : 0, v.type == kernels::DataType::kInt8, seed);
}

// A fresh directory removed with its contents (tests/support/temp_dir.h).
class TempDir : public triage::testing::TempDir {
 public:
  TempDir() : triage::testing::TempDir("triage_fault") {}
};

void WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes);
std::vector<uint8_t> ReadBytes(const std::string& path);

}  // namespace triage::fault::testing

#endif  // TRIAGE_TESTS_FAULT_TEST_UTIL_H_
