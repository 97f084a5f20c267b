#include "kernels/optimized/conv.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "kernels/fixed_point.h"
#include "kernels/optimized/gemm.h"

namespace triage::kernels::optimized {
namespace {

inline int32_t WrapMul(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) * static_cast<uint32_t>(b));
}
inline int32_t WrapAdd(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}

struct Scratch {
  int16_t* a;     // kMr rows of the left operand
  size_t stride;  // depth rounded up to pairs
};
inline Scratch SplitScratch(void* scratch, int k) {
  return Scratch{static_cast<int16_t*>(scratch), 2 * ((static_cast<size_t>(k) + 1) / 2)};
}

// Output rows [row_begin, row_end) of a packed GEMM. fill(m, a) writes the
// k left-operand values of row m into a (int16) and returns their sum (used
// only when filter_offset != 0). Rows are taken kMr at a time; the depth pad
// and the rows past row_end are zero.
template <typename T, typename FillRow>
void GemmRows(const Ukernels& u, const GemmView& pk, void* scratch, int32_t filter_offset, const Requant& rq,
              int row_begin, int row_end, T* output, size_t out_stride, FillRow fill) {
  const Scratch s = SplitScratch(scratch, pk.k);
  const auto gemm = BySign<T>(u.gemm_s8, u.gemm_u8);
  const auto gemm2 = BySign<T>(u.gemm2_s8, u.gemm2_u8);
  const size_t block_stride = static_cast<size_t>(pk.kpairs) * kNr * 2;
  const int32_t* col_bias = pk.col_bias;
  for (int m0 = row_begin; m0 < row_end; m0 += kMr) {
    const int rows = std::min(kMr, row_end - m0);
    int32_t row_corr[kMr];
    for (int r = 0; r < kMr; ++r) {
      int16_t* a = s.a + static_cast<size_t>(r) * s.stride;
      if (r < rows) {
        const int32_t sum = fill(m0 + r, a);
        if (pk.k % 2) a[pk.k] = 0;
        row_corr[r] = filter_offset == 0 ? 0 : WrapMul(filter_offset, sum);
      } else {
        std::memset(a, 0, s.stride * sizeof(int16_t));
        row_corr[r] = 0;
      }
    }
    T* out = output + static_cast<int64_t>(m0) * static_cast<int64_t>(out_stride);
    Requant block_rq = rq;
    for (int b = 0; b < pk.blocks;) {
      const int col0 = b * kNr;
      if (rq.per_channel) {
        block_rq.multiplier = rq.multiplier + col0;
        block_rq.shift = rq.shift + col0;
      }
      if (gemm2 != nullptr && b + 1 < pk.blocks) {
        gemm2(pk.kpairs, s.a, s.stride, pk.block(b), block_stride, col_bias + col0, row_corr, block_rq, rows,
              std::min(2 * kNr, pk.n - col0), out + col0, out_stride);
        b += 2;
      } else {
        gemm(pk.kpairs, s.a, s.stride, pk.block(b), col_bias + col0, row_corr, block_rq, rows,
             std::min(kNr, pk.n - col0), out + col0, out_stride);
        b += 1;
      }
    }
  }
}

// int8 requantizes per channel, uint8 per tensor, as the reference kernels.
template <typename T>
Requant RequantOf(const ConvParams& p) {
  Requant rq;
  if constexpr (std::is_signed_v<T>) {
    rq.multiplier = p.per_channel_multiplier;
    rq.shift = p.per_channel_shift;
    rq.per_channel = true;
  } else {
    rq.multiplier = &p.output_multiplier;
    rq.shift = &p.output_shift;
  }
  rq.output_offset = p.output_offset;
  rq.min = p.qrange.min;
  rq.max = p.qrange.max;
  return rq;
}

}  // namespace

template <typename T>
void ConvGemmRows(const Ukernels& u, const ConvParams& p, const Shape& input_shape, const T* input,
                  const Shape& filter_shape, const Shape& output_shape, T* output, int row_begin, int row_end,
                  void* scratch) {
  const int in_h = input_shape.Dim(1), in_w = input_shape.Dim(2), in_d = input_shape.Dim(3);
  const int f_h = filter_shape.Dim(1), f_w = filter_shape.Dim(2);
  const int out_h = output_shape.Dim(1), out_w = output_shape.Dim(2);
  const int16_t pad_value = static_cast<int16_t>(-p.input_offset);  // the input zero point
  static_assert(sizeof(int) == sizeof(int32_t), "Requant reads the shift as int32");
  const auto widen = BySign<T>(u.widen_s8, u.widen_u8);
  // Row m of the left operand: the pixel's receptive field (im2col), padded
  // taps holding the zero point.
  auto fill = [&](int m, int16_t* dst) {
    int32_t sum = 0;
    const int b = m / (out_h * out_w), oy = (m / out_w) % out_h, ox = m % out_w;
    const int in_y0 = oy * p.stride_h - p.pad_h, in_x0 = ox * p.stride_w - p.pad_w;
    const bool row_inside = p.dilation_w == 1 && in_x0 >= 0 && in_x0 + f_w <= in_w;
    for (int fy = 0; fy < f_h; ++fy) {
      const int in_y = in_y0 + p.dilation_h * fy;
      if (row_inside && in_y >= 0 && in_y < in_h) {
        // The whole filter row lies inside the input: f_w consecutive
        // pixels, one contiguous run of f_w * in_d values.
        sum = WrapAdd(sum, widen(f_w * in_d, input + Offset4D(input_shape, b, in_y, in_x0, 0), dst));
        dst += f_w * in_d;
        continue;
      }
      for (int fx = 0; fx < f_w; ++fx, dst += in_d) {
        const int in_x = in_x0 + p.dilation_w * fx;
        if (in_y < 0 || in_y >= in_h || in_x < 0 || in_x >= in_w) {
          std::fill_n(dst, in_d, pad_value);
          sum = WrapAdd(sum, WrapMul(pad_value, in_d));
          continue;
        }
        sum = WrapAdd(sum, widen(in_d, input + Offset4D(input_shape, b, in_y, in_x, 0), dst));
      }
    }
    return sum;
  };
  const int k = f_h * f_w * filter_shape.Dim(3);
  const GemmView view = ViewPackedGemm(p.packed, output_shape.Dim(3), k);
  const size_t out_stride = static_cast<size_t>(output_shape.Dim(3));
  if (f_h == 1 && f_w == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_h == 0 && p.pad_w == 0 && in_h == out_h &&
      in_w == out_w) {
    // Pointwise: output pixel m reads input pixel m, no index arithmetic.
    auto pointwise = [&](int m, int16_t* dst) { return widen(in_d, input + static_cast<int64_t>(m) * in_d, dst); };
    GemmRows<T>(u, view, scratch, p.filter_offset, RequantOf<T>(p), row_begin, row_end, output, out_stride,
                pointwise);
    return;
  }
  GemmRows<T>(u, view, scratch, p.filter_offset, RequantOf<T>(p), row_begin, row_end, output, out_stride, fill);
}

template <typename T>
void FullyConnectedRows(const Ukernels& u, const FullyConnectedParams& p, const T* input, T* output,
                        int row_begin, int row_end, void* scratch) {
  const int k = p.accum_depth;
  Requant rq;  // per tensor, as the reference
  rq.multiplier = &p.output_multiplier;
  rq.shift = &p.output_shift;
  rq.output_offset = p.output_offset;
  rq.min = p.qrange.min;
  rq.max = p.qrange.max;
  auto fill = [&](int m, int16_t* dst) {
    return BySign<T>(u.widen_s8, u.widen_u8)(k, input + static_cast<int64_t>(m) * k, dst);
  };
  GemmRows<T>(u, ViewPackedGemm(p.packed, p.output_depth, k), scratch, p.filter_offset, rq, row_begin, row_end,
              output, static_cast<size_t>(p.output_depth), fill);
}

template <typename T>
void DepthwiseRows(const Ukernels& u, const DepthwiseParams& p, const Shape& input_shape, const T* input,
                   const Shape& filter_shape, const T* filter, const int32_t* bias, const Shape& output_shape,
                   T* output, int row_begin, int row_end) {
  constexpr int kChunk = kDwChunk;
  const int in_h = input_shape.Dim(1), in_w = input_shape.Dim(2), depth = input_shape.Dim(3);
  const int f_h = filter_shape.Dim(1), f_w = filter_shape.Dim(2);
  const int out_h = output_shape.Dim(1), out_w = output_shape.Dim(2), out_d = output_shape.Dim(3);
  const int multiplier = p.depth_multiplier;  // out_d == depth * multiplier
  const Requant rq = RequantOf<T>(p);
  alignas(32) int32_t acc[kChunk];
  // Depth multiplier > 1: each tap's input channels repeated `multiplier`
  // times, one chunk at a time, so the same micro-kernel applies.
  T expanded[kDwMaxTaps][kChunk];
  const T* ex[kDwMaxTaps];
  const T* ew[kDwMaxTaps];
  const T* xs[kDwMaxTaps];  // the caller checked f_h * f_w <= kDwMaxTaps
  const T* ws[kDwMaxTaps];
  // Every tap's offset from the window's corner, for windows wholly inside
  // the input (most pixels): no bounds checks and no index arithmetic.
  int64_t tap_offset[kDwMaxTaps];
  const T* all_ws[kDwMaxTaps];
  for (int fy = 0, t = 0; fy < f_h; ++fy) {
    for (int fx = 0; fx < f_w; ++fx, ++t) {
      tap_offset[t] = (static_cast<int64_t>(p.dilation_h) * fy * in_w + static_cast<int64_t>(p.dilation_w) * fx) *
                      depth;
      all_ws[t] = filter + Offset4D(filter_shape, 0, fy, fx, 0);
    }
  }
  const int span_h = p.dilation_h * (f_h - 1), span_w = p.dilation_w * (f_w - 1);
  for (int row = row_begin; row < row_end; ++row) {
    const int b = row / out_h, oy = row % out_h;
    const int in_y0 = oy * p.stride_h - p.pad_h;
    for (int ox = 0; ox < out_w; ++ox) {
      const int in_x0 = ox * p.stride_w - p.pad_w;
      T* out = output + Offset4D(output_shape, b, oy, ox, 0);
      // The in-bounds taps of this pixel; padded taps are skipped, as the
      // reference skips them.
      int taps = 0;
      const T* const* tap_ws = ws;
      if (in_y0 >= 0 && in_y0 + span_h < in_h && in_x0 >= 0 && in_x0 + span_w < in_w) {
        const T* corner = input + Offset4D(input_shape, b, in_y0, in_x0, 0);
        taps = f_h * f_w;
        for (int t = 0; t < taps; ++t) xs[t] = corner + tap_offset[t];
        tap_ws = all_ws;
      }
      for (int fy = 0; fy < f_h && tap_ws == ws; ++fy) {
        const int in_y = in_y0 + p.dilation_h * fy;
        if (in_y < 0 || in_y >= in_h) continue;
        for (int fx = 0; fx < f_w; ++fx) {
          const int in_x = in_x0 + p.dilation_w * fx;
          if (in_x < 0 || in_x >= in_w) continue;
          xs[taps] = input + Offset4D(input_shape, b, in_y, in_x, 0);
          ws[taps] = filter + Offset4D(filter_shape, 0, fy, fx, 0);
          ++taps;
        }
      }
      for (int c0 = 0; c0 < out_d; c0 += kChunk) {
        const int n = std::min(kChunk, out_d - c0);
        const T* const* cx = xs;
        const T* const* cw = tap_ws;
        int at = c0;
        if (multiplier != 1) {
          for (int t = 0; t < taps; ++t) {
            for (int c = 0; c < n; ++c) expanded[t][c] = xs[t][(c0 + c) / multiplier];
            ex[t] = expanded[t];
            ew[t] = tap_ws[t] + c0;
          }
          cx = ex;
          cw = ew;
          at = 0;
        }
        if constexpr (std::is_signed_v<T>) {
          u.dw_s8(n, taps, cx, cw, at, p.input_offset, acc);
        } else {
          u.dw_u8(n, taps, cx, cw, at, p.input_offset, p.filter_offset, acc);
        }
        Requant block_rq = rq;
        if (rq.per_channel) {
          block_rq.multiplier = rq.multiplier + c0;
          block_rq.shift = rq.shift + c0;
        }
        BySign<T>(u.requant_s8, u.requant_u8)(n, acc, bias ? bias + c0 : nullptr, block_rq, out + c0);
      }
    }
  }
}

template <typename T>
void AveragePoolRows(const Ukernels& u, const PoolParams& p, const Shape& input_shape, const T* input,
                     const Shape& output_shape, T* output, int row_begin, int row_end) {
  constexpr int kChunk = 64;
  const int in_h = input_shape.Dim(1), in_w = input_shape.Dim(2), depth = input_shape.Dim(3);
  const int out_h = output_shape.Dim(1), out_w = output_shape.Dim(2);
  alignas(32) int32_t acc[kChunk];
  for (int row = row_begin; row < row_end; ++row) {
    const int b = row / out_h, oy = row % out_h;
    const int in_y0 = oy * p.stride_h - p.pad_h;
    const int y0 = std::max(0, in_y0), y1 = std::min(in_h, in_y0 + p.filter_h);
    for (int ox = 0; ox < out_w; ++ox) {
      const int in_x0 = ox * p.stride_w - p.pad_w;
      const int x0 = std::max(0, in_x0), x1 = std::min(in_w, in_x0 + p.filter_w);
      const int count = std::max(0, y1 - y0) * std::max(0, x1 - x0);
      T* out = output + Offset4D(output_shape, b, oy, ox, 0);
      for (int c0 = 0; c0 < depth; c0 += kChunk) {
        const int n = std::min(kChunk, depth - c0);
        std::memset(acc, 0, sizeof acc);
        for (int y = y0; y < y1; ++y) {
          for (int x = x0; x < x1; ++x) {
            const T* src = input + Offset4D(input_shape, b, y, x, c0);
            BySign<T>(u.sum_s8, u.sum_u8)(n, src, acc);
          }
        }
        for (int j = 0; j < n; ++j) {
          int32_t a = acc[j];
          if (count > 0) a = a > 0 ? (a + count / 2) / count : (a - count / 2) / count;
          out[c0 + j] = static_cast<T>(Clamp(a, p.qrange.min, p.qrange.max));
        }
      }
    }
  }
}

#define TRIAGE_INSTANTIATE(T)                                                                                 \
  template void ConvGemmRows<T>(const Ukernels&, const ConvParams&, const Shape&, const T*, const Shape&,     \
                                const Shape&, T*, int, int, void*);                                          \
  template void DepthwiseRows<T>(const Ukernels&, const DepthwiseParams&, const Shape&, const T*, const Shape&, \
                                 const T*, const int32_t*, const Shape&, T*, int, int);                       \
  template void FullyConnectedRows<T>(const Ukernels&, const FullyConnectedParams&, const T*, T*, int, int,   \
                                      void*);                                                                 \
  template void AveragePoolRows<T>(const Ukernels&, const PoolParams&, const Shape&, const T*, const Shape&,  \
                                   T*, int, int);
TRIAGE_INSTANTIATE(int8_t)
TRIAGE_INSTANTIATE(uint8_t)
#undef TRIAGE_INSTANTIATE

}  // namespace triage::kernels::optimized
