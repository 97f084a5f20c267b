// Synthetic images for imaging tests: deterministic, smooth enough that JPEG
// and resampling errors stay small, with structure in every channel.
#ifndef TRIAGE_TESTS_IMAGING_TEST_IMAGES_H_
#define TRIAGE_TESTS_IMAGING_TEST_IMAGES_H_

#include <cstdint>
#include <cstdlib>
#include <vector>

namespace triage::imaging::testing {

// Smooth RGB pattern: gradients plus a low-frequency checker of blobs.
inline std::vector<uint8_t> SmoothRgb(int width, int height) {
  std::vector<uint8_t> px(static_cast<size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const int cx = (x * 8 / width) & 1, cy = (y * 8 / height) & 1;
      uint8_t* p = &px[(static_cast<size_t>(y) * width + x) * 3];
      p[0] = static_cast<uint8_t>(x * 255 / (width > 1 ? width - 1 : 1));
      p[1] = static_cast<uint8_t>(y * 255 / (height > 1 ? height - 1 : 1));
      p[2] = static_cast<uint8_t>(((cx ^ cy) ? 200 : 60) + ((x + y) % 16));
    }
  }
  return px;
}

// Uniform pseudo-random bytes (xorshift), for resampler cross-checks.
inline std::vector<uint8_t> NoiseBytes(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  uint32_t s = seed ? seed : 1;
  for (auto& b : v) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    b = static_cast<uint8_t>(s >> 24);
  }
  return v;
}

inline double MeanAbsDiff(const uint8_t* a, const uint8_t* b, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += std::abs(int(a[i]) - int(b[i]));
  return n ? sum / n : 0.0;
}

inline int MaxAbsDiff(const uint8_t* a, const uint8_t* b, size_t n) {
  int m = 0;
  for (size_t i = 0; i < n; ++i) m = std::max(m, std::abs(int(a[i]) - int(b[i])));
  return m;
}

// Gradient in red, noise in green, 8x8 blocks in blue: every codec's hard case.
inline std::vector<uint8_t> PatternRgb(int w, int h, uint32_t seed) {
  std::vector<uint8_t> v(static_cast<size_t>(w) * h * 3);
  uint32_t s = seed;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      s = s * 1664525u + 1013904223u;
      uint8_t* p = &v[(static_cast<size_t>(y) * w + x) * 3];
      p[0] = static_cast<uint8_t>(x * 7 + y);         // gradient
      p[1] = static_cast<uint8_t>(s >> 24);           // noise
      p[2] = static_cast<uint8_t>((x / 8 + y / 8) % 2 ? 250 : 5);  // blocks
    }
  }
  return v;
}

}  // namespace triage::imaging::testing

#endif  // TRIAGE_TESTS_IMAGING_TEST_IMAGES_H_
