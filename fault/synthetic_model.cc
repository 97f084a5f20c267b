#include "fault/synthetic_model.h"

#include <cmath>
#include <cstring>
#include <string>

#include "inference/model_writer.h"

namespace triage::fault {
namespace {

using inference::BuiltinOp;
using inference::ModelWriter;
using inference::WriterOperator;
using inference::WriterTensor;
using kernels::Activation;
using kernels::DataType;
namespace w = inference::writer;

class Rng {
 public:
  explicit Rng(uint32_t seed) : x_(seed * 2654435761u + 12345u) {}
  uint32_t Next() {
    x_ = x_ * 1664525u + 1013904223u;
    return x_ >> 8;
  }
  // Uniform int8 weight in [-127, 127].
  int8_t Weight() { return static_cast<int8_t>(static_cast<int>(Next() % 255) - 127); }

 private:
  uint32_t x_;
};

WriterTensor Activ(const std::string& name, std::vector<int32_t> shape, float scale, int64_t zp) {
  return w::Tensor(name, DataType::kInt8, std::move(shape), scale, zp);
}

// Adds per-channel int8 weights (scaled so each output has roughly unit
// gain over fan_in inputs) and a matching int32 bias; returns {weights, bias}.
std::pair<int, int> AddWeights(ModelWriter& m, Rng& rng, const std::string& name, std::vector<int32_t> shape,
                               int channels, int quantized_dimension, int fan_in, float input_scale) {
  size_t count = 1;
  for (int32_t d : shape) count *= static_cast<size_t>(d);
  WriterTensor wt;
  wt.name = name + "_w";
  wt.type = DataType::kInt8;
  wt.shape = std::move(shape);
  wt.data.resize(count);
  for (auto& b : wt.data) b = static_cast<uint8_t>(rng.Weight());
  WriterTensor bt;
  bt.name = name + "_b";
  bt.type = DataType::kInt32;
  bt.shape = {channels};
  bt.data.resize(static_cast<size_t>(channels) * 4);
  for (int c = 0; c < channels; ++c) {
    // Slightly different gains per channel, as trained networks have.
    const float ws = 2.0f * (0.8f + 0.4f * static_cast<float>(rng.Next() % 1000) / 1000.0f) /
                     (127.0f * std::sqrt(static_cast<float>(fan_in)) * 0.58f);
    wt.scales.push_back(ws);
    wt.zero_points.push_back(0);
    const float bias_scale = input_scale * ws;
    bt.scales.push_back(bias_scale);
    bt.zero_points.push_back(0);
    const float bias = (static_cast<float>(rng.Next() % 2001) / 1000.0f - 1.0f) * 0.2f;
    const int32_t q = static_cast<int32_t>(std::lround(bias / bias_scale));
    std::memcpy(&bt.data[static_cast<size_t>(c) * 4], &q, 4);
  }
  wt.quantized_dimension = quantized_dimension;
  const int wi = m.AddTensor(wt);
  const int bi = m.AddTensor(bt);
  return {wi, bi};
}

}  // namespace

std::vector<uint8_t> BuildSyntheticClassifier(uint32_t seed, int input_size) {
  if (input_size < 8 || input_size % 4 != 0) input_size = 32;
  const int s1 = input_size / 2, s2 = input_size / 4;
  Rng rng(seed);
  ModelWriter m;
  m.SetDescription("triage synthetic int8 classifier");
  // RELU6 outputs; the int8 range covers [0, 3], where these activations live.
  const float relu_scale = 3.0f / 255.0f;
  const int64_t relu_zp = -128;

  const int in = m.AddTensor(Activ("input", {1, input_size, input_size, 3}, 1.0f / 128.0f, 0));
  auto [w1, b1] = AddWeights(m, rng, "conv1", {8, 3, 3, 3}, 8, 0, 27, 1.0f / 128.0f);
  const int c1 = m.AddTensor(Activ("conv1", {1, s1, s1, 8}, relu_scale, relu_zp));
  m.AddOperator(w::Operator(BuiltinOp::kConv2d, {in, w1, b1}, {c1},
                   w::Conv{kernels::Padding::kSame, 2, 2, 1, 1, Activation::kRelu6}, 3));

  auto [w2, b2] = AddWeights(m, rng, "dw2", {1, 3, 3, 8}, 8, 3, 9, relu_scale);
  const int c2 = m.AddTensor(Activ("dw2", {1, s1, s1, 8}, relu_scale, relu_zp));
  m.AddOperator(w::Operator(BuiltinOp::kDepthwiseConv2d, {c1, w2, b2}, {c2},
                   w::Depthwise{kernels::Padding::kSame, 1, 1, 1, 1, 1, Activation::kRelu6}, 3));

  auto [w3, b3] = AddWeights(m, rng, "pw3", {16, 1, 1, 8}, 16, 0, 8, relu_scale);
  const int c3 = m.AddTensor(Activ("pw3", {1, s1, s1, 16}, relu_scale, relu_zp));
  m.AddOperator(w::Operator(BuiltinOp::kConv2d, {c2, w3, b3}, {c3},
                   w::Conv{kernels::Padding::kSame, 1, 1, 1, 1, Activation::kRelu6}, 3));

  auto [w4, b4] = AddWeights(m, rng, "conv4", {16, 3, 3, 16}, 16, 0, 144, relu_scale);
  const int c4 = m.AddTensor(Activ("conv4", {1, s2, s2, 16}, relu_scale, relu_zp));
  m.AddOperator(w::Operator(BuiltinOp::kConv2d, {c3, w4, b4}, {c4},
                   w::Conv{kernels::Padding::kSame, 2, 2, 1, 1, Activation::kRelu6}, 3));

  const int pool = m.AddTensor(Activ("pool", {1, 1, 1, 16}, relu_scale, relu_zp));
  m.AddOperator(w::Operator(BuiltinOp::kAveragePool2d, {c4}, {pool},
                   w::Pool{kernels::Padding::kValid, s2, s2, s2, s2}, 2));
  const int flat = m.AddTensor(Activ("flat", {1, 16}, relu_scale, relu_zp));
  m.AddOperator(w::Operator(BuiltinOp::kReshape, {pool}, {flat}, w::Reshape{{1, 16}}, 1));

  // FC: per-tensor weights (TFLite's int8 FULLY_CONNECTED contract).
  WriterTensor fw;
  fw.name = "fc_w";
  fw.type = DataType::kInt8;
  fw.shape = {5, 16};
  for (int i = 0; i < 80; ++i) fw.data.push_back(static_cast<uint8_t>(rng.Weight()));
  const float fc_ws = 4.0f / (127.0f * 4.0f * 0.58f);
  fw.scales = {fc_ws};
  fw.zero_points = {0};
  const int fwi = m.AddTensor(fw);
  WriterTensor fb;
  fb.name = "fc_b";
  fb.type = DataType::kInt32;
  fb.shape = {5};
  fb.scales = {relu_scale * fc_ws};
  fb.zero_points = {0};
  for (int c = 0; c < 5; ++c) {
    const int32_t q = static_cast<int32_t>(rng.Next() % 201) - 100;
    const uint8_t* p = reinterpret_cast<const uint8_t*>(&q);
    fb.data.insert(fb.data.end(), p, p + 4);
  }
  const int fbi = m.AddTensor(fb);
  const int logits = m.AddTensor(Activ("logits", {1, 5}, 12.0f / 255.0f, 0));
  m.AddOperator(w::Operator(BuiltinOp::kFullyConnected, {flat, fwi, fbi}, {logits}, w::FullyConnected{}, 4));
  const int probs = m.AddTensor(Activ("probs", {1, 5}, 1.0f / 256.0f, -128));
  m.AddOperator(w::Operator(BuiltinOp::kSoftmax, {logits}, {probs}, w::Softmax{1.0f}, 2));
  m.SetInputs({in});
  m.SetOutputs({probs});
  return m.Build();
}

void FillSyntheticFrame(uint8_t* data, size_t bytes, int height, int width, int channels, bool is_signed,
                        uint32_t seed) {
  Rng rng(seed);
  const size_t expected = static_cast<size_t>(height) * static_cast<size_t>(width) * static_cast<size_t>(channels);
  if (height <= 0 || width <= 0 || channels <= 0 || expected != bytes) {
    for (size_t i = 0; i < bytes; ++i) data[i] = static_cast<uint8_t>(rng.Next());
    return;
  }
  static constexpr int kNoise[4] = {0, 6, 24, 80};
  const int noise = kNoise[rng.Next() % 4];
  int level[8];
  for (int c = 0; c < channels && c < 8; ++c) level[c] = static_cast<int>(rng.Next() % 256);
  const int gx = static_cast<int>(rng.Next() % 161) - 80;
  const int gy = static_cast<int>(rng.Next() % 161) - 80;
  const int bx = static_cast<int>(rng.Next() % static_cast<uint32_t>(width));
  const int by = static_cast<int>(rng.Next() % static_cast<uint32_t>(height));
  const int br = 1 + static_cast<int>(rng.Next() % static_cast<uint32_t>(width / 2 + 1));
  const int bv = static_cast<int>(rng.Next() % 2) == 0 ? -120 : 120;
  size_t i = 0;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const bool in_blob = (x - bx) * (x - bx) + (y - by) * (y - by) <= br * br;
      for (int c = 0; c < channels; ++c, ++i) {
        int v = level[c % 8] + gx * x / width + gy * y / height + (in_blob ? bv : 0);
        if (noise > 0) v += static_cast<int>(rng.Next() % static_cast<uint32_t>(2 * noise + 1)) - noise;
        v = v < 0 ? 0 : v > 255 ? 255 : v;
        data[i] = static_cast<uint8_t>(is_signed ? v - 128 : v);
      }
    }
  }
}

}  // namespace triage::fault
