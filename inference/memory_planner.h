// Greedy arena planning, as in TensorFlow Lite Micro's GreedyMemoryPlanner.
//
// Each buffer has a size and a lifetime [first_use, last_use] in operator
// steps. Buffers are placed largest first, each at the lowest offset where it
// does not overlap (in memory) any already placed buffer whose lifetime
// overlaps its own. Offsets are aligned. Deterministic: ties are broken by
// buffer id. O(n^2) in the number of buffers; init-time only.
#ifndef TRIAGE_INFERENCE_MEMORY_PLANNER_H_
#define TRIAGE_INFERENCE_MEMORY_PLANNER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/status.h"

namespace triage::inference {

struct PlannedBuffer {
  size_t size = 0;
  int first_use = 0;
  int last_use = 0;
  size_t offset = 0;  // output of Plan()
};

class MemoryPlanner {
 public:
  static constexpr size_t kAlignment = 16;
  // Assigns offsets to every buffer; returns the arena size needed.
  static size_t Plan(std::vector<PlannedBuffer>& buffers);
};

}  // namespace triage::inference

#endif  // TRIAGE_INFERENCE_MEMORY_PLANNER_H_
