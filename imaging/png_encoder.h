// PngEncoder: lossless RGB -> PNG with zlib, into fixed buffers.
//
// The only file in the project that calls zlib directly (libpng, for decoding, uses it too). PNG is written directly (signature,
// IHDR, one IDAT, IEND); every row uses the Sub filter. The deflate stream
// (window 32 KiB, memLevel 8, ~270 KB of zlib state) and the output buffer
// (the PNG bound for the maximum size) are allocated once at Create;
// Encode() only calls deflateReset/deflate, which allocate nothing, so a
// frame step stays allocation-free. Output is deterministic for a given
// zlib version and level. Ground tools decode it with any PNG reader.
//
// Thread safety: one encoder per thread. Failure modes: image larger than the
// maximum (kInvalidArgument), zlib error (kInternal). Never throws.
#ifndef TRIAGE_IMAGING_PNG_ENCODER_H_
#define TRIAGE_IMAGING_PNG_ENCODER_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/result.h"
#include "core/span.h"

namespace triage::imaging {

class PngEncoder {
 public:
  // Init-only. level: zlib 0..9.
  static Result<std::unique_ptr<PngEncoder>> Create(int max_width, int max_height, int level) noexcept;
  ~PngEncoder();
  PngEncoder(const PngEncoder&) = delete;
  PngEncoder& operator=(const PngEncoder&) = delete;

  // Encodes interleaved 8-bit RGB; the view is valid until the next Encode.
  Result<Span<const uint8_t>> Encode(const uint8_t* rgb, int width, int height, int stride_bytes) noexcept;

  // Worst-case PNG size for the maximum image (the output buffer's size).
  size_t buffer_bytes() const { return capacity_; }

 private:
  PngEncoder() = default;
  void* stream_ = nullptr;  // z_stream*, kept opaque so zlib stays private
  std::unique_ptr<uint8_t[]> out_;
  std::unique_ptr<uint8_t[]> row_;  // filter byte + filtered row
  size_t capacity_ = 0;
  int max_width_ = 0, max_height_ = 0;
};

}  // namespace triage::imaging

#endif  // TRIAGE_IMAGING_PNG_ENCODER_H_
