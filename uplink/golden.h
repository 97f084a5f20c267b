// Golden vectors of a model package: a few input tensors and the exact
// output bytes the ground's interpreter gave for them. On acceptance the
// model is run on each input through the same interpreter and kernel set the
// flight will use, and every output byte must match, so a model that
// verifies but computes differently (another converter's rounding, a
// corrupted weight the hash could not see because it was built that way) is
// refused before it flies.
//
// Section layout (little-endian): magic "TRGV", u16 count (1..16), u16 0,
// then per vector: u32 input bytes, the input tensor, u32 output bytes, the
// output tensor (input 0 and output 0 of the model).
//
// CheckGoldenVectors builds its own interpreter (allocates: an acceptance
// step between frames, like a reload, never per frame). No exceptions.
#ifndef TRIAGE_UPLINK_GOLDEN_H_
#define TRIAGE_UPLINK_GOLDEN_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/result.h"
#include "core/span.h"
#include "core/status.h"
#include "inference/interpreter.h"

namespace triage::uplink {

constexpr size_t kMaxGoldenVectors = 16;

struct GoldenPair {
  std::vector<uint8_t> input, output;
};

std::vector<uint8_t> EncodeGolden(const std::vector<GoldenPair>& vectors);

// `model`: 16-byte-aligned model bytes. Returns the number of vectors
// checked; an error names the vector and the first differing byte.
Result<size_t> CheckGoldenVectors(Span<const uint8_t> model, Span<const uint8_t> golden,
                                  const inference::InterpreterOptions& options) noexcept;

}  // namespace triage::uplink

#endif  // TRIAGE_UPLINK_GOLDEN_H_
