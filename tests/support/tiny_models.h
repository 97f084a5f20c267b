// Small synthetic .tflite models built with ModelWriter, covering every
// registered operator in float, uint8 and int8. Deterministic bytes.
#ifndef TRIAGE_TESTS_SUPPORT_TINY_MODELS_H_
#define TRIAGE_TESTS_SUPPORT_TINY_MODELS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "inference/model_writer.h"

namespace triage::testing {

// FC(4 -> 3) + RELU, float.
inference::ModelWriter FloatFcWriter();
// CONV 3x3/2 SAME RELU6 -> DEPTHWISE 3x3 -> AVG_POOL -> RESHAPE -> SOFTMAX, uint8.
inference::ModelWriter Uint8ConvNetWriter();
// QUANTIZE -> CONV per-channel -> ADD -> PAD -> MEAN -> FC -> SOFTMAX -> DEQUANTIZE, int8 inside, float ends.
inference::ModelWriter Int8NetWriter();
// CONCATENATION, MUL (broadcast), LOGISTIC, TANH, HARD_SWISH, MAX_POOL, RELU, SQUEEZE, float.
inference::ModelWriter FloatMiscWriter();
// LOGISTIC / TANH / RELU6 / HARD_SWISH / MAX_POOL / MUL / CONCAT on uint8.
inference::ModelWriter Uint8MiscWriter();

struct NamedModel {
  std::string name;
  std::vector<uint8_t> bytes;
};
std::vector<NamedModel> AllTinyModels();

}  // namespace triage::testing

#endif  // TRIAGE_TESTS_SUPPORT_TINY_MODELS_H_
