#include "tests/config/mission_test_support.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include "inference/model.h"
#include "inference/model_writer.h"

namespace triage::testing {
namespace {

using inference::BuiltinOp;
using inference::ModelWriter;
using inference::WriterOperator;
using inference::WriterTensor;
using kernels::DataType;
namespace w = inference::writer;

}  // namespace

std::vector<uint8_t> BuildTestModel(const TestModelOptions& o) {
  // Per class: weights on mean R, G, B (each in [-1, 1)) and a bias.
  const float kW[5][4] = {
      {-1.3f, -1.3f, -1.3f, -1.5f},  // black
      {0.5f, 0.5f, 0.8f, 0.2f},      // cloud
      {0.0f, 0.0f, 0.0f, 0.0f},      // distorted
      {0.6f, 1.2f, -1.5f, o.land_bias},  // land
      {1.3f, 1.3f, 1.3f, -2.0f},     // white
  };
  const int n = o.classes;
  const float in_scale = 1.0f / 128, w_scale = 1.0f / 32, logit_scale = 0.0625f;
  ModelWriter m;
  const int in = m.AddTensor(w::Tensor("input", DataType::kInt8, {1, o.input_size, o.input_size, 3}, in_scale, 0));
  WriterTensor axis = w::Tensor("axis", DataType::kInt32, {2});
  axis.data = w::RawBytes<int32_t>({1, 2});
  const int ai = m.AddTensor(axis);
  const int mean = m.AddTensor(w::Tensor("mean", DataType::kInt8, {1, 1, 1, 3}, in_scale, 0));
  m.AddOperator(w::Operator(BuiltinOp::kMean, {in, ai}, {mean}, w::Reducer{true}, 2));
  WriterTensor wt = w::Tensor("fc_w", DataType::kInt8, {n, 3}, w_scale, 0);
  std::vector<int32_t> bias;
  for (int c = 0; c < n; ++c) {
    const int k = c % 5;
    for (int j = 0; j < 3; ++j) {
      wt.data.push_back(static_cast<uint8_t>(static_cast<int8_t>(std::lround(kW[k][j] / w_scale))));
    }
    bias.push_back(static_cast<int32_t>(std::lround(kW[k][3] / (in_scale * w_scale))));
  }
  const int wi = m.AddTensor(wt);
  WriterTensor bt = w::Tensor("fc_b", DataType::kInt32, {n}, in_scale * w_scale, 0);
  bt.data = w::RawBytes<int32_t>(bias);
  const int bi = m.AddTensor(bt);
  const int logits = m.AddTensor(w::Tensor("logits", DataType::kInt8, {1, n}, logit_scale, 0));
  m.AddOperator(w::Operator(BuiltinOp::kFullyConnected, {mean, wi, bi}, {logits}, w::FullyConnected{}, 4));
  const int probs = m.AddTensor(w::Tensor("probs", DataType::kInt8, {1, n}, 1.0f / 256, -128));
  m.AddOperator(w::Operator(BuiltinOp::kSoftmax, {logits}, {probs}, w::Softmax{1.0f}, 2));
  m.SetInputs({in});
  m.SetOutputs({probs});
  m.SetDescription("triage test classifier");
  if (!o.labels.empty()) m.AddMetadata("labels", std::vector<uint8_t>(o.labels.begin(), o.labels.end()));
  if (!o.preprocessing.empty()) {
    m.AddMetadata("preprocessing", std::vector<uint8_t>(o.preprocessing.begin(), o.preprocessing.end()));
  }
  return m.Build();
}

std::string MakeTempDir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/" + prefix + "XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) return std::string();
  return std::string(buf.data());
}

void RemoveTree(const std::string& path) {
  if (path.empty()) return;
  if (DIR* d = ::opendir(path.c_str())) {
    while (dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      const std::string child = path + "/" + name;
      struct stat st;
      if (::lstat(child.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        RemoveTree(child);
      } else {
        ::unlink(child.c_str());
      }
    }
    ::closedir(d);
  }
  ::rmdir(path.c_str());
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void WriteFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  WriteFile(path, std::string(bytes.begin(), bytes.end()));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string TestMissionYaml(const std::string& model_path, int width, int height) {
  const std::string w = std::to_string(width), h = std::to_string(height);
  return "mission: {name: test}\n"
         "camera:\n"
         "  source: simulated\n"
         "  frame_interval_s: 60\n"
         "  max_jpeg_bytes: 1048576\n"
         "  simulated: {seed: 7, width: " + w + ", height: " + h + ", render_divisor: 1}\n"
         "thumbnail: {width: 48, height: 40, max_source_width: " + w + ", max_source_height: " + h + "}\n"
         "model:\n"
         "  path: " + model_path + "\n"
         "triage:\n"
         "  interesting: [land]\n"
         "  classes:\n"
         "    land: {full: 0.5, thumbnail: 0.3, priority_weight: 0.6}\n"
         "    cloud: {thumbnail: 0.9, priority_weight: 0.1}\n"
         "  uncertain: {below_confidence: 0.3, min_margin: 0.0, action: thumbnail}\n"
         "storage: {quota_bytes: 67108864, max_item_bytes: 16777216, catalog_capacity_rows: 4096,"
         " max_queue_items: 1024}\n"
         "downlink:\n"
         "  full: {codec: jpeg, quality: 80}\n"
         "  thumbnail: {codec: jpeg, quality: 75}\n"
         "  link_rate_bps: 200000\n"
         "  packet_data_size: 512\n"
         "  passes:\n"
         "    - {start_s: 600, end_s: 900}\n"
         "    - {start_s: 1800, end_s: 2100}\n";
}

}  // namespace triage::testing
