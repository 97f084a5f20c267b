// PNG through libpng's low-level API.
//
// libpng reports errors by longjmp to the setjmp in the function that called
// it. The functions holding a setjmp (ReadPngInto, WritePngRows) therefore
// keep only trivially destructible locals, modify none of them after setjmp,
// and reach C++ objects only through callbacks (AllocateImage), so a jump
// skips no destructor. Messages travel back in PngContext.
#include <png.h>

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <exception>

#include "imaging/codecs.h"

namespace triage::imaging::codecs {
namespace {

struct PngContext {
  const uint8_t* data = nullptr;  // read: input bytes
  size_t size = 0;
  size_t pos = 0;
  bool out_of_memory = false;
  char message[160] = {0};
};

void OnError(png_structp png, png_const_charp message) {
  auto* ctx = static_cast<PngContext*>(png_get_error_ptr(png));
  std::snprintf(ctx->message, sizeof(ctx->message), "%s", message != nullptr ? message : "error");
  png_longjmp(png, 1);
}

void OnWarning(png_structp, png_const_charp) {}  // ancillary-chunk problems: ignored

void OnRead(png_structp png, png_bytep out, png_size_t n) {
  auto* ctx = static_cast<PngContext*>(png_get_io_ptr(png));
  if (n > ctx->size - ctx->pos) {
    png_error(png, "file truncated");
  }
  std::memcpy(out, ctx->data + ctx->pos, n);
  ctx->pos += n;
}

// Sizes the Image for the decoded layout; nullptr when allocation fails.
uint8_t* AllocateImage(Image* image, png_uint_32 width, png_uint_32 height, int channels) noexcept {
  try {
    *image = MakeImage(static_cast<int>(width), static_cast<int>(height), channels);
    return image->pixels.data();
  } catch (const std::exception&) {
    return nullptr;
  }
}

bool ReadPngInto(PngContext* ctx, Image* image) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, ctx, OnError, OnWarning);
  if (png == nullptr) {
    ctx->out_of_memory = true;
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    ctx->out_of_memory = true;
    return false;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_set_read_fn(png, ctx, OnRead);
  png_set_user_limits(png, kMaxImageDimension, kMaxImageDimension);
  png_read_info(png, info);
  const png_uint_32 width = png_get_image_width(png, info);
  const png_uint_32 height = png_get_image_height(png, info);
  const int color = png_get_color_type(png, info);
  const int depth = png_get_bit_depth(png, info);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (depth == 16) png_set_scale_16(png);  // round(v * 255 / 65535)
  png_set_strip_alpha(png);                // also the alpha a tRNS palette expands to
  const int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  const int channels = png_get_channels(png, info);
  if ((channels != 1 && channels != 3) || png_get_bit_depth(png, info) != 8 ||
      png_get_rowbytes(png, info) != static_cast<size_t>(width) * static_cast<size_t>(channels)) {
    png_error(png, "unexpected pixel layout after conversion to 8-bit");
  }
  uint8_t* pixels = AllocateImage(image, width, height, channels);
  if (pixels == nullptr) {
    ctx->out_of_memory = true;
    png_error(png, "out of memory for the pixels");
  }
  const size_t row_bytes = static_cast<size_t>(width) * static_cast<size_t>(channels);
  for (int pass = 0; pass < passes; ++pass) {
    for (png_uint_32 y = 0; y < height; ++y) {
      png_read_row(png, pixels + static_cast<size_t>(y) * row_bytes, nullptr);
    }
  }
  png_read_end(png, nullptr);  // remaining chunks up to IEND, with their CRCs
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

bool WritePngRows(PngContext* ctx, std::FILE* file, const Image* image) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, ctx, OnError, OnWarning);
  if (png == nullptr) {
    ctx->out_of_memory = true;
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_write_struct(&png, nullptr);
    ctx->out_of_memory = true;
    return false;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_init_io(png, file);
  png_set_compression_level(png, 6);
  png_set_IHDR(png, info, static_cast<png_uint_32>(image->width),
               static_cast<png_uint_32>(image->height), 8,
               image->channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  const size_t row_bytes = static_cast<size_t>(image->stride());
  for (int y = 0; y < image->height; ++y) {
    png_write_row(png, image->pixels.data() + static_cast<size_t>(y) * row_bytes);
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

}  // namespace

Result<Image> DecodePng(Span<const uint8_t> bytes, const char* what) {
  PngContext ctx;
  ctx.data = bytes.data();
  ctx.size = bytes.size();
  Image image;
  if (!ReadPngInto(&ctx, &image)) {
    if (ctx.out_of_memory) {
      return Status::Error(StatusCode::kResourceExhausted, "%s: PNG: out of memory (%s)", what,
                           ctx.message);
    }
    return Status::Error(StatusCode::kDataLoss, "%s: corrupt or truncated PNG: %s", what,
                         ctx.message);
  }
  return image;
}

Status WritePng(const std::string& path, const Image& image) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    return Status::Error(StatusCode::kIoError, "%s: cannot create: %s", path.c_str(),
                         std::strerror(errno));
  }
  PngContext ctx;
  const bool encoded = WritePngRows(&ctx, file, &image);
  const bool write_error = std::ferror(file) != 0;
  const bool close_error = std::fclose(file) != 0;
  if (!encoded || write_error || close_error) {
    std::remove(path.c_str());
    return Status::Error(StatusCode::kIoError, "%s: PNG write failed: %s", path.c_str(),
                         ctx.message[0] != '\0' ? ctx.message : "I/O error");
  }
  return Status::Ok();
}

}  // namespace triage::imaging::codecs
