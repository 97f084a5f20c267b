// Windows BMP, uncompressed variants only. Every field is read through
// bounds-checked little-endian helpers; sizes are validated against the file
// length before the Image is allocated.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>

#include "imaging/codecs.h"

namespace triage::imaging::codecs {
namespace {

constexpr size_t kFileHeaderBytes = 14;
constexpr uint32_t kBiRgb = 0;
constexpr uint32_t kBiBitfields = 3;

uint32_t Le16(const uint8_t* p) { return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8); }
uint32_t Le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
void PutLe16(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
void PutLe32(uint8_t* p, uint32_t v) {
  PutLe16(p, v);
  PutLe16(p + 2, v >> 16);
}

// Byte index (0..3) of an 8-bit channel mask within a 32-bit little-endian
// pixel, or -1 when the mask is not one whole byte.
int MaskByte(uint32_t mask) {
  for (int k = 0; k < 4; ++k) {
    if (mask == (0xFFu << (8 * k))) return k;
  }
  return -1;
}

struct Layout {
  int width = 0, height = 0;
  bool top_down = false;
  uint32_t bpp = 0;
  size_t data_offset = 0, row_bytes = 0;
  int red = 2, green = 1, blue = 0;  // byte positions for 24/32-bit pixels
  uint8_t palette[256][3] = {};      // RGB; unused entries stay black
  bool gray_palette = false;
};

Status ParseHeader(Span<const uint8_t> b, const char* what, Layout* out) {
  if (b.size() < kFileHeaderBytes + 4) {
    return Status::Error(StatusCode::kDataLoss, "%s: BMP header truncated (%zu bytes)", what, b.size());
  }
  const uint32_t header_size = Le32(&b[14]);
  if (header_size == 12) {
    return Status::Error(StatusCode::kUnsupported, "%s: OS/2 BMP headers are not supported", what);
  }
  if (header_size < 40 || header_size > 124) {
    return Status::Error(StatusCode::kDataLoss, "%s: BMP info header size %u is invalid", what, header_size);
  }
  if (b.size() < kFileHeaderBytes + header_size) {
    return Status::Error(StatusCode::kDataLoss, "%s: BMP header truncated (%zu bytes)", what, b.size());
  }
  const int64_t width = static_cast<int32_t>(Le32(&b[18]));
  int64_t height = static_cast<int32_t>(Le32(&b[22]));
  out->top_down = height < 0;
  if (height < 0) height = -height;
  if (width <= 0 || height <= 0 || width > kMaxImageDimension || height > kMaxImageDimension) {
    return Status::Error(StatusCode::kDataLoss, "%s: BMP size %lldx%lld is invalid or too large", what,
                         static_cast<long long>(width), static_cast<long long>(height));
  }
  out->width = static_cast<int>(width);
  out->height = static_cast<int>(height);
  out->bpp = Le16(&b[28]);
  const uint32_t compression = Le32(&b[30]);
  const bool palette = out->bpp == 1 || out->bpp == 4 || out->bpp == 8;
  if (compression == kBiBitfields && out->bpp == 32) {
    // The masks sit at file offset 54 whether they belong to a v2+ header or
    // follow a 40-byte one.
    if (b.size() < 66) {
      return Status::Error(StatusCode::kDataLoss, "%s: BMP bit-field masks truncated", what);
    }
    out->red = MaskByte(Le32(&b[54]));
    out->green = MaskByte(Le32(&b[58]));
    out->blue = MaskByte(Le32(&b[62]));
    if (out->red < 0 || out->green < 0 || out->blue < 0) {
      return Status::Error(StatusCode::kUnsupported, "%s: BMP bit-field masks are not whole bytes", what);
    }
  } else if (compression != kBiRgb || !(palette || out->bpp == 24 || out->bpp == 32)) {
    return Status::Error(StatusCode::kUnsupported,
                         "%s: BMP with %u bits per pixel and compression %u is not supported "
                         "(only uncompressed 1/4/8/24/32-bit)", what, out->bpp, compression);
  }
  out->row_bytes = static_cast<size_t>((static_cast<uint64_t>(width) * out->bpp + 31) / 32 * 4);
  out->data_offset = Le32(&b[10]);
  const uint64_t need = static_cast<uint64_t>(out->data_offset) +
                        static_cast<uint64_t>(out->row_bytes) * static_cast<uint64_t>(height);
  if (need > b.size()) {
    return Status::Error(StatusCode::kDataLoss, "%s: BMP truncated: %zu of %llu bytes", what, b.size(),
                         static_cast<unsigned long long>(need));
  }
  if (palette) {
    const uint32_t max_entries = 1u << out->bpp;
    uint32_t entries = Le32(&b[46]);  // biClrUsed; 0 means all
    if (entries == 0 || entries > max_entries) entries = max_entries;
    const size_t start = kFileHeaderBytes + header_size;
    if (start + static_cast<size_t>(entries) * 4 > b.size()) {
      return Status::Error(StatusCode::kDataLoss, "%s: BMP palette truncated", what);
    }
    out->gray_palette = true;
    for (uint32_t i = 0; i < entries; ++i) {
      const uint8_t* e = &b[start + i * 4];  // B, G, R, reserved
      out->palette[i][0] = e[2];
      out->palette[i][1] = e[1];
      out->palette[i][2] = e[0];
      if (e[0] != e[1] || e[1] != e[2]) out->gray_palette = false;
    }
  }
  return Status::Ok();
}

void DecodeRows(Span<const uint8_t> b, const Layout& l, Image* image) {
  const int channels = image->channels;
  for (int y = 0; y < l.height; ++y) {
    const int file_row = l.top_down ? y : l.height - 1 - y;
    const uint8_t* src = b.data() + l.data_offset + static_cast<size_t>(file_row) * l.row_bytes;
    uint8_t* dst = image->pixels.data() + static_cast<size_t>(y) * static_cast<size_t>(image->stride());
    if (l.bpp >= 24) {
      const size_t step = l.bpp / 8;
      for (int x = 0; x < l.width; ++x, src += step, dst += 3) {
        dst[0] = src[l.red];
        dst[1] = src[l.green];
        dst[2] = src[l.blue];
      }
      continue;
    }
    const uint32_t per_byte = 8 / l.bpp, mask = (1u << l.bpp) - 1;
    for (int x = 0; x < l.width; ++x) {
      const uint32_t byte = src[static_cast<uint32_t>(x) / per_byte];
      const uint32_t shift = 8 - l.bpp * (static_cast<uint32_t>(x) % per_byte + 1);
      const uint8_t* rgb = l.palette[(byte >> shift) & mask];
      if (channels == 1) {
        dst[x] = rgb[0];
      } else {
        std::memcpy(dst + static_cast<size_t>(x) * 3, rgb, 3);
      }
    }
  }
}

}  // namespace

Result<Image> DecodeBmp(Span<const uint8_t> bytes, const char* what) {
  Layout layout;
  TRIAGE_RETURN_IF_ERROR(ParseHeader(bytes, what, &layout));
  Image image;
  try {
    image = MakeImage(layout.width, layout.height, layout.bpp <= 8 && layout.gray_palette ? 1 : 3);
  } catch (const std::exception& e) {
    return Status::Error(StatusCode::kResourceExhausted, "%s: BMP: %s", what, e.what());
  }
  DecodeRows(bytes, layout, &image);
  return image;
}

Status WriteBmp(const std::string& path, const Image& image) {
  const bool gray = image.channels == 1;
  const uint32_t bpp = gray ? 8 : 24;
  const size_t row_bytes = (static_cast<size_t>(image.width) * bpp + 31) / 32 * 4;
  const uint32_t palette_bytes = gray ? 256 * 4 : 0;
  const uint32_t data_offset = 54 + palette_bytes;
  const uint64_t file_bytes = data_offset + static_cast<uint64_t>(row_bytes) * static_cast<uint64_t>(image.height);
  if (file_bytes > 0xFFFFFFFFull) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: image too large for BMP", path.c_str());
  }
  uint8_t header[54] = {'B', 'M'};
  PutLe32(header + 2, static_cast<uint32_t>(file_bytes));
  PutLe32(header + 10, data_offset);
  PutLe32(header + 14, 40);
  PutLe32(header + 18, static_cast<uint32_t>(image.width));
  PutLe32(header + 22, static_cast<uint32_t>(image.height));  // positive: bottom-up
  PutLe16(header + 26, 1);
  PutLe16(header + 28, bpp);
  PutLe32(header + 34, static_cast<uint32_t>(row_bytes * static_cast<size_t>(image.height)));
  PutLe32(header + 38, 2835);  // 72 dpi
  PutLe32(header + 42, 2835);
  PutLe32(header + 46, gray ? 256 : 0);

  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    return Status::Error(StatusCode::kIoError, "%s: cannot create: %s", path.c_str(), std::strerror(errno));
  }
  bool ok = std::fwrite(header, 1, sizeof(header), file) == sizeof(header);
  for (uint32_t i = 0; ok && gray && i < 256; ++i) {
    const uint8_t entry[4] = {static_cast<uint8_t>(i), static_cast<uint8_t>(i), static_cast<uint8_t>(i), 0};
    ok = std::fwrite(entry, 1, 4, file) == 4;
  }
  uint8_t row[3 * kMaxImageDimension + 4];
  for (int y = image.height - 1; ok && y >= 0; --y) {
    const uint8_t* src = image.pixels.data() + static_cast<size_t>(y) * static_cast<size_t>(image.stride());
    std::memset(row, 0, row_bytes);
    if (gray) {
      std::memcpy(row, src, static_cast<size_t>(image.width));
    } else {
      for (int x = 0; x < image.width; ++x) {
        row[x * 3 + 0] = src[x * 3 + 2];
        row[x * 3 + 1] = src[x * 3 + 1];
        row[x * 3 + 2] = src[x * 3 + 0];
      }
    }
    ok = std::fwrite(row, 1, row_bytes, file) == row_bytes;
  }
  const bool close_ok = std::fclose(file) == 0;
  if (!ok || !close_ok) {
    std::remove(path.c_str());
    return Status::Error(StatusCode::kIoError, "%s: BMP write failed: %s", path.c_str(), std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace triage::imaging::codecs
