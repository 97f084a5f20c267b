// ProductEncoder: compresses what the triage decision keeps.
//
//   full resolution: jpeg (decode the camera frame at full size, re-encode
//                    at the class's quality), png (lossless), or original
//                    (the camera's JPEG bytes untouched; raw RGB frames fall
//                    back to png);
//   thumbnail:       jpeg or png of the 489x410 thumbnail.
//
// All buffers are allocated at Create for the configured maxima: the
// TurboJPEG output buffer (tjBufSize), the full-frame decode buffer, and the
// PNG encoder's zlib state and output bound. Large buffers are allocated
// uninitialised, so only the bytes a product actually touches become
// resident. Encode* allocate nothing through operator new (libjpeg-turbo
// mallocs and frees its pools per call; see docs/FLIGHT.md).
//
// Shared by the flight loop (app/) and ground evaluation (ground/), so that
// the bytes the ground counts are the bytes the flight would queue.
// Views returned are valid until the next Encode* call. One owner; never throws.
#ifndef TRIAGE_DECISION_PRODUCT_ENCODER_H_
#define TRIAGE_DECISION_PRODUCT_ENCODER_H_

#include <memory>

#include "imaging/png_encoder.h"
#include "config/mission.h"
#include "core/result.h"
#include "imaging/frame.h"
#include "imaging/jpeg_codec.h"

namespace triage::decision {

struct ProductEncoderLimits {
  int full_max_width = 2448;
  int full_max_height = 2050;
  int thumbnail_width = 489;
  int thumbnail_height = 410;
  bool need_full_decode = true;  // some class re-encodes full frames (jpeg or png)
  bool need_png_full = false;    // some class stores full frames as png
  bool need_png_thumbnail = false;
  int png_level = 6;
};

// What the policy needs, derived from a config (used at init and reload).
ProductEncoderLimits LimitsFor(const config::MissionConfig& mission);

class ProductEncoder {
 public:
  static Result<std::unique_ptr<ProductEncoder>> Create(const ProductEncoderLimits& limits) noexcept;

  // True if this encoder can serve the limits (reload check: otherwise a new
  // encoder is built between frames).
  bool Covers(const ProductEncoderLimits& limits) const;

  Result<Span<const uint8_t>> EncodeFull(const imaging::Frame& frame, const config::CodecSpec& spec) noexcept;
  Result<Span<const uint8_t>> EncodeThumbnail(Span<const uint8_t> rgb, int width, int height,
                                              const config::CodecSpec& spec) noexcept;

  // Bytes reserved (virtual; resident only where touched).
  size_t reserved_bytes() const;

 private:
  explicit ProductEncoder(imaging::JpegEncoder jpeg, imaging::JpegDecoder decoder)
      : jpeg_(std::move(jpeg)), decoder_(std::move(decoder)) {}
  Result<Span<const uint8_t>> Jpeg(const uint8_t* rgb, int w, int h, int stride, int quality) noexcept;

  ProductEncoderLimits limits_;
  imaging::JpegEncoder jpeg_;
  imaging::JpegDecoder decoder_;
  std::unique_ptr<uint8_t[]> full_rgb_;  // full_max_width x full_max_height x 3 (when need_full_decode)
  size_t full_rgb_bytes_ = 0;
  std::unique_ptr<imaging::PngEncoder> png_;
};

}  // namespace triage::decision

#endif  // TRIAGE_DECISION_PRODUCT_ENCODER_H_
