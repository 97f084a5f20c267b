// Q-format fixed-point numbers with gemmlowp's semantics, only what TensorFlow
// Lite's quantized softmax needs. FixedPoint<kIntegerBits> stores a real value
// r as raw = r * 2^(31 - kIntegerBits) in an int32. Products use the
// saturating rounding doubling high multiply; additions wrap like int32 in
// TFLite (computed through uint32 here to stay free of undefined behaviour).
#ifndef TRIAGE_KERNELS_FIXED_POINT_H_
#define TRIAGE_KERNELS_FIXED_POINT_H_

#include <cstdint>
#include <limits>

#include "kernels/quant.h"

namespace triage::kernels::fixed_point {

template <int kIntegerBits>
struct FixedPoint {
  static constexpr int kFractionalBits = 31 - kIntegerBits;
  int32_t raw = 0;

  static FixedPoint FromRaw(int32_t r) { return FixedPoint{r}; }
  static FixedPoint Zero() { return FromRaw(0); }
  static FixedPoint One() {
    return FromRaw(kIntegerBits == 0 ? std::numeric_limits<int32_t>::max()
                                     : static_cast<int32_t>(int64_t{1} << kFractionalBits));
  }
  // 2^exponent exactly.
  template <int kExponent>
  static FixedPoint ConstantPOT() {
    static_assert(kFractionalBits + kExponent >= 0 && kFractionalBits + kExponent < 31, "POT out of range");
    return FromRaw(int32_t{1} << (kFractionalBits + kExponent));
  }
};

inline int32_t WrappingAdd(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}
inline int32_t WrappingSub(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b));
}

template <int A>
FixedPoint<A> operator+(FixedPoint<A> a, FixedPoint<A> b) {
  return FixedPoint<A>::FromRaw(WrappingAdd(a.raw, b.raw));
}
template <int A>
FixedPoint<A> operator-(FixedPoint<A> a, FixedPoint<A> b) {
  return FixedPoint<A>::FromRaw(WrappingSub(a.raw, b.raw));
}
template <int A, int B>
FixedPoint<A + B> operator*(FixedPoint<A> a, FixedPoint<B> b) {
  return FixedPoint<A + B>::FromRaw(SaturatingRoundingDoublingHighMul(a.raw, b.raw));
}

// x * 2^kExponent with rounding (right) or saturation (left).
template <int kExponent>
int32_t SaturatingRoundingMultiplyByPOT(int32_t x) {
  if constexpr (kExponent == 0) {
    return x;
  } else if constexpr (kExponent < 0) {
    return RoundingDivideByPOT(x, -kExponent);
  } else {
    constexpr int32_t kThreshold = static_cast<int32_t>((int64_t{1} << (31 - kExponent)) - 1);
    if (x > kThreshold) return std::numeric_limits<int32_t>::max();
    if (x < -kThreshold) return std::numeric_limits<int32_t>::min();
    return static_cast<int32_t>(static_cast<uint32_t>(x) << kExponent);
  }
}

// Changes the number of integer bits, keeping the real value.
template <int kDst, int kSrc>
FixedPoint<kDst> Rescale(FixedPoint<kSrc> x) {
  return FixedPoint<kDst>::FromRaw(SaturatingRoundingMultiplyByPOT<kSrc - kDst>(x.raw));
}

// (a + b) / 2 rounded, without overflow.
inline FixedPoint<0> RoundingHalfSum(FixedPoint<0> a, FixedPoint<0> b) {
  const int64_t sum = static_cast<int64_t>(a.raw) + static_cast<int64_t>(b.raw);
  const int64_t sign = sum >= 0 ? 1 : -1;
  return FixedPoint<0>::FromRaw(static_cast<int32_t>((sum + sign) / 2));
}

// exp(a) for a in [-1/4, 0), via a Taylor expansion around -1/8.
FixedPoint<0> ExpOnIntervalBetweenNegativeOneQuarterAnd0Excl(FixedPoint<0> a);

// exp(a) for a <= 0, a in Q5.26 (the only input format softmax uses).
FixedPoint<0> ExpOnNegativeValues(FixedPoint<5> a);

// 1 / (1 + x) for x in [0, 1), by Newton-Raphson.
FixedPoint<0> OneOverOnePlusXForXIn01(FixedPoint<0> a);

// Reciprocal of a Q(x_integer_digits) value, returned in Q0.31 together with
// the number of bits by which the result must additionally be scaled down.
int32_t GetReciprocal(int32_t x, int x_integer_digits, int* num_bits_over_unit);

}  // namespace triage::kernels::fixed_point

#endif  // TRIAGE_KERNELS_FIXED_POINT_H_
