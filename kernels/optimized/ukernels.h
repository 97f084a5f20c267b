// Inner loops of the optimized kernels, one table per instruction set.
//
// Every entry computes exact integer arithmetic (int32 sums of int16
// products, wrapping on overflow), so every table gives the same bits; they
// differ only in speed. The drivers in kernels/optimized/*.cc own the loop
// nests, padding and requantization and call these for the hot loops.
//
// Tables:
//  - portable: plain C++ that the compiler vectorizes with the build's
//    baseline flags (SSE2 on x86-64, NEON when the armhf build enables it);
//  - sse41, avx2 (x86-64): the same C++ compiled with -msse4.1 / -mavx2 plus
//    an intrinsic GEMM micro-kernel; chosen at init only when the CPU (and the
//    OS, for AVX state) supports them;
//  - neon (ARMv7 with __ARM_NEON): compile-time, intrinsic GEMM micro-kernel.
#ifndef TRIAGE_KERNELS_OPTIMIZED_UKERNELS_H_
#define TRIAGE_KERNELS_OPTIMIZED_UKERNELS_H_

#include <cstddef>
#include <cstdint>

#include "kernels/reference/elementwise.h"

namespace triage::kernels::optimized {

// GEMM tile: kMr rows of the left operand (output pixels) by kNr columns
// (output channels). The right operand is packed in blocks of kNr columns,
// two depth steps interleaved per column: block[kpair][column][2] (bytes).
constexpr int kMr = 4;
// Channels per depthwise micro-kernel call, and the largest filter window
// (f_h * f_w) the optimized depthwise kernel takes; larger ones run the
// reference kernel.
constexpr int kDwChunk = 64;
constexpr int kDwMaxTaps = 64;
constexpr int kNr = 8;

// Output stage of a block of channels: TFLite's reference requantization
// (MultiplyByQuantizedMultiplier: left shift, saturating rounding doubling
// high multiply, rounding right shift), then the output offset and the
// activation clamp. per_channel: multiplier/shift hold one entry per channel
// of the block; otherwise entry 0 applies to all.
// The int8 or the uint8 entry of a table, by the element type T:
// BySign<T>(u.gemm_s8, u.gemm_u8).
template <typename T, typename S, typename U>
constexpr auto BySign(S signed_entry, U unsigned_entry) {
  if constexpr (static_cast<T>(-1) < static_cast<T>(0)) {
    return signed_entry;
  } else {
    return unsigned_entry;
  }
}

struct Requant {
  const int32_t* multiplier = nullptr;
  const int32_t* shift = nullptr;
  bool per_channel = false;
  int32_t output_offset = 0;
  int32_t min = 0, max = 0;
};

struct Ukernels {
  const char* isa = "portable";
  // One kMr x kNr output tile of a quantized GEMM, requantized and stored:
  // for r < rows, j < cols,
  //   acc = sum over k < 2*kpairs of a[r * a_stride + k] * b(k, j)
  //         + col_bias[j] + row_corr[r]            (wrapping int32)
  //   out[r * out_stride + j] = requantize(acc, channel j of rq).
  // a holds int16 values; b is one packed block of signed (s8: int8 output)
  // or unsigned (u8: uint8 output) bytes. a has kMr rows even when rows < kMr.
  void (*gemm_s8)(int kpairs, const int16_t* a, size_t a_stride, const uint8_t* b, const int32_t* col_bias,
                  const int32_t* row_corr, const Requant& rq, int rows, int cols, int8_t* out,
                  size_t out_stride) = nullptr;
  void (*gemm_u8)(int kpairs, const int16_t* a, size_t a_stride, const uint8_t* b, const int32_t* col_bias,
                  const int32_t* row_corr, const Requant& rq, int rows, int cols, uint8_t* out,
                  size_t out_stride) = nullptr;
  // out[c] = requantize(acc[c] + bias[c] (if bias), channel c of rq), c < n.
  void (*requant_s8)(int n, const int32_t* acc, const int32_t* bias, const Requant& rq, int8_t* out) = nullptr;
  void (*requant_u8)(int n, const int32_t* acc, const int32_t* bias, const Requant& rq, uint8_t* out) = nullptr;
  // One depthwise output pixel, channels [c0, c0 + n), n <= kDwChunk:
  // acc[c] = sum over t < taps of w[t][c0 + c] * (x[t][c0 + c] + input_offset)
  // in wrapping int32 (int8), the filter offset added to w too (uint8). x and
  // w list only the in-bounds taps, in the reference's order; the sum is
  // exact integer arithmetic, so the order of the adds does not matter.
  void (*dw_s8)(int n, int taps, const int8_t* const* x, const int8_t* const* w, int c0, int32_t input_offset,
                int32_t* acc) = nullptr;
  void (*dw_u8)(int n, int taps, const uint8_t* const* x, const uint8_t* const* w, int c0, int32_t input_offset,
                int32_t filter_offset, int32_t* acc) = nullptr;
  // dst[c] = src[c] widened to int16 for c < n; returns the sum of src in
  // wrapping int32 (the im2col copy of the GEMM's left operand).
  int32_t (*widen_s8)(int n, const int8_t* src, int16_t* dst) = nullptr;
  int32_t (*widen_u8)(int n, const uint8_t* src, int16_t* dst) = nullptr;
  // Optional (null: call gemm twice): two adjacent column blocks at once,
  // b and b + b_block_stride, as one kMr x 2kNr tile; cols counts both
  // blocks' columns (kNr < cols <= 2 kNr); col_bias covers them too. Same
  // bytes as two gemm calls.
  void (*gemm2_s8)(int kpairs, const int16_t* a, size_t a_stride, const uint8_t* b, size_t b_block_stride,
                   const int32_t* col_bias, const int32_t* row_corr, const Requant& rq, int rows, int cols,
                   int8_t* out, size_t out_stride) = nullptr;
  void (*gemm2_u8)(int kpairs, const int16_t* a, size_t a_stride, const uint8_t* b, size_t b_block_stride,
                   const int32_t* col_bias, const int32_t* row_corr, const Requant& rq, int rows, int cols,
                   uint8_t* out, size_t out_stride) = nullptr;
  // out[i] = reference::AddQuantizedOne(p, a[i], b[i]) for i < n.
  void (*add_s8)(int n, const int8_t* a, const int8_t* b, const AddParams& p, int8_t* out) = nullptr;
  void (*add_u8)(int n, const uint8_t* a, const uint8_t* b, const AddParams& p, uint8_t* out) = nullptr;
  // acc[c] += x[c] for c < n (pooling sums).
  void (*sum_s8)(int n, const int8_t* x, int32_t* acc) = nullptr;
  void (*sum_u8)(int n, const uint8_t* x, int32_t* acc) = nullptr;
};

const Ukernels& PortableUkernels();
// nullptr when not compiled into this build.
const Ukernels* Sse41Ukernels();
const Ukernels* Avx2Ukernels();
const Ukernels* NeonUkernels();

}  // namespace triage::kernels::optimized

#endif  // TRIAGE_KERNELS_OPTIMIZED_UKERNELS_H_
