#include "ground/import.h"

#include <cmath>
#include <cstdio>
#include <cstring>

#include "ground/export.h"
#include "inference/model.h"

namespace triage::ground {
namespace {

using inference::BuiltinOp;
using inference::DataType;
using inference::TensorSpec;

constexpr double kBnEps = 1e-3;  // the trainer's value (Keras' MobileNet)

std::string ShapeText(const kernels::Shape& s) {
  std::string t = "[";
  for (int i = 0; i < s.rank; ++i) t += (i ? "," : "") + std::to_string(s.dims[i]);
  return t + "]";
}

// Dequantizes a constant tensor (float32 copied; uint8/int8/int32 with
// per-tensor or per-channel scale and zero point).
Result<std::vector<float>> Dequantize(const TensorSpec& t, const std::string& what) {
  if (!t.is_constant()) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: tensor '%s' is not a constant", what.c_str(), t.name);
  }
  const int64_t n = t.shape.FlatSize();
  std::vector<float> out(static_cast<size_t>(n));
  if (t.type == DataType::kFloat32) {
    std::memcpy(out.data(), t.data, static_cast<size_t>(n) * sizeof(float));
    return out;
  }
  if (t.type != DataType::kUint8 && t.type != DataType::kInt8 && t.type != DataType::kInt32) {
    return Status::Error(StatusCode::kUnsupported, "%s: tensor '%s' has type %s; float32, uint8, int8 or int32 expected",
                         what.c_str(), t.name, kernels::DataTypeName(t.type));
  }
  const size_t scales = t.quant.scales.size();
  if (scales == 0) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: quantized tensor '%s' has no scale", what.c_str(), t.name);
  }
  const int qdim = t.quant.quantized_dimension;
  int64_t inner = 1;
  if (scales > 1) {
    if (qdim < 0 || qdim >= t.shape.rank || static_cast<size_t>(t.shape.dims[qdim]) != scales) {
      return Status::Error(StatusCode::kInvalidArgument, "%s: tensor '%s': %zu scales do not fit dimension %d of %s",
                           what.c_str(), t.name, scales, qdim, ShapeText(t.shape).c_str());
    }
    for (int d = qdim + 1; d < t.shape.rank; ++d) inner *= t.shape.dims[d];
  }
  for (int64_t i = 0; i < n; ++i) {
    const size_t c = scales > 1 ? static_cast<size_t>((i / inner) % static_cast<int64_t>(scales)) : 0;
    double q = 0;
    switch (t.type) {
      case DataType::kUint8: q = t.data[i]; break;
      case DataType::kInt8: q = static_cast<int8_t>(t.data[i]); break;
      default: {
        int32_t v;
        std::memcpy(&v, t.data + 4 * i, 4);
        q = v;
      }
    }
    out[static_cast<size_t>(i)] = static_cast<float>((q - static_cast<double>(t.quant.zero_points[c])) *
                                                     static_cast<double>(t.quant.scales[c]));
  }
  return out;
}

void PutTensor(TensorArchive* a, const std::string& name, std::vector<int64_t> shape, std::vector<float> values) {
  ArchiveTensor t;
  t.shape = std::move(shape);
  t.values = std::move(values);
  a->Put(name, std::move(t));
}

// The identity BatchNorm that carries a folded bias.
void PutIdentityBn(TensorArchive* a, const std::string& layer, const std::vector<float>& bias) {
  const int64_t c = static_cast<int64_t>(bias.size());
  PutTensor(a, layer + ".bn.weight", {c}, std::vector<float>(bias.size(), 1.f));
  PutTensor(a, layer + ".bn.bias", {c}, bias);
  PutTensor(a, layer + ".bn.running_mean", {c}, std::vector<float>(bias.size(), 0.f));
  PutTensor(a, layer + ".bn.running_var", {c}, std::vector<float>(bias.size(), static_cast<float>(1.0 - kBnEps)));
}

bool LooksLikeTflite(const std::vector<uint8_t>& bytes) {
  return bytes.size() >= 8 && std::memcmp(bytes.data() + 4, "TFL3", 4) == 0;
}

// The project's model-file reader (size-capped, 16-byte aligned), as bytes.
Result<std::vector<uint8_t>> ReadBytes(const std::string& path) {
  Result<inference::AlignedBuffer> file = inference::ReadFileAligned(path);
  if (!file.ok()) return file.status();
  return std::vector<uint8_t>(file->data(), file->data() + file->size());
}

}  // namespace

Result<ImportedModel> ImportMobileNetV1(const std::vector<uint8_t>& tflite, const std::string& what, bool keep_head) {
  inference::AlignedBuffer aligned(tflite.size());
  std::memcpy(aligned.data(), tflite.data(), tflite.size());
  Result<inference::Model> model = inference::Model::Create(aligned.span());
  if (!model.ok()) return model.status().WithContext("%s", what.c_str());
  const auto tensors = model->tensors();
  auto not_mobilenet = [&](const char* fmt, auto... args) {
    char detail[256];
    std::snprintf(detail, sizeof(detail), fmt, args...);
    return Status::Error(StatusCode::kInvalidArgument, "%s: not a MobileNet v1 layout: %s", what.c_str(), detail);
  };
  if (model->inputs().size() != 1) return not_mobilenet("%zu inputs, expected 1", model->inputs().size());
  const TensorSpec& input = tensors[static_cast<size_t>(model->inputs()[0])];
  if (input.shape.rank != 4 || input.shape.dims[3] != 3 || input.shape.dims[1] != input.shape.dims[2]) {
    return not_mobilenet("input %s, expected [1,R,R,3]", ShapeText(input.shape).c_str());
  }

  // The convolutions in execution order: 27 backbone layers, then the logits.
  struct ConvOp {
    size_t index;
    bool depthwise;
    int32_t weights, bias, output;
  };
  std::vector<ConvOp> convs;
  const auto ops = model->operators();
  for (size_t i = 0; i < ops.size(); ++i) {
    const int32_t code = ops[i].code;
    if (code != static_cast<int32_t>(BuiltinOp::kConv2d) && code != static_cast<int32_t>(BuiltinOp::kDepthwiseConv2d)) {
      continue;
    }
    if (ops[i].inputs.size() < 2 || ops[i].outputs.size() != 1 || ops[i].inputs[1] < 0) {
      return not_mobilenet("operator %zu (%s) has no filter", i, inference::BuiltinOpName(code));
    }
    convs.push_back({i, code == static_cast<int32_t>(BuiltinOp::kDepthwiseConv2d), ops[i].inputs[1],
                     ops[i].inputs.size() > 2 ? ops[i].inputs[2] : -1, ops[i].outputs[0]});
  }
  MobileNetSpec probe;
  const size_t backbone = MobileNetV1Layers(probe).size();
  if (convs.size() != backbone + 1) {
    return not_mobilenet("%zu convolutions, expected %zu (27 backbone layers and a 1x1 classifier)", convs.size(),
                         backbone + 1);
  }
  // Width from the last pointwise layer: int(1024 * alpha) channels.
  const TensorSpec& last_w = tensors[static_cast<size_t>(convs[backbone - 1].weights)];
  ImportedModel out;
  out.spec.alpha = static_cast<float>(last_w.shape.dims[0]) / 1024.f;
  out.spec.resolution = input.shape.dims[1];
  const TensorSpec& head_w = tensors[static_cast<size_t>(convs[backbone].weights)];
  if (head_w.shape.rank != 4 || head_w.shape.dims[1] != 1 || head_w.shape.dims[2] != 1) {
    return not_mobilenet("classifier filter %s, expected [K,1,1,F]", ShapeText(head_w.shape).c_str());
  }
  out.source_classes = head_w.shape.dims[0];
  out.spec.num_classes = keep_head ? out.source_classes : static_cast<int>(TriageLabels().size());
  if (Status s = ValidateSpec(out.spec); !s.ok()) return not_mobilenet("%s", s.message());

  TensorArchive& a = out.checkpoint;
  const std::vector<LayerSpec> layers = MobileNetV1Layers(out.spec);
  int size = out.spec.resolution;
  for (size_t l = 0; l < layers.size(); ++l) {
    const LayerSpec& s = layers[l];
    const ConvOp& op = convs[l];
    const bool dw = s.kind == LayerKind::kDepthwise;
    const TensorSpec& wt = tensors[static_cast<size_t>(op.weights)];
    const int k = s.kernel;
    const int32_t want[4] = {dw ? 1 : s.out_channels, k, k, dw ? s.out_channels : s.in_channels};
    if (op.depthwise != dw || wt.shape.rank != 4 || wt.shape.dims[0] != want[0] || wt.shape.dims[1] != want[1] ||
        wt.shape.dims[2] != want[2] || wt.shape.dims[3] != want[3]) {
      return not_mobilenet("operator %zu (%s, filter '%s' %s) where MobileNet v1 alpha %g has %s '%s' [%d,%d,%d,%d]",
                           op.index, op.depthwise ? "DEPTHWISE_CONV_2D" : "CONV_2D", wt.name,
                           ShapeText(wt.shape).c_str(), static_cast<double>(out.spec.alpha),
                           dw ? "DEPTHWISE_CONV_2D" : "CONV_2D", s.name.c_str(), want[0], want[1], want[2], want[3]);
    }
    size = (size + s.stride - 1) / s.stride;
    const TensorSpec& o = tensors[static_cast<size_t>(op.output)];
    if (o.shape.rank != 4 || o.shape.dims[1] != size || o.shape.dims[2] != size) {
      return not_mobilenet("operator %zu output %s, expected %dx%d (stride %d)", op.index,
                           ShapeText(o.shape).c_str(), size, size, s.stride);
    }
    Result<std::vector<float>> w = Dequantize(wt, what);
    if (!w.ok()) return w.status();
    std::vector<float> bias(static_cast<size_t>(s.out_channels), 0.f);
    if (op.bias >= 0) {
      const TensorSpec& bt = tensors[static_cast<size_t>(op.bias)];
      if (bt.shape.FlatSize() != s.out_channels) {
        return not_mobilenet("operator %zu bias %s, expected %d values", op.index, ShapeText(bt.shape).c_str(),
                             s.out_channels);
      }
      Result<std::vector<float>> b = Dequantize(bt, what);
      if (!b.ok()) return b.status();
      bias = std::move(b).value();
    }
    // TFLite conv [o][y][x][i] -> ours [o][i][y][x]; depthwise [0][y][x][c] -> [c][0][y][x].
    const int ci = dw ? 1 : s.in_channels, co = s.out_channels;
    std::vector<float> ours(static_cast<size_t>(co) * ci * k * k);
    for (int oc = 0; oc < co; ++oc) {
      for (int ic = 0; ic < ci; ++ic) {
        for (int y = 0; y < k; ++y) {
          for (int x = 0; x < k; ++x) {
            const size_t src = dw ? static_cast<size_t>((y * k + x) * co + oc)
                                  : static_cast<size_t>(((oc * k + y) * k + x) * ci + ic);
            ours[static_cast<size_t>(((oc * ci + ic) * k + y) * k + x)] = (*w)[src];
          }
        }
      }
    }
    PutTensor(&a, s.name + ".weight", {co, ci, k, k}, std::move(ours));
    PutIdentityBn(&a, s.name, bias);
  }
  if (keep_head) {
    const int features = FeatureChannels(out.spec);
    if (head_w.shape.dims[3] != features) {
      return not_mobilenet("classifier filter %s, expected [K,1,1,%d]", ShapeText(head_w.shape).c_str(), features);
    }
    Result<std::vector<float>> w = Dequantize(head_w, what);
    if (!w.ok()) return w.status();
    std::vector<float> bias(static_cast<size_t>(out.source_classes), 0.f);
    if (convs[backbone].bias >= 0) {
      Result<std::vector<float>> b = Dequantize(tensors[static_cast<size_t>(convs[backbone].bias)], what);
      if (!b.ok()) return b.status();
      if (b->size() != bias.size()) return not_mobilenet("classifier bias has %zu values", b->size());
      bias = std::move(b).value();
    }
    PutTensor(&a, "fc.weight", {out.source_classes, features}, std::move(w).value());
    PutTensor(&a, "fc.bias", {out.source_classes}, std::move(bias));
  }
  a.PutString("alpha", std::to_string(out.spec.alpha));
  a.PutString("resolution", std::to_string(out.spec.resolution));
  a.PutString("num_classes", std::to_string(out.spec.num_classes));
  a.PutString("bn_eps", "0.001");
  a.PutString("bn_frozen", "1");
  a.PutString("init.source", what);
  std::string labels;
  for (int i = 0; i < out.spec.num_classes; ++i) {
    labels += (keep_head ? "class" + std::to_string(i) : TriageLabels()[static_cast<size_t>(i)]) + "\n";
  }
  a.PutString("labels", labels);
  return out;
}

Result<ImportedModel> ImportMobileNetV1File(const std::string& path, bool keep_head) {
  Result<std::vector<uint8_t>> bytes = ReadBytes(path);
  if (!bytes.ok()) return bytes.status();
  return ImportMobileNetV1(*bytes, path, keep_head);
}

Result<TensorArchive> LoadInitialization(const std::string& path, float alpha, int num_classes, bool* has_head) {
  Result<std::vector<uint8_t>> bytes = ReadBytes(path);
  if (!bytes.ok()) return bytes.status();
  TensorArchive source;
  if (LooksLikeTflite(*bytes)) {
    Result<ImportedModel> m = ImportMobileNetV1(*bytes, path, /*keep_head=*/false);
    if (!m.ok()) return m.status();
    source = std::move(m->checkpoint);
  } else {
    Result<TensorArchive> a = TensorArchive::Parse(*bytes, path);
    if (!a.ok()) {
      return Status::Error(StatusCode::kInvalidArgument, "%s: neither a .tflite model nor a triage checkpoint (%s)",
                           path.c_str(), a.status().message());
    }
    source = std::move(a).value();
  }
  Result<MobileNetSpec> spec = SpecFromArchive(source);
  if (!spec.ok()) return spec.status().WithContext("%s", path.c_str());
  if (std::fabs(spec->alpha - alpha) > 1e-6f) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: MobileNet v1 of width %g, but --alpha is %g", path.c_str(),
                         static_cast<double>(spec->alpha), static_cast<double>(alpha));
  }
  *has_head = spec->num_classes == num_classes && source.Has("fc.weight");
  TensorArchive out;
  for (const auto& [name, t] : source.tensors()) {
    if (*has_head || name.rfind("fc.", 0) != 0) out.Put(name, t);
  }
  for (const auto& [name, v] : source.strings()) out.PutString(name, v);
  out.PutString("num_classes", std::to_string(num_classes));
  return out;
}

}  // namespace triage::ground
