// Post-training full-integer int8 quantization, following TensorFlow Lite's
// int8 specification:
//   * weights: per-channel symmetric int8 (zero point 0, range -127..127);
//   * activations: per-tensor asymmetric int8, ranges from calibration
//     (min/max, or a percentile of the observed values), always containing 0;
//   * bias: int32 with scale = input scale x weight scale, zero point 0;
//   * softmax output: scale 1/256, zero point -128;
//   * int8 input (scale 1/128, zero point 0 for the default (p-128)/128
//     preprocessing, i.e. q = pixel - 128) and int8 output.
// Calibration runs the float model on our own interpreter and records every
// activation tensor between operators, so the ranges are those of the graph
// that ships. Ground-side: allocates freely.
#ifndef TRIAGE_GROUND_QUANTIZE_H_
#define TRIAGE_GROUND_QUANTIZE_H_

#include <string>
#include <vector>

#include "core/result.h"
#include "ground/export.h"

namespace triage::ground {

struct CalibrationOptions {
  // 100 = plain min/max. Below 100, each tensor's range is clipped to this
  // percentile of |observed values| on each side (two passes, 4096-bin histograms).
  double percentile = 100.0;
};

struct TensorRange {
  std::string name;
  float min = 0.f, max = 0.f;
};

// The int8 parameters TFLite derives from a real range: the range is widened
// to contain 0, scale = (max - min) / 255, zero point = round(-128 - min /
// scale) clamped to int8 (TFLite's nudging).
ActivationQuant ChooseActivationQuant(float min, float max);

// Calibrates on `samples` (each R*R*3 floats, NHWC, already normalized) and
// returns the quantization plan (input fixed to the preprocessing's exact
// 1/std scale when the input range allows it) plus the observed ranges.
Result<QuantPlan> Calibrate(const FoldedNet& net, const ModelInfo& info,
                            const std::vector<std::vector<float>>& samples, const CalibrationOptions& options,
                            std::vector<TensorRange>* ranges);

// Post-training int8 quantization of a folded net, calibrated on up to
// `samples` images of `calibration_dir`: the .tflite bytes.
Result<std::vector<uint8_t>> QuantizeNet(const FoldedNet& net, const ModelInfo& info,
                                         const std::string& calibration_dir, size_t samples,
                                         const CalibrationOptions& options, std::vector<TensorRange>* ranges,
                                         size_t* calibration_images = nullptr);

// Loads up to `count` images of a labelled folder, evenly spaced over its
// rows, resized with the flight resampler and normalized (pixel - mean) / std:
// calibration and check inputs.
Result<std::vector<std::vector<float>>> LoadModelInputs(const std::string& dir, int resolution, float mean,
                                                        float stddev, size_t count, std::vector<std::string>* files);

}  // namespace triage::ground

#endif  // TRIAGE_GROUND_QUANTIZE_H_
