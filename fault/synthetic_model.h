// A small synthetic int8 classifier shaped like the flight model (int8 input
// scale 1/128 zero point 0; int8 [1,5] softmax output scale 1/256 zero point
// -128), built with inference::ModelWriter from a seed. For the fault
// injection tool and tests when the flight model is not available, and for
// fast CI campaigns: ~0.3 M MACs instead of ~14 M.
//
// Graph: CONV 3x3/2 (3->8, RELU6) -> DEPTHWISE 3x3 (RELU6) -> CONV 1x1
// (8->16, RELU6) -> CONV 3x3/2 (16->16, RELU6) -> AVERAGE_POOL -> RESHAPE ->
// FULLY_CONNECTED (16->5) -> SOFTMAX. Per-channel int8 weights, int32 biases.
//
// Ground/tool code: allocates; not for the flight path.
#ifndef TRIAGE_FAULT_SYNTHETIC_MODEL_H_
#define TRIAGE_FAULT_SYNTHETIC_MODEL_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace triage::fault {

// Seed 3 spreads the synthetic frames below over four of the five classes.
constexpr uint32_t kSyntheticModelSeed = 3;

// input_size: height and width of the [1, input_size, input_size, 3] input
// (a multiple of 4, at least 8). The same seed gives the same bytes.
std::vector<uint8_t> BuildSyntheticClassifier(uint32_t seed = kSyntheticModelSeed, int input_size = 32);

// Fills an image-like NHWC input (uint8 or int8 bytes, element size 1) from a
// seed: a level per channel, a linear gradient, a bright or dark blob and
// noise of seed-chosen amplitude, so different seeds look like different
// scenes (flat dark, flat bright, textured). Other element types get raw
// seeded bytes. Deterministic on every machine; flight-safe (no allocation).
void FillSyntheticFrame(uint8_t* data, size_t bytes, int height, int width, int channels, bool is_signed,
                        uint32_t seed);

}  // namespace triage::fault

#endif  // TRIAGE_FAULT_SYNTHETIC_MODEL_H_
