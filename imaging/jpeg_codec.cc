// TurboJPEG adapter. Nothing else in the project includes turbojpeg.h.
#include "imaging/jpeg_codec.h"

#include <turbojpeg.h>

#include <cstring>
#include <utility>

namespace triage::imaging {
namespace {

// Guards against hostile headers and bounds libjpeg-turbo's per-call work:
// progressive files with hundreds of scans are refused (TJFLAG_LIMITSCANS).
constexpr int kDecodeFlags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS;
constexpr int kEncodeFlags = TJFLAG_NOREALLOC;

ChromaSubsampling FromTj(int tj) {
  switch (tj) {
    case TJSAMP_444: return ChromaSubsampling::k444;
    case TJSAMP_422: return ChromaSubsampling::k422;
    case TJSAMP_420: return ChromaSubsampling::k420;
    case TJSAMP_GRAY: return ChromaSubsampling::kGray;
    default: return ChromaSubsampling::kOther;
  }
}

int ToTj(ChromaSubsampling s) {
  switch (s) {
    case ChromaSubsampling::k444: return TJSAMP_444;
    case ChromaSubsampling::k422: return TJSAMP_422;
    case ChromaSubsampling::kGray: return TJSAMP_GRAY;
    case ChromaSubsampling::k420:
    case ChromaSubsampling::kOther: break;
  }
  return TJSAMP_420;
}

bool IsSupportedDecodeScale(JpegScale s) {
  return s.num == 1 && (s.denom == 1 || s.denom == 2 || s.denom == 4 || s.denom == 8);
}

}  // namespace

JpegScale ChooseJpegScale(int width, int height, int min_width, int min_height) {
  for (int denom : {8, 4, 2}) {
    const JpegScale s{1, denom};
    if (s.Apply(width) >= min_width && s.Apply(height) >= min_height) return s;
  }
  return JpegScale{1, 1};
}

Result<JpegHeader> ParseJpegFrameHeader(Span<const uint8_t> b) {
  if (b.size() < 4 || b[0] != 0xFF || b[1] != 0xD8) {
    return Status::Error(StatusCode::kDataLoss, "jpeg: %zu bytes without an SOI marker", b.size());
  }
  size_t i = 2;
  // Each iteration consumes at least two bytes, so the loop is bounded by the size.
  while (i + 4 <= b.size()) {
    if (b[i] != 0xFF) break;
    const uint8_t marker = b[i + 1];
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    const size_t len = (static_cast<size_t>(b[i + 2]) << 8) | b[i + 3];
    const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
                     marker != 0xCC;
    if (sof) {
      if (len < 8 || i + 9 > b.size()) break;
      JpegHeader h;
      h.height = (b[i + 5] << 8) | b[i + 6];
      h.width = (b[i + 7] << 8) | b[i + 8];
      h.subsampling = ChromaSubsampling::kOther;
      if (h.width == 0 || h.height == 0) break;
      return h;
    }
    if (marker == 0xDA || marker == 0xD9 || len < 2) break;
    i += 2 + len;
  }
  return Status::Error(StatusCode::kDataLoss, "jpeg: no frame header in %zu bytes", b.size());
}

// ---------------------------------------------------------------- decoder

Result<JpegDecoder> JpegDecoder::Create(int max_width, int max_height) {
  if (max_width <= 0 || max_height <= 0 || max_width > 65500 || max_height > 65500) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "jpeg decoder: maximum size %dx%d outside 1..65500", max_width,
                         max_height);
  }
  JpegDecoder d;
  d.handle_ = tjInitDecompress();
  if (d.handle_ == nullptr) {
    return Status::Error(StatusCode::kResourceExhausted, "jpeg decoder: tjInitDecompress: %s",
                         tjGetErrorStr2(nullptr));
  }
  d.max_width_ = max_width;
  d.max_height_ = max_height;
  return d;
}

JpegDecoder::JpegDecoder(JpegDecoder&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)),
      max_width_(other.max_width_),
      max_height_(other.max_height_) {}

JpegDecoder& JpegDecoder::operator=(JpegDecoder&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) tjDestroy(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
    max_width_ = other.max_width_;
    max_height_ = other.max_height_;
  }
  return *this;
}

JpegDecoder::~JpegDecoder() {
  if (handle_ != nullptr) tjDestroy(handle_);
}

Result<JpegHeader> JpegDecoder::ReadHeader(Span<const uint8_t> jpeg) {
  if (jpeg.size() < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8) {
    return Status::Error(StatusCode::kDataLoss, "jpeg: %zu bytes without an SOI marker",
                         jpeg.size());
  }
  if (jpeg.size() > 0xFFFFFFFFu) {
    return Status::Error(StatusCode::kInvalidArgument, "jpeg: %zu bytes is too large",
                         jpeg.size());
  }
  int w = 0, h = 0, subsamp = 0, colorspace = 0;
  if (tjDecompressHeader3(handle_, jpeg.data(), static_cast<unsigned long>(jpeg.size()), &w, &h,
                          &subsamp, &colorspace) != 0) {
    Status error = Status::Error(StatusCode::kDataLoss, "jpeg header: %s", tjGetErrorStr2(handle_));
    // tjDecompressHeader3 (libjpeg-turbo 2.1) returns from its error handler
    // without aborting the decompressor, which stays mid-header, so the next
    // (good) frame would fail too. tjDecompress2's argument check jumps to its
    // cleanup, which aborts the decompressor: no decode, no allocation.
    (void)tjDecompress2(handle_, nullptr, 0, nullptr, 0, 0, 0, TJPF_RGB, 0);
    return error;
  }
  if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK) {
    return Status::Error(StatusCode::kUnsupported, "jpeg: CMYK/YCCK images are not supported");
  }
  if (w <= 0 || h <= 0) {
    return Status::Error(StatusCode::kDataLoss,
                         "jpeg: no frame header in %zu bytes (truncated?)", jpeg.size());
  }
  if (w > max_width_ || h > max_height_) {
    return Status::Error(StatusCode::kResourceExhausted,
                         "jpeg: %dx%d exceeds the decoder maximum %dx%d", w, h, max_width_,
                         max_height_);
  }
  JpegHeader header;
  header.width = w;
  header.height = h;
  header.subsampling = FromTj(subsamp);
  return header;
}

Status JpegDecoder::Decode(Span<const uint8_t> jpeg, JpegScale scale, Span<uint8_t> rgb,
                           int stride_bytes, int* out_width, int* out_height) {
  if (!IsSupportedDecodeScale(scale)) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "jpeg: decode scale %d/%d (want 1, 1/2, 1/4 or 1/8)", scale.num,
                         scale.denom);
  }
  Result<JpegHeader> header = ReadHeader(jpeg);
  if (!header.ok()) return header.status();
  const int w = scale.Apply(header->width);
  const int h = scale.Apply(header->height);
  if (stride_bytes < w * 3) {
    return Status::Error(StatusCode::kInvalidArgument, "jpeg: stride %d below %d bytes",
                         stride_bytes, w * 3);
  }
  const size_t needed = static_cast<size_t>(stride_bytes) * (h - 1) + static_cast<size_t>(w) * 3;
  if (rgb.size() < needed) {
    return Status::Error(StatusCode::kResourceExhausted,
                         "jpeg: %dx%d at 1/%d needs %zu bytes, buffer has %zu", header->width,
                         header->height, scale.denom, needed, rgb.size());
  }
  if (tjDecompress2(handle_, jpeg.data(), static_cast<unsigned long>(jpeg.size()), rgb.data(), w,
                    stride_bytes, h, TJPF_RGB, kDecodeFlags) != 0) {
    return Status::Error(StatusCode::kDataLoss, "jpeg decode (%dx%d): %s", header->width,
                         header->height, tjGetErrorStr2(handle_));
  }
  if (out_width != nullptr) *out_width = w;
  if (out_height != nullptr) *out_height = h;
  return Status::Ok();
}

// ---------------------------------------------------------------- encoder

Result<JpegEncoder> JpegEncoder::Create(const JpegEncoderConfig& config) {
  if (config.max_width <= 0 || config.max_height <= 0 || config.max_width > 65500 ||
      config.max_height > 65500) {
    return Status::Error(StatusCode::kInvalidArgument, "jpeg encoder: maximum size %dx%d",
                         config.max_width, config.max_height);
  }
  if (config.quality < 1 || config.quality > 100) {
    return Status::Error(StatusCode::kInvalidArgument, "jpeg encoder: quality %d outside 1..100",
                         config.quality);
  }
  if (config.subsampling == ChromaSubsampling::kOther) {
    return Status::Error(StatusCode::kInvalidArgument, "jpeg encoder: unsupported subsampling");
  }
  JpegEncoder e;
  e.config_ = config;
  const unsigned long size = tjBufSize(config.max_width, config.max_height, ToTj(config.subsampling));
  if (size == static_cast<unsigned long>(-1)) {
    return Status::Error(StatusCode::kInvalidArgument, "jpeg encoder: tjBufSize: %s",
                         tjGetErrorStr2(nullptr));
  }
  e.buffer_ = tjAlloc(static_cast<int>(size));
  e.handle_ = tjInitCompress();
  if (e.buffer_ == nullptr || e.handle_ == nullptr) {
    return Status::Error(StatusCode::kResourceExhausted, "jpeg encoder: cannot allocate %lu bytes",
                         size);
  }
  e.buffer_size_ = size;
  return e;
}

JpegEncoder::JpegEncoder(JpegEncoder&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)),
      buffer_(std::exchange(other.buffer_, nullptr)),
      buffer_size_(std::exchange(other.buffer_size_, 0)),
      config_(other.config_) {}

JpegEncoder& JpegEncoder::operator=(JpegEncoder&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) tjDestroy(handle_);
    if (buffer_ != nullptr) tjFree(buffer_);
    handle_ = std::exchange(other.handle_, nullptr);
    buffer_ = std::exchange(other.buffer_, nullptr);
    buffer_size_ = std::exchange(other.buffer_size_, 0);
    config_ = other.config_;
  }
  return *this;
}

JpegEncoder::~JpegEncoder() {
  if (handle_ != nullptr) tjDestroy(handle_);
  if (buffer_ != nullptr) tjFree(buffer_);
}

Status JpegEncoder::SetQuality(int quality) {
  if (quality < 1 || quality > 100) {
    return Status::Error(StatusCode::kInvalidArgument, "jpeg encoder: quality %d outside 1..100", quality);
  }
  config_.quality = quality;
  return Status::Ok();
}

Result<Span<const uint8_t>> JpegEncoder::Encode(const uint8_t* rgb, int width, int height,
                                                int stride_bytes) {
  if (rgb == nullptr || width <= 0 || height <= 0 || width > config_.max_width ||
      height > config_.max_height) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "jpeg encode: image %dx%d outside 1x1..%dx%d", width, height,
                         config_.max_width, config_.max_height);
  }
  if (stride_bytes < width * 3) {
    return Status::Error(StatusCode::kInvalidArgument, "jpeg encode: stride %d below %d",
                         stride_bytes, width * 3);
  }
  unsigned char* out = buffer_;
  unsigned long size = buffer_size_;
  if (tjCompress2(handle_, rgb, width, stride_bytes, height, TJPF_RGB, &out, &size,
                  ToTj(config_.subsampling), config_.quality, kEncodeFlags) != 0) {
    return Status::Error(StatusCode::kInternal, "jpeg encode: %s", tjGetErrorStr2(handle_));
  }
  return Span<const uint8_t>(out, size);
}

}  // namespace triage::imaging
