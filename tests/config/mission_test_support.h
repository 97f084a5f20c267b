// Test support for config/ and app/ tests: a small 5-class int8 classifier
// built with ModelWriter (the contract of models/triage_int8.tflite at a
// tiny input size), temporary directories, and mission YAML for tests.
#ifndef TRIAGE_TESTS_CONFIG_MISSION_TEST_SUPPORT_H_
#define TRIAGE_TESTS_CONFIG_MISSION_TEST_SUPPORT_H_

#include <cstdint>
#include <string>
#include <vector>

namespace triage::testing {

struct TestModelOptions {
  int input_size = 16;          // input int8 [1, S, S, 3], scale 1/128, zero point 0
  int classes = 5;              // black, cloud, distorted, land, white (first N)
  std::string labels = "black\ncloud\ndistorted\nland\nwhite\n";  // "labels" metadata; "" = none
  std::string preprocessing = R"({"mean":[128,128,128],"std":[128,128,128],"resize":"area"})";
  // Class-logit bias added to `land` (tests steer decisions with it).
  float land_bias = 0.3f;
};

// INPUT -> MEAN(H, W) -> FULLY_CONNECTED(3 -> classes) -> SOFTMAX, int8.
// Scores follow the mean colour: dark -> black, bright -> white, green-ish
// -> land. Output int8 [1, classes], scale 1/256, zero point -128.
std::vector<uint8_t> BuildTestModel(const TestModelOptions& options = {});

// A fresh directory under $TMPDIR (removed by RemoveTree).
std::string MakeTempDir(const std::string& prefix);
void RemoveTree(const std::string& path);
void WriteFile(const std::string& path, const std::string& bytes);
void WriteFile(const std::string& path, const std::vector<uint8_t>& bytes);
std::string ReadFile(const std::string& path);

// A complete small mission for tests: simulated camera at width x height,
// the given model, everything else small and fast. `extra` is appended
// (YAML: later top-level sections must not repeat earlier ones, so callers
// pass whole sections that the base leaves out: logging, uplink, fault).
std::string TestMissionYaml(const std::string& model_path, int width = 96, int height = 80);

}  // namespace triage::testing

#endif  // TRIAGE_TESTS_CONFIG_MISSION_TEST_SUPPORT_H_
