// OpenCV adapter for image files. OpenCV may throw (cv::Exception,
// std::bad_alloc); every call is wrapped and converted to a Status here.
#include "imaging/image.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

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

uint32_t Le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
uint32_t Be32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | static_cast<uint32_t>(p[3]);
}

// OpenCV's BMP reader fills missing rows silently, so a truncated BMP is
// caught here from its own header: pixel data offset + rows must fit.
Status CheckBmp(Span<const uint8_t> b, const char* what) {
  if (b.size() < 54) {
    return Status::Error(StatusCode::kDataLoss, "%s: BMP header truncated (%zu bytes)", what,
                         b.size());
  }
  const uint32_t data_offset = Le32(&b[10]);
  const uint32_t header_size = Le32(&b[14]);
  if (header_size < 40) return Status::Ok();  // old OS/2 header: leave it to OpenCV
  const int32_t width = static_cast<int32_t>(Le32(&b[18]));
  int32_t height = static_cast<int32_t>(Le32(&b[22]));
  const uint32_t bpp = static_cast<uint32_t>(b[28]) | (static_cast<uint32_t>(b[29]) << 8);
  const uint32_t compression = Le32(&b[30]);
  if (height < 0) height = -height;
  if (width <= 0 || height <= 0 || width > kMaxImageDimension || height > kMaxImageDimension) {
    return Status::Error(StatusCode::kDataLoss, "%s: BMP size %dx%d is invalid or too large", what,
                         width, height);
  }
  if (compression != 0 && compression != 3) return Status::Ok();  // RLE: sizes vary
  const uint64_t row = ((static_cast<uint64_t>(width) * bpp + 31) / 32) * 4;
  const uint64_t need = static_cast<uint64_t>(data_offset) + row * static_cast<uint64_t>(height);
  if (need > b.size()) {
    return Status::Error(StatusCode::kDataLoss, "%s: BMP truncated: %zu of %llu bytes", what,
                         b.size(), static_cast<unsigned long long>(need));
  }
  return Status::Ok();
}

// PNG: the size is in IHDR; libpng reports truncation itself (OpenCV then
// returns an empty Mat), so only the size guard is needed here.
Status CheckPng(Span<const uint8_t> b, const char* what) {
  if (b.size() < 33) {
    return Status::Error(StatusCode::kDataLoss, "%s: PNG header truncated (%zu bytes)", what,
                         b.size());
  }
  const uint32_t w = Be32(&b[16]), h = Be32(&b[20]);
  if (w == 0 || h == 0 || w > kMaxImageDimension || h > kMaxImageDimension) {
    return Status::Error(StatusCode::kDataLoss, "%s: PNG size %ux%u is invalid or too large", what,
                         w, h);
  }
  return Status::Ok();
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

Result<Image> DecodeWithOpenCv(Span<const uint8_t> bytes, const char* what) {
  try {
    const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1,
                      const_cast<uint8_t*>(bytes.data()));
    cv::Mat m = cv::imdecode(raw, cv::IMREAD_UNCHANGED);
    if (m.empty()) {
      return Status::Error(StatusCode::kDataLoss, "%s: corrupt or truncated image data", what);
    }
    if (m.depth() == CV_16U) {
      cv::Mat eight;
      m.convertTo(eight, CV_8U, 1.0 / 257.0);
      m = eight;
    } else if (m.depth() != CV_8U) {
      return Status::Error(StatusCode::kUnsupported, "%s: pixel depth %d is not 8 or 16 bit", what,
                           m.depth());
    }
    cv::Mat out;
    int channels = 3;
    switch (m.channels()) {
      case 1: out = m; channels = 1; break;
      case 3: cv::cvtColor(m, out, cv::COLOR_BGR2RGB); break;
      case 4: cv::cvtColor(m, out, cv::COLOR_BGRA2RGB); break;
      default:
        return Status::Error(StatusCode::kUnsupported, "%s: %d channels", what, m.channels());
    }
    Image image = MakeImage(out.cols, out.rows, channels);
    const size_t row = static_cast<size_t>(image.stride());
    for (int y = 0; y < out.rows; ++y) {
      std::memcpy(image.pixels.data() + y * row, out.ptr<uint8_t>(y), row);
    }
    return image;
  } catch (const cv::Exception& e) {
    return Status::Error(StatusCode::kDataLoss, "%s: OpenCV: %s", what, e.what());
  } catch (const std::exception& e) {
    return Status::Error(StatusCode::kResourceExhausted, "%s: %s", what, e.what());
  }
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
      case Format::kPng:
        TRIAGE_RETURN_IF_ERROR(CheckPng(encoded, what));
        return DecodeWithOpenCv(encoded, what);
      case Format::kBmp:
        TRIAGE_RETURN_IF_ERROR(CheckBmp(encoded, what));
        return DecodeWithOpenCv(encoded, what);
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
  if (image.width <= 0 || image.height <= 0 || (image.channels != 1 && image.channels != 3) ||
      image.pixels.size() != image.size_bytes()) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: malformed image %dx%dx%d (%zu bytes)",
                         path.c_str(), image.width, image.height, image.channels,
                         image.pixels.size());
  }
  try {
    const cv::Mat view(image.height, image.width, image.channels == 1 ? CV_8UC1 : CV_8UC3,
                       const_cast<uint8_t*>(image.pixels.data()));
    cv::Mat bgr;
    if (image.channels == 3) {
      cv::cvtColor(view, bgr, cv::COLOR_RGB2BGR);
    } else {
      bgr = view;
    }
    if (!cv::imwrite(path, bgr)) {
      return Status::Error(StatusCode::kIoError, "%s: cannot write (unknown extension or "
                           "unwritable directory)", path.c_str());
    }
  } catch (const cv::Exception& e) {
    return Status::Error(StatusCode::kIoError, "%s: OpenCV: %s", path.c_str(), e.what());
  }
  return Status::Ok();
}

}  // namespace triage::imaging
