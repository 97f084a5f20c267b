// Resampler: table-driven image resize for 8-bit interleaved pixels that does
// not allocate after Create().
//
// Semantics follow OpenCV's cv::resize so that results agree with it to within
// one code value:
//   * shrinking (dst <= src on both axes): area averaging (INTER_AREA), every
//     source pixel weighted by the fraction of it that falls inside the
//     destination pixel;
//   * otherwise: bilinear (INTER_LINEAR) with half-pixel centres and clamped
//     edges.
// Weights are quantized to Q15 and all arithmetic is integer, so the output is
// bit-identical on every platform (ground replay matches flight).
//
// Why not cv::resize? It allocates scratch with operator new on every call
// (AutoBuffer tables), which breaks the no-allocation-per-frame rule. See
// imaging/README.md.
//
// Phase: Create() allocates (init only). Run() is flight-safe: no allocation,
// no exceptions; it recomputes its tables in place when the source size
// changes. Thread safety: one Resampler per thread.
#ifndef TRIAGE_IMAGING_RESAMPLE_H_
#define TRIAGE_IMAGING_RESAMPLE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/result.h"
#include "core/status.h"

namespace triage::imaging {

enum class ResampleFilter : uint8_t { kArea, kBilinear };

// The filter Resampler uses for a given size pair: area when neither axis
// grows, bilinear otherwise.
ResampleFilter ChooseResampleFilter(int src_width, int src_height, int dst_width, int dst_height);

class Resampler {
 public:
  Resampler() = default;  // empty: Run() fails until assigned from Create()
  // Sizes the tables for any source up to max_src_width x max_src_height and
  // the fixed destination size. channels is 1..4.
  static Result<Resampler> Create(int max_src_width, int max_src_height, int dst_width,
                                  int dst_height, int channels);

  // Resizes src (width x height, stride in bytes) into dst (dst_width x
  // dst_height, dst_stride_bytes). src and dst must not overlap. Errors:
  // source larger than the maximum or empty, strides too small.
  Status Run(const uint8_t* src, int width, int height, int stride_bytes, uint8_t* dst,
             int dst_stride_bytes);

  int dst_width() const { return dst_width_; }
  int dst_height() const { return dst_height_; }
  int channels() const { return channels_; }
  // Bytes owned by this object (tables and row cache).
  size_t memory_bytes() const;

 private:
  struct Tap {       // one output index: `count` weights starting at source `first`
    int32_t first;
    int32_t count;
    int32_t weight_offset;  // into weights_
  };
  struct Axis {
    std::vector<Tap> taps;
    std::vector<int32_t> weights;  // Q15, each tap's weights sum to 32768
  };

  static void BuildAxis(int src, int dst, ResampleFilter filter, Axis* axis);
  static size_t MaxWeightsPerAxis(int max_src, int dst);
  void HorizontalRow(const uint8_t* src_row, uint16_t* out) const;
  template <int kChannels>
  void HorizontalRowT(const uint8_t* src_row, uint16_t* out) const;

  int max_src_width_ = 0, max_src_height_ = 0;
  int dst_width_ = 0, dst_height_ = 0, channels_ = 0;
  int src_width_ = -1, src_height_ = -1;  // size the tables are built for
  Axis x_, y_;
  int ring_rows_ = 0;                // cached horizontally-resampled rows
  std::vector<uint16_t> ring_;       // ring_rows_ x dst_width_ x channels_, Q7
  std::vector<int32_t> ring_source_row_;
  std::vector<uint32_t> accum_;      // one destination row
};

}  // namespace triage::imaging

#endif  // TRIAGE_IMAGING_RESAMPLE_H_
