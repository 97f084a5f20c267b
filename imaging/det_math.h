// Deterministic building blocks for the simulator: an integer PRNG, integer
// hashes and trigonometry built only from +, -, *, / and sqrt (which IEEE 754
// rounds exactly), so results are bit-identical on x86-64 and ARM. libm's
// sin/exp/pow are not used on simulator paths: their last bit differs between
// implementations. Compile users with -ffp-contract=off (no FMA fusion).
//
// Header-only, allocation-free, thread-safe (no shared state).
#ifndef TRIAGE_IMAGING_DET_MATH_H_
#define TRIAGE_IMAGING_DET_MATH_H_

#include <cstdint>

namespace triage::imaging::det {

// SplitMix64 (Steele, Lea, Flood 2014): a tiny, well-mixed 64-bit generator.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1) with 53 random bits (exact conversion).
  double Uniform() { return static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0); }
  float Uniform(float lo, float hi) {
    return lo + static_cast<float>(Uniform()) * (hi - lo);
  }
  // Uniform integer in [0, n), n > 0 (multiply-shift; bias below 2^-32).
  uint32_t Below(uint32_t n) {
    return static_cast<uint32_t>(((Next() >> 32) * static_cast<uint64_t>(n)) >> 32);
  }
  bool Bernoulli(double p) { return Uniform() < p; }

 private:
  uint64_t state_;
};

// Derives an independent seed from a seed and a stream id.
inline uint64_t MixSeed(uint64_t seed, uint64_t stream) {
  Rng r(seed ^ (stream * 0xD1B54A32D192ED03ull));
  r.Next();
  return r.Next();
}

// 32-bit avalanche hash of a 2-D lattice point and a seed (lowbias32 finisher).
inline uint32_t Hash2(int32_t x, int32_t y, uint32_t seed) {
  uint32_t h = static_cast<uint32_t>(x) * 0x8DA6B343u + static_cast<uint32_t>(y) * 0xD8163841u +
               seed * 0xCB1AB31Fu;
  h ^= h >> 16;
  h *= 0x7FEB352Du;
  h ^= h >> 15;
  h *= 0x846CA68Bu;
  h ^= h >> 16;
  return h;
}

// Uniform in [0, 1) from a hash (24 bits, exact in float).
inline float HashToUnit(uint32_t h) { return static_cast<float>(h >> 8) * (1.0f / 16777216.0f); }

constexpr double kPi = 3.14159265358979323846;

// sin/cos to ~1e-15 from a Taylor series after reduction to [-pi/4, pi/4].
inline double SinReduced(double x) {
  const double x2 = x * x;
  double term = x, sum = x;
  for (int n = 1; n <= 11; ++n) {
    term *= -x2 / static_cast<double>((2 * n) * (2 * n + 1));
    sum += term;
  }
  return sum;
}
inline double CosReduced(double x) {
  const double x2 = x * x;
  double term = 1.0, sum = 1.0;
  for (int n = 1; n <= 11; ++n) {
    term *= -x2 / static_cast<double>((2 * n - 1) * (2 * n));
    sum += term;
  }
  return sum;
}
inline double Sin(double x) {
  // Reduce to k * pi/2 + r with |r| <= pi/4. Adequate for |x| < 1e6.
  const double q = x * (2.0 / kPi);
  double kf = static_cast<double>(static_cast<int64_t>(q < 0 ? q - 0.5 : q + 0.5));
  const double r = x - kf * (kPi / 2.0);
  const int64_t k = static_cast<int64_t>(kf);
  switch (((k % 4) + 4) % 4) {
    case 0: return SinReduced(r);
    case 1: return CosReduced(r);
    case 2: return -SinReduced(r);
    default: return -CosReduced(r);
  }
}
inline double Cos(double x) { return Sin(x + kPi / 2.0); }
inline double DegToRad(double d) { return d * (kPi / 180.0); }

// asin by bisection then Newton on Sin: only + - * / are used.
inline double Asin(double s) {
  if (s >= 1.0) return kPi / 2.0;
  if (s <= -1.0) return -kPi / 2.0;
  double lo = -kPi / 2.0, hi = kPi / 2.0;
  for (int i = 0; i < 30; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (Sin(mid) < s) lo = mid; else hi = mid;
  }
  double y = 0.5 * (lo + hi);
  for (int i = 0; i < 3; ++i) {
    const double c = Cos(y);
    if (c <= 1e-12) break;
    y -= (Sin(y) - s) / c;
  }
  return y;
}

}  // namespace triage::imaging::det

#endif  // TRIAGE_IMAGING_DET_MATH_H_
