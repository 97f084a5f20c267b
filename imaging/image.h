// Image files for tools and ground: loading, decoding and writing JPEG, PNG
// and BMP into a heap-owned Image.
//
// Not for the per-frame flight path (the Image owns a std::vector); flight
// code uses FramePool buffers, JpegDecoder and Resampler instead.
//
// JPEG goes through libjpeg-turbo (imaging/jpeg_codec.h) so that truncation
// is detected; PNG and BMP go through OpenCV's imdecode (the OpenCV adapter is
// image.cc). Every function returns a Status naming the file and the problem
// and never throws.
#ifndef TRIAGE_IMAGING_IMAGE_H_
#define TRIAGE_IMAGING_IMAGE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/span.h"
#include "core/status.h"

namespace triage::imaging {

// Interleaved 8-bit image, RGB channel order (or 1 channel for gray).
// Heap-owned: for tools and ground, not the per-frame path.
struct Image {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;  // width * height * channels bytes, rows packed

  int stride() const { return width * channels; }
  size_t size_bytes() const { return static_cast<size_t>(width) * height * channels; }
};

// Largest image the loaders accept on either axis (a guard against hostile
// headers that would make the decoder allocate gigabytes).
constexpr int kMaxImageDimension = 16384;

// Reads and decodes a JPEG, PNG or BMP file. Errors: kNotFound (missing),
// kIoError (unreadable), kDataLoss (truncated/corrupt), kUnsupported (other
// formats). Gray files stay 1 channel; alpha is dropped; 16-bit is scaled to 8.
Result<Image> LoadImageFile(const std::string& path);
// Same, from bytes in memory; what_for_errors names the source in messages.
Result<Image> DecodeImage(Span<const uint8_t> encoded, const char* what_for_errors);

// Writes an Image; the format follows the extension (.png, .jpg/.jpeg, .bmp).
Status WriteImageFile(const std::string& path, const Image& image);

// Image with the given size and channels, filled with zeros.
Image MakeImage(int width, int height, int channels);

}  // namespace triage::imaging

#endif  // TRIAGE_IMAGING_IMAGE_H_
