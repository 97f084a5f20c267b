// The triage decision the fault layer protects and the fault-injection
// campaign scores: the argmax class of the classifier's output tensor,
// dequantized with the scale and zero point captured at init (so an upset in
// the model's quantization metadata cannot silently re-rank classes).
//
// Ties go to the lowest class index. Flight-safe: no allocation.
#ifndef TRIAGE_FAULT_DECISION_H_
#define TRIAGE_FAULT_DECISION_H_

#include <cstdint>

#include "inference/interpreter.h"

namespace triage::fault {

struct OutputQuant {
  kernels::DataType type = kernels::DataType::kUint8;
  float scale = 1.0f;
  int32_t zero_point = 0;
  size_t elements = 0;
};

// Captures type, quantization and element count of an output tensor (init).
OutputQuant CaptureOutputQuant(const inference::TensorView& output);

struct Decision {
  int class_index = -1;  // -1: no decision (no data or no elements)
  float score = 0.0f;    // dequantized value of the winning class
};

// Argmax over the dequantized elements of data (laid out as quant describes).
// Supports uint8, int8, int16, int32 and float32 outputs.
Decision DecideArgmax(const uint8_t* data, const OutputQuant& quant);

}  // namespace triage::fault

#endif  // TRIAGE_FAULT_DECISION_H_
