// Packed right-hand operand of the integer GEMM behind the optimized
// CONV_2D and FULLY_CONNECTED kernels, built once at Prepare.
//
// For out[m][n] = sum_k (w[n][k] + filter_offset) * (x[m][k] + input_offset)
// + bias[n] the packing folds every term that does not depend on x:
//   out = sum_k w*x + filter_offset * sum_k x[m][k] + col_bias[n],
//   col_bias[n] = bias[n] + input_offset * sum_k w[n][k] + K * input_offset * filter_offset,
// all in wrapping 32-bit arithmetic. The result equals the reference kernel's
// sum modulo 2^32, and Prepare bounds every sum a valid model can produce to
// int32, so the two are equal. A padded tap (the reference skips it) is filled
// with the input zero point, which makes (x + input_offset) zero and adds
// nothing either way.
//
// Layout (one contiguous blob from the interpreter's persistent storage):
//   PackedGemm header
//   int32_t col_bias[blocks * kNr]            (zero past n)
//   uint8_t w[blocks][kpairs][kNr][2]          (zero past n and past k)
#ifndef TRIAGE_KERNELS_OPTIMIZED_GEMM_H_
#define TRIAGE_KERNELS_OPTIMIZED_GEMM_H_

#include <cstddef>
#include <cstdint>

#include "kernels/optimized/ukernels.h"

namespace triage::kernels::optimized {

// The header records the geometry for inspection and tests only: the
// kernels take n and k from the operator's shapes (GemmView), so an upset in
// these bytes cannot send a kernel out of bounds; the fault layer's CRC of
// the whole blob still catches it.
struct PackedGemm {
  int32_t n = 0;        // columns (output channels)
  int32_t k = 0;        // depth
  int32_t kpairs = 0;   // ceil(k / 2)
  int32_t blocks = 0;   // ceil(n / kNr)
  int32_t filter_signed = 0;
  int32_t reserved = 0;
  const int32_t* col_bias() const { return reinterpret_cast<const int32_t*>(this + 1); }
  const uint8_t* weights() const {
    return reinterpret_cast<const uint8_t*>(col_bias() + static_cast<size_t>(blocks) * kNr);
  }
  const uint8_t* block(int b) const { return weights() + static_cast<size_t>(b) * kpairs * kNr * 2; }
};

// A packed blob seen through the geometry its operator already knows.
struct GemmView {
  int n = 0, k = 0, kpairs = 0, blocks = 0;
  const int32_t* col_bias = nullptr;
  const uint8_t* weights = nullptr;
  const uint8_t* block(int b) const { return weights + static_cast<size_t>(b) * kpairs * kNr * 2; }
};
GemmView ViewPackedGemm(const void* blob, int n, int k);

// What a packed blob is derived from: constant model data only, so it can be
// re-derived in place at any time (the scrubber's repair).
struct GemmPackSource {
  const uint8_t* filter = nullptr;  // n rows of k bytes: int8 when filter_signed, else uint8
  const uint8_t* bias = nullptr;    // n int32 (any alignment), or null
  int32_t n = 0, k = 0;
  int32_t input_offset = 0, filter_offset = 0;
  bool filter_signed = true;
};

// Bytes PackGemm writes for an n x k filter (0 if n or k is not positive).
size_t PackedGemmBytes(int n, int k);
// out: PackedGemmBytes(src.n, src.k) bytes, aligned for int32. No allocation.
void PackGemm(const GemmPackSource& src, void* out);

// Scratch the GEMM drivers need per call: kMr rows of the left operand as
// int16 (2 * kpairs each).
size_t GemmScratchBytes(int k);

}  // namespace triage::kernels::optimized

#endif  // TRIAGE_KERNELS_OPTIMIZED_GEMM_H_
