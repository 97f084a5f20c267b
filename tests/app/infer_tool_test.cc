// triage-infer end to end through its entry point: top-1 on the shared
// images agrees with TensorFlow Lite's output for the same image, raw I/O is
// exact, and bad input exits non-zero with one line.
#include "app/infer_tool.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/shared_paths.h"

namespace triage::app {
namespace {

using triage::testing::SharedPath;

struct RunResult {
  int code;
  std::string out;
  std::string err;
};

RunResult RunTool(std::vector<std::string> args) {
  args.insert(args.begin(), "triage-infer");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  const int code = RunInferTool(static_cast<int>(argv.size()), argv.data());
  std::fflush(stdout);
  RunResult r{code, ::testing::internal::GetCapturedStdout(), ::testing::internal::GetCapturedStderr()};
  return r;
}

int ArgmaxOfReference(const std::string& file) {
  const auto bytes = triage::testing::ReadFileBytes(SharedPath("reference/outputs/" + file));
  int best = 0;
  for (size_t i = 1; i < bytes.size(); ++i)
    if (bytes[i] > bytes[static_cast<size_t>(best)]) best = static_cast<int>(i);
  return best;
}

TEST(TriageInfer, GraceHopperIsMilitaryUniformOnMobilenetV2) {
  TRIAGE_REQUIRE_SHARED();
  const RunResult r = RunTool({"--model", SharedPath("models/mobilenet_v2_1.0_224_quant.tflite"), "--image",
                           SharedPath("models/grace_hopper.bmp"), "--labels", SharedPath("models/imagenet_labels.txt"),
                           "--json", "--top", "3"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["top"][0]["index"], 653);
  EXPECT_EQ(j["top"][0]["label"], "military uniform");
  EXPECT_GT(j["top"][0]["score"].get<double>(), 0.5);
  EXPECT_EQ(j["top"].size(), 3u);
  EXPECT_GE(j["latency_ms"].get<double>(), 0.0);
}

TEST(TriageInfer, TopOneAgreesWithTensorFlowLiteOnSharedImages) {
  TRIAGE_REQUIRE_SHARED();
  int agree = 0, total = 0;
  for (const char* model : {"mobilenet_v1_0.25_128_quant", "mobilenet_v2_1.0_224_quant",
                            "tf2_mobilenet_v2_1.0_224_ptq", "mobilenet_v1_0.5_160_quant"}) {
    for (const char* image : {"grace_hopper", "cat", "bird"}) {
      const RunResult r = RunTool({"--model", SharedPath(std::string("models/") + model + ".tflite"), "--image",
                               SharedPath(std::string("models/") + image + ".bmp"), "--json", "--top", "2"});
      ASSERT_EQ(r.code, 0) << r.err;
      const auto j = nlohmann::json::parse(r.out);
      const int want = ArgmaxOfReference(std::string(model) + "__" + image + "__out0.bin");
      const int ours = j["top"][0]["index"];
      ++total;
      if (ours == want) {
        ++agree;
      } else {
        // The reference resized with PIL's antialiased bilinear filter; a
        // disagreement must still have TFLite's answer as our runner-up.
        EXPECT_EQ(j["top"][1]["index"], want) << model << " on " << image;
      }
    }
  }
  EXPECT_GE(agree, total - 1) << agree << " of " << total;
}

TEST(TriageInfer, PersonDetectSeparatesPersonFromNoPerson) {
  TRIAGE_REQUIRE_SHARED();
  const RunResult yes = RunTool({"--model", SharedPath("models/person_detect.tflite"), "--image",
                             SharedPath("models/person.bmp"), "--json", "--top", "1"});
  const RunResult no = RunTool({"--model", SharedPath("models/person_detect.tflite"), "--image",
                            SharedPath("models/no_person.bmp"), "--json", "--top", "1"});
  ASSERT_EQ(yes.code, 0) << yes.err;
  ASSERT_EQ(no.code, 0) << no.err;
  EXPECT_EQ(nlohmann::json::parse(yes.out)["top"][0]["index"], 1);
  EXPECT_EQ(nlohmann::json::parse(no.out)["top"][0]["index"], 0);
}

TEST(TriageInfer, RawInputGivesTheReferenceOutputBytes) {
  TRIAGE_REQUIRE_SHARED();
  const std::string out_path = ::testing::TempDir() + "/triage_infer_out.bin";
  const RunResult r = RunTool({"--model", SharedPath("models/tf2_mobilenet_v2_1.0_224_ptq.tflite"), "--input-raw",
                           SharedPath("reference/inputs/tf2_mobilenet_v2_1.0_224_ptq__cat__in0.bin"), "--output-raw",
                           out_path});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(triage::testing::ReadFileBytes(out_path),
            triage::testing::ReadFileBytes(SharedPath("reference/outputs/tf2_mobilenet_v2_1.0_224_ptq__cat__out0.bin")));
}

TEST(TriageInfer, DumpThenCompareFindsNoDivergenceAgainstItself) {
  TRIAGE_REQUIRE_SHARED();
  const std::string dir = ::testing::TempDir() + "/triage_dump";
  const std::string input = SharedPath("reference/inputs/person_detect__person_bmp_raw__in0.bin");
  const std::string model = SharedPath("models/person_detect.tflite");
  ASSERT_EQ(RunTool({"--model", model, "--input-raw", input, "--dump-tensors", dir}).code, 0);
  std::ifstream index_file(dir + "/index.json");
  ASSERT_TRUE(index_file.good());
  const auto index = nlohmann::json::parse(index_file);
  EXPECT_EQ(index.size(), 31u);  // one per operator output
  const int victim = index[5]["tensor"];
  const RunResult same = RunTool({"--model", model, "--input-raw", input, "--compare-tensors", dir});
  ASSERT_EQ(same.code, 0) << same.err;
  EXPECT_NE(same.out.find("all compared intermediate tensors match"), std::string::npos);
  // Corrupt one intermediate: the comparison must name that operator.
  {
    std::fstream f(dir + "/t" + std::to_string(victim) + ".bin", std::ios::in | std::ios::out | std::ios::binary);
    char c;
    f.read(&c, 1);
    f.seekp(0);
    c = static_cast<char>(c ^ 0x10);
    f.write(&c, 1);
  }
  const RunResult diff = RunTool({"--model", model, "--input-raw", input, "--compare-tensors", dir});
  ASSERT_EQ(diff.code, 0) << diff.err;
  EXPECT_NE(diff.out.find("first diverging op"), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("output tensor " + std::to_string(victim) + ":"), std::string::npos) << diff.out;
}

TEST(TriageInfer, DescribePrintsOpsMacsAndArena) {
  TRIAGE_REQUIRE_SHARED();
  const RunResult r = RunTool({"--model", SharedPath("models/person_detect.tflite"), "--describe"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("DEPTHWISE_CONV_2D"), std::string::npos);
  EXPECT_NE(r.out.find("arena bytes 64512"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("MACs 7160194"), std::string::npos) << r.out;
}

TEST(TriageInfer, BadInputExitsNonZeroWithOneLine) {
  const std::string garbage = ::testing::TempDir() + "/not_a_model.tflite";
  std::ofstream(garbage) << "this is not a flatbuffer, just text that is long enough";
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--model", "/nonexistent/m.tflite", "--image", "x.png"},
           {"--model", garbage, "--image", "x.png"},
           {"--top", "0"}}) {
    const RunResult r = RunTool(args);
    EXPECT_NE(r.code, 0);
    EXPECT_FALSE(r.err.empty());
    EXPECT_LE(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

}  // namespace
}  // namespace triage::app
