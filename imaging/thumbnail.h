// Thumbnailer: frame (JPEG or raw RGB) -> fixed-size RGB thumbnail.
//
// JPEG frames are decoded with DCT scaling (1/2, 1/4 or 1/8: the largest
// reduction that still covers the thumbnail), then area-resampled to the
// thumbnail size (INTER_AREA semantics, see imaging/resample.h). For the
// 2448x2050 camera frame that is a 1/4 decode to 612x513, then 612x513 ->
// 489x410.
//
// Phase: Create() allocates the decoder, the decode buffer and the resampler
// tables. Run() is flight-safe: nothing through operator new (libjpeg-turbo
// still mallocs its own pools; see README). Corrupt or truncated JPEGs return
// kDataLoss for that frame only. One Thumbnailer per thread.
#ifndef TRIAGE_IMAGING_THUMBNAIL_H_
#define TRIAGE_IMAGING_THUMBNAIL_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/result.h"
#include "core/span.h"
#include "core/status.h"
#include "imaging/frame.h"
#include "imaging/jpeg_codec.h"
#include "imaging/resample.h"

namespace triage::imaging {

struct ThumbnailConfig {
  int width = 489;                 // thumbnail size, pixels
  int height = 410;
  int max_source_width = 2448;     // largest frame accepted (the camera's full frame)
  int max_source_height = 2050;
  bool dct_scaling = true;         // false: always decode JPEG at full size (slower, more memory)
  // Decode buffer, bytes. 0 = the worst case over every source up to the
  // maximum (6.0 MB for the defaults: a 976x2050 strip cannot be reduced).
  // A flight build whose sensor always delivers 2448x2050 can pin it to
  // 612*513*3 = 0.94 MB; a frame that then needs more fails with
  // kResourceExhausted instead of allocating.
  size_t decode_buffer_bytes = 0;
};

class Thumbnailer {
 public:
  static Result<Thumbnailer> Create(const ThumbnailConfig& config);

  // Writes width*height*3 bytes (packed RGB rows) into `out`; out.size() must
  // be exactly that.
  Status Run(const Frame& frame, Span<uint8_t> out);
  Status RunJpeg(Span<const uint8_t> jpeg, Span<uint8_t> out);
  Status RunRgb(const uint8_t* rgb, int width, int height, int stride_bytes, Span<uint8_t> out);

  const ThumbnailConfig& config() const { return config_; }
  size_t output_bytes() const { return static_cast<size_t>(config_.width) * config_.height * 3; }
  // The DCT scale used by the last RunJpeg (for telemetry and tests).
  JpegScale last_scale() const { return last_scale_; }
  // Size of the last JPEG decode, before resampling.
  int last_decoded_width() const { return last_decoded_width_; }
  int last_decoded_height() const { return last_decoded_height_; }
  size_t memory_bytes() const { return decoded_.size() + resampler_.memory_bytes(); }

 private:
  explicit Thumbnailer(JpegDecoder decoder) : decoder_(std::move(decoder)) {}
  Status CheckOut(Span<uint8_t> out) const;

  ThumbnailConfig config_;
  JpegDecoder decoder_;
  Resampler resampler_;
  std::vector<uint8_t> decoded_;
  JpegScale last_scale_;
  int last_decoded_width_ = 0, last_decoded_height_ = 0;
};

}  // namespace triage::imaging

#endif  // TRIAGE_IMAGING_THUMBNAIL_H_
