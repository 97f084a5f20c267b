// Image files for tools, ground and directory replay: format sniffing and
// dispatch to the codecs (JPEG: jpeg_codec.h; PNG, BMP: codecs.h). No OpenCV
// here, so flight binaries do not load imgcodecs' dependency tree.
#include "imaging/image.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string_view>

#include "imaging/codecs.h"
#include "imaging/jpeg_codec.h"

namespace triage::imaging {
namespace {

enum class Format { kJpeg, kPng, kBmp, kUnknown };

Format Sniff(Span<const uint8_t> b) {
  if (b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return Format::kJpeg;
  static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (b.size() >= 8 && std::memcmp(b.data(), kPng, 8) == 0) return Format::kPng;
  if (b.size() >= 2 && b[0] == 'B' && b[1] == 'M') return Format::kBmp;
  return Format::kUnknown;
}

Result<Image> DecodeJpeg(Span<const uint8_t> bytes, const char* what) {
  Result<JpegDecoder> decoder = JpegDecoder::Create(kMaxImageDimension, kMaxImageDimension);
  if (!decoder.ok()) return decoder.status().WithContext("%s", what);
  Result<JpegHeader> header = decoder->ReadHeader(bytes);
  if (!header.ok()) return header.status().WithContext("%s", what);
  Image image = MakeImage(header->width, header->height, 3);
  Status s = decoder->Decode(bytes, JpegScale{1, 1}, Span<uint8_t>(image.pixels), image.stride(),
                             nullptr, nullptr);
  if (!s.ok()) return s.WithContext("%s", what);
  if (header->subsampling == ChromaSubsampling::kGray) {
    // Keep gray files 1-channel, as OpenCV's IMREAD_UNCHANGED would.
    for (size_t i = 0, n = static_cast<size_t>(image.width) * image.height; i < n; ++i) {
      image.pixels[i] = image.pixels[i * 3];
    }
    image.channels = 1;
    image.pixels.resize(static_cast<size_t>(image.width) * image.height);
  }
  return image;
}

bool EndsWithNoCase(const std::string& s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  for (size_t i = 0; i < suffix.size(); ++i) {
    const char c = s[s.size() - suffix.size() + i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != suffix[i]) return false;
  }
  return true;
}

Status WriteJpeg(const std::string& path, const Image& image) {
  Image rgb;
  const Image* source = &image;
  if (image.channels == 1) {  // the encoder takes RGB; gray input encodes as 4:0:0
    rgb = MakeImage(image.width, image.height, 3);
    for (size_t i = 0; i < image.pixels.size(); ++i) {
      std::memset(&rgb.pixels[i * 3], image.pixels[i], 3);
    }
    source = &rgb;
  }
  JpegEncoderConfig config;
  config.max_width = image.width;
  config.max_height = image.height;
  config.quality = 95;
  config.subsampling = image.channels == 1 ? ChromaSubsampling::kGray : ChromaSubsampling::k420;
  Result<JpegEncoder> encoder = JpegEncoder::Create(config);
  if (!encoder.ok()) return encoder.status().WithContext("%s", path.c_str());
  Result<Span<const uint8_t>> jpeg =
      encoder->Encode(source->pixels.data(), source->width, source->height, source->stride());
  if (!jpeg.ok()) return jpeg.status().WithContext("%s", path.c_str());
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    return Status::Error(StatusCode::kIoError, "%s: cannot create: %s", path.c_str(), std::strerror(errno));
  }
  const bool written = std::fwrite(jpeg->data(), 1, jpeg->size(), file) == jpeg->size();
  if (std::fclose(file) != 0 || !written) {
    std::remove(path.c_str());
    return Status::Error(StatusCode::kIoError, "%s: JPEG write failed", path.c_str());
  }
  return Status::Ok();
}

}  // namespace

Image MakeImage(int width, int height, int channels) {
  Image image;
  image.width = width;
  image.height = height;
  image.channels = channels;
  image.pixels.assign(static_cast<size_t>(width) * height * channels, 0);
  return image;
}

Result<Image> DecodeImage(Span<const uint8_t> encoded, const char* what_for_errors) {
  const char* what = what_for_errors != nullptr ? what_for_errors : "image";
  if (encoded.empty()) return Status::Error(StatusCode::kDataLoss, "%s: empty file", what);
  try {
    switch (Sniff(encoded)) {
      case Format::kJpeg: return DecodeJpeg(encoded, what);
      case Format::kPng: return codecs::DecodePng(encoded, what);
      case Format::kBmp: return codecs::DecodeBmp(encoded, what);
      case Format::kUnknown: break;
    }
  } catch (const std::exception& e) {  // std::bad_alloc from MakeImage
    return Status::Error(StatusCode::kResourceExhausted, "%s: %s", what, e.what());
  }
  return Status::Error(StatusCode::kUnsupported, "%s: not a JPEG, PNG or BMP file", what);
}

Result<Image> LoadImageFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    const int err = errno;
    return Status::Error(err == ENOENT ? StatusCode::kNotFound : StatusCode::kIoError,
                         "%s: cannot open: %s", path.c_str(), std::strerror(err));
  }
  std::vector<uint8_t> bytes;
  try {
    uint8_t chunk[65536];
    size_t n = 0;
    while ((n = std::fread(chunk, 1, sizeof(chunk), f)) > 0) {
      bytes.insert(bytes.end(), chunk, chunk + n);
      if (bytes.size() > (size_t{1} << 30)) {
        std::fclose(f);
        return Status::Error(StatusCode::kResourceExhausted, "%s: file larger than 1 GiB",
                             path.c_str());
      }
    }
  } catch (const std::exception& e) {
    std::fclose(f);
    return Status::Error(StatusCode::kResourceExhausted, "%s: %s", path.c_str(), e.what());
  }
  const bool read_error = std::ferror(f) != 0;
  std::fclose(f);
  if (read_error) {
    return Status::Error(StatusCode::kIoError, "%s: read error (is it a directory?)",
                         path.c_str());
  }
  return DecodeImage(Span<const uint8_t>(bytes), path.c_str());
}

Status WriteImageFile(const std::string& path, const Image& image) {
  if (image.width <= 0 || image.height <= 0 || image.width > kMaxImageDimension ||
      image.height > kMaxImageDimension || (image.channels != 1 && image.channels != 3) ||
      image.pixels.size() != image.size_bytes()) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: malformed image %dx%dx%d (%zu bytes)",
                         path.c_str(), image.width, image.height, image.channels,
                         image.pixels.size());
  }
  try {
    if (EndsWithNoCase(path, ".png")) return codecs::WritePng(path, image);
    if (EndsWithNoCase(path, ".bmp")) return codecs::WriteBmp(path, image);
    if (EndsWithNoCase(path, ".jpg") || EndsWithNoCase(path, ".jpeg")) return WriteJpeg(path, image);
  } catch (const std::exception& e) {  // std::bad_alloc
    return Status::Error(StatusCode::kResourceExhausted, "%s: %s", path.c_str(), e.what());
  }
  return Status::Error(StatusCode::kInvalidArgument,
                       "%s: unknown image extension (use .png, .bmp, .jpg or .jpeg)", path.c_str());
}

}  // namespace triage::imaging
