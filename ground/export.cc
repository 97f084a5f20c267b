#include "ground/export.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>

#include <nlohmann/json.hpp>

#include "ground/mobilenet.h"
#include "imaging/det_math.h"
#include "inference/model_writer.h"

namespace triage::ground {
namespace {

using inference::BuiltinOp;
using inference::DataType;
using inference::ModelWriter;
using inference::WriterOperator;
using inference::WriterTensor;
namespace w = inference::writer;

std::vector<uint8_t> TextBytes(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

Result<int> ParseInt(const TensorArchive& a, const char* key) {
  const std::string v = a.GetString(key);
  char* end = nullptr;
  const long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0') {
    return Status::Error(StatusCode::kInvalidArgument, "checkpoint: '%s' missing or not an integer", key);
  }
  return static_cast<int>(n);
}

Result<float> ParseFloat(const TensorArchive& a, const char* key) {
  const std::string v = a.GetString(key);
  char* end = nullptr;
  const float f = std::strtof(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !std::isfinite(f)) {
    return Status::Error(StatusCode::kInvalidArgument, "checkpoint: '%s' missing or not a number", key);
  }
  return f;
}

// Output spatial size of each backbone layer (TensorFlow SAME padding).
int OutSize(int in, int stride) { return (in + stride - 1) / stride; }

struct Quantized {
  std::vector<int8_t> values;
  std::vector<float> scales;
};

// Per-channel symmetric int8, channel = `channels` slices along the given
// axis of a tensor laid out with `inner` values after the channel index.
// `min_scales` (per channel, may be empty) floors each scale: a channel whose
// weights are all near zero but whose bias is not would otherwise get a bias
// scale (input x weight scale) too fine for int32. TFLite's converter
// adjusts such weight scales the same way.
Quantized QuantizePerChannel(const std::vector<float>& w, int channels, bool channel_is_last,
                             const std::vector<float>& min_scales = {}) {
  Quantized q;
  q.values.resize(w.size());
  q.scales.assign(channels, 0.f);
  std::vector<float> maxabs(channels, 0.f);
  for (size_t i = 0; i < w.size(); ++i) {
    const int c = channel_is_last ? static_cast<int>(i % channels)
                                  : static_cast<int>(i / (w.size() / channels));
    maxabs[c] = std::max(maxabs[c], std::fabs(w[i]));
  }
  for (int c = 0; c < channels; ++c) {
    // An all-zero channel still needs a positive scale (any value is exact).
    q.scales[c] = maxabs[c] > 0.f ? maxabs[c] / 127.f : 1e-8f;
    if (static_cast<size_t>(c) < min_scales.size()) q.scales[c] = std::max(q.scales[c], min_scales[c]);
  }
  for (size_t i = 0; i < w.size(); ++i) {
    const int c = channel_is_last ? static_cast<int>(i % channels)
                                  : static_cast<int>(i / (w.size() / channels));
    const float r = std::round(w[i] / q.scales[c]);
    q.values[i] = static_cast<int8_t>(std::clamp(r, -127.f, 127.f));
  }
  return q;
}

Result<std::vector<int32_t>> QuantizeBias(const std::vector<float>& bias, float input_scale,
                                          const std::vector<float>& weight_scales, const std::string& name) {
  std::vector<int32_t> q(bias.size());
  for (size_t c = 0; c < bias.size(); ++c) {
    const double s = static_cast<double>(input_scale) * weight_scales[c];
    const double r = std::round(bias[c] / s);
    if (!(std::fabs(r) < 2147483647.0)) {
      return Status::Error(StatusCode::kOutOfRange, "%s: bias %zu (%g) overflows int32 at scale %g",
                           name.c_str(), c, static_cast<double>(bias[c]), s);
    }
    q[c] = static_cast<int32_t>(r);
  }
  return q;
}

// Builds the graph; plan == nullptr gives float32.
Result<std::vector<uint8_t>> Build(const FoldedNet& net, const ModelInfo& info, const QuantPlan* plan) {
  const bool q8 = plan != nullptr;
  const DataType act_type = q8 ? DataType::kInt8 : DataType::kFloat32;
  ModelWriter m;
  auto quant_of = [&](const std::string& name) -> Result<ActivationQuant> {
    auto it = plan->find(name);
    if (it == plan->end()) {
      return Status::Error(StatusCode::kNotFound, "quantization plan has no range for tensor '%s'", name.c_str());
    }
    if (!(it->second.scale > 0.f) || !std::isfinite(it->second.scale)) {
      return Status::Error(StatusCode::kInvalidArgument, "tensor '%s': scale %g invalid", name.c_str(),
                           static_cast<double>(it->second.scale));
    }
    return it->second;
  };
  auto activation = [&](const std::string& name, std::vector<int32_t> shape) -> Result<int> {
    WriterTensor t;
    t.name = name;
    t.type = act_type;
    t.shape = std::move(shape);
    if (q8) {
      Result<ActivationQuant> aq = quant_of(name);
      if (!aq.ok()) return aq.status();
      t.scales = {aq->scale};
      t.zero_points = {aq->zero_point};
    }
    return m.AddTensor(t);
  };

  const int R = net.spec.resolution;
  Result<int> input = activation("input", {1, R, R, 3});
  if (!input.ok()) return input.status();
  int current = *input;
  float current_scale = q8 ? plan->at("input").scale : 0.f;
  int size = R;

  auto add_conv = [&](const FoldedLayer& layer, const std::string& out_name, int out_size,
                      kernels::Activation act) -> Status {
    const LayerSpec& s = layer.spec;
    const bool dw = s.kind == LayerKind::kDepthwise;
    WriterTensor wt;
    wt.name = s.name + "/weights";
    wt.shape = dw ? std::vector<int32_t>{1, s.kernel, s.kernel, s.out_channels}
                  : std::vector<int32_t>{s.out_channels, s.kernel, s.kernel, s.in_channels};
    WriterTensor bt;
    bt.name = s.name + "/bias";
    bt.shape = {s.out_channels};
    if (q8) {
      // Bias must fit in +-2^30 (half the int32 range, for headroom).
      std::vector<float> min_scales(layer.bias.size());
      for (size_t c = 0; c < layer.bias.size(); ++c) {
        min_scales[c] = static_cast<float>(std::fabs(layer.bias[c]) / (static_cast<double>(current_scale) * 1073741824.0));
      }
      Quantized qw = QuantizePerChannel(layer.weights, s.out_channels, /*channel_is_last=*/dw, min_scales);
      wt.type = DataType::kInt8;
      wt.data = w::RawBytes(qw.values);
      wt.scales = qw.scales;
      wt.zero_points.assign(qw.scales.size(), 0);
      wt.quantized_dimension = dw ? 3 : 0;
      Result<std::vector<int32_t>> qb = QuantizeBias(layer.bias, current_scale, qw.scales, s.name);
      if (!qb.ok()) return qb.status();
      bt.type = DataType::kInt32;
      bt.data = w::RawBytes(*qb);
      for (float ws : qw.scales) bt.scales.push_back(current_scale * ws);
      bt.zero_points.assign(qw.scales.size(), 0);
    } else {
      wt.type = DataType::kFloat32;
      wt.data = w::RawBytes(layer.weights);
      bt.type = DataType::kFloat32;
      bt.data = w::RawBytes(layer.bias);
    }
    const int wi = m.AddTensor(wt);
    const int bi = m.AddTensor(bt);
    Result<int> out = activation(out_name, {1, out_size, out_size, s.out_channels});
    if (!out.ok()) return out.status();
    if (dw) {
      m.AddOperator(w::Operator(BuiltinOp::kDepthwiseConv2d, {current, wi, bi}, {*out},
                       w::Depthwise{kernels::Padding::kSame, s.stride, s.stride, 1, 1, 1, act}, q8 ? 3 : 1));
    } else {
      m.AddOperator(w::Operator(BuiltinOp::kConv2d, {current, wi, bi}, {*out},
                       w::Conv{kernels::Padding::kSame, s.stride, s.stride, 1, 1, act}, q8 ? 3 : 1));
    }
    current = *out;
    if (q8) current_scale = plan->at(out_name).scale;
    return Status::Ok();
  };

  for (const FoldedLayer& layer : net.layers) {
    size = OutSize(size, layer.spec.stride);
    TRIAGE_RETURN_IF_ERROR(add_conv(layer, layer.spec.name, size, kernels::Activation::kRelu6));
  }
  // Average pool keeps the quantization of its input (TFLite requires it).
  const int features = net.head.spec.in_channels;
  {
    WriterTensor t;
    t.name = "pool";
    t.type = act_type;
    t.shape = {1, 1, 1, features};
    if (q8) {
      const ActivationQuant& aq = plan->at(net.layers.back().spec.name);
      t.scales = {aq.scale};
      t.zero_points = {aq.zero_point};
    }
    const int pool = m.AddTensor(t);
    m.AddOperator(w::Operator(BuiltinOp::kAveragePool2d, {current}, {pool},
                     w::Pool{kernels::Padding::kValid, size, size, size, size, kernels::Activation::kNone},
                     q8 ? 2 : 1));
    current = pool;
  }
  TRIAGE_RETURN_IF_ERROR(add_conv(net.head, "logits", 1, kernels::Activation::kNone));
  const int K = net.spec.num_classes;
  {
    WriterTensor t;
    t.name = "logits_flat";
    t.type = act_type;
    t.shape = {1, K};
    if (q8) {
      const ActivationQuant& aq = plan->at("logits");
      t.scales = {aq.scale};
      t.zero_points = {aq.zero_point};
    }
    const int flat = m.AddTensor(t);
    m.AddOperator(w::Operator(BuiltinOp::kReshape, {current}, {flat}, w::Reshape{{1, K}}));
    current = flat;
  }
  {
    WriterTensor t;
    t.name = "probabilities";
    t.type = act_type;
    t.shape = {1, K};
    if (q8) {
      t.scales = {1.f / 256.f};
      t.zero_points = {-128};
    }
    const int probs = m.AddTensor(t);
    m.AddOperator(w::Operator(BuiltinOp::kSoftmax, {current}, {probs}, w::Softmax{1.f}, q8 ? 2 : 1));
    m.SetOutputs({probs});
  }
  m.SetInputs({*input});
  m.SetDescription(q8 ? "triage MobileNet v1 (int8, full integer)" : "triage MobileNet v1 (float32)");

  std::string labels;
  for (const std::string& l : info.labels) labels += l + "\n";
  m.AddMetadata("labels", TextBytes(labels));
  nlohmann::json pre = {{"mean", {info.mean, info.mean, info.mean}},
                        {"std", {info.std, info.std, info.std}},
                        {"color", "rgb"},
                        {"layout", "NHWC"},
                        {"resize", "area"}};
  m.AddMetadata("preprocessing", TextBytes(pre.dump()));
  nlohmann::json training = nlohmann::json::object();
  for (const auto& [k, v] : info.training) training[k] = v;
  training["architecture"] = "mobilenet_v1";
  training["alpha"] = net.spec.alpha;
  training["resolution"] = net.spec.resolution;
  training["quantization"] = q8 ? "int8 full integer, per-channel weights" : "none (float32)";
  m.AddMetadata("training", TextBytes(training.dump()));
  return m.Build();
}

}  // namespace

Result<MobileNetSpec> SpecFromArchive(const TensorArchive& archive) {
  MobileNetSpec spec;
  Result<float> alpha = ParseFloat(archive, "alpha");
  if (!alpha.ok()) return alpha.status();
  Result<int> res = ParseInt(archive, "resolution");
  if (!res.ok()) return res.status();
  Result<int> classes = ParseInt(archive, "num_classes");
  if (!classes.ok()) return classes.status();
  spec.alpha = *alpha;
  spec.resolution = *res;
  spec.num_classes = *classes;
  TRIAGE_RETURN_IF_ERROR(ValidateSpec(spec));
  return spec;
}

Result<FoldedNet> FoldCheckpoint(const TensorArchive& archive) {
  Result<MobileNetSpec> spec = SpecFromArchive(archive);
  if (!spec.ok()) return spec.status();
  Result<float> eps = ParseFloat(archive, "bn_eps");
  if (!eps.ok()) return eps.status();
  FoldedNet net;
  net.spec = *spec;
  for (const LayerSpec& s : MobileNetV1Layers(net.spec)) {
    const bool dw = s.kind == LayerKind::kDepthwise;
    const int64_t co = s.out_channels, ci = dw ? 1 : s.in_channels, k = s.kernel;
    Result<const ArchiveTensor*> wt = archive.Get(s.name + ".weight", {co, ci, k, k});
    if (!wt.ok()) return wt.status();
    const ArchiveTensor* bn[4];
    const char* parts[4] = {".bn.weight", ".bn.bias", ".bn.running_mean", ".bn.running_var"};
    for (int i = 0; i < 4; ++i) {
      Result<const ArchiveTensor*> t = archive.Get(s.name + parts[i], {co});
      if (!t.ok()) return t.status();
      bn[i] = *t;
    }
    FoldedLayer layer;
    layer.spec = s;
    layer.weights.resize(co * ci * k * k);
    layer.bias.resize(co);
    const std::vector<float>& w = (*wt)->values;
    for (int64_t o = 0; o < co; ++o) {
      const double var = bn[3]->values[o];
      if (!(var >= 0.0)) {
        return Status::Error(StatusCode::kInvalidArgument, "%s: running variance %g of channel %lld is invalid",
                             s.name.c_str(), var, static_cast<long long>(o));
      }
      const double scale = bn[0]->values[o] / std::sqrt(var + *eps);
      layer.bias[o] = static_cast<float>(bn[1]->values[o] - bn[2]->values[o] * scale);
      for (int64_t i = 0; i < ci; ++i) {
        for (int64_t y = 0; y < k; ++y) {
          for (int64_t x = 0; x < k; ++x) {
            const float v = static_cast<float>(w[((o * ci + i) * k + y) * k + x] * scale);
            // TFLite layouts: conv [o][y][x][i]; depthwise [0][y][x][o].
            const int64_t dst = dw ? (y * k + x) * co + o : ((o * k + y) * k + x) * ci + i;
            layer.weights[dst] = v;
          }
        }
      }
    }
    net.layers.push_back(std::move(layer));
  }
  const int64_t features = FeatureChannels(net.spec), classes = net.spec.num_classes;
  Result<const ArchiveTensor*> fw = archive.Get("fc.weight", {classes, features});
  if (!fw.ok()) return fw.status();
  Result<const ArchiveTensor*> fb = archive.Get("fc.bias", {classes});
  if (!fb.ok()) return fb.status();
  net.head.spec = {LayerKind::kConv, static_cast<int>(features), static_cast<int>(classes), 1, 1, "logits"};
  net.head.relu6 = false;
  net.head.weights = (*fw)->values;  // [classes][features] == conv [o][1][1][i]
  net.head.bias = (*fb)->values;
  return net;
}

ModelInfo InfoFromArchive(const TensorArchive& archive) {
  ModelInfo info;
  info.labels = SplitLabelLines(archive.GetString("labels"));
  for (const auto& [k, v] : archive.strings()) {
    if (k.rfind("train.", 0) == 0) info.training[k.substr(6)] = v;
  }
  return info;
}

std::vector<std::string> ActivationTensorNames(const FoldedNet& net) {
  std::vector<std::string> names = {"input"};
  for (const FoldedLayer& l : net.layers) names.push_back(l.spec.name);
  names.push_back("logits");
  return names;
}

std::vector<uint8_t> BuildFloatTflite(const FoldedNet& net, const ModelInfo& info) {
  Result<std::vector<uint8_t>> r = Build(net, info, nullptr);
  TRIAGE_CHECK(r.ok());  // the float graph has no data-dependent failure
  return std::move(r).value();
}

Result<std::vector<uint8_t>> BuildInt8Tflite(const FoldedNet& net, const ModelInfo& info, const QuantPlan& plan) {
  return Build(net, info, &plan);
}

TensorArchive RandomCheckpoint(const MobileNetSpec& spec, uint64_t seed) {
  imaging::det::Rng rng(seed);
  TensorArchive a;
  auto put = [&](const std::string& name, std::vector<int64_t> shape, float lo, float hi) {
    ArchiveTensor t;
    t.shape = std::move(shape);
    t.values.resize(t.count());
    for (float& v : t.values) v = rng.Uniform(lo, hi);
    a.Put(name, std::move(t));
  };
  for (const LayerSpec& s : MobileNetV1Layers(spec)) {
    const bool dw = s.kind == LayerKind::kDepthwise;
    const int64_t fan_in = static_cast<int64_t>(s.kernel) * s.kernel * (dw ? 1 : s.in_channels);
    const float bound = std::sqrt(6.f / fan_in);
    put(s.name + ".weight", {s.out_channels, dw ? 1 : s.in_channels, s.kernel, s.kernel}, -bound, bound);
    put(s.name + ".bn.weight", {s.out_channels}, 0.5f, 1.5f);
    put(s.name + ".bn.bias", {s.out_channels}, -0.2f, 0.2f);
    put(s.name + ".bn.running_mean", {s.out_channels}, -0.5f, 0.5f);
    put(s.name + ".bn.running_var", {s.out_channels}, 0.5f, 2.f);
  }
  const int64_t f = FeatureChannels(spec);
  put("fc.weight", {spec.num_classes, f}, -0.3f, 0.3f);
  put("fc.bias", {spec.num_classes}, -0.1f, 0.1f);
  a.PutString("alpha", std::to_string(spec.alpha));
  a.PutString("resolution", std::to_string(spec.resolution));
  a.PutString("num_classes", std::to_string(spec.num_classes));
  a.PutString("bn_eps", "0.001");
  std::string labels;
  for (int i = 0; i < spec.num_classes; ++i) {
    labels += (spec.num_classes == static_cast<int>(TriageLabels().size()) ? TriageLabels()[i]
                                                                          : "class" + std::to_string(i)) + "\n";
  }
  a.PutString("labels", labels);
  return a;
}

Status WriteFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) return Status::Error(StatusCode::kIoError, "%s: cannot write", tmp.c_str());
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::Error(StatusCode::kIoError, "%s: cannot rename into place", path.c_str());
  }
  return Status::Ok();
}

}  // namespace triage::ground
