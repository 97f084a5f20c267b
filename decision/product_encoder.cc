#include "decision/product_encoder.h"

#include <algorithm>
#include <new>

namespace triage::decision {

ProductEncoderLimits LimitsFor(const config::MissionConfig& m) {
  ProductEncoderLimits l;
  const bool sim = m.camera.source == config::CameraSource::kSimulated;
  l.full_max_width = sim ? m.camera.simulated.width : m.thumbnail.max_source_width;
  l.full_max_height = sim ? m.camera.simulated.height : m.thumbnail.max_source_height;
  l.thumbnail_width = m.thumbnail.width;
  l.thumbnail_height = m.thumbnail.height;
  l.png_level = m.triage.png_level;
  l.need_full_decode = false;
  const bool raw_frames = m.camera.pool.raw_max_width > 0;
  for (const config::ClassPolicy& c : m.triage.classes) {
    const bool can_be_full = (c.interesting && c.full_at <= 1.f) || m.triage.uncertain.action == config::FrameAction::kFull;
    if (!can_be_full) continue;
    if (c.full_codec.codec != config::Codec::kOriginal) l.need_full_decode = true;
    if (c.full_codec.codec == config::Codec::kPng || (c.full_codec.codec == config::Codec::kOriginal && raw_frames)) {
      l.need_png_full = true;
    }
  }
  for (const config::ClassPolicy& c : m.triage.classes) {
    if (c.thumbnail_codec.codec == config::Codec::kPng) l.need_png_thumbnail = true;
  }
  return l;
}

Result<std::unique_ptr<ProductEncoder>> ProductEncoder::Create(const ProductEncoderLimits& limits) noexcept {
  imaging::JpegEncoderConfig jc;
  jc.max_width = std::max(limits.full_max_width, limits.thumbnail_width);
  jc.max_height = std::max(limits.full_max_height, limits.thumbnail_height);
  Result<imaging::JpegEncoder> jpeg = imaging::JpegEncoder::Create(jc);
  if (!jpeg.ok()) return jpeg.status().WithContext("product encoder");
  Result<imaging::JpegDecoder> decoder = imaging::JpegDecoder::Create(limits.full_max_width, limits.full_max_height);
  if (!decoder.ok()) return decoder.status().WithContext("product encoder");
  std::unique_ptr<ProductEncoder> e(new (std::nothrow)
                                        ProductEncoder(std::move(jpeg.value()), std::move(decoder.value())));
  if (!e) return Status::Error(StatusCode::kResourceExhausted, "product encoder: out of memory");
  e->limits_ = limits;
  if (limits.need_full_decode) {
    e->full_rgb_bytes_ = static_cast<size_t>(limits.full_max_width) * limits.full_max_height * 3;
    e->full_rgb_.reset(new (std::nothrow) uint8_t[e->full_rgb_bytes_]);
    if (!e->full_rgb_) {
      return Status::Error(StatusCode::kResourceExhausted, "product encoder: cannot allocate %zu bytes",
                           e->full_rgb_bytes_);
    }
  }
  if (limits.need_png_full || limits.need_png_thumbnail) {
    const int w = limits.need_png_full ? std::max(limits.full_max_width, limits.thumbnail_width) : limits.thumbnail_width;
    const int h =
        limits.need_png_full ? std::max(limits.full_max_height, limits.thumbnail_height) : limits.thumbnail_height;
    Result<std::unique_ptr<imaging::PngEncoder>> png = imaging::PngEncoder::Create(w, h, limits.png_level);
    if (!png.ok()) return png.status().WithContext("product encoder");
    e->png_ = std::move(png.value());
  }
  return e;
}

bool ProductEncoder::Covers(const ProductEncoderLimits& l) const {
  return l.full_max_width <= limits_.full_max_width && l.full_max_height <= limits_.full_max_height &&
         l.thumbnail_width <= std::max(limits_.thumbnail_width, limits_.full_max_width) &&
         l.thumbnail_height <= std::max(limits_.thumbnail_height, limits_.full_max_height) &&
         (!l.need_full_decode || limits_.need_full_decode) && (!l.need_png_full || limits_.need_png_full) &&
         (!l.need_png_thumbnail || limits_.need_png_thumbnail || limits_.need_png_full) &&
         ((!l.need_png_full && !l.need_png_thumbnail) || l.png_level == limits_.png_level);
}

size_t ProductEncoder::reserved_bytes() const {
  return jpeg_.buffer_bytes() + full_rgb_bytes_ + (png_ ? png_->buffer_bytes() : 0);
}

Result<Span<const uint8_t>> ProductEncoder::Jpeg(const uint8_t* rgb, int w, int h, int stride, int quality) noexcept {
  TRIAGE_RETURN_IF_ERROR(jpeg_.SetQuality(quality));
  return jpeg_.Encode(rgb, w, h, stride);
}

Result<Span<const uint8_t>> ProductEncoder::EncodeFull(const imaging::Frame& frame,
                                                       const config::CodecSpec& spec) noexcept {
  if (frame.encoding == imaging::FrameEncoding::kJpeg && spec.codec == config::Codec::kOriginal) {
    return frame.jpeg();
  }
  const uint8_t* rgb = nullptr;
  int stride = 0;
  if (frame.encoding == imaging::FrameEncoding::kRgb8) {
    rgb = frame.pixels.data();
    stride = frame.stride();
  } else if (frame.encoding == imaging::FrameEncoding::kJpeg) {
    if (!full_rgb_) {
      return Status::Error(StatusCode::kFailedPrecondition, "full-resolution %s needs the decode buffer",
                           config::CodecName(spec.codec));
    }
    int w = 0, h = 0;
    TRIAGE_RETURN_IF_ERROR(decoder_.Decode(frame.jpeg(), imaging::JpegScale{1, 1},
                                           Span<uint8_t>(full_rgb_.get(), full_rgb_bytes_), frame.width * 3, &w, &h));
    rgb = full_rgb_.get();
    stride = frame.width * 3;
  } else {
    return Status::Error(StatusCode::kInvalidArgument, "frame holds no image");
  }
  if (spec.codec == config::Codec::kJpeg) return Jpeg(rgb, frame.width, frame.height, stride, spec.quality);
  if (!png_) return Status::Error(StatusCode::kFailedPrecondition, "png product without a png encoder");
  return png_->Encode(rgb, frame.width, frame.height, stride);
}

Result<Span<const uint8_t>> ProductEncoder::EncodeThumbnail(Span<const uint8_t> rgb, int width, int height,
                                                            const config::CodecSpec& spec) noexcept {
  if (rgb.size() < static_cast<size_t>(width) * height * 3) {
    return Status::Error(StatusCode::kInvalidArgument, "thumbnail view too small");
  }
  if (spec.codec == config::Codec::kPng) {
    if (!png_) return Status::Error(StatusCode::kFailedPrecondition, "png thumbnail without a png encoder");
    return png_->Encode(rgb.data(), width, height, width * 3);
  }
  return Jpeg(rgb.data(), width, height, width * 3, spec.quality);
}

}  // namespace triage::decision
