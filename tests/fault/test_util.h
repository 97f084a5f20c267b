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

// A fresh directory under $TMPDIR (or /tmp), removed by the destructor.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/triage_fault_XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    const char* made = ::mkdtemp(buf.data());
    path_ = made != nullptr ? made : "";
  }
  ~TempDir() {
    if (!path_.empty()) (void)std::system(("rm -rf '" + path_ + "'").c_str());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes);
std::vector<uint8_t> ReadBytes(const std::string& path);

}  // namespace triage::fault::testing

#endif  // TRIAGE_TESTS_FAULT_TEST_UTIL_H_
