// PNG and BMP codecs behind image.cc (internal to imaging/, not installed).
//
// PNG goes through libpng (decode from memory, encode to a file); BMP is a
// small reader/writer of our own for the uncompressed Windows variants.
// Both exist so that no flight binary links OpenCV's imgcodecs, whose Debian
// build loads about 40 MB of GDAL/Poppler/HDF5 libraries at start-up
// (docs/PERFORMANCE.md, "Peak RSS").
//
// Decoders treat the bytes as untrusted: sizes are checked against
// kMaxImageDimension and the data length before any allocation, every read is
// bounded, and truncated or corrupt data is kDataLoss naming `what`. They
// allocate the Image (heap, tools and directory replay; not the JPEG path).
// Output is 8-bit, RGB order; gray (and gray-palette BMP) stays 1 channel;
// alpha is dropped; 16-bit PNG samples are scaled to 8 bits.
#ifndef TRIAGE_IMAGING_CODECS_H_
#define TRIAGE_IMAGING_CODECS_H_

#include <cstdint>
#include <string>

#include "core/result.h"
#include "core/span.h"
#include "core/status.h"
#include "imaging/image.h"

namespace triage::imaging::codecs {

Result<Image> DecodePng(Span<const uint8_t> bytes, const char* what);
// Writes 8-bit gray or RGB as PNG (zlib level 6).
Status WritePng(const std::string& path, const Image& image);

// Supports BITMAPINFOHEADER and later headers (40..124 bytes), bottom-up or
// top-down, 1/4/8-bit palette, 24-bit, and 32-bit BI_RGB or BI_BITFIELDS with
// byte-aligned masks. RLE, 16-bit and OS/2 headers are kUnsupported.
Result<Image> DecodeBmp(Span<const uint8_t> bytes, const char* what);
// Writes 24-bit BGR (RGB input) or 8-bit gray-palette (1-channel input).
Status WriteBmp(const std::string& path, const Image& image);

}  // namespace triage::imaging::codecs

#endif  // TRIAGE_IMAGING_CODECS_H_
