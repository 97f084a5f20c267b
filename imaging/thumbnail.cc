#include "imaging/thumbnail.h"

#include <algorithm>
#include <utility>

namespace triage::imaging {

namespace {

int CeilDiv(int a, int b) { return (a + b - 1) / b; }

// Largest decode (pixels) over every source up to max_w x max_h. Scale 1/d is
// chosen only when 1/(2d) misses the thumbnail on some axis, which bounds
// that axis; the other axis can reach its maximum.
size_t WorstCaseDecodePixels(int max_w, int max_h, int tw, int th, bool dct_scaling) {
  if (!dct_scaling) return static_cast<size_t>(max_w) * max_h;
  size_t worst = static_cast<size_t>(CeilDiv(max_w, 8)) * CeilDiv(max_h, 8);
  for (int d : {1, 2, 4}) {
    const int w_bound = std::min(max_w, 2 * d * (tw - 1));
    const int h_bound = std::min(max_h, 2 * d * (th - 1));
    const size_t a = static_cast<size_t>(CeilDiv(std::max(w_bound, 0), d)) * CeilDiv(max_h, d);
    const size_t b = static_cast<size_t>(CeilDiv(max_w, d)) * CeilDiv(std::max(h_bound, 0), d);
    worst = std::max(worst, std::max(a, b));
  }
  return worst;
}

}  // namespace

Result<Thumbnailer> Thumbnailer::Create(const ThumbnailConfig& config) {
  if (config.width < 1 || config.height < 1 || config.width > 8192 || config.height > 8192) {
    return Status::Error(StatusCode::kInvalidArgument, "thumbnail: size %dx%d outside 1..8192",
                         config.width, config.height);
  }
  Result<JpegDecoder> decoder = JpegDecoder::Create(config.max_source_width, config.max_source_height);
  if (!decoder.ok()) return decoder.status().WithContext("thumbnail");
  Result<Resampler> resampler = Resampler::Create(config.max_source_width, config.max_source_height,
                                                  config.width, config.height, 3);
  if (!resampler.ok()) return resampler.status().WithContext("thumbnail");

  Thumbnailer t(std::move(decoder.value()));
  t.config_ = config;
  t.resampler_ = std::move(resampler.value());
  size_t bytes = config.decode_buffer_bytes;
  if (bytes == 0) {
    bytes = 3 * WorstCaseDecodePixels(config.max_source_width, config.max_source_height,
                                      config.width, config.height, config.dct_scaling);
  }
  t.decoded_.resize(bytes);
  return t;
}

Status Thumbnailer::CheckOut(Span<uint8_t> out) const {
  if (out.size() != output_bytes()) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "thumbnail: output is %zu bytes, %dx%d RGB needs %zu", out.size(),
                         config_.width, config_.height, output_bytes());
  }
  return Status::Ok();
}

Status Thumbnailer::RunJpeg(Span<const uint8_t> jpeg, Span<uint8_t> out) {
  TRIAGE_RETURN_IF_ERROR(CheckOut(out));
  Result<JpegHeader> header = decoder_.ReadHeader(jpeg);
  if (!header.ok()) return header.status().WithContext("thumbnail");
  const JpegScale scale = config_.dct_scaling ? ChooseJpegScale(header->width, header->height,
                                                                config_.width, config_.height)
                                              : JpegScale{1, 1};
  int w = 0, h = 0;
  const int stride = scale.Apply(header->width) * 3;
  TRIAGE_RETURN_IF_ERROR(
      decoder_.Decode(jpeg, scale, Span<uint8_t>(decoded_), stride, &w, &h).WithContext("thumbnail"));
  last_scale_ = scale;
  last_decoded_width_ = w;
  last_decoded_height_ = h;
  return resampler_.Run(decoded_.data(), w, h, stride, out.data(), config_.width * 3)
      .WithContext("thumbnail");
}

Status Thumbnailer::RunRgb(const uint8_t* rgb, int width, int height, int stride_bytes,
                           Span<uint8_t> out) {
  TRIAGE_RETURN_IF_ERROR(CheckOut(out));
  return resampler_.Run(rgb, width, height, stride_bytes, out.data(), config_.width * 3)
      .WithContext("thumbnail");
}

Status Thumbnailer::Run(const Frame& frame, Span<uint8_t> out) {
  switch (frame.encoding) {
    case FrameEncoding::kJpeg: return RunJpeg(frame.jpeg(), out);
    case FrameEncoding::kRgb8:
      if (static_cast<size_t>(frame.width) * frame.height * 3 > frame.pixels.size()) {
        return Status::Error(StatusCode::kInvalidArgument,
                             "thumbnail: frame %llu claims %dx%d, beyond its pixel buffer",
                             static_cast<unsigned long long>(frame.meta.frame_id), frame.width,
                             frame.height);
      }
      return RunRgb(frame.pixels.data(), frame.width, frame.height, frame.stride(), out);
    case FrameEncoding::kEmpty: break;
  }
  return Status::Error(StatusCode::kFailedPrecondition, "thumbnail: frame %llu is empty",
                       static_cast<unsigned long long>(frame.meta.frame_id));
}

}  // namespace triage::imaging
