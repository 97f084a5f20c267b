// ARMv7 NEON micro-kernels (compile-time: built only when the compiler
// targets NEON, e.g. the armhf toolchain's -mfpu=neon).
#include <arm_neon.h>

#include "kernels/optimized/ukernels.h"

namespace triage::kernels::optimized {
namespace neon {
#include "kernels/optimized/ukernels_impl.inc"

// vld2 splits a block row into its even (depth k) and odd (depth k+1) bytes,
// 8 columns each; vmlal_lane multiplies 4 columns by one a value and adds
// into int32 lanes.
template <bool kSigned, typename TOut>
void GemmNeon(int kpairs, const int16_t* a, size_t a_stride, const uint8_t* b, const int32_t* col_bias,
              const int32_t* row_corr, const Requant& rq, int rows, int cols, TOut* out, size_t out_stride) {
  int32x4_t lo[kMr], hi[kMr];
  for (int r = 0; r < kMr; ++r) lo[r] = hi[r] = vdupq_n_s32(0);
  for (int kp = 0; kp < kpairs; ++kp) {
    const uint8x8x2_t raw = vld2_u8(b + static_cast<size_t>(kp) * 16);
    int16x8_t b0, b1;
    if (kSigned) {
      b0 = vmovl_s8(vreinterpret_s8_u8(raw.val[0]));
      b1 = vmovl_s8(vreinterpret_s8_u8(raw.val[1]));
    } else {
      b0 = vreinterpretq_s16_u16(vmovl_u8(raw.val[0]));
      b1 = vreinterpretq_s16_u16(vmovl_u8(raw.val[1]));
    }
    for (int r = 0; r < kMr; ++r) {
      const int16_t* ar = a + r * a_stride + 2 * kp;
      const int16x4_t av = vreinterpret_s16_s32(vdup_n_s32(static_cast<int32_t>(
          static_cast<uint16_t>(ar[0]) | (static_cast<uint32_t>(static_cast<uint16_t>(ar[1])) << 16))));
      lo[r] = vmlal_lane_s16(lo[r], vget_low_s16(b0), av, 0);
      hi[r] = vmlal_lane_s16(hi[r], vget_high_s16(b0), av, 0);
      lo[r] = vmlal_lane_s16(lo[r], vget_low_s16(b1), av, 1);
      hi[r] = vmlal_lane_s16(hi[r], vget_high_s16(b1), av, 1);
    }
  }
  const int32x4_t cb_lo = vld1q_s32(col_bias), cb_hi = vld1q_s32(col_bias + 4);
  for (int r = 0; r < rows; ++r) {
    int32_t row[kNr];
    const int32x4_t corr = vdupq_n_s32(row_corr[r]);
    vst1q_s32(row, vaddq_s32(vaddq_s32(lo[r], cb_lo), corr));
    vst1q_s32(row + 4, vaddq_s32(vaddq_s32(hi[r], cb_hi), corr));
    RequantPortable<TOut>(cols, row, nullptr, rq, out + r * out_stride);
  }
}
}  // namespace neon

const Ukernels* NeonUkernels() {
  static const Ukernels table = [] {
    Ukernels u = neon::MakeTable("neon");
    u.gemm_s8 = &neon::GemmNeon<true, int8_t>;
    u.gemm_u8 = &neon::GemmNeon<false, uint8_t>;
    return u;
  }();
  return &table;
}

}  // namespace triage::kernels::optimized
