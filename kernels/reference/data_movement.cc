#include "kernels/reference/data_movement.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace triage::kernels::reference {

void Concatenation(const ConcatParams& p, const ConcatInput* inputs, int num_inputs, const Shape& output_shape,
                   uint8_t* output) {
  int64_t outer = 1;
  for (int i = 0; i < p.axis; ++i) outer *= output_shape.dims[i];
  int64_t inner = 1;
  for (int i = p.axis + 1; i < output_shape.rank; ++i) inner *= output_shape.dims[i];
  uint8_t* out = output;
  const float inverse_output_scale = 1.0f / p.output_scale;
  for (int64_t o = 0; o < outer; ++o) {
    for (int k = 0; k < num_inputs; ++k) {
      const ConcatInput& in = inputs[k];
      const int64_t count = static_cast<int64_t>(in.shape.dims[p.axis]) * inner;
      const uint8_t* src = in.data + o * count * static_cast<int64_t>(p.element_size);
      const bool same = in.scale == p.output_scale && in.zero_point == p.output_zero_point;
      if (!p.requantize || same) {
        std::memcpy(out, src, static_cast<size_t>(count) * p.element_size);
      } else {
        const float scale = in.scale * inverse_output_scale;
        const float bias = -static_cast<float>(in.zero_point) * scale;
        for (int64_t j = 0; j < count; ++j) {
          const int32_t raw = p.is_signed ? static_cast<int8_t>(src[j]) : static_cast<int32_t>(src[j]);
          const int32_t v = static_cast<int32_t>(std::round(static_cast<float>(raw) * scale + bias)) + p.output_zero_point;
          out[j] = p.is_signed ? static_cast<uint8_t>(static_cast<int8_t>(Clamp(v, -128, 127)))
                               : static_cast<uint8_t>(Clamp(v, 0, 255));
        }
      }
      out += count * static_cast<int64_t>(p.element_size);
    }
  }
}

void Pad(const PadParams& p, const Shape& in, const uint8_t* input, const Shape& out, uint8_t* output) {
  const size_t es = p.element_size;
  uint8_t pad_bytes[8];
  std::memcpy(pad_bytes, &p.pad_value_bits, sizeof(pad_bytes));
  for (int b = 0; b < out.dims[0]; ++b) {
    for (int y = 0; y < out.dims[1]; ++y) {
      for (int x = 0; x < out.dims[2]; ++x) {
        for (int c = 0; c < out.dims[3]; ++c) {
          const int ib = b - p.before[0], iy = y - p.before[1], ix = x - p.before[2], ic = c - p.before[3];
          uint8_t* dst = output + Offset4D(out, b, y, x, c) * static_cast<int64_t>(es);
          const bool inside = ib >= 0 && ib < in.dims[0] && iy >= 0 && iy < in.dims[1] && ix >= 0 &&
                              ix < in.dims[2] && ic >= 0 && ic < in.dims[3];
          if (inside) {
            std::memcpy(dst, input + Offset4D(in, ib, iy, ix, ic) * static_cast<int64_t>(es), es);
          } else {
            std::memcpy(dst, pad_bytes, es);
          }
        }
      }
    }
  }
}

void MeanFloat(const MeanParams& p, const Shape& in, const float* input, float* output) {
  // Output strides in the keep_dims layout: reduced dims have extent 1.
  int64_t out_stride[Shape::kMaxRank];
  int64_t count = 1, out_size = 1;
  for (int i = in.rank - 1; i >= 0; --i) {
    out_stride[i] = out_size;
    if (p.reduce_axis[i]) {
      count *= in.dims[i];
    } else {
      out_size *= in.dims[i];
    }
  }
  for (int64_t i = 0; i < out_size; ++i) output[i] = 0.0f;
  int32_t idx[Shape::kMaxRank] = {};
  const int64_t total = in.FlatSize();
  for (int64_t flat = 0; flat < total; ++flat) {
    int64_t o = 0;
    for (int i = 0; i < in.rank; ++i)
      if (!p.reduce_axis[i]) o += idx[i] * out_stride[i];
    output[o] += input[flat];
    for (int i = in.rank - 1; i >= 0; --i) {
      if (++idx[i] < in.dims[i]) break;
      idx[i] = 0;
    }
  }
  for (int64_t i = 0; i < out_size; ++i) output[i] /= static_cast<float>(count);
}

void MeanInt8HW(const MeanParams& p, const Shape& in, const int8_t* input, int8_t* output) {
  const int batches = in.dims[0], h = in.dims[1], w = in.dims[2], depth = in.dims[3];
  const int64_t count = static_cast<int64_t>(h) * w;
  // Fold 1/count into the multiplier with as much precision as fits
  // (TFLite's QuantizedMeanOrSum): shift by floor(log2(count)), at most 32
  // bits and never past the multiplier's own headroom.
  int shift = 63 - __builtin_clzll(static_cast<uint64_t>(count));
  shift = std::min(shift, 32);
  shift = std::min(shift, 31 + p.shift);
  const int32_t multiplier = static_cast<int32_t>((static_cast<int64_t>(p.multiplier) << shift) / count);
  const int output_shift = p.shift - shift;
  for (int b = 0; b < batches; ++b) {
    for (int c = 0; c < depth; ++c) {
      int32_t sum = 0;
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) sum += input[Offset4D(in, b, y, x, c)];
      const int32_t shifted_sum = static_cast<int32_t>(sum - static_cast<int64_t>(p.input_zero_point) * count);
      const int32_t v = MultiplyByQuantizedMultiplier(shifted_sum, multiplier, output_shift) + p.output_zero_point;
      output[b * depth + c] = static_cast<int8_t>(Clamp(v, -128, 127));
    }
  }
}

void PrepareMeanUint8HW(MeanParams& p, int count) {
  float temp = static_cast<float>(p.input_zero_point) * p.input_scale / p.output_scale;
  temp = temp > 0 ? temp + 0.5f : temp - 0.5f;
  p.uint8_bias = p.output_zero_point - static_cast<int32_t>(temp);
  const double real_scale = static_cast<double>(p.input_scale / (static_cast<float>(count) * p.output_scale));
  QuantizeMultiplier(real_scale, &p.multiplier, &p.shift);
}

void MeanUint8HW(const MeanParams& p, const Shape& in, const uint8_t* input, uint8_t* output) {
  const int batches = in.dims[0], h = in.dims[1], w = in.dims[2], depth = in.dims[3];
  for (int b = 0; b < batches; ++b) {
    for (int c = 0; c < depth; ++c) {
      int32_t acc = 0;
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) acc += input[Offset4D(in, b, y, x, c)];
      acc = MultiplyByQuantizedMultiplier(acc, p.multiplier, p.shift) + p.uint8_bias;
      output[b * depth + c] = static_cast<uint8_t>(Clamp(acc, 0, 255));
    }
  }
}

void Copy(size_t bytes, const uint8_t* input, uint8_t* output) {
  if (input != output && bytes > 0) std::memmove(output, input, bytes);
}

}  // namespace triage::kernels::reference
