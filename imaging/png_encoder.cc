#include "imaging/png_encoder.h"

#include <zlib.h>

#include <cstring>
#include <new>

namespace triage::imaging {
namespace {

constexpr uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
// signature + IHDR (4 len + 4 type + 13 + 4 crc) + IDAT header/crc (12) + IEND (12)
constexpr size_t kFixedBytes = 8 + 25 + 12 + 12;

void PutU32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// Writes a chunk's CRC over type + data starting at `type`.
void PutChunkCrc(uint8_t* type, size_t data_bytes) {
  const uLong crc = crc32(0L, type, static_cast<uInt>(4 + data_bytes));
  PutU32(type + 4 + data_bytes, static_cast<uint32_t>(crc));
}

}  // namespace

Result<std::unique_ptr<PngEncoder>> PngEncoder::Create(int max_width, int max_height, int level) noexcept {
  if (max_width <= 0 || max_height <= 0 || max_width > 16384 || max_height > 16384) {
    return Status::Error(StatusCode::kInvalidArgument, "png encoder: maximum size %dx%d", max_width, max_height);
  }
  if (level < 0 || level > 9) {
    return Status::Error(StatusCode::kInvalidArgument, "png encoder: level %d outside 0..9", level);
  }
  std::unique_ptr<PngEncoder> e(new (std::nothrow) PngEncoder());
  if (!e) return Status::Error(StatusCode::kResourceExhausted, "png encoder: out of memory");
  auto* zs = new (std::nothrow) z_stream();
  if (zs == nullptr) return Status::Error(StatusCode::kResourceExhausted, "png encoder: out of memory");
  e->stream_ = zs;
  if (deflateInit2(zs, level, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Status::Error(StatusCode::kResourceExhausted, "png encoder: deflateInit2 failed");
  }
  const uLong raw = static_cast<uLong>(max_height) * (1u + static_cast<uLong>(max_width) * 3u);
  e->capacity_ = kFixedBytes + deflateBound(zs, raw);
  // Default-initialised (new T[n], not make_unique): pages stay untouched,
  // so resident memory grows only as far as real outputs reach.
  e->out_.reset(new (std::nothrow) uint8_t[e->capacity_]);
  e->row_.reset(new (std::nothrow) uint8_t[1 + static_cast<size_t>(max_width) * 3]);
  if (!e->out_ || !e->row_) {
    return Status::Error(StatusCode::kResourceExhausted, "png encoder: cannot allocate %zu bytes", e->capacity_);
  }
  e->max_width_ = max_width;
  e->max_height_ = max_height;
  return e;
}

PngEncoder::~PngEncoder() {
  if (stream_ != nullptr) {
    auto* zs = static_cast<z_stream*>(stream_);
    deflateEnd(zs);
    delete zs;
  }
}

Result<Span<const uint8_t>> PngEncoder::Encode(const uint8_t* rgb, int width, int height,
                                               int stride_bytes) noexcept {
  if (rgb == nullptr || width <= 0 || height <= 0 || width > max_width_ || height > max_height_ ||
      stride_bytes < width * 3) {
    return Status::Error(StatusCode::kInvalidArgument, "png encode: image %dx%d (stride %d) outside 1x1..%dx%d",
                         width, height, stride_bytes, max_width_, max_height_);
  }
  auto* zs = static_cast<z_stream*>(stream_);
  if (deflateReset(zs) != Z_OK) return Status::Error(StatusCode::kInternal, "png encode: deflateReset failed");
  uint8_t* out = out_.get();
  std::memcpy(out, kSignature, 8);
  uint8_t* ihdr = out + 8;
  PutU32(ihdr, 13);
  std::memcpy(ihdr + 4, "IHDR", 4);
  PutU32(ihdr + 8, static_cast<uint32_t>(width));
  PutU32(ihdr + 12, static_cast<uint32_t>(height));
  ihdr[16] = 8;  // bit depth
  ihdr[17] = 2;  // colour type RGB
  ihdr[18] = 0;  // deflate
  ihdr[19] = 0;  // adaptive filtering (per-row filter byte)
  ihdr[20] = 0;  // no interlace
  PutChunkCrc(ihdr + 4, 13);
  uint8_t* idat = ihdr + 25;
  std::memcpy(idat + 4, "IDAT", 4);
  uint8_t* data = idat + 8;
  const size_t room = capacity_ - static_cast<size_t>(data - out) - 4 - 12;

  zs->next_out = data;
  zs->avail_out = static_cast<uInt>(room);
  const size_t row_bytes = static_cast<size_t>(width) * 3;
  uint8_t* row = row_.get();
  for (int y = 0; y < height; ++y) {
    const uint8_t* src = rgb + static_cast<size_t>(y) * static_cast<size_t>(stride_bytes);
    row[0] = 1;  // Sub: each byte minus the same channel of the pixel to its left
    for (size_t i = 0; i < row_bytes; ++i) {
      row[1 + i] = static_cast<uint8_t>(src[i] - (i >= 3 ? src[i - 3] : 0));
    }
    zs->next_in = row;
    zs->avail_in = static_cast<uInt>(row_bytes + 1);
    int rc;
    bool ok;
    if (y + 1 == height) {
      // The output is bounded by deflateBound, so Z_FINISH completes; the
      // loop is bounded by the buffer size anyway.
      do {
        rc = deflate(zs, Z_FINISH);
      } while (rc == Z_OK && zs->avail_out > 0);
      ok = rc == Z_STREAM_END;
    } else {
      rc = deflate(zs, Z_NO_FLUSH);
      ok = rc == Z_OK && zs->avail_in == 0;
    }
    if (!ok) {
      return Status::Error(StatusCode::kInternal, "png encode: deflate failed at row %d (%d)", y, rc);
    }
  }
  const size_t compressed = room - zs->avail_out;
  PutU32(idat, static_cast<uint32_t>(compressed));
  PutChunkCrc(idat + 4, compressed);
  uint8_t* iend = data + compressed + 4;
  PutU32(iend, 0);
  std::memcpy(iend + 4, "IEND", 4);
  PutChunkCrc(iend + 4, 0);
  return Span<const uint8_t>(out, static_cast<size_t>(iend + 12 - out));
}

}  // namespace triage::imaging
