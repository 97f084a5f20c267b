#include "tests/support/tiny_models.h"

#include <cstring>

namespace triage::testing {
namespace {

using inference::BuiltinOp;
using inference::ModelWriter;
using inference::WriterOperator;
using inference::WriterTensor;
using kernels::Activation;
using kernels::DataType;
namespace w = inference::writer;

uint32_t g_seed = 12345;
uint32_t NextRand() {
  g_seed = g_seed * 1664525u + 1013904223u;
  return g_seed >> 8;
}

std::vector<uint8_t> RandomBytes(size_t n) {
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(NextRand());
  return v;
}
std::vector<uint8_t> FloatBytes(size_t n, float scale) {
  std::vector<uint8_t> v(n * 4);
  for (size_t i = 0; i < n; ++i) {
    const float f = (static_cast<float>(NextRand() % 2001) / 1000.0f - 1.0f) * scale;
    std::memcpy(&v[4 * i], &f, 4);
  }
  return v;
}
std::vector<uint8_t> Int8Weights(size_t n) {
  std::vector<uint8_t> v = RandomBytes(n);
  for (auto& b : v) b = static_cast<uint8_t>(static_cast<int8_t>(static_cast<int>(b % 255) - 127));
  return v;
}

}  // namespace

ModelWriter FloatFcWriter() {
  g_seed = 1;
  ModelWriter m;
  const int in = m.AddTensor(w::Tensor("input", DataType::kFloat32, {1, 4}));
  WriterTensor wt = w::Tensor("weights", DataType::kFloat32, {3, 4});
  wt.data = FloatBytes(12, 1.0f);
  const int wi = m.AddTensor(wt);
  WriterTensor bt = w::Tensor("bias", DataType::kFloat32, {3});
  bt.data = FloatBytes(3, 0.5f);
  const int bi = m.AddTensor(bt);
  const int out = m.AddTensor(w::Tensor("output", DataType::kFloat32, {1, 3}));
  m.AddOperator(w::Operator(BuiltinOp::kFullyConnected, {in, wi, bi}, {out}, w::FullyConnected{Activation::kRelu}));
  m.SetInputs({in});
  m.SetOutputs({out});
  return m;
}

ModelWriter Uint8ConvNetWriter() {
  g_seed = 2;
  ModelWriter m;
  const int in = m.AddTensor(w::Tensor("input", DataType::kUint8, {1, 8, 8, 3}, 1.0f / 128, 128));
  WriterTensor f1 = w::Tensor("conv_w", DataType::kUint8, {4, 3, 3, 3}, 0.02f, 120);
  f1.data = RandomBytes(4 * 3 * 3 * 3);
  const int f1i = m.AddTensor(f1);
  WriterTensor b1 = w::Tensor("conv_b", DataType::kInt32, {4}, (1.0f / 128) * 0.02f, 0);
  b1.data = w::RawBytes<int32_t>({100, -200, 300, 0});
  const int b1i = m.AddTensor(b1);
  const int c1 = m.AddTensor(w::Tensor("conv_out", DataType::kUint8, {1, 4, 4, 4}, 6.0f / 255, 0));
  m.AddOperator(w::Operator(BuiltinOp::kConv2d, {in, f1i, b1i}, {c1},
                   w::Conv{kernels::Padding::kSame, 2, 2, 1, 1, Activation::kRelu6}));
  WriterTensor f2 = w::Tensor("dw_w", DataType::kUint8, {1, 3, 3, 4}, 0.03f, 127);
  f2.data = RandomBytes(3 * 3 * 4);
  const int f2i = m.AddTensor(f2);
  WriterTensor b2 = w::Tensor("dw_b", DataType::kInt32, {4}, (6.0f / 255) * 0.03f, 0);
  b2.data = w::RawBytes<int32_t>({10, 20, -30, 40});
  const int b2i = m.AddTensor(b2);
  const int c2 = m.AddTensor(w::Tensor("dw_out", DataType::kUint8, {1, 4, 4, 4}, 0.05f, 100));
  m.AddOperator(w::Operator(BuiltinOp::kDepthwiseConv2d, {c1, f2i, b2i}, {c2},
                   w::Depthwise{kernels::Padding::kSame, 1, 1, 1, 1, 1, Activation::kNone}));
  const int pool = m.AddTensor(w::Tensor("pool", DataType::kUint8, {1, 1, 1, 4}, 0.05f, 100));
  m.AddOperator(w::Operator(BuiltinOp::kAveragePool2d, {c2}, {pool}, w::Pool{kernels::Padding::kValid, 4, 4, 4, 4}));
  const int logits = m.AddTensor(w::Tensor("logits", DataType::kUint8, {1, 4}, 0.05f, 100));
  m.AddOperator(w::Operator(BuiltinOp::kReshape, {pool}, {logits}, w::Reshape{{1, 4}}));
  const int probs = m.AddTensor(w::Tensor("probs", DataType::kUint8, {1, 4}, 1.0f / 256, 0));
  m.AddOperator(w::Operator(BuiltinOp::kSoftmax, {logits}, {probs}, w::Softmax{1.0f}));
  m.SetInputs({in});
  m.SetOutputs({probs});
  return m;
}

ModelWriter Int8NetWriter() {
  g_seed = 3;
  ModelWriter m;
  const int in = m.AddTensor(w::Tensor("input", DataType::kFloat32, {1, 6, 6, 2}));
  const int q = m.AddTensor(w::Tensor("q", DataType::kInt8, {1, 6, 6, 2}, 0.01f, -3));
  m.AddOperator(w::Operator(BuiltinOp::kQuantize, {in}, {q}, w::Empty{}));
  WriterTensor f = w::Tensor("conv_w", DataType::kInt8, {3, 2, 2, 2});
  f.data = Int8Weights(3 * 2 * 2 * 2);
  f.scales = {0.01f, 0.02f, 0.005f};
  f.zero_points = {0, 0, 0};
  f.quantized_dimension = 0;
  const int fi = m.AddTensor(f);
  WriterTensor b = w::Tensor("conv_b", DataType::kInt32, {3});
  b.data = w::RawBytes<int32_t>({50, -50, 7});
  b.scales = {0.0001f, 0.0002f, 0.00005f};
  b.zero_points = {0, 0, 0};
  const int bi = m.AddTensor(b);
  const int c = m.AddTensor(w::Tensor("conv", DataType::kInt8, {1, 3, 3, 3}, 0.02f, 5));
  m.AddOperator(w::Operator(BuiltinOp::kConv2d, {q, fi, bi}, {c}, w::Conv{kernels::Padding::kValid, 2, 2, 1, 1}, 3));
  const int sum = m.AddTensor(w::Tensor("sum", DataType::kInt8, {1, 3, 3, 3}, 0.03f, -2));
  m.AddOperator(w::Operator(BuiltinOp::kAdd, {c, c}, {sum}, w::Add{Activation::kRelu}, 2));
  WriterTensor pads = w::Tensor("pads", DataType::kInt32, {4, 2});
  pads.data = w::RawBytes<int32_t>({0, 0, 1, 1, 0, 1, 0, 0});
  const int pi = m.AddTensor(pads);
  const int padded = m.AddTensor(w::Tensor("padded", DataType::kInt8, {1, 5, 4, 3}, 0.03f, -2));
  m.AddOperator(w::Operator(BuiltinOp::kPad, {sum, pi}, {padded}, w::Empty{}, 2));
  WriterTensor axis = w::Tensor("axis", DataType::kInt32, {2});
  axis.data = w::RawBytes<int32_t>({1, 2});
  const int ai = m.AddTensor(axis);
  const int mean = m.AddTensor(w::Tensor("mean", DataType::kInt8, {1, 1, 1, 3}, 0.02f, 1));
  m.AddOperator(w::Operator(BuiltinOp::kMean, {padded, ai}, {mean}, w::Reducer{true}, 2));
  WriterTensor fw = w::Tensor("fc_w", DataType::kInt8, {4, 3}, 0.02f, 0);
  fw.data = Int8Weights(12);
  const int fwi = m.AddTensor(fw);
  const int fc = m.AddTensor(w::Tensor("fc", DataType::kInt8, {1, 4}, 0.01f, 3));
  m.AddOperator(w::Operator(BuiltinOp::kFullyConnected, {mean, fwi, -1}, {fc}, w::FullyConnected{}, 4));
  const int sm = m.AddTensor(w::Tensor("softmax", DataType::kInt8, {1, 4}, 1.0f / 256, -128));
  m.AddOperator(w::Operator(BuiltinOp::kSoftmax, {fc}, {sm}, w::Softmax{1.0f}, 2));
  const int out = m.AddTensor(w::Tensor("output", DataType::kFloat32, {1, 4}));
  m.AddOperator(w::Operator(BuiltinOp::kDequantize, {sm}, {out}, w::Empty{}, 2));
  m.SetInputs({in});
  m.SetOutputs({out});
  return m;
}

ModelWriter FloatMiscWriter() {
  g_seed = 4;
  ModelWriter m;
  const int a = m.AddTensor(w::Tensor("a", DataType::kFloat32, {1, 4, 4, 2}));
  const int b = m.AddTensor(w::Tensor("b", DataType::kFloat32, {1, 4, 4, 1}));
  const int cat = m.AddTensor(w::Tensor("cat", DataType::kFloat32, {1, 4, 4, 3}));
  m.AddOperator(w::Operator(BuiltinOp::kConcatenation, {a, b}, {cat}, w::Concatenation{3}));
  WriterTensor k = w::Tensor("k", DataType::kFloat32, {3});
  k.data = FloatBytes(3, 2.0f);
  const int ki = m.AddTensor(k);
  const int mul = m.AddTensor(w::Tensor("mul", DataType::kFloat32, {1, 4, 4, 3}));
  m.AddOperator(w::Operator(BuiltinOp::kMul, {cat, ki}, {mul}, w::Mul{}));
  const int lg = m.AddTensor(w::Tensor("logistic", DataType::kFloat32, {1, 4, 4, 3}));
  m.AddOperator(w::Operator(BuiltinOp::kLogistic, {mul}, {lg}));
  const int th = m.AddTensor(w::Tensor("tanh", DataType::kFloat32, {1, 4, 4, 3}));
  m.AddOperator(w::Operator(BuiltinOp::kTanh, {lg}, {th}));
  const int hs = m.AddTensor(w::Tensor("hswish", DataType::kFloat32, {1, 4, 4, 3}));
  m.AddOperator(w::Operator(BuiltinOp::kHardSwish, {mul}, {hs}, w::Empty{}));
  const int sum = m.AddTensor(w::Tensor("sum", DataType::kFloat32, {1, 4, 4, 3}));
  m.AddOperator(w::Operator(BuiltinOp::kAdd, {th, hs}, {sum}, w::Add{}));
  const int mp = m.AddTensor(w::Tensor("maxpool", DataType::kFloat32, {1, 2, 2, 3}));
  m.AddOperator(w::Operator(BuiltinOp::kMaxPool2d, {sum}, {mp}, w::Pool{kernels::Padding::kSame, 2, 2, 3, 3}));
  const int relu = m.AddTensor(w::Tensor("relu", DataType::kFloat32, {1, 2, 2, 3}));
  m.AddOperator(w::Operator(BuiltinOp::kRelu, {mp}, {relu}));
  WriterTensor axis = w::Tensor("axis", DataType::kInt32, {1});
  axis.data = w::RawBytes<int32_t>({3});
  const int ai = m.AddTensor(axis);
  const int mean = m.AddTensor(w::Tensor("mean", DataType::kFloat32, {1, 2, 2, 1}));
  m.AddOperator(w::Operator(BuiltinOp::kMean, {relu, ai}, {mean}, w::Reducer{true}));
  const int sq = m.AddTensor(w::Tensor("squeeze", DataType::kFloat32, {2, 2}));
  m.AddOperator(w::Operator(BuiltinOp::kSqueeze, {mean}, {sq}, w::Squeeze{{0, 3}}));
  m.SetInputs({a, b});
  m.SetOutputs({sq});
  return m;
}

ModelWriter Uint8MiscWriter() {
  g_seed = 5;
  ModelWriter m;
  const int in = m.AddTensor(w::Tensor("input", DataType::kUint8, {1, 4, 4, 2}, 0.05f, 128));
  const int lg = m.AddTensor(w::Tensor("logistic", DataType::kUint8, {1, 4, 4, 2}, 1.0f / 256, 0));
  m.AddOperator(w::Operator(BuiltinOp::kLogistic, {in}, {lg}));
  const int th = m.AddTensor(w::Tensor("tanh", DataType::kUint8, {1, 4, 4, 2}, 1.0f / 128, 128));
  m.AddOperator(w::Operator(BuiltinOp::kTanh, {in}, {th}));
  const int r6 = m.AddTensor(w::Tensor("relu6", DataType::kUint8, {1, 4, 4, 2}, 6.0f / 255, 0));
  m.AddOperator(w::Operator(BuiltinOp::kRelu6, {in}, {r6}));
  const int hs = m.AddTensor(w::Tensor("hswish", DataType::kUint8, {1, 4, 4, 2}, 0.05f, 20));
  m.AddOperator(w::Operator(BuiltinOp::kHardSwish, {in}, {hs}, w::Empty{}));
  const int cat = m.AddTensor(w::Tensor("cat", DataType::kUint8, {1, 4, 4, 6}, 0.02f, 10));
  m.AddOperator(w::Operator(BuiltinOp::kConcatenation, {lg, th, r6}, {cat}, w::Concatenation{-1}));
  const int mp = m.AddTensor(w::Tensor("maxpool", DataType::kUint8, {1, 2, 2, 6}, 0.02f, 10));
  m.AddOperator(w::Operator(BuiltinOp::kMaxPool2d, {cat}, {mp}, w::Pool{kernels::Padding::kValid, 2, 2, 2, 2}));
  const int mul = m.AddTensor(w::Tensor("mul", DataType::kUint8, {1, 4, 4, 2}, 0.1f, 50));
  m.AddOperator(w::Operator(BuiltinOp::kMul, {hs, in}, {mul}, w::Mul{}));
  m.SetInputs({in});
  m.SetOutputs({mp, mul});
  return m;
}

std::vector<NamedModel> AllTinyModels() {
  return {{"float_fc", FloatFcWriter().Build()},
          {"uint8_convnet", Uint8ConvNetWriter().Build()},
          {"int8_net", Int8NetWriter().Build()},
          {"float_misc", FloatMiscWriter().Build()},
          {"uint8_misc", Uint8MiscWriter().Build()}};
}

}  // namespace triage::testing
