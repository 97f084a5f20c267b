#include "imaging/preprocess.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace triage::imaging {
namespace {

constexpr int kMaxModelDimension = 4096;

// BT.601 luma in Q14 with rounding, the same integer weights OpenCV uses for
// RGB2GRAY on 8-bit data (4899 + 9617 + 1868 = 16384).
inline uint8_t Bt601Gray(uint8_t r, uint8_t g, uint8_t b) {
  return static_cast<uint8_t>((r * 4899u + g * 9617u + b * 1868u + (1u << 13)) >> 14);
}

}  // namespace

size_t ElementSize(TensorElementType type) {
  return type == TensorElementType::kFloat32 ? 4 : 1;
}

const char* TensorElementTypeName(TensorElementType type) {
  switch (type) {
    case TensorElementType::kFloat32: return "float32";
    case TensorElementType::kUint8: return "uint8";
    case TensorElementType::kInt8: return "int8";
  }
  return "unknown";
}

Status ValidateModelInputSpec(const ModelInputSpec& spec) {
  if (spec.width < 1 || spec.width > kMaxModelDimension || spec.height < 1 ||
      spec.height > kMaxModelDimension) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "model input: size %dx%d outside 1..%d", spec.width, spec.height,
                         kMaxModelDimension);
  }
  if (spec.channels != 1 && spec.channels != 3) {
    return Status::Error(StatusCode::kInvalidArgument, "model input: channels %d (want 1 or 3)",
                         spec.channels);
  }
  if (spec.type != TensorElementType::kFloat32 && spec.type != TensorElementType::kUint8 &&
      spec.type != TensorElementType::kInt8) {
    return Status::Error(StatusCode::kInvalidArgument, "model input: unknown element type %d",
                         static_cast<int>(spec.type));
  }
  for (int c = 0; c < spec.channels; ++c) {
    if (!std::isfinite(spec.mean[c]) || !std::isfinite(spec.std[c]) || spec.std[c] == 0.0f) {
      return Status::Error(StatusCode::kInvalidArgument,
                           "model input: channel %d mean %g / std %g (std must be finite, non-zero)",
                           c, static_cast<double>(spec.mean[c]), static_cast<double>(spec.std[c]));
    }
  }
  if (spec.type != TensorElementType::kFloat32) {
    if (!(spec.scale > 0.0f) || !std::isfinite(spec.scale)) {
      return Status::Error(StatusCode::kInvalidArgument,
                           "model input: scale %g (must be finite and > 0)",
                           static_cast<double>(spec.scale));
    }
    const int32_t lo = spec.type == TensorElementType::kUint8 ? 0 : -128;
    const int32_t hi = spec.type == TensorElementType::kUint8 ? 255 : 127;
    if (spec.zero_point < lo || spec.zero_point > hi) {
      return Status::Error(StatusCode::kInvalidArgument,
                           "model input: zero point %d outside %s range %d..%d", spec.zero_point,
                           TensorElementTypeName(spec.type), lo, hi);
    }
  }
  return Status::Ok();
}

Result<Preprocessor> Preprocessor::Create(const ModelInputSpec& spec, int max_source_width,
                                          int max_source_height) {
  TRIAGE_RETURN_IF_ERROR(ValidateModelInputSpec(spec));
  Result<Resampler> resampler =
      Resampler::Create(max_source_width, max_source_height, spec.width, spec.height, 3);
  if (!resampler.ok()) return resampler.status().WithContext("preprocessor");

  Preprocessor p;
  p.spec_ = spec;
  p.resampler_ = std::move(resampler.value());
  p.resized_.resize(static_cast<size_t>(spec.width) * spec.height * 3);
  const int lut_channels = spec.channels;
  if (spec.type == TensorElementType::kFloat32) {
    p.float_lut_.resize(static_cast<size_t>(lut_channels) * 256);
  } else {
    p.byte_lut_.resize(static_cast<size_t>(lut_channels) * 256);
  }
  // The lookup tables make Run() exact and cheap: every output depends only on
  // one 8-bit value and its channel.
  const int32_t lo = spec.type == TensorElementType::kInt8 ? -128 : 0;
  const int32_t hi = spec.type == TensorElementType::kInt8 ? 127 : 255;
  for (int c = 0; c < lut_channels; ++c) {
    for (int v = 0; v < 256; ++v) {
      const float real = (static_cast<float>(v) - spec.mean[c]) / spec.std[c];
      const size_t i = static_cast<size_t>(c) * 256 + v;
      if (spec.type == TensorElementType::kFloat32) {
        p.float_lut_[i] = real;
        continue;
      }
      const float q = std::round(real / spec.scale);
      // Clamp in float first: real / scale can exceed int32 for tiny scales.
      const float clamped = std::fmin(std::fmax(q + static_cast<float>(spec.zero_point),
                                                static_cast<float>(lo)),
                                      static_cast<float>(hi));
      const int32_t out = static_cast<int32_t>(clamped);
      p.byte_lut_[i] = static_cast<uint8_t>(out & 0xFF);  // int8 as its two's-complement byte
    }
  }
  return p;
}

size_t Preprocessor::memory_bytes() const {
  return resampler_.memory_bytes() + resized_.size() + float_lut_.size() * sizeof(float) +
         byte_lut_.size();
}

Status Preprocessor::Run(const uint8_t* rgb, int width, int height, int stride_bytes,
                         Span<uint8_t> out) {
  if (out.size() != spec_.byte_size()) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "preprocess: output is %zu bytes, the %dx%dx%d %s input needs %zu",
                         out.size(), spec_.height, spec_.width, spec_.channels,
                         TensorElementTypeName(spec_.type), spec_.byte_size());
  }
  TRIAGE_RETURN_IF_ERROR(
      resampler_.Run(rgb, width, height, stride_bytes, resized_.data(), spec_.width * 3)
          .WithContext("preprocess"));
  const size_t pixels = static_cast<size_t>(spec_.width) * spec_.height;
  const uint8_t* px = resized_.data();
  if (spec_.type == TensorElementType::kFloat32) {
    const float* lut = float_lut_.data();
    float value = 0.f;
    if (spec_.channels == 3) {
      for (size_t i = 0; i < pixels * 3; ++i) {
        value = lut[(i % 3) * 256 + px[i]];
        std::memcpy(out.data() + i * sizeof(float), &value, sizeof(float));
      }
    } else {
      for (size_t i = 0; i < pixels; ++i) {
        value = lut[Bt601Gray(px[3 * i], px[3 * i + 1], px[3 * i + 2])];
        std::memcpy(out.data() + i * sizeof(float), &value, sizeof(float));
      }
    }
    return Status::Ok();
  }
  const uint8_t* lut = byte_lut_.data();
  uint8_t* o = out.data();
  if (spec_.channels == 3) {
    for (size_t i = 0; i < pixels; ++i) {
      o[3 * i] = lut[px[3 * i]];
      o[3 * i + 1] = lut[256 + px[3 * i + 1]];
      o[3 * i + 2] = lut[512 + px[3 * i + 2]];
    }
  } else {
    for (size_t i = 0; i < pixels; ++i) {
      o[i] = lut[Bt601Gray(px[3 * i], px[3 * i + 1], px[3 * i + 2])];
    }
  }
  return Status::Ok();
}

}  // namespace triage::imaging
