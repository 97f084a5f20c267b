// MobileNet v1 (Howard et al. 2017) as plain data: the layer list shared by
// the libtorch trainer, the BatchNorm-folding exporter and the quantizer, so
// that the three agree on shapes, strides and padding by construction.
//
// Padding follows TensorFlow's SAME rule, which for stride 2 on an even input
// pads one pixel at the bottom/right only (the trainer pads explicitly to
// match; PyTorch's symmetric padding would shift every stride-2 layer).
#ifndef TRIAGE_GROUND_MOBILENET_H_
#define TRIAGE_GROUND_MOBILENET_H_

#include <string>
#include <vector>

#include "core/status.h"

namespace triage::ground {

struct MobileNetSpec {
  float alpha = 0.25f;    // width multiplier
  int resolution = 128;   // square input, pixels; multiple of 32
  int num_classes = 5;
};

Status ValidateSpec(const MobileNetSpec& spec);

enum class LayerKind { kConv, kDepthwise };

struct LayerSpec {
  LayerKind kind = LayerKind::kConv;
  int in_channels = 0, out_channels = 0;
  int kernel = 1, stride = 1;
  std::string name;  // "conv0", "dw1", "pw1", ...
};

// Stem conv (3x3/2) then 13 depthwise-separable blocks (dw 3x3 + pw 1x1),
// each followed by BatchNorm + ReLU6. Channels are int(base * alpha), at
// least 8 for the stem.
std::vector<LayerSpec> MobileNetV1Layers(const MobileNetSpec& spec);

// Channels into the classifier (the last pointwise layer's output).
int FeatureChannels(const MobileNetSpec& spec);

// Multiply-accumulates of one inference (convolutions and classifier).
long long MobileNetMacs(const MobileNetSpec& spec);

// The classes of the triage model, in output order.
const std::vector<std::string>& TriageLabels();

// Labels stored as text, one per line (model metadata, checkpoints); empty
// lines are skipped.
std::vector<std::string> SplitLabelLines(const std::string& text);

}  // namespace triage::ground

#endif  // TRIAGE_GROUND_MOBILENET_H_
