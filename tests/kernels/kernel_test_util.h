// Shared helpers for the kernel tests: independent models of TFLite's
// quantized arithmetic (written from the published semantics, not from
// kernels/quant.h), quantization of float data, a seeded random source and
// shape helpers. Header-only, test-only; nothing here is flight code.
#ifndef TRIAGE_TESTS_KERNELS_KERNEL_TEST_UTIL_H_
#define TRIAGE_TESTS_KERNELS_KERNEL_TEST_UTIL_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/types.h"

namespace triage::kernels::testing {

// ---------------------------------------------------------------------------
// Independent integer models. Each one restates TFLite's rounding rule in the
// simplest exact form (128-bit or floor arithmetic), so that an error in
// kernels/quant.h does not cancel out against the same error here.

inline int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// gemmlowp's SaturatingRoundingDoublingHighMul is round(a*b / 2^31) with ties
// going towards +infinity (nudge +2^30, then truncation), saturating only for
// INT32_MIN * INT32_MIN.
inline int32_t ModelSrdhm(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  const int64_t ab = static_cast<int64_t>(a) * b;
  return static_cast<int32_t>(FloorDiv(ab + (int64_t{1} << 30), int64_t{1} << 31));
}

// x / 2^e rounded to nearest, ties away from zero.
inline int64_t ModelRoundHalfAwayDivPot(int64_t x, int e) {
  if (e == 0) return x;
  const int64_t d = int64_t{1} << e;
  const int64_t mag = x < 0 ? -x : x;
  const int64_t q = (mag + d / 2) / d;
  return x < 0 ? -q : q;
}

// TFLite's MultiplyByQuantizedMultiplier (double rounding): x * 2^left (the
// caller keeps this inside int32), high multiply, rounding right shift.
inline int32_t ModelMultiplyByQuantizedMultiplier(int32_t x, int32_t qm, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  const int64_t shifted = static_cast<int64_t>(x) * (int64_t{1} << left);
  const int32_t high = ModelSrdhm(static_cast<int32_t>(shifted), qm);
  return static_cast<int32_t>(ModelRoundHalfAwayDivPot(high, right));
}

// ---------------------------------------------------------------------------
// Quantization of real values (round half away from zero, saturate).

struct QuantSpec {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

template <typename T>
constexpr int32_t TypeMin() {
  return static_cast<int32_t>(std::numeric_limits<T>::min());
}
template <typename T>
constexpr int32_t TypeMax() {
  return static_cast<int32_t>(std::numeric_limits<T>::max());
}

template <typename T>
T QuantizeValue(double real, const QuantSpec& q) {
  const double r = std::round(real / static_cast<double>(q.scale)) + q.zero_point;
  const double c = std::min<double>(std::max<double>(r, TypeMin<T>()), TypeMax<T>());
  return static_cast<T>(static_cast<int32_t>(c));
}

template <typename T>
double DequantizeValue(T v, const QuantSpec& q) {
  return static_cast<double>(q.scale) * (static_cast<int32_t>(v) - q.zero_point);
}

template <typename T>
std::vector<T> QuantizeAll(const std::vector<float>& v, const QuantSpec& q) {
  std::vector<T> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = QuantizeValue<T>(v[i], q);
  return out;
}

template <typename T>
std::vector<float> DequantizeAll(const std::vector<T>& v, const QuantSpec& q) {
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = static_cast<float>(DequantizeValue(v[i], q));
  return out;
}

// Asymmetric calibration as TFLite's converter does it: the range always
// includes 0 so that 0 is exactly representable.
template <typename T>
QuantSpec CalibrateAsymmetric(float lo, float hi) {
  lo = std::min(lo, 0.0f);
  hi = std::max(hi, 0.0f);
  if (hi - lo < 1e-6f) hi = lo + 1e-6f;
  QuantSpec q;
  q.scale = (hi - lo) / static_cast<float>(TypeMax<T>() - TypeMin<T>());
  const double zp = std::round(TypeMin<T>() - lo / q.scale);
  q.zero_point = static_cast<int32_t>(std::min<double>(std::max<double>(zp, TypeMin<T>()), TypeMax<T>()));
  return q;
}

template <typename T>
QuantSpec CalibrateAsymmetric(const std::vector<float>& v) {
  float lo = 0.0f, hi = 0.0f;
  for (float x : v) {
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  return CalibrateAsymmetric<T>(lo, hi);
}

// Symmetric int8 (zero point 0) covering max |v|.
inline QuantSpec CalibrateSymmetricInt8(const float* v, size_t n) {
  float m = 0.0f;
  for (size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(v[i]));
  if (m < 1e-6f) m = 1e-6f;
  return QuantSpec{m / 127.0f, 0};
}

// ---------------------------------------------------------------------------
// Random data with a fixed seed per test (reproducible failures).

class Rng {
 public:
  explicit Rng(uint32_t seed) : gen_(seed) {}
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(gen_); }
  int64_t Int64(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(gen_); }
  float Float(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(gen_); }
  double Double(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(gen_); }
  bool Bool() { return Int(0, 1) == 1; }
  std::vector<float> Floats(size_t n, float lo, float hi) {
    std::vector<float> v(n);
    for (float& x : v) x = Float(lo, hi);
    return v;
  }
  template <typename T>
  std::vector<T> Ints(size_t n, int32_t lo = TypeMin<T>(), int32_t hi = TypeMax<T>()) {
    std::vector<T> v(n);
    for (T& x : v) x = static_cast<T>(Int(lo, hi));
    return v;
  }
  template <typename T>
  T Pick(std::initializer_list<T> options) {
    const int i = Int(0, static_cast<int>(options.size()) - 1);
    return options.begin()[i];
  }

 private:
  std::mt19937 gen_;
};

// ---------------------------------------------------------------------------
// Shapes and geometry (TFLite's ComputeOutSize / ComputePaddingHeightWidth).

inline int OutSize(Padding padding, int in, int filter, int stride, int dilation) {
  const int effective = (filter - 1) * dilation + 1;
  if (padding == Padding::kSame) return (in + stride - 1) / stride;
  return (in + stride - effective) / stride;
}

inline int PadBefore(int stride, int dilation, int in, int filter, int out) {
  const int effective = (filter - 1) * dilation + 1;
  const int total = (out - 1) * stride + effective - in;
  return total > 0 ? total / 2 : 0;
}

inline std::string ShapeString(const Shape& s) {
  std::string r = "[";
  for (int i = 0; i < s.rank; ++i) r += (i ? "," : "") + std::to_string(s.dims[i]);
  return r + "]";
}

template <typename T>
const uint8_t* Bytes(const std::vector<T>& v) {
  return reinterpret_cast<const uint8_t*>(v.data());
}

template <typename T>
bool BytesEqual(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

// Largest absolute difference between a quantized result and the float model
// quantized to the same type (in LSB).
template <typename T>
int MaxLsbDiff(const std::vector<T>& a, const std::vector<T>& b) {
  int m = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    m = std::max(m, std::abs(static_cast<int>(a[i]) - static_cast<int>(b[i])));
  return m;
}

}  // namespace triage::kernels::testing

#endif  // TRIAGE_TESTS_KERNELS_KERNEL_TEST_UTIL_H_
