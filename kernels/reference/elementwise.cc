#include "kernels/reference/elementwise.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace triage::kernels::reference {
namespace {

// Calls op(i1, i2, o) for every output element with the flat indices of the
// (possibly broadcast) inputs. Shapes are right-aligned as in NumPy.
template <typename Op>
void ForEachBroadcast(const Shape& s1, const Shape& s2, const Shape& out, Op op) {
  constexpr int R = Shape::kMaxRank;
  int32_t dims[R], stride1[R], stride2[R];
  const int rank = out.rank;
  int64_t st1 = 1, st2 = 1;
  for (int i = rank - 1; i >= 0; --i) {
    const int i1 = i - (rank - s1.rank), i2 = i - (rank - s2.rank);
    const int32_t d1 = i1 >= 0 ? s1.dims[i1] : 1, d2 = i2 >= 0 ? s2.dims[i2] : 1;
    dims[i] = out.dims[i];
    stride1[i] = d1 == 1 ? 0 : static_cast<int32_t>(st1);
    stride2[i] = d2 == 1 ? 0 : static_cast<int32_t>(st2);
    st1 *= d1;
    st2 *= d2;
  }
  const int64_t total = out.FlatSize();
  int32_t idx[R] = {};
  int64_t o1 = 0, o2 = 0;
  for (int64_t o = 0; o < total; ++o) {
    op(o1, o2, o);
    // Odometer increment from the innermost dimension.
    for (int i = rank - 1; i >= 0; --i) {
      ++idx[i];
      o1 += stride1[i];
      o2 += stride2[i];
      if (idx[i] < dims[i]) break;
      o1 -= static_cast<int64_t>(stride1[i]) * dims[i];
      o2 -= static_cast<int64_t>(stride2[i]) * dims[i];
      idx[i] = 0;
    }
  }
}

}  // namespace

void AddFloat(const AddParams& p, const Shape& s1, const float* in1, const Shape& s2, const float* in2,
              const Shape& out_shape, float* out) {
  ForEachBroadcast(s1, s2, out_shape, [&](int64_t a, int64_t b, int64_t o) {
    out[o] = ActivationFunction(in1[a] + in2[b], p.frange);
  });
}

template <typename T>
void AddQuantized(const AddParams& p, const Shape& s1, const T* in1, const Shape& s2, const T* in2,
                  const Shape& out_shape, T* out) {
  ForEachBroadcast(s1, s2, out_shape,
                   [&](int64_t a, int64_t b, int64_t o) { out[o] = AddQuantizedOne<T>(p, in1[a], in2[b]); });
}

void MulFloat(const MulParams& p, const Shape& s1, const float* in1, const Shape& s2, const float* in2,
              const Shape& out_shape, float* out) {
  ForEachBroadcast(s1, s2, out_shape, [&](int64_t a, int64_t b, int64_t o) {
    out[o] = ActivationFunction(in1[a] * in2[b], p.frange);
  });
}

template <typename T>
void MulQuantized(const MulParams& p, const Shape& s1, const T* in1, const Shape& s2, const T* in2,
                  const Shape& out_shape, T* out) {
  ForEachBroadcast(s1, s2, out_shape, [&](int64_t a, int64_t b, int64_t o) {
    const int32_t v1 = p.input1_offset + in1[a];
    const int32_t v2 = p.input2_offset + in2[b];
    const int32_t raw = p.output_offset + MultiplyByQuantizedMultiplier(v1 * v2, p.output_multiplier, p.output_shift);
    out[o] = static_cast<T>(Clamp(raw, p.qrange.min, p.qrange.max));
  });
}

void ClampFloat(FloatRange r, int64_t n, const float* in, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = ActivationFunction(in[i], r);
}

template <typename TIn, typename TOut>
void Requantize(const RequantizeParams& p, int64_t n, const TIn* in, TOut* out) {
  for (int64_t i = 0; i < n; ++i) {
    const int32_t v = static_cast<int32_t>(in[i]) - p.input_zero_point;
    const int32_t q = MultiplyByQuantizedMultiplier(v, p.multiplier, p.shift) + p.output_zero_point;
    out[i] = static_cast<TOut>(Clamp(q, p.qrange.min, p.qrange.max));
  }
}

void Lookup8(const uint8_t table[256], int64_t n, const uint8_t* in, uint8_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = table[in[i]];
}

void LogisticFloat(int64_t n, const float* in, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = 1.0f / (1.0f + std::exp(-in[i]));
}
void TanhFloat(int64_t n, const float* in, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = std::tanh(in[i]);
}
void HardSwishFloat(int64_t n, const float* in, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = in[i] * std::min(6.0f, std::max(0.0f, in[i] + 3.0f)) / 6.0f;
}

template <typename T>
void AffineQuantize(double scale, int32_t zero_point, int64_t n, const float* in, T* out) {
  for (int64_t i = 0; i < n; ++i) {
    const double scaled = std::round(static_cast<double>(in[i]) / scale);
    // Saturate before the integer conversion so NaN/inf inputs stay defined.
    const double clamped = std::isnan(scaled) ? 0.0 : std::min(std::max(scaled, -2147483648.0), 2147483520.0);
    const int64_t q = static_cast<int64_t>(clamped) + zero_point;
    out[i] = static_cast<T>(std::min<int64_t>(std::max<int64_t>(q, QMin<T>()), QMax<T>()));
  }
}

template <typename T>
void Dequantize(double scale, int32_t zero_point, int64_t n, const T* in, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(scale * (static_cast<int32_t>(in[i]) - zero_point));
}

template void AddQuantized<uint8_t>(const AddParams&, const Shape&, const uint8_t*, const Shape&, const uint8_t*,
                                    const Shape&, uint8_t*);
template void AddQuantized<int8_t>(const AddParams&, const Shape&, const int8_t*, const Shape&, const int8_t*,
                                   const Shape&, int8_t*);
template void MulQuantized<uint8_t>(const MulParams&, const Shape&, const uint8_t*, const Shape&, const uint8_t*,
                                    const Shape&, uint8_t*);
template void MulQuantized<int8_t>(const MulParams&, const Shape&, const int8_t*, const Shape&, const int8_t*,
                                   const Shape&, int8_t*);
template void Requantize<uint8_t, uint8_t>(const RequantizeParams&, int64_t, const uint8_t*, uint8_t*);
template void Requantize<uint8_t, int8_t>(const RequantizeParams&, int64_t, const uint8_t*, int8_t*);
template void Requantize<int8_t, uint8_t>(const RequantizeParams&, int64_t, const int8_t*, uint8_t*);
template void Requantize<int8_t, int8_t>(const RequantizeParams&, int64_t, const int8_t*, int8_t*);
template void AffineQuantize<uint8_t>(double, int32_t, int64_t, const float*, uint8_t*);
template void AffineQuantize<int8_t>(double, int32_t, int64_t, const float*, int8_t*);
template void AffineQuantize<int16_t>(double, int32_t, int64_t, const float*, int16_t*);
template void Dequantize<uint8_t>(double, int32_t, int64_t, const uint8_t*, float*);
template void Dequantize<int8_t>(double, int32_t, int64_t, const int8_t*, float*);
template void Dequantize<int16_t>(double, int32_t, int64_t, const int16_t*, float*);

}  // namespace triage::kernels::reference
