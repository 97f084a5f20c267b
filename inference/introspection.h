// Read-only facts about a model for tools, benchmarks and reports: per-op
// multiply-accumulate counts. Pure functions over a verified Model.
#ifndef TRIAGE_INFERENCE_INTROSPECTION_H_
#define TRIAGE_INFERENCE_INTROSPECTION_H_

#include <cstdint>

#include "inference/model.h"

namespace triage::inference {

// Multiply-accumulates performed by operator op_index (0 for data movement;
// element-wise ops count one per output element).
int64_t OperatorMacs(const Model& model, int op_index);
int64_t TotalMacs(const Model& model);

}  // namespace triage::inference

#endif  // TRIAGE_INFERENCE_INTROSPECTION_H_
