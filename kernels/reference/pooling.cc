#include "kernels/reference/pooling.h"

#include <algorithm>
#include <limits>

namespace triage::kernels::reference {
namespace {

// Visits every output element with its clipped window and hands the window to
// reduce(b, y_start, y_end, x_start, x_end, channel, in_y0, in_x0).
template <typename Reduce>
void ForEachWindow(const PoolParams& p, const Shape& input_shape, const Shape& output_shape, Reduce reduce) {
  const int batches = input_shape.Dim(0);
  const int in_h = input_shape.Dim(1), in_w = input_shape.Dim(2), depth = input_shape.Dim(3);
  const int out_h = output_shape.Dim(1), out_w = output_shape.Dim(2);
  for (int b = 0; b < batches; ++b) {
    for (int oy = 0; oy < out_h; ++oy) {
      for (int ox = 0; ox < out_w; ++ox) {
        for (int c = 0; c < depth; ++c) {
          const int in_x0 = ox * p.stride_w - p.pad_w;
          const int in_y0 = oy * p.stride_h - p.pad_h;
          const int fx_start = std::max(0, -in_x0);
          const int fx_end = std::min(p.filter_w, in_w - in_x0);
          const int fy_start = std::max(0, -in_y0);
          const int fy_end = std::min(p.filter_h, in_h - in_y0);
          reduce(b, oy, ox, c, in_y0 + fy_start, in_y0 + fy_end, in_x0 + fx_start, in_x0 + fx_end);
        }
      }
    }
  }
}

}  // namespace

void AveragePoolFloat(const PoolParams& p, const Shape& input_shape, const float* input,
                      const Shape& output_shape, float* output) {
  ForEachWindow(p, input_shape, output_shape, [&](int b, int oy, int ox, int c, int y0, int y1, int x0, int x1) {
    float sum = 0.0f;
    int count = 0;
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x, ++count) sum += input[Offset4D(input_shape, b, y, x, c)];
    const float avg = count > 0 ? sum / static_cast<float>(count) : 0.0f;
    output[Offset4D(output_shape, b, oy, ox, c)] = ActivationFunction(avg, p.frange);
  });
}

template <typename T>
void AveragePoolQuantized(const PoolParams& p, const Shape& input_shape, const T* input,
                          const Shape& output_shape, T* output) {
  ForEachWindow(p, input_shape, output_shape, [&](int b, int oy, int ox, int c, int y0, int y1, int x0, int x1) {
    int32_t acc = 0;
    int count = 0;
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x, ++count) acc += input[Offset4D(input_shape, b, y, x, c)];
    if (count > 0) acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
    output[Offset4D(output_shape, b, oy, ox, c)] = static_cast<T>(Clamp(acc, p.qrange.min, p.qrange.max));
  });
}

void MaxPoolFloat(const PoolParams& p, const Shape& input_shape, const float* input, const Shape& output_shape,
                  float* output) {
  ForEachWindow(p, input_shape, output_shape, [&](int b, int oy, int ox, int c, int y0, int y1, int x0, int x1) {
    float m = std::numeric_limits<float>::lowest();
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) m = std::max(m, input[Offset4D(input_shape, b, y, x, c)]);
    output[Offset4D(output_shape, b, oy, ox, c)] = ActivationFunction(m, p.frange);
  });
}

template <typename T>
void MaxPoolQuantized(const PoolParams& p, const Shape& input_shape, const T* input, const Shape& output_shape,
                      T* output) {
  ForEachWindow(p, input_shape, output_shape, [&](int b, int oy, int ox, int c, int y0, int y1, int x0, int x1) {
    int32_t m = std::numeric_limits<T>::lowest();
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) m = std::max<int32_t>(m, input[Offset4D(input_shape, b, y, x, c)]);
    output[Offset4D(output_shape, b, oy, ox, c)] = static_cast<T>(Clamp(m, p.qrange.min, p.qrange.max));
  });
}

template void AveragePoolQuantized<uint8_t>(const PoolParams&, const Shape&, const uint8_t*, const Shape&, uint8_t*);
template void AveragePoolQuantized<int8_t>(const PoolParams&, const Shape&, const int8_t*, const Shape&, int8_t*);
template void MaxPoolQuantized<uint8_t>(const PoolParams&, const Shape&, const uint8_t*, const Shape&, uint8_t*);
template void MaxPoolQuantized<int8_t>(const PoolParams&, const Shape&, const int8_t*, const Shape&, int8_t*);

}  // namespace triage::kernels::reference
