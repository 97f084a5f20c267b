#include "config/model_check.h"

#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "inference/interpreter.h"
#include "inference/model.h"
#include "inference/op_resolver.h"

namespace triage::config {
namespace {

bool IsFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool ReadText(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

bool SupportedType(inference::DataType t) {
  return t == inference::DataType::kFloat32 || t == inference::DataType::kUint8 || t == inference::DataType::kInt8;
}

}  // namespace

std::vector<std::string> SplitLabels(const std::string& text) {
  std::vector<std::string> labels;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    labels.push_back(line);
  }
  while (!labels.empty() && labels.back().empty()) labels.pop_back();
  return labels;
}

bool ParsePreprocessingJson(const std::string& json, float mean[3], float std[3], std::string* why) {
  try {
    const YAML::Node root = YAML::Load(json);
    if (!root.IsMap()) {
      *why = "not a JSON object";
      return false;
    }
    // Keys we do not use (training provenance and the like) are ignored;
    // the ones that change how pixels must be fed are checked.
    const YAML::Node color = root["color"];
    if (color.IsDefined() && color.as<std::string>() != "rgb") {
      *why = "color '" + color.as<std::string>() + "' is not supported (rgb only)";
      return false;
    }
    const YAML::Node layout = root["layout"];
    if (layout.IsDefined() && layout.as<std::string>() != "NHWC") {
      *why = "layout '" + layout.as<std::string>() + "' is not supported (NHWC only)";
      return false;
    }
    for (const char* key : {"mean", "std"}) {
      const YAML::Node v = root[key];
      if (!v.IsDefined()) continue;
      if (!v.IsSequence() || v.size() != 3) {
        *why = std::string(key) + " must be a list of 3 numbers";
        return false;
      }
      float* out = std::string(key) == "mean" ? mean : std;
      for (size_t i = 0; i < 3; ++i) {
        const double d = v[i].as<double>();
        if (!std::isfinite(d) || (out == std && d == 0.0)) {
          *why = std::string(key) + " holds a zero or non-finite value";
          return false;
        }
        out[i] = static_cast<float>(d);
      }
    }
    const YAML::Node resize = root["resize"];
    if (resize.IsDefined() && resize.as<std::string>() != "area") {
      *why = "resize '" + resize.as<std::string>() + "' is not supported (area only)";
      return false;
    }
    return true;
  } catch (const std::exception& e) {
    *why = std::string("not valid JSON: ") + e.what();
    return false;
  }
}

void CheckModel(const ModelConfig& model, ModelFacts* facts, const ModelProblemFn& report) {
  if (!IsFile(model.path)) {
    report("path", "file " + model.path + " does not exist");
    return;
  }
  Result<inference::AlignedBuffer> bytes = inference::ReadFileAligned(model.path);
  if (!bytes.ok()) {
    report("path", std::string("cannot read ") + model.path + ": " + bytes.status().message());
    return;
  }
  if (!downlink::Sha256::Of(bytes->span(), &facts->sha256).ok()) {
    report("path", "cannot hash the model (OpenSSL)");
  } else if (!model.expected_sha256.empty() && HexDigest(facts->sha256) != model.expected_sha256) {
    report("sha256", "the model's SHA-256 is " + HexDigest(facts->sha256) + ", not the configured value");
  }
  Result<inference::Model> m = inference::Model::Create(bytes->span());
  if (!m.ok()) {
    report("path", model.path + " fails verification: " + m.status().message());
    return;
  }
  inference::OpResolver resolver;
  if (!inference::AddAllBuiltinOps(resolver).ok()) {
    report("path", "internal: cannot build the op resolver");
    return;
  }
  inference::Interpreter interp(*m, resolver);
  if (Status s = interp.Prepare(); !s.ok()) {
    report("path", model.path + " cannot run: " + s.message());
    return;
  }
  if (interp.num_inputs() != 1 || interp.num_outputs() != 1) {
    report("path", model.path + ": expected 1 input and 1 output, got " + std::to_string(interp.num_inputs()) +
                       " and " + std::to_string(interp.num_outputs()));
    return;
  }
  const inference::TensorView in = interp.input(0);
  if (in.shape.rank != 4 || in.shape.dims[0] != 1 || (in.shape.dims[3] != 1 && in.shape.dims[3] != 3) ||
      !SupportedType(in.type)) {
    report("path", model.path + ": the input must be float32, uint8 or int8 [1, H, W, 1 or 3]");
    return;
  }
  if (in.type != inference::DataType::kFloat32 && !(in.scale > 0.0f)) {
    report("path", model.path + ": the quantized input has no scale");
    return;
  }
  const inference::TensorView out = interp.output(0);
  const int64_t count = out.shape.FlatSize();
  if (!SupportedType(out.type) || count < 2 || count > kMaxClasses) {
    report("path", model.path + ": the output must be float32, uint8 or int8 with 2.." +
                       std::to_string(kMaxClasses) + " class scores");
    return;
  }
  facts->output_count = static_cast<int>(count);

  std::string text;
  if (!model.labels_path.empty()) {
    if (!IsFile(model.labels_path) || !ReadText(model.labels_path, &text)) {
      report("labels", "file " + model.labels_path + " does not exist");
      return;
    }
  } else {
    const Span<const uint8_t> meta = m->Metadata("labels");
    if (meta.empty()) {
      report("labels", "the model has no \"labels\" metadata; set model.labels to a label file");
      return;
    }
    text.assign(reinterpret_cast<const char*>(meta.data()), meta.size());
  }
  facts->labels = SplitLabels(text);
  if (facts->labels.size() != static_cast<size_t>(count)) {
    report("labels", std::to_string(facts->labels.size()) + " labels but the model has " + std::to_string(count) +
                         " outputs");
  }
  for (size_t i = 0; i < facts->labels.size(); ++i) {
    if (facts->labels[i].empty()) report("labels", "label " + std::to_string(i) + " is empty");
    for (size_t j = 0; j < i; ++j) {
      if (facts->labels[i] == facts->labels[j] && !facts->labels[i].empty()) {
        report("labels", "label '" + facts->labels[i] + "' appears twice");
      }
    }
  }

  const Span<const uint8_t> pre = m->Metadata("preprocessing");
  if (!pre.empty()) {
    std::string why;
    const std::string json(reinterpret_cast<const char*>(pre.data()), pre.size());
    facts->mean[0] = facts->mean[1] = facts->mean[2] = model.mean[0];
    for (int i = 0; i < 3; ++i) {
      facts->mean[i] = model.mean[i];
      facts->std[i] = model.std[i];
    }
    if (ParsePreprocessingJson(json, facts->mean, facts->std, &why)) {
      facts->has_preprocessing = true;
    } else if (model.preprocessing_from_model) {
      report("preprocessing", "the model's \"preprocessing\" metadata: " + why);
    }
  }
}

}  // namespace triage::config
