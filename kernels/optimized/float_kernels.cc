#include "kernels/optimized/float_kernels.h"

#include <algorithm>
#include <cstddef>

#include "kernels/quant.h"

namespace triage::kernels::optimized {
namespace {

// Output channels advanced together by CONV_2D and FULLY_CONNECTED: eight
// running sums fit the registers of both x86-64 and ARMv7 VFP (d0-d15 hold
// them with room for the operands).
constexpr int kOcBlock = 8;
// Channels per pass of the depthwise kernel (its sums live on the stack).
constexpr int kDwBlock = 64;

struct ConvGeometry {
  int in_h, in_w, in_d, f_h, f_w, f_d, out_h, out_w, out_d;
  int groups, filters_per_group;
  size_t filter_stride;  // floats per output channel's filter
};

ConvGeometry ConvGeometryOf(const Shape& input_shape, const Shape& filter_shape, const Shape& output_shape) {
  ConvGeometry g{};
  g.in_h = input_shape.Dim(1);
  g.in_w = input_shape.Dim(2);
  g.in_d = input_shape.Dim(3);
  g.f_h = filter_shape.Dim(1);
  g.f_w = filter_shape.Dim(2);
  g.f_d = filter_shape.Dim(3);
  g.out_h = output_shape.Dim(1);
  g.out_w = output_shape.Dim(2);
  g.out_d = output_shape.Dim(3);
  g.groups = g.in_d / g.f_d;
  g.filters_per_group = g.out_d / g.groups;
  g.filter_stride = static_cast<size_t>(g.f_h) * g.f_w * g.f_d;
  return g;
}

// NB output channels of one output pixel. in: the pixel's batch, at the
// group's first input channel; w: the NB filters.
template <int NB>
void ConvBlock(const ConvParams& p, const ConvGeometry& g, const float* in, int in_y0, int in_x0,
               const float* const* w, float* acc) {
  for (int j = 0; j < NB; ++j) acc[j] = 0.0f;
  for (int fy = 0; fy < g.f_h; ++fy) {
    const int in_y = in_y0 + p.dilation_h * fy;
    if (in_y < 0 || in_y >= g.in_h) continue;
    for (int fx = 0; fx < g.f_w; ++fx) {
      const int in_x = in_x0 + p.dilation_w * fx;
      if (in_x < 0 || in_x >= g.in_w) continue;
      const float* x = in + (static_cast<size_t>(in_y) * g.in_w + in_x) * g.in_d;
      const size_t off = (static_cast<size_t>(fy) * g.f_w + fx) * g.f_d;
      for (int ic = 0; ic < g.f_d; ++ic) {
        const float v = x[ic];
        for (int j = 0; j < NB; ++j) acc[j] += v * w[j][off + ic];
      }
    }
  }
}

template <int NB>
void FcBlock(const float* x, int depth, const float* const* w, float* acc) {
  for (int j = 0; j < NB; ++j) acc[j] = 0.0f;
  for (int d = 0; d < depth; ++d) {
    const float v = x[d];
    for (int j = 0; j < NB; ++j) acc[j] += v * w[j][d];
  }
}

// Calls Block<nb> with nb in [1, kOcBlock] known at compile time, so that the
// sums stay in registers for a partial block too.
template <template <int> class Block, typename... Args>
void ForBlockSize(int nb, Args&&... args) {
  switch (nb) {
    case 8: Block<8>::Run(args...); break;
    case 7: Block<7>::Run(args...); break;
    case 6: Block<6>::Run(args...); break;
    case 5: Block<5>::Run(args...); break;
    case 4: Block<4>::Run(args...); break;
    case 3: Block<3>::Run(args...); break;
    case 2: Block<2>::Run(args...); break;
    default: Block<1>::Run(args...); break;
  }
}
static_assert(kOcBlock == 8, "ForBlockSize lists the block sizes");

template <int NB>
struct ConvBlockFn {
  static void Run(const ConvParams& p, const ConvGeometry& g, const float* in, int in_y0, int in_x0,
                  const float* const* w, float* acc) {
    ConvBlock<NB>(p, g, in, in_y0, in_x0, w, acc);
  }
};

template <int NB>
struct FcBlockFn {
  static void Run(const float* x, int depth, const float* const* w, float* acc) { FcBlock<NB>(x, depth, w, acc); }
};

}  // namespace

void ConvFloatRows(const ConvParams& p, const Shape& input_shape, const float* input, const Shape& filter_shape,
                   const float* filter, const float* bias, const Shape& output_shape, float* output, int row_begin,
                   int row_end) {
  const ConvGeometry g = ConvGeometryOf(input_shape, filter_shape, output_shape);
  const int pixels_per_batch = g.out_h * g.out_w;
  for (int r = row_begin; r < row_end; ++r) {
    const int b = r / pixels_per_batch;
    const int oy = (r % pixels_per_batch) / g.out_w;
    const int ox = r % g.out_w;
    const float* in_batch = input + static_cast<size_t>(b) * g.in_h * g.in_w * g.in_d;
    float* out = output + static_cast<size_t>(r) * g.out_d;
    const int in_y0 = oy * p.stride_h - p.pad_h;
    const int in_x0 = ox * p.stride_w - p.pad_w;
    for (int group = 0; group < g.groups; ++group) {
      const int group_end = (group + 1) * g.filters_per_group;
      for (int oc0 = group * g.filters_per_group; oc0 < group_end; oc0 += kOcBlock) {
        const int nb = std::min(kOcBlock, group_end - oc0);
        const float* w[kOcBlock];
        for (int j = 0; j < nb; ++j) w[j] = filter + static_cast<size_t>(oc0 + j) * g.filter_stride;
        float acc[kOcBlock];
        ForBlockSize<ConvBlockFn>(nb, p, g, in_batch + static_cast<size_t>(group) * g.f_d, in_y0, in_x0, w, acc);
        for (int j = 0; j < nb; ++j) {
          out[oc0 + j] = ActivationFunction(acc[j] + (bias ? bias[oc0 + j] : 0.0f), p.frange);
        }
      }
    }
  }
}

void DepthwiseFloatRows(const DepthwiseParams& p, const Shape& input_shape, const float* input,
                        const Shape& filter_shape, const float* filter, const float* bias, const Shape& output_shape,
                        float* output, int row_begin, int row_end) {
  const int in_h = input_shape.Dim(1), in_w = input_shape.Dim(2), in_d = input_shape.Dim(3);
  const int f_h = filter_shape.Dim(1), f_w = filter_shape.Dim(2), f_stride = filter_shape.Dim(3);
  const int out_h = output_shape.Dim(1), out_w = output_shape.Dim(2), out_stride = output_shape.Dim(3);
  const int mult = p.depth_multiplier;
  const int channels = in_d * mult;
  for (int r = row_begin; r < row_end; ++r) {
    const int b = r / out_h, oy = r % out_h;
    const float* in_batch = input + static_cast<size_t>(b) * in_h * in_w * in_d;
    const int in_y0 = oy * p.stride_h - p.pad_h;
    for (int ox = 0; ox < out_w; ++ox) {
      const int in_x0 = ox * p.stride_w - p.pad_w;
      float* out = output + (static_cast<size_t>(r) * out_w + ox) * out_stride;
      for (int c0 = 0; c0 < channels; c0 += kDwBlock) {
        const int n = std::min(kDwBlock, channels - c0);
        float acc[kDwBlock];
        for (int c = 0; c < n; ++c) acc[c] = 0.0f;
        for (int fy = 0; fy < f_h; ++fy) {
          const int in_y = in_y0 + p.dilation_h * fy;
          if (in_y < 0 || in_y >= in_h) continue;
          for (int fx = 0; fx < f_w; ++fx) {
            const int in_x = in_x0 + p.dilation_w * fx;
            if (in_x < 0 || in_x >= in_w) continue;
            const float* x = in_batch + (static_cast<size_t>(in_y) * in_w + in_x) * in_d;
            const float* w = filter + (static_cast<size_t>(fy) * f_w + fx) * f_stride + c0;
            if (mult == 1) {
              const float* xc = x + c0;
              if (n == kDwBlock) {
                for (int c = 0; c < kDwBlock; ++c) acc[c] += xc[c] * w[c];  // one output per lane
              } else {
                for (int c = 0; c < n; ++c) acc[c] += xc[c] * w[c];
              }
            } else {
              for (int c = 0; c < n; ++c) acc[c] += x[(c0 + c) / mult] * w[c];
            }
          }
        }
        for (int c = 0; c < n; ++c) {
          out[c0 + c] = ActivationFunction(acc[c] + (bias ? bias[c0 + c] : 0.0f), p.frange);
        }
      }
    }
  }
}

void FullyConnectedFloatRows(const FullyConnectedParams& p, const float* input, const float* filter, const float* bias,
                             float* output, int row_begin, int row_end) {
  const int depth = p.accum_depth;
  for (int b = row_begin; b < row_end; ++b) {
    const float* x = input + static_cast<size_t>(b) * depth;
    float* out = output + static_cast<size_t>(b) * p.output_depth;
    for (int o0 = 0; o0 < p.output_depth; o0 += kOcBlock) {
      const int nb = std::min(kOcBlock, p.output_depth - o0);
      const float* w[kOcBlock];
      for (int j = 0; j < nb; ++j) w[j] = filter + static_cast<size_t>(o0 + j) * depth;
      float acc[kOcBlock];
      ForBlockSize<FcBlockFn>(nb, x, depth, w, acc);
      for (int j = 0; j < nb; ++j) {
        if (bias) acc[j] += bias[o0 + j];  // as the reference: no bias adds nothing (not +0.0f)
        out[o0 + j] = ActivationFunction(acc[j], p.frange);
      }
    }
  }
}

}  // namespace triage::kernels::optimized
