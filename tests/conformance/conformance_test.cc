// Runs every case of ../shared/reference (inputs fed to TensorFlow Lite and
// the outputs it gave) through our interpreter. Quantized outputs must be
// byte-identical; float outputs within 1e-5 relative. Every case runs with
// the reference and with the optimized kernel set. On a mismatch the failure
// names the model, the case, the kernel set and the first differing element;
// `triage-infer --dump-tensors` / `--compare-tensors` then names the first
// operator whose output differs.
#include <cmath>
#include <cstring>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "inference/interpreter.h"
#include "inference/model.h"
#include "inference/op_resolver.h"
#include "tests/support/shared_paths.h"

namespace triage::inference {
namespace {

using testing::ReadFileBytes;
using testing::SharedPath;

struct Case {
  std::string model;
  std::string label;
  std::vector<std::string> inputs;
  std::string expected;
};

std::vector<Case> LoadCases() {
  std::vector<Case> cases;
  if (testing::SharedDir().empty()) return cases;
  std::ifstream in(SharedPath("reference/manifest.json"));
  if (!in) return cases;
  const nlohmann::json manifest = nlohmann::json::parse(in);
  for (const auto& m : manifest.at("models")) {
    for (const auto& c : m.at("cases")) {
      Case k;
      k.model = m.at("model").get<std::string>();
      k.label = c.at("label").get<std::string>();
      for (const auto& i : c.at("inputs")) k.inputs.push_back(i.get<std::string>());
      k.expected = c.at("expected_output0").get<std::string>();
      cases.push_back(k);
    }
  }
  return cases;
}

void PrintTo(const Case& c, std::ostream* os) { *os << c.model << " / " << c.label; }

// Every case runs with both kernel sets, and the optimized set also split
// over 2 and 3 threads: the optimized kernels must give the reference
// kernels' (and TensorFlow Lite's) bytes too, on every target and for every
// thread count.
struct Engine {
  kernels::KernelSet set;
  int threads;
};
void PrintTo(const Engine& e, std::ostream* os) { *os << kernels::KernelSetName(e.set) << " x" << e.threads; }

class Conformance : public ::testing::TestWithParam<std::tuple<Case, Engine>> {};

TEST_P(Conformance, OutputMatchesTensorFlowLite) {
  TRIAGE_REQUIRE_SHARED();
  const Case& c = std::get<0>(GetParam());
  InterpreterOptions options;
  options.kernel_set = std::get<1>(GetParam()).set;
  options.threads = std::get<1>(GetParam()).threads;
  auto file = ReadFileAligned(SharedPath("models/" + c.model));
  ASSERT_TRUE(file.ok()) << file.status().message();
  auto model = Model::Create(file->span());
  if (c.model == "keyword_scrambled.tflite") {
    // Deliberately unsupported: SVDF with int16 state must be refused by name.
    ASSERT_TRUE(model.ok()) << model.status().message();
    OpResolver resolver;
    ASSERT_TRUE(AddAllBuiltinOps(resolver).ok());
    Interpreter interp(*model, resolver);
    Status s = interp.Prepare();
    ASSERT_FALSE(s.ok());
    EXPECT_NE(std::string(s.message()).find("SVDF"), std::string::npos) << s.message();
    return;
  }
  ASSERT_TRUE(model.ok()) << model.status().message();
  OpResolver resolver;
  ASSERT_TRUE(AddAllBuiltinOps(resolver).ok());
  Interpreter interp(*model, resolver, options);
  Status s = interp.PrepareAndAllocate();
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(interp.threads(), options.kernel_set == kernels::KernelSet::kOptimized ? options.threads : 1);
  ASSERT_EQ(interp.num_inputs(), c.inputs.size());
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const auto bytes = ReadFileBytes(SharedPath("reference/" + c.inputs[i]));
    TensorView in = interp.input(i);
    ASSERT_EQ(bytes.size(), in.bytes) << "input " << i;
    std::memcpy(in.data, bytes.data(), bytes.size());
  }
  s = interp.Invoke();
  ASSERT_TRUE(s.ok()) << s.message();
  const auto expected = ReadFileBytes(SharedPath("reference/" + c.expected));
  const TensorView out = interp.output(0);
  ASSERT_EQ(expected.size(), out.bytes);
  if (out.type == DataType::kFloat32) {
    for (size_t i = 0; i < out.bytes / 4; ++i) {
      float want, got;
      std::memcpy(&want, expected.data() + 4 * i, 4);
      std::memcpy(&got, out.data + 4 * i, 4);
      const float tol = 1e-5f * std::max(1.0f, std::fabs(want));
      ASSERT_NEAR(got, want, tol) << c.model << " " << c.label << " element " << i;
    }
  } else {
    size_t first = expected.size(), count = 0;
    for (size_t i = 0; i < expected.size(); ++i) {
      if (expected[i] != out.data[i]) {
        if (first == expected.size()) first = i;
        ++count;
      }
    }
    EXPECT_EQ(count, 0u) << c.model << " " << c.label << ": " << count << " of " << expected.size()
                         << " bytes differ; first at " << first << " (want "
                         << static_cast<int>(expected[first < expected.size() ? first : 0]) << ", got "
                         << static_cast<int>(out.data[first < expected.size() ? first : 0]) << ")";
  }
}

std::string CaseName(const ::testing::TestParamInfo<std::tuple<Case, Engine>>& info) {
  const Case& c = std::get<0>(info.param);
  const Engine& e = std::get<1>(info.param);
  std::string name = c.model.substr(0, c.model.find(".tflite")) + "__" + c.label + "__" +
                     kernels::KernelSetName(e.set);
  if (e.threads > 1) name += "_" + std::to_string(e.threads) + "threads";
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(SharedReference, Conformance,
                         ::testing::Combine(::testing::ValuesIn(LoadCases()),
                                            ::testing::Values(Engine{kernels::KernelSet::kReference, 1},
                                                              Engine{kernels::KernelSet::kOptimized, 1},
                                                              Engine{kernels::KernelSet::kOptimized, 2},
                                                              Engine{kernels::KernelSet::kOptimized, 3})),
                         CaseName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Conformance);

TEST(ConformanceManifest, ListsCasesWhenSharedIsPresent) {
  TRIAGE_REQUIRE_SHARED();
  EXPECT_GE(LoadCases().size(), 40u);
}

}  // namespace
}  // namespace triage::inference
