// Export: checkpoint -> BatchNorm folded into the convolutions -> a standard
// TensorFlow Lite flatbuffer, written through our own schema (inference/
// model_writer.h), float32 or full-integer int8.
//
// Graph (both types): input [1,R,R,3] -> CONV_2D 3x3/2 (ReLU6) -> 13 x
// (DEPTHWISE_CONV_2D 3x3 (ReLU6), CONV_2D 1x1 (ReLU6)) -> AVERAGE_POOL_2D
// (R/32 x R/32, VALID) -> CONV_2D 1x1 (logits) -> RESHAPE [1,K] -> SOFTMAX.
// The classifier is a 1x1 convolution, as in Keras' MobileNet, so that int8
// weights are per-channel everywhere.
//
// Metadata entries: "labels" (one per line), "preprocessing" (JSON: mean,
// std, colour order, resize filter), "training" (JSON: data hash, code
// version, seed, spec, ...). Ground-side code: allocates freely.
#ifndef TRIAGE_GROUND_EXPORT_H_
#define TRIAGE_GROUND_EXPORT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/result.h"
#include "ground/mobilenet.h"
#include "ground/tensor_archive.h"

namespace triage::ground {

// A convolution with BatchNorm folded in, weights in TFLite layout:
// CONV_2D [out, kh, kw, in]; DEPTHWISE_CONV_2D [1, kh, kw, channels].
struct FoldedLayer {
  LayerSpec spec;
  bool relu6 = true;
  std::vector<float> weights;
  std::vector<float> bias;
};

struct FoldedNet {
  MobileNetSpec spec;
  std::vector<FoldedLayer> layers;  // backbone, in order
  FoldedLayer head;                 // 1x1 conv features -> classes, no activation
};

// Provenance and preprocessing written into the model's metadata.
struct ModelInfo {
  std::vector<std::string> labels;
  float mean = 128.f;  // input = (pixel - mean) / std, every channel
  float std = 128.f;
  std::map<std::string, std::string> training;  // free-form provenance (data hash, seed, ...)
};

// Checkpoint parameter names (PyTorch layout), shared with the trainer:
//   "<layer>.weight" conv [out,in,k,k] / depthwise [c,1,k,k];
//   "<layer>.bn.{weight,bias,running_mean,running_var}" [c];
//   "fc.weight" [classes, features], "fc.bias" [classes];
// strings "alpha", "resolution", "num_classes", "bn_eps", "labels".
Result<MobileNetSpec> SpecFromArchive(const TensorArchive& archive);
Result<FoldedNet> FoldCheckpoint(const TensorArchive& archive);
ModelInfo InfoFromArchive(const TensorArchive& archive);

// Per-activation-tensor int8 quantization chosen by the quantizer, by tensor
// name ("input", layer names, "pool", "logits", "logits_flat").
struct ActivationQuant {
  float scale = 1.f;
  int32_t zero_point = 0;
};
using QuantPlan = std::map<std::string, ActivationQuant>;

// Float32 .tflite.
std::vector<uint8_t> BuildFloatTflite(const FoldedNet& net, const ModelInfo& info);
// Full-integer int8 .tflite (per-channel symmetric weights, int32 bias with
// scale input x weight, softmax output 1/256 zero point -128, int8 input and
// output). `plan` must hold every activation tensor name.
Result<std::vector<uint8_t>> BuildInt8Tflite(const FoldedNet& net, const ModelInfo& info,
                                             const QuantPlan& plan);

// Names of the activation tensors, in graph order (input first).
std::vector<std::string> ActivationTensorNames(const FoldedNet& net);

// A checkpoint with seeded random weights and non-trivial BatchNorm
// statistics (no training, no libtorch): for exporter and quantizer tests.
TensorArchive RandomCheckpoint(const MobileNetSpec& spec, uint64_t seed);

Status WriteFile(const std::string& path, const std::vector<uint8_t>& bytes);

}  // namespace triage::ground

#endif  // TRIAGE_GROUND_EXPORT_H_
