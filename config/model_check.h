// Model checks for config validation (private to config/ and its users):
// the model file is read, verified (inference::Model::Create), prepared on
// the full op resolver, its single input and output inspected, its labels
// read (label file or "labels" metadata) and counted against its outputs,
// and its "preprocessing" metadata parsed.
//
// Init-time only (allocates). Never throws.
#ifndef TRIAGE_CONFIG_MODEL_CHECK_H_
#define TRIAGE_CONFIG_MODEL_CHECK_H_

#include <functional>
#include <string>
#include <vector>

#include "config/mission.h"

namespace triage::config {

struct ModelFacts {
  std::vector<std::string> labels;
  int output_count = 0;
  bool has_preprocessing = false;
  float mean[3] = {0, 0, 0};
  float std[3] = {1, 1, 1};
  downlink::Digest256 sha256{};
};

// report(key, message): key is the model section key the problem belongs to
// ("path", "labels", "sha256", "preprocessing").
using ModelProblemFn = std::function<void(const char* key, const std::string& message)>;
void CheckModel(const ModelConfig& model, ModelFacts* facts, const ModelProblemFn& report);

// One label per line; a trailing empty line and CR line ends are ignored.
std::vector<std::string> SplitLabels(const std::string& text);
// {"mean":[..3],"std":[..3],"resize":"area","color":"rgb","layout":"NHWC"}
// (JSON, read as YAML flow). Other keys are ignored; resize, color and
// layout other than those are refused.
bool ParsePreprocessingJson(const std::string& json, float mean[3], float std[3], std::string* why);

}  // namespace triage::config

#endif  // TRIAGE_CONFIG_MODEL_CHECK_H_
