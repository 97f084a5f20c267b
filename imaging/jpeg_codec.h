// JPEG decode and encode through the TurboJPEG API (the only file that touches
// libjpeg-turbo is jpeg_codec.cc).
//
// JpegDecoder decodes to interleaved RGB into a caller-owned buffer, optionally
// with DCT-domain scaling (1/2, 1/4, 1/8) when only a thumbnail is needed.
// JpegEncoder compresses into a buffer sized once with tjBufSize() and never
// reallocated (TJFLAG_NOREALLOC).
//
// Failure modes: corrupt, truncated or unsupported data returns kDataLoss or
// kUnsupported; a frame larger than the configured maximum returns
// kResourceExhausted before any pixel is decoded. libjpeg-turbo warnings
// (e.g. "premature end of data") are errors: a flight frame is either whole
// or rejected.
//
// Memory: Create() allocates the TurboJPEG handle. Decode()/Encode() allocate
// nothing through operator new, but libjpeg-turbo mallocs its working pools
// per call and frees them before returning (sizes in imaging/README.md).
// Thread safety: one codec object per thread.
#ifndef TRIAGE_IMAGING_JPEG_CODEC_H_
#define TRIAGE_IMAGING_JPEG_CODEC_H_

#include <cstddef>
#include <cstdint>

#include "core/result.h"
#include "core/span.h"
#include "core/status.h"

namespace triage::imaging {

// A DCT scaling factor num/denom. Supported decode factors: 1, 1/2, 1/4, 1/8.
struct JpegScale {
  int num = 1;
  int denom = 1;
  // Scaled size of a dimension, rounded up exactly as libjpeg-turbo does.
  int Apply(int dimension) const { return (dimension * num + denom - 1) / denom; }
};

// The smallest decode (largest reduction among 1/8, 1/4, 1/2, 1) whose output
// is still at least min_width x min_height. Returns 1/1 when no reduction fits.
JpegScale ChooseJpegScale(int width, int height, int min_width, int min_height);

enum class ChromaSubsampling : uint8_t { k444, k422, k420, kGray, kOther };

struct JpegHeader {
  int width = 0;
  int height = 0;
  ChromaSubsampling subsampling = ChromaSubsampling::k420;
};

// Finds the frame size by scanning the marker segments up to the first SOFn,
// without libjpeg-turbo (cheap; used by cameras to fill Frame::width/height).
// The subsampling is reported as kOther. Does not validate the entropy data.
Result<JpegHeader> ParseJpegFrameHeader(Span<const uint8_t> jpeg);

class JpegDecoder {
 public:
  // max_width/max_height bound the source images this decoder accepts (a
  // guard against hostile headers); init-only.
  static Result<JpegDecoder> Create(int max_width, int max_height);
  JpegDecoder(JpegDecoder&& other) noexcept;
  JpegDecoder& operator=(JpegDecoder&& other) noexcept;
  JpegDecoder(const JpegDecoder&) = delete;
  JpegDecoder& operator=(const JpegDecoder&) = delete;
  ~JpegDecoder();

  // Parses the header only. Flight-safe.
  Result<JpegHeader> ReadHeader(Span<const uint8_t> jpeg);

  // Decodes at `scale` into rgb (stride_bytes per row, capacity rgb.size()).
  // The output size is scale.Apply(width) x scale.Apply(height); both are
  // returned through out_width/out_height. Flight-safe (see Memory above).
  Status Decode(Span<const uint8_t> jpeg, JpegScale scale, Span<uint8_t> rgb, int stride_bytes,
                int* out_width, int* out_height);

  int max_width() const { return max_width_; }
  int max_height() const { return max_height_; }

 private:
  JpegDecoder() = default;
  void* handle_ = nullptr;  // tjhandle
  int max_width_ = 0, max_height_ = 0;
};

struct JpegEncoderConfig {
  int max_width = 2448;   // largest image Encode() accepts, pixels
  int max_height = 2050;
  int quality = 90;       // 1..100
  ChromaSubsampling subsampling = ChromaSubsampling::k420;  // k444, k422, k420 or kGray
};

class JpegEncoder {
 public:
  // Allocates the tjBufSize() output buffer for the maximum size. Init-only.
  static Result<JpegEncoder> Create(const JpegEncoderConfig& config);
  JpegEncoder(JpegEncoder&& other) noexcept;
  JpegEncoder& operator=(JpegEncoder&& other) noexcept;
  JpegEncoder(const JpegEncoder&) = delete;
  JpegEncoder& operator=(const JpegEncoder&) = delete;
  ~JpegEncoder();

  // Compresses interleaved RGB into the internal buffer and returns a view of
  // the JPEG bytes, valid until the next Encode() or destruction.
  Result<Span<const uint8_t>> Encode(const uint8_t* rgb, int width, int height, int stride_bytes);

  // Changes the quality used by later Encode() calls (1..100; the buffer
  // size does not depend on it). Flight-safe: no allocation.
  Status SetQuality(int quality);
  int quality() const { return config_.quality; }

  // Worst-case JPEG size for the configured maximum (tjBufSize).
  size_t buffer_bytes() const { return buffer_size_; }

 private:
  JpegEncoder() = default;
  void* handle_ = nullptr;     // tjhandle
  uint8_t* buffer_ = nullptr;  // tjAlloc'd, tjBufSize(max) bytes
  size_t buffer_size_ = 0;
  JpegEncoderConfig config_;
};

}  // namespace triage::imaging

#endif  // TRIAGE_IMAGING_JPEG_CODEC_H_
