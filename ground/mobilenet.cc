#include "ground/mobilenet.h"

#include <cmath>

namespace triage::ground {
namespace {

struct Block {
  int channels;
  int stride;
};
// MobileNet v1's 13 separable blocks: pointwise output channels (alpha = 1)
// and depthwise stride.
constexpr Block kBlocks[] = {{64, 1},  {128, 2}, {128, 1}, {256, 2}, {256, 1},
                             {512, 2}, {512, 1}, {512, 1}, {512, 1}, {512, 1},
                             {512, 1}, {1024, 2}, {1024, 1}};

int Scaled(int base, float alpha) {
  const int c = static_cast<int>(base * alpha);
  return c < 8 ? 8 : c;
}

}  // namespace

Status ValidateSpec(const MobileNetSpec& spec) {
  if (!(spec.alpha > 0.f && spec.alpha <= 1.f)) {
    return Status::Error(StatusCode::kInvalidArgument, "width multiplier %g: must be in (0, 1]",
                         static_cast<double>(spec.alpha));
  }
  if (spec.resolution < 32 || spec.resolution > 512 || spec.resolution % 32 != 0) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "input resolution %d: must be a multiple of 32 in 32..512", spec.resolution);
  }
  if (spec.num_classes < 2 || spec.num_classes > 4096) {
    return Status::Error(StatusCode::kInvalidArgument, "class count %d: must be 2..4096",
                         spec.num_classes);
  }
  return Status::Ok();
}

std::vector<LayerSpec> MobileNetV1Layers(const MobileNetSpec& spec) {
  std::vector<LayerSpec> layers;
  int channels = Scaled(32, spec.alpha);
  layers.push_back({LayerKind::kConv, 3, channels, 3, 2, "conv0"});
  int i = 1;
  for (const Block& b : kBlocks) {
    const int out = Scaled(b.channels, spec.alpha);
    layers.push_back({LayerKind::kDepthwise, channels, channels, 3, b.stride, "dw" + std::to_string(i)});
    layers.push_back({LayerKind::kConv, channels, out, 1, 1, "pw" + std::to_string(i)});
    channels = out;
    ++i;
  }
  return layers;
}

int FeatureChannels(const MobileNetSpec& spec) { return Scaled(1024, spec.alpha); }

long long MobileNetMacs(const MobileNetSpec& spec) {
  long long macs = 0;
  int size = spec.resolution;
  for (const LayerSpec& l : MobileNetV1Layers(spec)) {
    size = (size + l.stride - 1) / l.stride;
    const long long per_pixel = l.kind == LayerKind::kDepthwise
                                    ? 1LL * l.kernel * l.kernel * l.in_channels
                                    : 1LL * l.kernel * l.kernel * l.in_channels * l.out_channels;
    macs += per_pixel * size * size;
  }
  return macs + 1LL * FeatureChannels(spec) * spec.num_classes;
}

const std::vector<std::string>& TriageLabels() {
  static const std::vector<std::string> labels = {"black", "cloud", "distorted", "land", "white"};
  return labels;
}

std::vector<std::string> SplitLabelLines(const std::string& text) {
  std::vector<std::string> labels;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) labels.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return labels;
}

}  // namespace triage::ground
