#include "imaging/resample.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace triage::imaging {
namespace {

constexpr int kWeightBits = 15;
constexpr int32_t kWeightOne = 1 << kWeightBits;
// Horizontal results are kept with 7 fractional bits so that the vertical sum
// (Q15 weight x Q7 value x 255) fits comfortably in 32 bits.
constexpr int kRowShift = kWeightBits - 7;
constexpr int kOutShift = kWeightBits + 7;
constexpr int kMaxDimension = 1 << 15;

// Rounds a tap's real weights to Q15 so that they sum to exactly one, putting
// the rounding residue on the largest weight (a flat field stays flat).
void QuantizeWeights(const double* w, int count, int32_t* out) {
  int32_t sum = 0;
  int largest = 0;
  for (int k = 0; k < count; ++k) {
    out[k] = static_cast<int32_t>(std::lround(w[k] * kWeightOne));
    sum += out[k];
    if (w[k] > w[largest]) largest = k;
  }
  out[largest] += kWeightOne - sum;
}

}  // namespace

ResampleFilter ChooseResampleFilter(int src_width, int src_height, int dst_width,
                                    int dst_height) {
  return (dst_width <= src_width && dst_height <= src_height) ? ResampleFilter::kArea
                                                               : ResampleFilter::kBilinear;
}

size_t Resampler::MaxWeightsPerAxis(int max_src, int dst) {
  const size_t per_output_area = static_cast<size_t>((max_src + dst - 1) / dst) + 2;
  return static_cast<size_t>(dst) * std::max<size_t>(per_output_area, 2);
}

Result<Resampler> Resampler::Create(int max_src_width, int max_src_height, int dst_width,
                                    int dst_height, int channels) {
  if (max_src_width <= 0 || max_src_height <= 0 || max_src_width > kMaxDimension ||
      max_src_height > kMaxDimension) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "resampler: max source %dx%d outside 1..%d", max_src_width,
                         max_src_height, kMaxDimension);
  }
  if (dst_width <= 0 || dst_height <= 0 || dst_width > kMaxDimension ||
      dst_height > kMaxDimension) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "resampler: destination %dx%d outside 1..%d", dst_width, dst_height,
                         kMaxDimension);
  }
  if (channels < 1 || channels > 4) {
    return Status::Error(StatusCode::kInvalidArgument, "resampler: %d channels (want 1..4)",
                         channels);
  }
  Resampler r;
  r.max_src_width_ = max_src_width;
  r.max_src_height_ = max_src_height;
  r.dst_width_ = dst_width;
  r.dst_height_ = dst_height;
  r.channels_ = channels;
  r.x_.taps.resize(static_cast<size_t>(dst_width));
  r.y_.taps.resize(static_cast<size_t>(dst_height));
  r.x_.weights.resize(MaxWeightsPerAxis(max_src_width, dst_width));
  r.y_.weights.resize(MaxWeightsPerAxis(max_src_height, dst_height));
  r.ring_rows_ = std::max((max_src_height + dst_height - 1) / dst_height + 2, 2);
  r.ring_.resize(static_cast<size_t>(r.ring_rows_) * dst_width * channels);
  r.ring_source_row_.resize(static_cast<size_t>(r.ring_rows_));
  r.accum_.resize(static_cast<size_t>(dst_width) * channels);
  return r;
}

size_t Resampler::memory_bytes() const {
  return x_.taps.size() * sizeof(Tap) + y_.taps.size() * sizeof(Tap) +
         (x_.weights.size() + y_.weights.size()) * sizeof(int32_t) +
         ring_.size() * sizeof(uint16_t) + ring_source_row_.size() * sizeof(int32_t) +
         accum_.size() * sizeof(uint32_t);
}

// Builds the taps of one axis in the preallocated arrays (no allocation). The
// coordinate mapping copies OpenCV's resize.cpp (computeResizeAreaTab and the
// INTER_LINEAR set-up) so that the two agree to within rounding.
void Resampler::BuildAxis(int src, int dst, ResampleFilter filter, Axis* axis) {
  const double scale = 1.0 / (static_cast<double>(dst) / src);
  int32_t offset = 0;
  double w[8];
  for (int d = 0; d < dst; ++d) {
    Tap& tap = axis->taps[static_cast<size_t>(d)];
    int count = 0;
    if (filter == ResampleFilter::kArea) {
      const double f1 = d * scale;
      const double f2 = f1 + scale;
      const double cell = std::min(scale, src - f1);
      int s2 = std::min(static_cast<int>(std::floor(f2)), src - 1);
      int s1 = std::min(static_cast<int>(std::ceil(f1)), s2);
      tap.first = s1;
      // Weights are written straight into the table in Q15 after collecting
      // them in chunks; area taps can be longer than w[], so quantize through
      // a running residue instead of a scratch array.
      int32_t* q = axis->weights.data() + offset;
      int32_t sum = 0;
      int largest = 0;
      double largest_w = -1.0;
      auto push = [&](double weight) {
        q[count] = static_cast<int32_t>(std::lround(weight * kWeightOne));
        sum += q[count];
        if (weight > largest_w) {
          largest_w = weight;
          largest = count;
        }
        ++count;
      };
      if (s1 - f1 > 1e-3) {
        tap.first = s1 - 1;
        push((s1 - f1) / cell);
      }
      for (int s = s1; s < s2; ++s) push(1.0 / cell);
      if (f2 - s2 > 1e-3) push(std::min(std::min(f2 - s2, 1.0), cell) / cell);
      if (count == 0) push(1.0);  // degenerate rounding case: copy the nearest pixel
      q[largest] += kWeightOne - sum;
    } else {
      float fx = static_cast<float>((d + 0.5) * scale - 0.5);
      int s = static_cast<int>(std::floor(fx));
      fx -= static_cast<float>(s);
      if (s < 0) {
        s = 0;
        fx = 0.f;
      }
      if (s >= src - 1) {
        s = src - 1;
        fx = 0.f;
      }
      tap.first = s;
      if (fx == 0.f) {
        w[0] = 1.0;
        count = 1;
      } else {
        w[0] = 1.0 - fx;
        w[1] = fx;
        count = 2;
      }
      QuantizeWeights(w, count, axis->weights.data() + offset);
    }
    tap.count = count;
    tap.weight_offset = offset;
    offset += count;
  }
}

// Horizontal pass of one source row into Q7 values. kChannels == 0 means "use
// channels_ at run time"; 1 and 3 are unrolled by the compiler.
template <int kChannels>
void Resampler::HorizontalRowT(const uint8_t* src, uint16_t* out) const {
  const int cn = kChannels > 0 ? kChannels : channels_;
  const Tap* taps = x_.taps.data();
  const int32_t* weights = x_.weights.data();
  for (int d = 0; d < dst_width_; ++d) {
    const Tap& t = taps[d];
    const uint8_t* s = src + static_cast<size_t>(t.first) * cn;
    const int32_t* w = weights + t.weight_offset;
    uint32_t acc[4] = {0, 0, 0, 0};
    for (int k = 0; k < t.count; ++k) {
      const uint32_t wk = static_cast<uint32_t>(w[k]);
      for (int c = 0; c < cn; ++c) acc[c] += wk * s[k * cn + c];
    }
    for (int c = 0; c < cn; ++c) {
      out[d * cn + c] = static_cast<uint16_t>((acc[c] + (1u << (kRowShift - 1))) >> kRowShift);
    }
  }
}

void Resampler::HorizontalRow(const uint8_t* src_row, uint16_t* out) const {
  switch (channels_) {
    case 1: HorizontalRowT<1>(src_row, out); break;
    case 3: HorizontalRowT<3>(src_row, out); break;
    default: HorizontalRowT<0>(src_row, out); break;
  }
}

Status Resampler::Run(const uint8_t* src, int width, int height, int stride_bytes,
                      uint8_t* dst, int dst_stride_bytes) {
  if (src == nullptr || dst == nullptr) {
    return Status::Error(StatusCode::kInvalidArgument, "resampler: null image pointer");
  }
  if (width <= 0 || height <= 0 || width > max_src_width_ || height > max_src_height_) {
    return Status::Error(StatusCode::kOutOfRange,
                         "resampler: source %dx%d outside 1x1..%dx%d (the size given at Create)",
                         width, height, max_src_width_, max_src_height_);
  }
  if (stride_bytes < width * channels_ || dst_stride_bytes < dst_width_ * channels_) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "resampler: stride %d (source) or %d (destination) below row size",
                         stride_bytes, dst_stride_bytes);
  }
  if (width != src_width_ || height != src_height_) {
    const ResampleFilter f = ChooseResampleFilter(width, height, dst_width_, dst_height_);
    BuildAxis(width, dst_width_, f, &x_);
    BuildAxis(height, dst_height_, f, &y_);
    src_width_ = width;
    src_height_ = height;
  }
  std::fill(ring_source_row_.begin(), ring_source_row_.end(), -1);
  const size_t row_elems = static_cast<size_t>(dst_width_) * channels_;
  for (int dy = 0; dy < dst_height_; ++dy) {
    const Tap& ty = y_.taps[static_cast<size_t>(dy)];
    const int32_t* wy = y_.weights.data() + ty.weight_offset;
    std::fill(accum_.begin(), accum_.end(), 0u);
    for (int k = 0; k < ty.count; ++k) {
      const int sy = ty.first + k;
      const int slot = sy % ring_rows_;
      uint16_t* row = ring_.data() + static_cast<size_t>(slot) * row_elems;
      if (ring_source_row_[static_cast<size_t>(slot)] != sy) {
        HorizontalRow(src + static_cast<size_t>(sy) * stride_bytes, row);
        ring_source_row_[static_cast<size_t>(slot)] = sy;
      }
      const uint32_t w = static_cast<uint32_t>(wy[k]);
      uint32_t* acc = accum_.data();
      for (size_t i = 0; i < row_elems; ++i) acc[i] += w * row[i];
    }
    uint8_t* out = dst + static_cast<size_t>(dy) * dst_stride_bytes;
    for (size_t i = 0; i < row_elems; ++i) {
      const uint32_t v = (accum_[i] + (1u << (kOutShift - 1))) >> kOutShift;
      out[i] = static_cast<uint8_t>(v > 255u ? 255u : v);
    }
  }
  return Status::Ok();
}

}  // namespace triage::imaging
